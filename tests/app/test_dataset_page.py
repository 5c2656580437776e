"""The Dataset page's clip view shows the model's own view of the clip."""

import json

import numpy as np

from tests.app.test_app import no_exception, open_app
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
    from ser.audio import decode
    from ser.config import Config
    from ser.features import model_view

    at = open_app()
    at.multiselect(key="p_ds_emotions").set_value(["angry"]).run()
    no_exception(at)
    heat = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heat = {s["layout"]["title"]["text"]: s["data"][0] for s in heat if s["data"] and s["data"][0]["type"] == "heatmap"}
    config = Config()
    clip = at.session_state["p_clip"]
    y, sr = decode(clip)
    expected = model_view(y, sr=sr, config=config)
    mel = heat["Mel spectrogram (dB)"]
    x = _array(mel["x"])
    assert len(x) == config.features.max_frames
    assert x[1] - x[0] == config.features.hop_length / config.audio.sample_rate_hz  # 32 ms, the model's hop
    np.testing.assert_allclose(_array(mel["z"]), expected["mel"], atol=1e-4)
    np.testing.assert_allclose(_array(heat["MFCC"]["z"]), expected["mfcc"], atol=1e-4)
    assert str(DEMO) in clip
