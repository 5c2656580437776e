"""Augmentations as small seeded transforms, in the manner of audiomentations.

Each transform is called as ``transform(y, sr=sr, rng=rng)`` with an explicit
:class:`numpy.random.Generator` and applies itself with probability ``p``. No global
random state is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ser.config import AugmentConfig

__all__ = ["AddGaussianNoise", "TimeStretch", "PitchShift", "make_transforms", "augment_versions",
           "VERSIONS"]

VERSIONS: tuple[str, ...] = ("original", "noise", "stretch", "pitch")


@dataclass(frozen=True)
class AddGaussianNoise:
    """White Gaussian noise at a signal-to-noise ratio drawn from ``[min_snr_db, max_snr_db]``."""

    min_snr_db: float = 15.0
    max_snr_db: float = 35.0
    p: float = 1.0

    def __call__(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        if rng.random() >= self.p:
            return y
        snr_db = rng.uniform(self.min_snr_db, self.max_snr_db)
        signal_rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
        noise_rms = signal_rms / (10 ** (snr_db / 20))
        return (y + rng.normal(0.0, noise_rms, size=y.shape)).astype(np.float32)


@dataclass(frozen=True)
class TimeStretch:
    """Change speed without changing pitch, by a rate from ``[min_rate, max_rate]`` (>1 is faster)."""

    min_rate: float = 0.8
    max_rate: float = 1.25
    p: float = 1.0

    def __call__(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        import librosa

        if rng.random() >= self.p:
            return y
        rate = rng.uniform(self.min_rate, self.max_rate)
        return librosa.effects.time_stretch(y, rate=rate).astype(np.float32)


@dataclass(frozen=True)
class PitchShift:
    """Shift pitch by semitones from ``[min_semitones, max_semitones]``, keeping duration."""

    min_semitones: float = -3.0
    max_semitones: float = 3.0
    p: float = 1.0

    def __call__(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        import librosa

        if rng.random() >= self.p:
            return y
        steps = rng.uniform(self.min_semitones, self.max_semitones)
        return librosa.effects.pitch_shift(y, sr=sr, n_steps=steps, res_type="soxr_hq").astype(np.float32)


def make_transforms(config: AugmentConfig | None = None) -> dict[str, AddGaussianNoise | TimeStretch | PitchShift]:
    """The three transforms of training, keyed by version name, with factors from ``config``."""
    c = config or AugmentConfig()
    return {
        "noise": AddGaussianNoise(c.noise_snr_db_min, c.noise_snr_db_max),
        "stretch": TimeStretch(c.stretch_rate_min, c.stretch_rate_max),
        "pitch": PitchShift(c.pitch_semitones_min, c.pitch_semitones_max),
    }


def version_rng(seed: int, key: str, version: str) -> np.random.Generator:
    """A generator for one (clip, version) pair, independent of the order clips are processed in."""
    import zlib

    return np.random.default_rng([seed, zlib.crc32(key.encode()), VERSIONS.index(version)])


def augment(y: np.ndarray, *, sr: int, version: str, rng: np.random.Generator,
            config: AugmentConfig | None = None) -> np.ndarray:
    """One version of ``y``: ``"original"`` returns it as it is.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    sr : int
    version : one of ``VERSIONS``
    rng : numpy.random.Generator
    """
    if version == "original":
        return y
    return make_transforms(config)[version](y, sr=sr, rng=rng)


def augment_versions(y: np.ndarray, *, sr: int, rng: np.random.Generator,
                     config: AugmentConfig | None = None) -> dict[str, np.ndarray]:
    """The original and its three augmentations, as training sees them.

    Returns
    -------
    dict mapping each of ``VERSIONS`` to an array of shape (m,); lengths differ for ``stretch``.
    """
    return {v: augment(y, sr=sr, version=v, rng=rng, config=config) for v in VERSIONS}
