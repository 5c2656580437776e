"""The Live tab's pieces that run without a browser: WebRTC frames to samples, the rolling chart, and the
tab in a script test (no browser session: one line, no error)."""

import av
import numpy as np
import pytest

from pages._ui.live import frame_samples, live_figure
from pages._ui.plots import EMOTION_COLORS
from ser.audio.speech import MANY_VOICES, NO_SPEECH
from ser.serving.live import Reading
from tests.app.test_app import no_exception, open_app


def test_packed_and_planar_frames_give_samples_by_channels():
    rng = np.random.default_rng(0)
    left, right = (rng.integers(-2 ** 15, 2 ** 15, 960, dtype=np.int16) for _ in range(2))
    packed = av.AudioFrame.from_ndarray(np.stack([left, right], axis=1).reshape(1, -1), format="s16",
                                        layout="stereo")
    planar = av.AudioFrame.from_ndarray(np.stack([left, right]).astype(np.float32) / 32768, format="fltp",
                                        layout="stereo")
    for frame, scale in ((packed, 1), (planar, 1 / 32768)):
        y = frame_samples(frame)
        assert y.shape == (960, 2)
        np.testing.assert_allclose(y[:, 0], left * scale)
        np.testing.assert_allclose(y[:, 1], right * scale)


def test_the_chart_stacks_each_emotion_in_its_colour_and_greys_out_no_speech():
    emotions = ["neutral", "happy", "angry"]
    readings = [Reading(0.5, None, NO_SPEECH), Reading(1.0, None, MANY_VOICES),
                Reading(1.5, "angry", "", {"neutral": 0.1, "happy": 0.2, "angry": 0.7})]
    fig = live_figure(readings, emotions, now_s=1.5)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name) == [*emotions, "no speech", "several voices"]
    assert [by_name[e].line.color for e in emotions] == [EMOTION_COLORS[e] for e in emotions]
    assert list(by_name["angry"].y) == [0, 0, 0.7] and list(by_name["no speech"].y) == [1, 0, 0]
    assert list(by_name["several voices"].y) == [0, 1, 0]
    assert list(by_name["angry"].x) == pytest.approx([-1.0, -0.5, 0.0])  # seconds ago
    assert sum(by_name[n].y[2] for n in by_name) == pytest.approx(1.0)


def test_the_live_tab_in_a_script_test_says_it_needs_a_browser():
    at = open_app("pages/predict.py")
    no_exception(at)
    assert any("streams a browser's microphone" in i.value for i in at.info)


def test_the_live_tabs_webrtc_stack_loads_after_tensorflow_has_run():
    """TensorFlow (a Keras-only model on the Predict page, Why? on a page) and then the Live tab's WebRTC stack
    in one dashboard process: pylibsrtp's OpenSSL crashed the process (SIGSEGV) when it loaded after TensorFlow
    had run. What the pages import first must load it before anything can load TensorFlow."""
    import subprocess
    import sys

    from tests.conftest import REPO

    script = ("import pages._ui\n"
              "import tensorflow as tf\n"
              "tf.matmul(tf.ones((4, 4)), tf.ones((4, 4))).numpy()\n"
              "from streamlit_webrtc import webrtc_streamer\n"
              "from pylibsrtp import Policy, Session\n"
              "Session(policy=Policy(key=bytes(30), ssrc_type=Policy.SSRC_ANY_OUTBOUND,\n"
              "                      srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80))\n"
              "print('srtp session made')\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0 and "srtp session made" in proc.stdout, (proc.returncode, proc.stderr[-2000:])
