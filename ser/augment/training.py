"""What training does with the registry: each training clip's versions, each from its own generator.

The transforms and their names are those of :mod:`ser.augment.transforms`; this module picks
training's versions (:data:`VERSIONS`) from its registry, seeds one generator per (clip, version), and
chooses the other speakers' clips that babble noise may be made of.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ser.augment.transforms import VERSIONS, condition
from ser.config import AugmentConfig

__all__ = ["augment", "augment_versions", "version_rng", "babble_pools", "VERSIONS"]


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
        The clip as recorded, before trimming and level normalisation (``read_audio(...).y``).
    sr : int
    version : one of ``VERSIONS``
    rng : numpy.random.Generator
    config : AugmentConfig, optional
    babble_sources : other training speakers' clips, for babble noise (none: coloured noise only)
    """
    transform = condition(version, use="training").transform(config=config, babble_sources=babble_sources)
    return transform(y, sr=sr, rng=rng)


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
