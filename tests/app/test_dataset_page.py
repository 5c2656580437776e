"""The Dataset page's clip view shows the model's own view of the clip."""

import json

import numpy as np

from tests.app.test_app import no_exception, open_app, plain
from tests.conftest import DEMO


def _array(value) -> np.ndarray:
    """A plotly JSON array: a list, or plotly 6's typed array ``{"dtype", "bdata", "shape"}``."""
    if isinstance(value, dict):
        import base64

        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return out.reshape([int(n) for n in str(shape).split(",")]) if shape else out
    return np.asarray(value, dtype=float)


def test_clip_view_shows_what_the_model_sees():
    from ser.audio.reader import read_audio
    from ser.config import Config
    from ser.features.extract import model_view

    at = open_app()
    at.multiselect(key="p_ds_emotions").set_value(["angry"]).run()
    no_exception(at)
    heat = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heat = {s["layout"]["title"]["text"]: s["data"][0] for s in heat if s["data"] and s["data"][0]["type"] == "heatmap"}
    config = Config()
    clip = at.session_state["p_clip"]
    raw = read_audio(clip)
    expected = model_view(raw.y, sr=raw.sr, config=config)
    mel = heat["Mel spectrogram (dB)"]
    x = _array(mel["x"])
    assert len(x) == config.features.max_frames
    assert x[1] - x[0] == config.features.hop_length / config.audio.sample_rate_hz  # 32 ms, the model's hop
    np.testing.assert_allclose(_array(mel["z"]), expected["mel"], atol=1e-4)
    np.testing.assert_allclose(_array(heat["MFCC"]["z"]), expected["mfcc"], atol=1e-4)
    assert str(DEMO) in clip


def _folders_zip(n_per: int = 2) -> bytes:
    """A zip of demo clips in one folder per emotion, speakers as sub-folders."""
    import io
    import zipfile

    import pandas as pd

    labels = pd.read_csv(DEMO / "all_labels.csv")
    labels = labels[labels.path.str.endswith(".wav")]  # the demo's RAVDESS clips: 4 speakers
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for (emo, spk), rows in labels.groupby(["emotion", "speaker"]):
            for p in rows.path[:n_per]:
                z.write(DEMO / p, f"my clips/{emo.capitalize()}/{spk}/{p.split('/')[-1]}")
        z.writestr("my clips/notes/README.md", "recorded for a demo")
    return buf.getvalue()


def test_a_zip_of_emotion_folders_is_previewed_then_saved(own_datasets_folder):
    at = open_app()
    at.radio(key="p_ds_mode").set_value("New dataset from files").run()
    at.file_uploader(key="nd_files_0").set_value(("my clips.zip", _folders_zip(), "application/zip")).run()
    no_exception(at)
    assert not at.error
    assert [p for p in own_datasets_folder.iterdir() if not p.name.startswith(".")] == []  # nothing saved yet
    at.radio(key="nd_speaker_from").set_value("folder").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Clips to save"] == "64" and metrics["Speakers"] == "4" and metrics["Unreadable"] == "0"
    assert at.text_input(key="nd_name").value == "my-clips"
    at.button(key="nd_save").click().run()
    no_exception(at)
    saved = own_datasets_folder / "my-clips" / "all_labels.csv"
    assert saved.is_file() and len(saved.read_text().splitlines()) == 65
    assert at.radio(key="p_ds_mode").value == "Browse"
    assert at.selectbox(key="p_dataset").value == str(saved)
    assert {m.label: m.value for m in at.metric}["Clips"] == "64"
    assert any("Saved 64 clips" in s.value for s in at.success)


def test_a_hostile_zip_gets_one_line_and_nothing_is_written(own_datasets_folder):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("angry/../../../etc/cron.d/x.wav", b"RIFF")
    at = open_app()
    at.radio(key="p_ds_mode").set_value("New dataset from files").run()
    at.file_uploader(key="nd_files_0").set_value(("evil.zip", buf.getvalue(), "application/zip")).run()
    no_exception(at)
    assert len(at.error) == 1 and plain(at.error[0].value).startswith("evil.zip: refused, 1 member(s) unsafe to extract")
    assert list(own_datasets_folder.iterdir()) == []


def test_the_replace_confirmation_belongs_to_one_name(own_datasets_folder):
    from ser.access import Visitor, mark

    at = open_app()
    for name in ("first", "second"):  # made earlier by this session: it may replace them
        (own_datasets_folder / name).mkdir()
        (own_datasets_folder / name / "all_labels.csv").write_text("path,emotion,speaker\nold.wav,sad,x\n")
        mark(own_datasets_folder / name, Visitor(at.session_state["ser_owner"]))
    at.radio(key="p_ds_mode").set_value("New dataset from files").run()
    at.file_uploader(key="nd_files_0").set_value(("my clips.zip", _folders_zip(1), "application/zip")).run()
    at.text_input(key="nd_name").set_value("first").run()
    at.checkbox(key="nd_overwrite_first").check().run()
    assert not at.button(key="nd_save").disabled
    at.text_input(key="nd_name").set_value("second").run()
    assert not at.checkbox(key="nd_overwrite_second").value and at.button(key="nd_save").disabled
    assert "old.wav" in (own_datasets_folder / "second" / "all_labels.csv").read_text()


