"""“That's not right” on the Predict page: a predicted clip goes, with the emotion the user says it really
was, into a dataset of theirs (ser.datasets.recording.add_recording: lock, write-and-rename, no lost rows,
the access rules), and nothing is written anywhere else."""

from __future__ import annotations

import csv

import soundfile as sf

from tests.app.test_app import no_exception, open_app, plain
from tests.conftest import DEMO, REPO


def _snapshot(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in folder.rglob("*") if p.is_file())


def _rows(csv_path):
    with open(csv_path, newline="") as f:
        return [tuple(r) for r in csv.reader(f)]


def _correct(at, k: str, *, emotion: str, speaker: str | None = None, dataset: str | None = None):
    at.selectbox(key=f"cor_emotion_{k}").select(emotion)
    if speaker is not None:
        at.text_input(key=f"cor_speaker_{k}").input(speaker)
    if dataset is not None:
        at.selectbox(key=f"cor_dataset_{k}").select("➕ A new dataset…")
        at.run()
        at.text_input(key=f"cor_new_{k}").input(dataset)
    at.button(key=f"cor_save_{k}").click().run()
    no_exception(at)


def test_corrections_of_an_upload_and_a_recording_land_in_the_dataset(own_datasets_folder, own_models_folder):
    models_before, data_before = _snapshot(own_models_folder), _snapshot(REPO / "data")
    first, second = sorted((DEMO / "Actor_12").glob("*.wav"))[:2]
    at = open_app("pages/predict.py")
    at.file_uploader(key="uploads").set_value((first.name, first.read_bytes(), "audio/wav")).run()
    no_exception(at)
    k = f"upload-{first.name}"
    assert at.button(key=f"cor_save_{k}").label == "Save correction"
    _correct(at, k, emotion="angry", speaker="anna")
    assert not at.error, [e.value for e in at.error]
    saved = [plain(s.value) for s in at.success]
    assert any("Saved anna/angry/anna_angry_001.wav as angry in “my-corrections” (1 clip(s), 1 of anna: angry 1)"
               in s for s in saved), saved
    dataset = own_datasets_folder / "my-corrections"
    assert _rows(dataset / "all_labels.csv") == [("path", "emotion", "speaker"),
                                                ("anna/angry/anna_angry_001.wav", "angry", "anna")]
    y, sr = sf.read(dataset / "anna/angry/anna_angry_001.wav")
    assert sr == 16_000 and len(y) > sr  # the clip itself, as the model hears it

    # a recording, corrected next: the speaker and the dataset are remembered, the first row kept
    at.audio_input(key="mic").set_value(("recording.wav", second.read_bytes(), "audio/wav")).run()
    no_exception(at)
    k2 = "record-recording.wav"
    assert at.text_input(key=f"cor_speaker_{k2}").value == "anna"
    assert at.selectbox(key=f"cor_dataset_{k2}").value == "my-corrections"
    _correct(at, k2, emotion="sad")
    assert not at.error, [e.value for e in at.error]
    assert _rows(dataset / "all_labels.csv") == [("path", "emotion", "speaker"),
                                                ("anna/angry/anna_angry_001.wav", "angry", "anna"),
                                                ("anna/sad/anna_sad_001.wav", "sad", "anna")]
    assert any("(2 clip(s), 2 of anna: sad 1, angry 1)" in plain(s.value) for s in at.success), [s.value for s in at.success]
    # nothing outside the datasets folder
    assert _snapshot(own_models_folder) == models_before
    assert _snapshot(REPO / "data") == data_before
    assert sorted(p.relative_to(own_datasets_folder).as_posix() for p in own_datasets_folder.rglob("*.wav")) == [
        "my-corrections/anna/angry/anna_angry_001.wav", "my-corrections/anna/sad/anna_sad_001.wav"]


def test_a_bad_speaker_name_is_one_line_and_nothing_is_written(own_datasets_folder):
    clip = sorted((DEMO / "Actor_12").glob("*.wav"))[0]
    at = open_app("pages/predict.py")
    at.file_uploader(key="uploads").set_value((clip.name, clip.read_bytes(), "audio/wav")).run()
    k = f"upload-{clip.name}"
    _correct(at, k, emotion="happy", speaker="../anna", dataset="mine")
    errors = [plain(e.value) for e in at.error]
    assert len(errors) == 1 and "speaker name '../anna' is not allowed" in errors[0], errors
    assert not at.success
    assert list(own_datasets_folder.iterdir()) == []


def test_another_visitors_dataset_is_neither_offered_nor_written(own_datasets_folder):
    from ser.access import Visitor
    from ser.datasets.recording import add_recording

    clip = sorted((DEMO / "Actor_12").glob("*.wav"))[0]
    theirs = own_datasets_folder / "theirs"
    add_recording(theirs, clip.read_bytes(), speaker="bo", emotion="calm", by=Visitor("someone-else"))
    before = _snapshot(theirs)
    at = open_app("pages/predict.py")
    at.file_uploader(key="uploads").set_value((clip.name, clip.read_bytes(), "audio/wav")).run()
    k = f"upload-{clip.name}"
    assert "theirs" not in at.selectbox(key=f"cor_dataset_{k}").options
    at.selectbox(key=f"cor_emotion_{k}").select("happy")
    at.text_input(key=f"cor_speaker_{k}").input("anna")
    at.text_input(key=f"cor_new_{k}").input("theirs").run()
    no_exception(at)
    assert any("another visitor's dataset" in plain(i.value) for i in at.info)
    assert at.button(key=f"cor_save_{k}").disabled
    assert _snapshot(theirs) == before


def test_a_live_snapshot_can_be_corrected(own_datasets_folder):
    clip = sorted((DEMO / "Actor_19").glob("*.wav"))[0]
    at = open_app("pages/predict.py")
    at.session_state["live_snapshot"] = (clip.read_bytes(), "happy")
    at.run()
    no_exception(at)
    _correct(at, "live", emotion="fearful", speaker="cy")
    assert _rows(own_datasets_folder / "my-corrections" / "all_labels.csv")[1:] == [
        ("cy/fearful/cy_fearful_001.wav", "fearful", "cy")]


def test_a_clip_without_speech_is_not_offered_for_keeping(own_datasets_folder):
    import io

    import numpy as np

    buf = io.BytesIO()
    y = 0.1 * np.random.default_rng(3).standard_normal(3 * 16_000)  # white noise: no voice in it
    sf.write(buf, y.astype(np.float32), 16_000, format="WAV")
    at = open_app("pages/predict.py")
    at.file_uploader(key="uploads").set_value(("noise.wav", buf.getvalue(), "audio/wav")).run()
    no_exception(at)
    assert any(m.label == "Predicted emotion" and "no speech" in m.value for m in at.metric)
    assert any("it is not kept as a labelled clip" in c.value for c in at.caption)
    assert not any(b.key == "cor_save_upload-noise.wav" for b in at.button)
    assert list(own_datasets_folder.iterdir()) == []

