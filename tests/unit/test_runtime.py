"""One owner of ONNX Runtime sessions: the same options for every model ser runs without TensorFlow."""

import re
from pathlib import Path

import numpy as np

SER = Path(__file__).resolve().parents[2] / "ser"


def test_every_session_is_made_in_one_place():
    makers = [f"{p.relative_to(SER.parent)}:{n}" for p in sorted(SER.rglob("*.py")) if p.name != "runtime.py"
              and "assets" not in p.parts
              for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\bInferenceSession\(|SessionOptions\(", line)]
    assert not makers, makers


def test_small_models_run_on_one_thread_and_none_spins():
    from ser.audio.speech import VAD_FILE
    from ser.runtime import inference_session

    small = inference_session(VAD_FILE, one_thread=True)
    options = small.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
    assert options.log_severity_level == 3  # errors only: no notes on standard error
    pooled = inference_session(VAD_FILE.read_bytes())  # from bytes too, as the personal model's probe is made
    for session in (small, pooled):
        assert session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert pooled.get_session_options().intra_op_num_threads == 0  # ONNX Runtime's own choice
    block = np.zeros((1, 576), np.float32)
    state = np.zeros((1, 1, 128), np.float32)
    runs = [s.run(["speech_probs"], {"input": block, "h": state, "c": state})[0] for s in (small, pooled)]
    assert np.allclose(runs[0], runs[1])
