"""The Predict page's enrolment for a model trained with per-speaker normalisation: absent for a model that
would ignore it; under 3 s of speech is one line and nothing is kept; a real enrolment of three demo clips
of one actor is used by the next upload's answer (the same answer as the Predictor gives with that
enrolment, unlike the answer without one), and forgetting it brings the plain answer back."""

from __future__ import annotations

import io
import json

import numpy as np
import soundfile as sf

from tests.app.test_app import _chart_specs, no_exception, open_app, plain
from tests.conftest import DEMO

ACTOR = "Actor_12"


def _as_speaker_norm(folder) -> None:
    """The shipped model's folder, its config saying it was trained with per-speaker normalisation: the
    predictor then normalises every window by the speaker's mean (the network's answers change with it)."""
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config["train"]["speaker_norm"] = True
    path.write_text(json.dumps(config))


def _bars(at) -> dict[str, float]:
    bar = next(s for s in _chart_specs(at) if s["data"] and s["data"][0].get("type") == "bar")["data"][0]
    return dict(zip(bar["x"], bar["y"]))


def test_a_model_without_speaker_norm_shows_no_enrolment():
    at = open_app("pages/predict.py")
    no_exception(at)
    assert not [b for b in at.button if b.key == "enrol_go"]


def test_enrol_then_predict_uses_the_speakers_mean_and_forgetting_it_does_not(own_models_folder):
    from ser.serving.predict import Predictor

    folder = own_models_folder / "default"
    _as_speaker_norm(folder)
    clips = sorted((DEMO / ACTOR).glob("*.wav"))
    enrol, probe = clips[:3], clips[3]
    at = open_app("pages/predict.py")
    no_exception(at)
    assert at.button(key="enrol_go").disabled  # nothing given yet

    y, sr = sf.read(enrol[0], dtype="float32")
    buf = io.BytesIO()
    sf.write(buf, y[: int(1.2 * sr)], sr, format="WAV")
    at.file_uploader(key="enrol_files").set_value(("short.wav", buf.getvalue(), "audio/wav")).run()
    at.button(key="enrol_go").click().run()
    no_exception(at)
    errors = [plain(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("enrolment: ") and "at least 3 s" in errors[0], errors
    assert "\n" not in errors[0]
    assert not [s for s in at.success if "Answers use your voice" in s.value]  # nothing kept

    at.file_uploader(key="enrol_files").set_value([(p.name, p.read_bytes(), "audio/wav") for p in enrol]).run()
    at.button(key="enrol_go").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    kept = [plain(s.value) for s in at.success if "Answers use your voice" in s.value]
    assert kept and "from 3 clips" in kept[0], kept

    at.file_uploader(key="uploads").set_value((probe.name, probe.read_bytes(), "audio/wav")).run()
    no_exception(at)
    shown = _bars(at)
    predictor = Predictor.load(folder)
    stats = predictor.enrol(enrol)
    with_it = predictor.predict_file(probe, speaker=stats).probabilities
    without = predictor.predict_file(probe).probabilities
    assert max(abs(with_it[e] - without[e]) for e in with_it) > 0.01  # the enrolment matters for this clip
    np.testing.assert_allclose([shown[e] for e in with_it], list(with_it.values()), atol=1e-4)
    assert any("without your enrolment" in c.value for c in at.caption)  # no explanation of another answer

    at.button(key="enrol_forget").click().run()
    no_exception(at)
    shown = _bars(at)
    np.testing.assert_allclose([shown[e] for e in without], list(without.values()), atol=1e-4)
