"""“Tune to my voice” on the Predict page, and a personal model on the Evaluate page: made from real clips
of one RAVDESS actor (a training speaker of models/default, never a test speaker), used by the Predict
page, the base model untouched, removed from the Evaluate page; too few clips is one line and nothing
is written."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from tests.app.test_app import _chart_specs, no_exception, open_app, plain

SPEAKER = "Actor_01"
EMOTIONS4 = ("calm", "happy", "sad", "angry")


@pytest.fixture(autouse=True)
def _own_cache(feature_cache, monkeypatch):
    monkeypatch.setenv("SER_CACHE_DIR", str(feature_cache))  # features and measurements, never the project's


def _digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _clips(ravdess, emotion: str) -> list:
    frame = pd.read_csv(ravdess / "all_labels.csv")
    return [ravdess / p for p in frame[(frame.speaker == SPEAKER) & (frame.emotion == emotion)].path]


def _dataset(folder, ravdess, counts: dict[str, int], *, by=None):
    """A dataset of SPEAKER's clips kept one by one as Record clips keeps them."""
    from ser.datasets.recording import add_recording

    for emotion, n in counts.items():
        for clip in _clips(ravdess, emotion)[:n]:
            add_recording(folder, clip.read_bytes(), speaker=SPEAKER, emotion=emotion, by=by)
    return folder / "all_labels.csv"


def _listing(folder) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if ".training.lock" not in p.name)


def test_make_my_model_predict_with_it_then_remove_it_on_evaluate(own_datasets_folder, own_models_folder, ravdess):
    csv = _dataset(own_datasets_folder / "my-voice", ravdess, {e: 2 for e in EMOTIONS4})
    base = own_models_folder / "default"
    before = _digests(base)
    at = open_app("pages/predict.py")
    no_exception(at)
    assert at.selectbox(key="p_tune_dataset").value == str(csv)
    assert at.selectbox(key="p_tune_speaker").value == SPEAKER
    assert at.multiselect(key="tune_emotions").value == list(EMOTIONS4)
    assert at.text_input(key="tune_name").value == f"default-{SPEAKER}"
    at.button(key="tune_make").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    personal = own_models_folder / f"default-{SPEAKER}"
    assert (personal / "adapted.json").is_file() and (personal / "model.onnx").is_file()
    assert at.selectbox(key="p_model").value == personal.name  # selected in the picker
    made = [plain(s.value) for s in at.success]
    assert any(f"Made the personal model “{personal.name}” from 8 clips of {SPEAKER} (calm, happy, sad, angry)"
               in s for s in made), made
    assert _digests(base) == before

    # the Predict page now answers with it: among the four enrolled emotions only
    clip = _clips(ravdess, "happy")[3]  # not an enrolment clip
    at.file_uploader(key="uploads").set_value((clip.name, clip.read_bytes(), "audio/wav")).run()
    no_exception(at)
    bars = [s for s in _chart_specs(at) if s["data"] and s["data"][0].get("type") == "bar"]
    assert bars and sorted(bars[0]["data"][0]["x"]) == sorted(EMOTIONS4)
    assert any(m.label == "Predicted emotion" and m.value.split()[-1] in EMOTIONS4 for m in at.metric)

    # the Evaluate page shows it beside its base, and removes it
    at.switch_page("pages/evaluate.py").run()
    no_exception(at)
    assert at.selectbox(key="p_model").value == personal.name
    assert any(f"Personal model of {SPEAKER}" in plain(h.value) for h in at.subheader)
    assert any(m.label == "Macro F1" and "points against “default”" in m.proto.delta for m in at.metric)
    assert at.button(key="ev_remove").disabled  # not before the confirmation
    at.checkbox(key="ev_remove_sure").check().run()
    at.button(key="ev_remove").click().run()
    no_exception(at)
    assert not personal.exists()
    assert [p for p in own_models_folder.iterdir() if SPEAKER in p.name] == []
    assert at.selectbox(key="p_model").value == "default"
    assert not any(b.key == "ev_remove" for b in at.button)  # the base model offers no removal
    assert _digests(base) == before


def test_too_few_clips_is_one_line_and_nothing_is_written(own_datasets_folder, own_models_folder, ravdess):
    _dataset(own_datasets_folder / "few", ravdess, {"calm": 2, "happy": 1})
    before = _listing(own_models_folder)
    at = open_app("pages/predict.py")
    assert any("Still needed — happy: 1 more" in plain(c.value) for c in at.caption)
    at.button(key="tune_make").click().run()
    no_exception(at)
    errors = [plain(e.value) for e in at.error]
    assert len(errors) == 1 and f"1 clip of happy by {SPEAKER}; each emotion needs at least 2" in errors[0], errors
    assert _listing(own_models_folder) == before
    assert at.selectbox(key="p_model").value == "default"


def test_another_visitors_personal_model_cannot_be_removed(own_datasets_folder, own_models_folder, ravdess):
    from ser.access import Visitor
    from ser.serving.adapt import adapt

    csv = _dataset(own_datasets_folder / "theirs", ravdess, {"sad": 2, "angry": 2})
    adapt(own_models_folder / "default", csv, out_dir=own_models_folder / "theirs", by=Visitor("someone-else"))
    at = open_app("pages/evaluate.py")
    at.selectbox(key="p_model").select("theirs").run()
    no_exception(at)
    assert any("another visitor's model" in plain(c.value) for c in at.caption)
    assert not any(b.key == "ev_remove" for b in at.button)
    assert (own_models_folder / "theirs" / "model.onnx").is_file()
    at.selectbox(key="p_model").select("default").run()  # the shipped model's view compares it too
    at.selectbox(key="p_ev_other").select("theirs").run()
    no_exception(at)
    assert any("“theirs” is a personal model" in plain(c.value) for c in at.caption)


def test_corrections_tune_a_model_with_their_dataset_and_speaker(own_datasets_folder, own_models_folder, ravdess):
    clips = {e: _clips(ravdess, e)[:2] for e in ("happy", "sad")}
    at = open_app("pages/predict.py")
    at.file_uploader(key="uploads").set_value(
        [(c.name, c.read_bytes(), "audio/wav") for cs in clips.values() for c in cs]).run()
    for emotion, cs in clips.items():
        for c in cs:
            k = f"upload-{c.name}"
            at.selectbox(key=f"cor_emotion_{k}").select(emotion)
            at.text_input(key=f"cor_speaker_{k}").input("anna")
            at.button(key=f"cor_save_{k}").click().run()
            no_exception(at)
    # the Tune tab (drawn first with the demo clips) now offers the corrections, with the emotions they have
    assert at.selectbox(key="p_tune_dataset").value == str(own_datasets_folder / "my-corrections" / "all_labels.csv")
    assert at.selectbox(key="p_tune_speaker").value == "anna"
    assert at.multiselect(key="tune_emotions").value == ["happy", "sad"]
    last = f"upload-{clips['sad'][1].name}"
    at.button(key=f"cor_tune_{last}").click().run()
    no_exception(at)
    assert at.multiselect(key=f"cor_{last}_emotions").value == ["happy", "sad"]
    assert at.text_input(key=f"cor_{last}_name").value == "default-anna"
    at.button(key=f"cor_{last}_make").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    made = own_models_folder / "default-anna"
    assert made.is_dir() and at.selectbox(key="p_model").value == "default-anna"
    made_line = [plain(s.value) for s in at.success if "Made the personal model" in s.value]
    assert made_line and "“default-anna” from 4 clips of anna (happy, sad)" in made_line[0], made_line
    assert any("“default-anna” is a personal model: to tune again" in plain(i.value) for i in at.info)
