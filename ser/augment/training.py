"""Augmentations as small seeded transforms, in the manner of audiomentations.

Each transform is called as ``transform(y, sr=sr, rng=rng)`` with an explicit
:class:`numpy.random.Generator` and applies itself with probability ``p``. No global
random state is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ser.augment.conditions import RandomTransform
from ser.config import AugmentConfig

__all__ = ["AddGaussianNoise", "TimeStretch", "PitchShift", "make_transforms", "augment", "augment_versions",
           "version_rng", "VERSIONS"]

VERSIONS: tuple[str, ...] = ("original", "recording", "stretch", "pitch")
"""What training sees of each training clip: as recorded; under a random recording condition
(room, noise, EQ, phone line or codec, gain and clipping: :class:`ser.augment.conditions.RecordingChain`);
time-stretched; pitch-shifted. The stretched and pitch-shifted versions also get a random recording
condition with probability ``AugmentConfig.chain_p``."""


@dataclass(frozen=True)
class AddGaussianNoise(RandomTransform):
    """White Gaussian noise at a signal-to-noise ratio drawn from ``[min_snr_db, max_snr_db]``."""

    min_snr_db: float = 15.0
    max_snr_db: float = 35.0

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        snr_db = rng.uniform(self.min_snr_db, self.max_snr_db)
        signal_rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
        noise_rms = signal_rms / (10 ** (snr_db / 20))
        return (y + rng.normal(0.0, noise_rms, size=y.shape)).astype(np.float32)


@dataclass(frozen=True)
class TimeStretch(RandomTransform):
    """Change speed without changing pitch, by a rate from ``[min_rate, max_rate]`` (>1 is faster)."""

    min_rate: float = 0.8
    max_rate: float = 1.25

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        import librosa

        rate = rng.uniform(self.min_rate, self.max_rate)
        return librosa.effects.time_stretch(y, rate=rate).astype(np.float32)


@dataclass(frozen=True)
class PitchShift(RandomTransform):
    """Shift pitch by semitones from ``[min_semitones, max_semitones]``, keeping duration."""

    min_semitones: float = -3.0
    max_semitones: float = 3.0

    def apply(self, y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
        import librosa

        steps = rng.uniform(self.min_semitones, self.max_semitones)
        return librosa.effects.pitch_shift(y, sr=sr, n_steps=steps, res_type="soxr_hq").astype(np.float32)


def make_transforms(config: AugmentConfig | None = None, *,
                    babble_sources: Sequence[np.ndarray] = ()) -> dict[str, Callable[..., np.ndarray]]:
    """The transforms of training, keyed by name, with factors from ``config``.

    ``recording`` is the whole recording chain; ``noise`` (white Gaussian noise), ``stretch`` and
    ``pitch`` are the single transforms; ``room``, ``background``, ``eq``, ``channel`` and ``gain`` are
    the chain's steps on their own (each with probability 1), for showing them one by one.
    """
    from ser.augment.conditions import (AddBackgroundNoise, ChannelDegradation, EqTilt, GainClipping, RecordingChain,
                                RoomReverb)

    c = config or AugmentConfig()
    return {
        "recording": RecordingChain.from_config(c, babble_sources=babble_sources),
        "noise": AddGaussianNoise(c.noise_snr_db_min, c.noise_snr_db_max),
        "stretch": TimeStretch(c.stretch_rate_min, c.stretch_rate_max),
        "pitch": PitchShift(c.pitch_semitones_min, c.pitch_semitones_max),
        "room": RoomReverb(c.rt60_s_min, c.rt60_s_max),
        "background": AddBackgroundNoise(c.noise_snr_db_min, c.noise_snr_db_max,
                                         babble_sources=tuple(babble_sources)),
        "eq": EqTilt(c.eq_tilt_db_per_octave_max),
        "channel": ChannelDegradation(),
        "gain": GainClipping(c.gain_db_min, c.gain_db_max, clipping_p=1.0,
                             min_percentile=c.clipping_percentile_min),
    }


def version_rng(seed: int, key: str, version: str) -> np.random.Generator:
    """A generator for one (clip, version) pair, independent of the order clips are processed in."""
    import zlib

    return np.random.default_rng([seed, zlib.crc32(key.encode()), zlib.crc32(version.encode())])


def augment(y: np.ndarray, *, sr: int, version: str, rng: np.random.Generator,
            config: AugmentConfig | None = None, babble_sources: Sequence[np.ndarray] = ()) -> np.ndarray:
    """One training version of ``y``: ``"original"`` returns it as it is.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        The clip before trimming and level normalisation (``prepare_audio(..., finish=False)``).
    sr : int
    version : one of ``VERSIONS``
    rng : numpy.random.Generator
    config : AugmentConfig, optional
    babble_sources : other training speakers' clips, for babble noise (none: coloured noise only)
    """
    from ser.errors import ConfigError

    if version == "original":
        return y
    if version not in VERSIONS:
        raise ConfigError(f"augmentation version {version!r} is unknown; choose one of {', '.join(VERSIONS)}.")
    c = config or AugmentConfig()
    transforms = make_transforms(c, babble_sources=babble_sources)
    if version == "recording":
        return transforms["recording"](y, sr=sr, rng=rng)
    y = transforms[version](y, sr=sr, rng=rng)
    if rng.random() < c.chain_p:
        y = transforms["recording"](y, sr=sr, rng=rng)
    return y


def augment_versions(y: np.ndarray, *, sr: int, rng: np.random.Generator,
                     config: AugmentConfig | None = None,
                     babble_sources: Sequence[np.ndarray] = ()) -> dict[str, np.ndarray]:
    """The original and its three augmentations, as training sees them.

    Returns
    -------
    dict mapping each of ``VERSIONS`` to an array of shape (m,); lengths differ for ``stretch``.
    """
    return {v: augment(y, sr=sr, version=v, rng=rng, config=config, babble_sources=babble_sources)
            for v in VERSIONS}


def babble_pools(paths: Sequence[str], speakers: Sequence[object] | None, *, n_sources: int = 24,
                 seed: int = 0) -> list[tuple[str, ...]]:
    """For each clip, the other speakers' clips that its babble noise may be made of.

    ``n_sources`` clips are drawn once (seeded) from ``paths``; each clip gets those of them that
    are not by its own speaker (without speakers: not itself). Give training clips only, so that
    no validation or test voice is heard in training.

    Parameters
    ----------
    paths : sequence of str, length n
    speakers : sequence, length n, or None

    Returns
    -------
    list of n tuples of paths
    """
    paths = [str(p) for p in paths]
    if not paths:
        return []
    who = [str(s) for s in speakers] if speakers is not None else paths
    order = sorted(range(len(paths)), key=lambda i: paths[i])  # independent of the input order
    rng = np.random.default_rng(seed)
    chosen = [order[i] for i in sorted(rng.choice(len(order), size=min(n_sources, len(order)), replace=False))]
    return [tuple(paths[j] for j in chosen if who[j] != who[i]) for i in range(len(paths))]
