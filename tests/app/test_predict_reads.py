"""The Predict page decodes an upload once: for its prediction, its explanation and its waveform."""

from __future__ import annotations

import io

import soundfile as sf

from tests.app.test_app import no_exception, open_app
from tests.conftest import DEMO


def test_an_upload_is_decoded_once_for_prediction_and_explanation(monkeypatch):
    clip = sorted((DEMO / "Actor_12").glob("*.wav"))[0]
    y, sr = sf.read(clip, dtype="float32")
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="FLOAT")  # bytes no other test uploads: no cache hit from one
    at = open_app("pages/predict.py")
    opened = []
    real = sf.SoundFile

    def counted(*a, **k):
        opened.append(a[0] if a else k.get("file"))
        return real(*a, **k)

    monkeypatch.setattr(sf, "SoundFile", counted)
    at.file_uploader(key="uploads").set_value(("float.wav", buf.getvalue(), "audio/wav")).run()
    no_exception(at)
    assert any(m.label == "Predicted emotion" for m in at.metric)
    assert any(c.value.startswith("**Why?**") for c in at.caption), "the single upload is explained"
    assert len(opened) == 1, f"the upload was decoded {len(opened)} times"
    at.run()  # a rerun (any widget) decodes nothing again
    no_exception(at)
    assert len(opened) == 1, f"a rerun decoded the upload again ({len(opened)} reads in all)"
