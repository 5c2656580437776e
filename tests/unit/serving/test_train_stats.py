"""The penultimate activations' training statistics (ser.serving.train_stats), from the shipped model's weights."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from ser.model_folder import ModelFolder
from ser.serving.adapt import Embedder
from ser.serving.predict import cls_shape
from ser.serving.train_stats import penultimate_statistics, rectified_gaussian_moments
from tests.conftest import DEFAULT_MODEL


@pytest.mark.parametrize("loc,scale", [(0.0, 1.0), (1.5, 0.4), (-1.0, 2.0), (-3.0, 0.5), (2.0, 3.0)])
def test_the_rectified_gaussian_moments_match_a_seeded_sample(loc, scale):
    rng = np.random.default_rng(21)
    x = np.maximum(rng.normal(loc, scale, size=2_000_000), 0.0)
    mean, std = rectified_gaussian_moments(np.array([loc]), np.array([scale]))
    assert mean[0] == pytest.approx(x.mean(), rel=5e-3, abs=1e-3)
    assert std[0] == pytest.approx(x.std(), rel=5e-3, abs=1e-3)


def test_a_unit_with_no_spread_is_its_rectified_location():
    mean, std = rectified_gaussian_moments(np.array([2.0, -1.0]), np.array([0.0, 0.0]))
    assert mean.tolist() == [2.0, 0.0] and std.tolist() == [0.0, 0.0]


def test_the_shipped_model_gives_one_finite_mean_and_positive_spread_per_activation():
    embedder = Embedder(DEFAULT_MODEL)
    stats = penultimate_statistics(embedder.proto, embedder.names, DEFAULT_MODEL / "model.keras")
    assert stats is not None
    mean, std = stats
    d = embedder(np.zeros((1, *cls_shape(ModelFolder(DEFAULT_MODEL).config())), np.float32))[0].shape[1]
    assert d == 3 * 64 + 3 * 128  # three CNN networks' 64 units, three summary networks' 128
    assert mean.shape == std.shape == (d,)
    assert np.all(np.isfinite(mean)) and np.all(mean >= 0) and np.all(std > 0)
    assert np.count_nonzero(np.isfinite(std)) > d // 2  # most units are alive on the training data


def test_without_the_keras_file_there_are_no_statistics(tmp_path):
    proto = onnx.load(DEFAULT_MODEL / "model.onnx")
    embedder = Embedder(DEFAULT_MODEL)
    assert penultimate_statistics(proto, embedder.names, tmp_path / "model.keras") is None
