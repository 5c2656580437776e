"""The ONNX export: it agrees with Keras, it is used only when current, and Keras takes over without it."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from ser.audio.reader import finish_audio, read_audio
from ser.errors import ModelError
from ser.features.extract import extract_features
from ser.serving.predict import Predictor
from tests.conftest import DEFAULT_MODEL, DEMO, REPO


@pytest.fixture(scope="module")
def demo_features():
    """The model's input for every demo clip (its first window), shape (n, 182, 96)."""
    import pandas as pd

    config = Predictor.load(DEFAULT_MODEL).config
    labels = pd.read_csv(DEMO / "all_labels.csv")
    clips = [finish_audio(read_audio(DEMO / p, config=config.audio), config=config.audio) for p in labels.path]
    return np.stack([extract_features(y[:config.features.window_samples], sr=config.audio.sample_rate_hz,
                                      config=config.features) for y in clips])


@pytest.fixture
def model_copy(tmp_path):
    """The shipped model folder without its export."""
    out = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL, out, ignore=shutil.ignore_patterns("model.onnx"))
    return out


def test_shipped_export_agrees_with_keras_on_every_demo_clip(demo_features):
    onnx, keras = Predictor.load(DEFAULT_MODEL), Predictor.load(DEFAULT_MODEL, runtime="keras")
    assert (onnx.runtime, keras.runtime) == ("onnx", "keras")
    a, b = onnx.predict_networks(demo_features), keras.predict_networks(demo_features)  # what is exported
    assert a.shape == (len(demo_features), 8)
    assert np.abs(a - b).max() < 1e-4
    assert (a.argmax(axis=1) == b.argmax(axis=1)).all()


def test_without_an_export_keras_predicts_and_says_why(model_copy, real_clip):
    predictor = Predictor.load(model_copy)
    assert predictor.runtime == "keras"
    assert "no model.onnx" in predictor.fallback_reason
    expected = Predictor.load(DEFAULT_MODEL).predict_file(real_clip)
    got = predictor.predict_file(real_clip)
    assert got.emotion == expected.emotion
    assert max(abs(got.probabilities[e] - p) for e, p in expected.probabilities.items()) < 1e-4
    with pytest.raises(ModelError, match="cannot predict with ONNX Runtime: no model.onnx"):
        Predictor.load(model_copy, runtime="onnx")


def test_an_export_of_an_earlier_model_file_is_not_used(model_copy):
    shutil.copy(DEFAULT_MODEL / "model.onnx", model_copy / "model.onnx")
    assert Predictor.load(model_copy).runtime == "onnx"
    with open(model_copy / "model.keras", "ab") as f:  # a retrained model.keras: other bytes
        f.write(b"\0")
    with open(model_copy / "model.h5", "ab") as f:
        f.write(b"\0")
    predictor = Predictor.load(model_copy)
    assert predictor.runtime == "keras"
    assert "made from an earlier model.keras" in predictor.fallback_reason


def test_a_damaged_export_is_named_and_keras_takes_over(model_copy):
    (model_copy / "model.onnx").write_bytes(b"not an onnx file")
    predictor = Predictor.load(model_copy)
    assert predictor.runtime == "keras" and predictor.fallback_reason == "model.onnx is damaged"
    with pytest.raises(ModelError, match="model.onnx is damaged"):
        Predictor.load(model_copy, runtime="onnx")


def test_cli_export_writes_a_current_export(model_copy, capsys):
    from ser.__main__ import main

    assert main(["export", "--model", str(model_copy)]) == 0
    out = capsys.readouterr().out
    assert "exported from model.keras; largest difference from Keras" in out
    assert float(out.rsplit(" ", 1)[1]) < 1e-4
    assert Predictor.load(model_copy).runtime == "onnx"


def test_cli_predict_with_the_export_imports_neither_tensorflow_nor_librosa(real_clip):
    code = ("import sys, runpy; sys.argv = ['ser', 'predict', '--model', sys.argv[1], sys.argv[2]]\n"
            "try:\n    runpy.run_module('ser', run_name='__main__')\nexcept SystemExit as e:\n    assert e.code == 0\n"
            "print(sorted(m for m in ('tensorflow', 'keras', 'librosa', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(DEFAULT_MODEL), str(real_clip)], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert "angry" in out[0] and out[-1] == "[]"


def test_an_export_of_another_shape_falls_back_to_keras_unless_onnx_was_asked_for(model_copy, tmp_path):
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, 4])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 4])
    graph = helper.make_graph([helper.make_node("Identity", ["features"], ["out"])], "other", [x], [y])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    from ser.features.cache import file_digest

    digest = file_digest(model_copy / "model.keras", algorithm="sha256")
    for key, value in (("ser_source_sha256", digest), ("ser_source", "model.keras")):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, model_copy / "model.onnx")
    predictor = Predictor.load(model_copy)
    assert predictor.runtime == "keras" and "not ser's features" in predictor.fallback_reason
    with pytest.raises(ModelError, match="not ser's features"):
        Predictor.load(model_copy, runtime="onnx")
