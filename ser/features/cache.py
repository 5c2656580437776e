"""The feature cache: matrices on disk, content-addressed (keyed by the clip's bytes, the settings,
the version and the seed), so that processes and machines on shared storage reuse each other's work;
bounded, least recently used first."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ser.config import AudioConfig, AugmentConfig, FeatureConfig

__all__ = ["FeatureCache", "file_digest", "default_cache_dir", "cache_max_bytes", "CONDITION_PREFIX",
           "PIPELINE_REVISION"]

PIPELINE_REVISION = 2  # 2: conditions on the untrimmed clip, trimming relative to the loudest frame, level norm
CONDITION_PREFIX = "cond:"  # a version of a clip under a condition of the robustness report


def default_cache_dir() -> Path:
    """``$SER_CACHE_DIR``, else ``~/.cache/ser/features``."""
    env = os.environ.get("SER_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "ser" / "features"


DEFAULT_CACHE_MAX_MB = 2048  # two or three feature settings of the 1200 RAVDESS clips with augmentation


def cache_max_bytes() -> int:
    """The feature cache's size cap: ``$SER_CACHE_MAX_MB`` megabytes, else 2048."""
    try:
        mb = float(os.environ.get("SER_CACHE_MAX_MB", DEFAULT_CACHE_MAX_MB))
    except ValueError:
        mb = DEFAULT_CACHE_MAX_MB
    return int(max(mb, 0) * 1024 * 1024)


def file_digest(path: str | Path, *, algorithm: str = "sha1") -> str:
    """Hex digest of a file's bytes, read in 1 MiB blocks (SHA-1 by default: the feature cache's key
    follows the content, not the name)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class FeatureCache:
    """Feature matrices on disk, keyed by clip content, feature/audio settings, version and seed."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory else default_cache_dir()

    @staticmethod
    def key(digest: str, version: str, *, audio: AudioConfig, features: FeatureConfig,
            augment: AugmentConfig, seed: int, babble: tuple[str, ...] = ()) -> str:
        feats = asdict(features)
        if feats.get("pad_mode") == "silence":  # as before the field: older models keep their cached features
            del feats["pad_mode"]
        settings = {"audio": asdict(audio), "features": feats, "version": version, "pipeline": PIPELINE_REVISION}
        if version.startswith(CONDITION_PREFIX):
            settings.update(babble=list(babble))
        elif version != "original":
            settings.update(augment=asdict(augment), seed=seed, babble=list(babble))
        blob = json.dumps(settings, sort_keys=True).encode()
        return hashlib.sha1(digest.encode() + blob).hexdigest()

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        file = self._file(key)
        try:
            value = np.load(file)
        except (FileNotFoundError, ValueError, OSError):
            return None
        try:
            os.utime(file)  # the file's time is its last use: pruning removes the least recently used
        except OSError:
            pass
        return value

    def put(self, key: str, value: np.ndarray) -> None:
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.save(f, value)
        os.replace(tmp, target)

    def entries(self) -> list[tuple[Path, int, float]]:
        """Every cached matrix as ``(file, size in bytes, last use)``."""
        out = []
        for sub in (os.scandir(self.directory) if self.directory.is_dir() else ()):
            if not sub.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(sub.path):
                if entry.name.endswith(".npy"):
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    out.append((Path(entry.path), st.st_size, st.st_mtime))
        return out

    def size_bytes(self) -> int:
        """Bytes on disk of every cached matrix."""
        return sum(size for _, size, _ in self.entries())

    def prune(self, max_bytes: int | None = None) -> int:
        """Remove the least recently used matrices until the cache holds at most ``max_bytes``
        (default :func:`cache_max_bytes`); returns the bytes removed."""
        cap = cache_max_bytes() if max_bytes is None else max_bytes
        entries = sorted(self.entries(), key=lambda e: e[2])
        total = sum(size for _, size, _ in entries)
        removed = 0
        for file, size, _ in entries:
            if total - removed <= cap:
                break
            try:
                file.unlink()
                removed += size
            except OSError:
                pass
        return removed

    def clear(self) -> int:
        """Remove every cached matrix; returns the bytes removed."""
        return self.prune(0)