def long_dataset(root, *, hours: float = 1.0, channels: int = 1):
    """A dataset in ``root`` whose one clip is ``hours`` of FLAC (small on disk, 115 MB an hour decoded)."""
    from tests.unit.audio.test_reader import _long_flac

    folder = root / "long"
    folder.mkdir()
    _long_flac(folder / "hour.flac", hours=hours, channels=channels)
    (folder / "all_labels.csv").write_text("path,emotion,speaker\nhour.flac,happy,ann\n")
    return folder / "all_labels.csv"


def test_browse_refuses_an_hour_long_clip_from_its_header(own_datasets_folder, monkeypatch):
    from ser.audio.reader import BLOCK_S
    from tests.unit.audio.test_reader import spy_reads

    csv = long_dataset(own_datasets_folder)
    at = open_app()
    asked = spy_reads(monkeypatch)
    at.selectbox(key="p_dataset").set_value(str(csv)).run()
    no_exception(at)
    assert [plain(e.value) for e in at.error] == ["hour.flac: 3600 s is too long (limit 600 s); cut it into shorter clips."]
    assert not at.get("audio") and max(asked, default=0) <= BLOCK_S, f"decoded {max(asked):.0f} s at once"


def test_augmentations_refuse_an_hour_long_clip_from_its_header(own_datasets_folder, monkeypatch):
    from ser.audio.reader import BLOCK_S
    from tests.unit.audio.test_reader import spy_reads

    csv = long_dataset(own_datasets_folder)
    at = open_app()
    at.selectbox(key="p_dataset").set_value(str(csv)).run()
    asked = spy_reads(monkeypatch)
    at.switch_page("pages/augment.py").run()
    no_exception(at)
    assert [plain(e.value) for e in at.error] == ["hour.flac: 3600 s is too long (limit 600 s); cut it into shorter clips."]
    assert not at.get("audio") and max(asked, default=0) <= BLOCK_S, f"decoded {max(asked):.0f} s at once"


def test_the_upload_preview_runs_once_per_upload_and_layout(own_datasets_folder, monkeypatch):
    # issue 22 item 4: the preview (every clip opened) was redone on every widget change
    import ser.datasets.importing

    calls = []
    real = ser.datasets.importing.preview
    monkeypatch.setattr(ser.datasets.importing, "preview", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    at = open_app()
    at.radio(key="p_ds_mode").set_value("New dataset from files").run()
    at.file_uploader(key="nd_files_0").set_value(("my clips.zip", _folders_zip(1), "application/zip")).run()
    assert len(calls) == 1
    at.text_input(key="nd_name").set_value("other-name").run()
    at.run()
    assert len(calls) == 1  # the same upload and layout: the preview is reused
    at.radio(key="nd_speaker_from").set_value("folder").run()
    assert len(calls) == 2  # a new layout is previewed once
    at.text_input(key="nd_name").set_value("third-name").run()
    no_exception(at)
    assert len(calls) == 2 and {m.label: m.value for m in at.metric}["Speakers"] == "4"


def test_an_unsaved_upload_goes_when_it_is_removed_or_its_session_ends(own_datasets_folder):
    # issue 22 item 8: unsaved uploads stayed on disk 6 h after their tab closed or the upload was removed
    import gc
    import os
    import time

    from ser.datasets.importing import INCOMING_IDLE_S, INCOMING_PREFIX

    def incoming():
        return sorted(own_datasets_folder.glob(f"{INCOMING_PREFIX}*"))

    at = open_app()
    at.radio(key="p_ds_mode").set_value("New dataset from files").run()
    at.file_uploader(key="nd_files_0").set_value(("my clips.zip", _folders_zip(1), "application/zip")).run()
    (folder,) = incoming()
    old = time.time() - INCOMING_IDLE_S + 60
    os.utime(folder, (old, old))
    at.text_input(key="nd_name").set_value("x").run()
    assert time.time() - folder.stat().st_mtime < 60  # every rerun is a heartbeat
    at.file_uploader(key="nd_files_0").set_value([]).run()
    no_exception(at)
    assert incoming() == []  # removed from the uploader: gone
    at.file_uploader(key="nd_files_0").set_value(("my clips.zip", _folders_zip(1), "application/zip")).run()
    assert len(incoming()) == 1
    del at
    gc.collect()
    assert incoming() == []  # the session's state is gone: so is its upload
