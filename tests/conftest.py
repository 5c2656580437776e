"""Shared fixtures: real RAVDESS clips from ../shared and seeded synthetic signals."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pages._ui  # noqa: F401  loads the Live tab's SRTP library before any test runs TensorFlow (see there)

REPO = Path(__file__).resolve().parents[1]
RAVDESS = Path(os.environ.get("SER_RAVDESS", REPO.parent / "shared" / "data" / "ravdess"))
DEMO = REPO / "data" / "demo"
DEFAULT_MODEL = REPO / "models" / "default"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def ravdess() -> Path:
    if not (RAVDESS / "all_labels.csv").is_file():
        pytest.fail(f"RAVDESS clips not found at {RAVDESS}; put ../shared beside the checkout or set SER_RAVDESS")
    return RAVDESS


@pytest.fixture(scope="session")
def real_clip(ravdess: Path) -> Path:
    return ravdess / "Actor_01" / "03-01-05-02-01-01-01.wav"  # angry, strong intensity


def make_subset(src: Path, dst: Path, *, speakers: list[str], per_emotion: int) -> Path:
    """Copy a few clips of each emotion for each speaker into ``dst`` with its own all_labels.csv."""
    labels = pd.read_csv(src / "all_labels.csv")
    sub = labels[labels.speaker.isin(speakers)].groupby(["speaker", "emotion"]).head(per_emotion)
    for p in sub.path:
        (dst / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / p, dst / p)
    sub.to_csv(dst / "all_labels.csv", index=False)
    return dst / "all_labels.csv"


NEMO = RAVDESS.parent / "nemo"


@pytest.fixture(scope="session")
def two_corpora(ravdess: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Real clips of two corpora whose speaker names clash: RAVDESS (8 emotions) and nEMO (6: no calm, no
    disgust), 4 speakers x their emotions x 2 each, the nEMO speakers renamed to RAVDESS's."""
    root = tmp_path_factory.mktemp("corpora")
    first = make_subset(ravdess, root / "ravdess", speakers=[f"Actor_{i:02d}" for i in range(1, 5)], per_emotion=2)
    second = make_subset(NEMO, root / "nemo", speakers=["EB0", "IC0", "KD0", "KS0"], per_emotion=2)
    labels = pd.read_csv(second)
    labels["speaker"] = labels["speaker"].map({"EB0": "Actor_01", "IC0": "Actor_02", "KD0": "Actor_03",
                                               "KS0": "Actor_04"})
    labels.to_csv(second, index=False)
    return first, second


@pytest.fixture(scope="session")
def small_subset(ravdess: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """96 real clips: 6 speakers (3 male, 3 female) x 8 emotions x 2."""
    return make_subset(ravdess, tmp_path_factory.mktemp("subset"),
                       speakers=[f"Actor_{i:02d}" for i in range(1, 7)], per_emotion=2)


@pytest.fixture(scope="session")
def feature_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("feature-cache")


@pytest.fixture(scope="session")
def trained_quick_model(small_subset: Path, feature_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real training of the quick preset for 3 epochs on the subset, through the CLI."""
    from ser.__main__ import main

    out = tmp_path_factory.mktemp("models") / "quick"
    code = main(["train", "--labels", str(small_subset), "--out", str(out), "--preset", "quick",
                 "--epochs", "3", "--cache-dir", str(feature_cache)])
    assert code == 0
    return out


def tone(freq_hz: float = 220.0, *, sr: int = 16_000, duration_s: float = 2.0, seed: int = 0) -> np.ndarray:
    """A seeded voiced-like signal: a harmonic tone with a syllable envelope and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * duration_s)) / sr
    y = sum(np.sin(2 * np.pi * freq_hz * k * t) / k for k in range(1, 6))
    y *= 0.5 * (1 - np.cos(2 * np.pi * 3 * t))  # three "syllables" a second
    y += 0.01 * rng.standard_normal(t.size)
    return (0.3 * y / np.max(np.abs(y))).astype(np.float32)
