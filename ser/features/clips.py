"""One clip's features: read once, each requested version (original, augmented, or under a report
condition) made from the raw signal, finished and turned into features, through the cache."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ser.config import AudioConfig, Config
from ser.features.cache import CONDITION_PREFIX, FeatureCache, file_digest
from ser.features.extract import extract_features

__all__ = ["ClipTask", "clip_features", "CONDITION_PREFIX", "CONDITIONS_SEED", "ENCODER_PREFIX", "encoder_key"]

CONDITIONS_SEED = 0  # the robustness report's noise is the same for every model
ENCODER_PREFIX = "encoder:"


def encoder_key(version: str) -> str:
    """Where :func:`clip_features` puts the voice encoder's row of ``version`` (with ``ClipTask.encoder``)."""
    return ENCODER_PREFIX + version


@dataclass(frozen=True)
class ClipTask:
    """Features wanted for one file: which versions to extract.

    A version is ``original``, a training augmentation (``ser.augment.training.VERSIONS``), or a condition
    of the robustness report written ``cond:<name>`` (``ser.augment.transforms.CONDITIONS``). ``babble`` names
    other speakers' clips that babble noise may be made of. ``encoder`` names the versions whose voice
    encoder row is wanted too (:func:`ser.features.encoder.encoder_row`, for a model with an encoder member).
    """

    path: str
    versions: tuple[str, ...] = ("original",)
    babble: tuple[str, ...] = ()
    encoder: tuple[str, ...] = ()



@functools.lru_cache(maxsize=128)
def _babble_source(path: str, audio: AudioConfig) -> np.ndarray:
    """A clip to make babble of, loaded once per process (the same few clips serve every clip)."""
    from ser.audio.reader import finish_audio, read_audio

    return finish_audio(read_audio(path, config=audio), config=audio)


def clip_features(task: ClipTask, *, config: Config, cache_dir: str | Path | None = None,
                  use_cache: bool = True) -> dict[str, np.ndarray]:
    """Features of each requested version of one file, from the cache where present.

    The file is read once by :func:`ser.audio.reader.read_audio`, as prediction reads it (a file longer than
    the limit is refused from its header, before any sample is decoded; then block by block, mixed
    down and resampled); each version is made from that raw signal (before
    trimming, as a microphone would record it), then trimmed and level-normalised
    (:func:`ser.audio.reader.finish_audio`) and turned into features. Augmented versions draw from
    ``version_rng(train.seed, content digest, version)``, report conditions from a fixed seed, so
    both are repeatable whatever order or process the clips are processed in.

    For each version in ``task.encoder``, its :func:`ser.features.encoder.encoder_row` too, of the same
    finished signal cut as the network's window is (:func:`ser.features.extract.fit_window` without its
    filling: a short clip is seen once), under :func:`encoder_key`.

    Returns
    -------
    dict mapping version to an array of shape (n_features, max_frames), and ``encoder_key(version)`` of
    each version in ``task.encoder`` to one of shape (1792,)
    """
    from ser.audio.reader import finish_audio, read_audio
    from ser.augment.training import augment, version_rng
    from ser.augment.transforms import apply_condition

    cache = FeatureCache(cache_dir)
    digest = file_digest(task.path)
    out: dict[str, np.ndarray] = {}
    keys = {v: cache.key(digest, v, audio=config.audio, features=config.features, augment=config.augment,
                         seed=config.train.seed, babble=tuple(task.babble))
            for v in task.versions}
    if set(task.encoder) - set(task.versions):
        raise ValueError(f"encoder rows asked for versions not extracted: {sorted(set(task.encoder) - set(task.versions))}")
    if task.encoder:
        from ser.features.encoder import ENCODER_VERSION

        keys.update({encoder_key(v): cache.key(digest, f"{ENCODER_VERSION}:{v}", audio=config.audio,
                                               features=config.features, augment=config.augment,
                                               seed=config.train.seed, babble=tuple(task.babble))
                     for v in task.encoder})
    if use_cache:
        for v, k in keys.items():
            hit = cache.get(k)
            if hit is not None:
                out[v] = hit
    missing = [v for v in task.versions if v not in out or (v in task.encoder and encoder_key(v) not in out)]
    if missing:
        decoded = read_audio(task.path, config=config.audio, name=task.path)
        raw, sr = decoded.y, decoded.sr
        sources: list[np.ndarray] = []
        if task.babble and any(v != "original" for v in missing):
            sources = [_babble_source(b, config.audio) for b in task.babble]
        for v in missing:
            if v.startswith(CONDITION_PREFIX):
                rng = version_rng(CONDITIONS_SEED, digest, v)
                y = apply_condition(raw, v[len(CONDITION_PREFIX):], sr=sr, rng=rng, babble_sources=sources)
            else:
                rng = version_rng(config.train.seed, digest, v)
                y = augment(raw, sr=sr, version=v, rng=rng, config=config.augment, babble_sources=sources)
            y = finish_audio(y, config=config.audio, name=task.path)
            feats = extract_features(y, sr=sr, config=config.features)
            if use_cache:
                cache.put(keys[v], feats)
            out[v] = feats
            if v in task.encoder:
                from ser.features.encoder import encoder_row

                row = encoder_row(y[:config.features.window_samples], sr=sr)
                if use_cache:
                    cache.put(keys[encoder_key(v)], row)
                out[encoder_key(v)] = row
    return out
