"""The dashboard driven through streamlit.testing.v1.AppTest, on the demo data and shipped model."""

import json
import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from ser import EMOTIONS
from ser.paths import shown
from tests.conftest import DEMO, REPO

APP = str(REPO / "streamlit_app.py")
PAGES = ["pages/dataset.py", "pages/augment.py", "pages/train.py", "pages/evaluate.py", "pages/predict.py"]


def open_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def plain(markdown: str) -> str:
    """What a person reads of escaped Markdown (pages escape user strings and file names: ``a\\_b``)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def wait_for_run(at: AppTest, name: str, *, limit_s: float = 300) -> str:
    """Rerun the Train page until the run ``name`` is no longer running; its heading (``Run “name” — done``)."""
    t0 = time.time()
    while True:
        at.run()
        no_exception(at)
        header = next((h.value for h in at.subheader if h.value.startswith("Run “")), "")
        if f"“{name}”" in plain(header) and not header.endswith("running"):
            return header
        assert time.time() - t0 < limit_s, f"training did not finish in {limit_s / 60:.0f} minutes"
        time.sleep(2)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_entrypoint_opens_on_dataset_with_demo_data():
    at = open_app()
    no_exception(at)
    assert at.title[0].value.endswith("Dataset")
    assert at.selectbox(key="p_dataset").value == str(DEMO / "all_labels.csv")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Clips"] == "118" and metrics["Speakers"] == "6" and metrics["Problems"] == "0"  # 96 RAVDESS, 22 nEMO


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(page):
    at = open_app(page)
    no_exception(at)
    assert at.title, f"{page} drew no title"
    assert not at.error, [e.value for e in at.error]


def test_dataset_filter_and_clip_view():
    at = open_app()
    at.multiselect(key="p_ds_emotions").set_value(["angry"]).run()
    no_exception(at)
    assert any("16 of 118 usable clips" in c.value for c in at.caption)  # 12 RAVDESS and 4 nEMO
    assert len(at.get("audio")) == 1 and len(at.get("plotly_chart")) >= 4


def test_augment_page_draws_each_panel_of_the_registry():
    from ser.augment.transforms import PANELS

    at = open_app("pages/augment.py")
    no_exception(at)
    titles = [m.value.strip("*") for m in at.markdown if m.value.startswith("**")]
    assert titles == [c.label for c in PANELS]
    assert len(at.get("audio")) == len(PANELS) and not at.error
    at.slider(key="p_aug_room_rt60_s").set_value(1.1).run()  # each setting is its condition's param
    no_exception(at)
    assert len(at.get("audio")) == len(PANELS) and not at.error


def test_adding_a_missing_folder_says_what_is_wrong(tmp_path, monkeypatch):
    monkeypatch.setenv("SER_DATA_ROOTS", str(tmp_path))
    at = open_app()
    at.text_input(key="other_dataset").set_value(str(tmp_path / "nowhere")).run()
    next(b for b in at.button if b.label == "Add dataset").click().run()
    no_exception(at)
    assert any("nowhere: no all_labels.csv there" in plain(e.value) for e in at.error)


def test_dataset_choice_survives_page_switch():
    at = open_app()
    at.multiselect(key="p_ds_emotions").set_value(["sad"]).run()
    at.switch_page("pages/predict.py").run()
    at.switch_page("pages/dataset.py").run()
    assert at.multiselect(key="p_ds_emotions").value == ["sad"]


def _chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_predict_upload_real_clip_shows_8_probabilities():
    at = open_app("pages/predict.py")
    clip = DEMO / "Actor_19" / next(p.name for p in (DEMO / "Actor_19").glob("*.wav"))
    at.file_uploader(key="uploads").set_value((clip.name, clip.read_bytes(), "audio/wav")).run()
    no_exception(at)
    assert not at.error
    bars = [s for s in _chart_specs(at) if s["data"] and s["data"][0].get("type") == "bar"]
    assert bars and sorted(bars[0]["data"][0]["x"]) == sorted(EMOTIONS)
    assert abs(sum(bars[0]["data"][0]["y"]) - 1) < 1e-3
    assert any(m.label == "Predicted emotion" and m.value.split()[-1] in EMOTIONS for m in at.metric)


def test_predict_non_audio_upload_gives_error_and_others_still_predicted():
    at = open_app("pages/predict.py")
    clip = next((DEMO / "Actor_06").glob("*.wav"))
    at.file_uploader(key="uploads").set_value([
        ("notes.wav", b"this is a text file renamed .wav", "audio/wav"),
        ("empty.wav", b"", "audio/wav"),
        (clip.name, clip.read_bytes(), "audio/wav"),
    ]).run()
    no_exception(at)
    errors = [plain(e.value) for e in at.error]
    assert any("notes.wav" in e and "not a readable audio file" in e for e in errors)
    assert any("empty.wav" in e for e in errors)
    assert any(m.label == "Predicted emotion" for m in at.metric)  # the good clip still predicted


def test_predict_recording_through_audio_input():
    at = open_app("pages/predict.py")
    clip = next((DEMO / "Actor_12").glob("*.wav"))
    at.audio_input(key="mic").set_value(("recording.wav", clip.read_bytes(), "audio/wav")).run()
    no_exception(at)
    assert any(m.label == "Predicted emotion" for m in at.metric)


def test_train_small_run_finishes_and_appears_in_evaluate(small_subset, tmp_path, monkeypatch, feature_cache):
    monkeypatch.setenv("SER_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("SER_CACHE_DIR", str(feature_cache))
    monkeypatch.setenv("SER_DATA_ROOTS", str(small_subset.parent))
    at = open_app("pages/train.py")
    at.text_input(key="other_dataset").set_value(str(small_subset.parent)).run()
    next(b for b in at.button if b.label == "Add dataset").click().run()
    no_exception(at)
    assert at.selectbox(key="p_dataset").value == str(small_subset.resolve())
    at.selectbox(key="p_tr_preset").set_value("quick")
    at.number_input(key="p_tr_epochs").set_value(2)
    at.number_input(key="p_tr_ensemble").set_value(2)
    at.text_input(key="p_tr_name").set_value("apptest")
    next(b for b in at.get("form_submit_button") if "Start" in b.label).click().run()
    no_exception(at)
    header = wait_for_run(at, "apptest")
    assert header.endswith("done"), [e.value for e in at.error]
    assert any("Held-out test accuracy" in s.value for s in at.success)
    at.switch_page("pages/evaluate.py").run()
    no_exception(at)
    assert "apptest" in at.selectbox(key="p_model").options
    assert at.selectbox(key="p_model").value == "apptest"
    assert any(m.label == "Accuracy" for m in at.metric)
    assert any("averages 2 networks" in c.value for c in at.caption)  # the ensemble setting reached training


def test_evaluate_shows_the_shipped_models_robustness_chart():
    from ser.augment.transforms import CONDITIONS

    at = open_app("pages/evaluate.py")
    no_exception(at)
    assert at.selectbox(key="p_model").value == "default"
    assert any("Robustness" in h.value for h in at.subheader)
    assert any(m.label == "UAR" for m in at.metric)
    chart = next(s for s in _chart_specs(at) if s["data"] and s["data"][0].get("name") == "accuracy")
    labels = [c.label for c in CONDITIONS.values()]
    assert chart["data"][0]["x"] == labels and len(chart["data"][0]["y"]) == len(labels)
    assert any("On a phone line this model is right" in m.value for m in at.markdown)
    at.selectbox(key="p_ev_rob_cond").set_value("telephone").run()
    no_exception(at)
    assert len(at.get("audio")) >= 1 and not at.error


# Bad data and bad model folders: one line on the page, never a traceback; what the data allows, said first.

def _add_folder(at: AppTest, folder) -> None:
    at.text_input(key="other_dataset").set_value(str(folder)).run()
    next(b for b in at.button if b.label == "Add dataset").click().run()


def test_dataset_page_on_a_header_only_csv_shows_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SER_DATA_ROOTS", str(tmp_path))
    (tmp_path / "all_labels.csv").write_text("path,emotion,speaker\n")
    at = open_app()
    _add_folder(at, tmp_path)
    no_exception(at)
    assert [plain(e.value) for e in at.error] == [f"{shown(tmp_path / 'all_labels.csv')}: has a header but no rows; add one row "
                                           "per clip (path, emotion, speaker)."]


def test_train_page_says_a_speaker_split_is_not_possible_and_offers_a_clip_split(tmp_path, monkeypatch, real_clip,
                                                                                 own_models_folder):
    from ser.training.runs import current_run

    monkeypatch.setenv("SER_DATA_ROOTS", str(tmp_path))
    rows = ["path,emotion"]
    for i, emotion in enumerate(e for e in EMOTIONS for _ in range(3)):
        (tmp_path / f"c{i}.wav").write_bytes(real_clip.read_bytes())
        rows.append(f"c{i}.wav,{emotion}")
    (tmp_path / "all_labels.csv").write_text("\n".join(rows) + "\n")
    at = open_app("pages/train.py")
    _add_folder(at, tmp_path)
    no_exception(at)
    assert any("A speaker split is not possible: 24 clips name no speaker" in w.value for w in at.warning)
    assert at.selectbox(key="p_tr_split").options == ["by speaker (test voices never heard)",
                                                      "by clip (speakers overlap)"]
    next(b for b in at.get("form_submit_button") if "Start" in b.label).click().run()
    no_exception(at)
    assert any(e.value.startswith("Not started: a speaker split is not possible") for e in at.error)
    assert current_run(own_models_folder) is None  # nothing was started


def test_evaluate_page_says_speakers_overlap_after_a_clip_split(own_models_folder):
    import shutil

    clips = own_models_folder / "clips"
    shutil.copytree(own_models_folder / "default", clips)
    report = json.loads((clips / "report.json").read_text())
    (clips / "report.json").write_text(json.dumps({**report, "split_mode": "clip", "speakers_overlap": True}))
    at = open_app("pages/evaluate.py")
    at.selectbox(key="p_model").set_value("clips").run()
    no_exception(at)
    assert any("Clip split: speakers overlap" in c.value for c in at.caption)
    at.selectbox(key="p_model").set_value("default").run()
    assert not any("speakers overlap" in c.value for c in at.caption)


def test_predict_page_with_a_config_that_is_not_sers_shows_one_line(own_models_folder):
    import shutil

    broken = own_models_folder / "broken"
    shutil.copytree(own_models_folder / "default", broken)
    (broken / "config.json").write_text("[]")
    at = open_app("pages/predict.py")
    at.selectbox(key="p_model").set_value("broken").run()
    no_exception(at)
    assert [plain(e.value) for e in at.error] == [f"{shown(broken / 'config.json')}: is a JSON list, not the settings object ser "
                                           "writes; retrain or restore config.json."]


def test_predict_page_says_what_runs_the_model(own_models_folder):
    at = open_app("pages/predict.py")
    assert any("Runs on ONNX Runtime" in c.value for c in at.caption)
    (own_models_folder / "default" / "model.onnx").unlink()
    at.run()
    assert any("Runs on Keras/TensorFlow: no model.onnx" in c.value for c in at.caption)
    clip = next((DEMO / "Actor_06").glob("*.wav"))
    at.file_uploader(key="uploads").set_value((clip.name, clip.read_bytes(), "audio/wav")).run()
    no_exception(at)
    assert any(m.label == "Predicted emotion" for m in at.metric)


def test_a_single_prediction_says_which_seconds_drove_it():
    import base64

    import numpy as np

    from ser.audio.reader import read_audio

    at = open_app("pages/predict.py")
    clip = DEMO / "Actor_12" / next(p.name for p in (DEMO / "Actor_12").glob("*.wav"))
    at.file_uploader(key="uploads").set_value((clip.name, clip.read_bytes(), "audio/wav")).run()
    no_exception(at)
    emotion = next(m.value for m in at.metric if m.label == "Predicted emotion").split()[-1]
    why = [s for s in _chart_specs(at) if s["layout"].get("title", {}).get("text", "").startswith("Which seconds")]
    assert why and why[0]["layout"]["title"]["text"] == f"Which seconds made it “{emotion}”"
    bars = why[0]["data"][0]
    y, sr = read_audio(clip).y, 16_000
    x = bars["x"]
    n_bars = len(np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"])) if isinstance(x, dict) else len(x)
    assert n_bars == int(np.ceil(len(y) / (0.25 * sr)))  # a bar for every quarter second
    caption = next(c.value for c in at.caption if c.value.startswith("**Why?**"))
    assert f"“{emotion}” rests most on" in caption or "No single stretch decides" in caption
    second = next(p for p in (DEMO / "Actor_06").glob("*.wav"))
    at.file_uploader(key="uploads").set_value([(clip.name, clip.read_bytes(), "audio/wav"),
                                               (second.name, second.read_bytes(), "audio/wav")]).run()
    assert not [s for s in _chart_specs(at) if s["layout"].get("title", {}).get("text", "").startswith("Which")]


def test_a_long_upload_is_explained_in_longer_stretches_and_says_so():
    import io

    import numpy as np
    import soundfile as sf

    from ser.audio.reader import read_audio

    clips = [read_audio(p).y for p in sorted(DEMO.glob("*/*.wav"))]
    y = np.concatenate([c for clip in clips[:8] for c in (clip, np.zeros(4000, np.float32))])[:20 * 16_000]
    buf = io.BytesIO()
    sf.write(buf, y, 16_000, format="WAV")
    at = open_app("pages/predict.py")
    at.file_uploader(key="uploads").set_value(("twenty.wav", buf.getvalue(), "audio/wav")).run()
    no_exception(at)
    caption = next(c.value for c in at.caption if c.value.startswith("**Why?**"))
    # 80 quarter seconds > 48 stretches, and the encoder member's re-scoring cost: 0.75 s stretches
    assert "Each stretch is made longer (0.75 s instead of 0.25 s)" in caption
    assert "when that 0.75 s stretch is silenced" in caption


def test_the_train_page_trains_on_two_corpora_and_evaluate_shows_each(two_corpora, monkeypatch, feature_cache):
    monkeypatch.setenv("SER_CACHE_DIR", str(feature_cache))
    monkeypatch.setenv("SER_DATA_ROOTS", str(two_corpora[0].parents[1]))
    at = open_app("pages/train.py")
    for csv in two_corpora:
        at.text_input(key="other_dataset").set_value(str(csv.parent)).run()
        next(b for b in at.button if b.label == "Add dataset").click().run()
    at.selectbox(key="p_dataset").set_value(str(two_corpora[0].resolve())).run()
    at.multiselect(key="p_tr_more").set_value([str(two_corpora[1].resolve())]).run()
    no_exception(at)
    assert any("in each of the 2 corpora" in c.value for c in at.caption)
    at.selectbox(key="p_tr_preset").set_value("quick")
    at.number_input(key="p_tr_epochs").set_value(2)
    at.checkbox(key="p_tr_augment").set_value(False)
    at.text_input(key="p_tr_name").set_value("two-corpora")
    next(b for b in at.get("form_submit_button") if "Start" in b.label).click().run()
    no_exception(at)
    header = wait_for_run(at, "two-corpora")
    assert header.endswith("done"), [e.value for e in at.error]
    assert any("2 corpora (ravdess, nemo)" in plain(c.value) for c in at.caption)
    at.switch_page("pages/evaluate.py").run()
    at.selectbox(key="p_model").set_value("two-corpora").run()
    no_exception(at)
    assert any(h.value == "Per corpus" for h in at.subheader)
    table = next(d.value for d in at.dataframe if "corpus" in d.value.columns)
    assert list(table["corpus"]) == ["ravdess", "nemo"]
    assert table.set_index("corpus").loc["nemo", "its emotions"] == "neutral, happy, sad, angry, fearful, surprised"
