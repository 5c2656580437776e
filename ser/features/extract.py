"""Features: a (182, max_frames) matrix per clip from one shared STFT, cached on disk.

Rows, in order: 128 mel bands (dB), 40 MFCCs, 12 chroma bins, zero-crossing rate, RMS.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ser.config import AudioConfig, AugmentConfig, Config, FeatureConfig
from ser.errors import Stopped

__all__ = [
    "extract_features",
    "extract_features_reference",
    "fit_window",
    "FeatureCache",
    "ClipTask",
    "extract_many",
    "clip_features",
    "ROW_NAMES",
    "CONDITION_PREFIX",
    "pitch_features",
    "cache_max_bytes",
    "model_view",
    "default_cache_dir",
]

ProgressFn = Callable[[int, int], None]
PIPELINE_REVISION = 2  # 2: conditions on the untrimmed clip, trimming relative to the loudest frame, level norm


def _row_slices(config: FeatureConfig) -> dict[str, slice]:
    extra = (1, 1) if config.prosody else ()
    edges = np.cumsum([0, config.n_mels, config.n_mfcc, config.n_chroma, 1, 1, *extra])
    names = ("mel", "mfcc", "chroma", "zcr", "rms") + (("pitch", "periodicity") if config.prosody else ())
    return {n: slice(int(a), int(b)) for n, a, b in zip(names, edges[:-1], edges[1:])}


ROW_NAMES = _row_slices(FeatureConfig())


def fit_window(y: np.ndarray, *, config: FeatureConfig) -> np.ndarray:
    """``y`` cut (at the end) or filled to ``config.window_samples``.

    A shorter signal is filled by ``config.pad_mode``: ``"repeat"`` tiles it (the model then sees the
    clip's own frames only, not two thirds silence for a 1 s word), ``"silence"`` pads it with zeros.
    """
    from ser.audio import dsp

    size = config.window_samples
    y = np.asarray(y, dtype=np.float32)
    if config.pad_mode == "repeat" and 0 < y.shape[-1] < size:
        return np.tile(y, -(-size // y.shape[-1]))[..., :size]
    return dsp.fix_length(y, size=size)


def extract_features(y: np.ndarray, *, sr: int, config: FeatureConfig | None = None) -> np.ndarray:
    """Stacked mel (dB), MFCC, chroma, ZCR and RMS of ``y`` from one STFT.

    ``y`` is first cut (at the end) or filled to ``config.window_samples`` (:func:`fit_window`: repeated,
    or padded with silence, by ``config.pad_mode``), so that exactly ``config.max_frames`` centred frames result.
    Mel, MFCC and chroma share one power spectrogram; ZCR and RMS are cheap time-domain
    features computed from the same framing. The mel and chroma filter banks are built
    once per setting and reused (building them costs more than the STFT). The arithmetic is
    :mod:`ser.audio.dsp`'s (librosa's functions in numpy), so predicting does not import librosa.

    The output equals :func:`extract_features_reference` (each feature computed separately
    by librosa from the waveform with the same settings) up to float32 rounding. The one
    deliberate difference from librosa's *defaults* is chroma's tuning: it is fixed by
    ``config.chroma_tuning`` (0.0, i.e. A440) instead of estimated per clip, because speech
    has no musical tuning and a per-clip estimate makes chroma jitter between clips
    (and is the slowest part of chroma). Set ``chroma_tuning=None`` to estimate it.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono waveform.
    sr : int
        Sample rate of ``y`` in Hz.
    config : FeatureConfig, optional

    Returns
    -------
    np.ndarray, shape (config.n_features, config.max_frames), float32
        182 rows by default: mel 0-127, MFCC 128-167, chroma 168-179, ZCR 180, RMS 181.
    """
    from ser.audio import dsp

    c = config or FeatureConfig()
    y = fit_window(y, config=c)
    power = dsp.stft_power(y, n_fft=c.n_fft, hop_length=c.hop_length)
    mel_db = dsp.power_to_db(dsp.mel_filters(sr=sr, n_fft=c.n_fft, n_mels=c.n_mels) @ power, ref=1.0,
                             top_db=c.top_db)
    mfcc = dsp.mfcc(mel_db, n_mfcc=c.n_mfcc)
    if c.chroma_tuning is None:
        import librosa

        chroma = librosa.feature.chroma_stft(S=power, sr=sr, n_chroma=c.n_chroma)
    else:  # what chroma_stft does, with its filter bank built once
        chroma = dsp.normalize_max(dsp.chroma_filters(sr=sr, n_fft=c.n_fft, n_chroma=c.n_chroma,
                                                      tuning=c.chroma_tuning) @ power)
    zcr = dsp.zero_crossing_rate(y, frame_length=c.n_fft, hop_length=c.hop_length)
    rms = dsp.rms(y, frame_length=c.n_fft, hop_length=c.hop_length)
    rows = [mel_db, mfcc, chroma, zcr, rms]
    if c.prosody:
        rows.append(pitch_features(power, sr=sr, n_fft=c.n_fft, fmin_hz=c.fmin_hz, fmax_hz=c.fmax_hz))
    return np.vstack(rows).astype(np.float32)


def model_view(y: np.ndarray, *, sr: int, config: Config | None = None,
               name: str = "<audio>") -> dict[str, np.ndarray]:
    """The feature rows a model with ``config`` sees for a recording, by group.

    The recording is prepared as for prediction (mono, resampled, trimmed, level-normalised), turned
    into the feature matrix (cut or padded to ``max_frames``) and split into its row groups.

    Parameters
    ----------
    y : array of shape (n,) or (n, channels), any level
    sr : its sample rate

    Returns
    -------
    dict mapping ``mel``, ``mfcc``, ``chroma``, ``zcr``, ``rms`` (and with prosody ``pitch``,
    ``periodicity``) to arrays of shape (rows, max_frames)
    """
    from ser.audio.reader import prepare_audio

    config = config or Config()
    prepared = prepare_audio(y, sr=sr, config=config.audio, name=name)
    feats = extract_features(prepared, sr=config.audio.sample_rate_hz, config=config.features)
    return {group: feats[rows] for group, rows in _row_slices(config.features).items()}


@functools.lru_cache(maxsize=8)
def _window_autocorrelation(n_fft: int) -> np.ndarray:
    import scipy.signal

    w = scipy.signal.get_window("hann", n_fft, fftbins=True)
    r = np.fft.irfft(np.abs(np.fft.rfft(w)) ** 2, n=n_fft)
    return r / r[0]


def pitch_features(power: np.ndarray, *, sr: int, n_fft: int, fmin_hz: float = 60.0, fmax_hz: float = 500.0,
                   voiced_threshold: float = 0.45) -> np.ndarray:
    """Pitch and periodicity of each frame, from the autocorrelation that a power spectrogram holds.

    The autocorrelation of a frame is the inverse FFT of its power spectrum (Wiener-Khinchin), so
    this costs one inverse FFT per frame of the STFT already computed. It is normalised by its lag
    0 and by the analysis window's own autocorrelation; the pitch period is the first lag between
    ``sr / fmax_hz`` and ``sr / fmin_hz`` whose value is within 10 % of the highest, moved up to the
    top of its peak (which avoids most octave errors). Unvoiced frames (periodicity below ``voiced_threshold``) take the median
    pitch of the voiced ones, so the contour has no jumps to zero.

    Parameters
    ----------
    power : np.ndarray, shape (1 + n_fft // 2, n_frames)
        Power spectrogram of a Hann-windowed STFT.

    Returns
    -------
    np.ndarray, shape (2, n_frames), float32
        Row 0: pitch in semitones above 100 Hz (0 when no frame is voiced); row 1: periodicity in [0, 1].
    """
    r = np.fft.irfft(power, n=n_fft, axis=0)
    energy = r[0]
    lo, hi = max(1, int(sr / fmax_hz)), min(n_fft // 2, int(np.ceil(sr / fmin_hz)))
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = r[lo:hi + 1] / energy / _window_autocorrelation(n_fft)[lo:hi + 1, None]
    norm = np.where(np.isfinite(norm), norm, 0.0)
    best = norm.max(axis=0)
    first = np.argmax(norm >= 0.9 * best, axis=0)  # the first lag near the best: the period, not a multiple
    cols = np.arange(norm.shape[1])
    for _ in range(hi - lo):  # climb to the top of that first peak
        step = (first + 1 < norm.shape[0]) & (norm[np.minimum(first + 1, norm.shape[0] - 1), cols] > norm[first, cols])
        if not step.any():
            break
        first = first + step
    periodicity = np.clip(np.take_along_axis(norm, first[None], axis=0)[0], 0.0, 1.0)
    periodicity[energy <= 1e-12 * max(float(energy.max()), 1e-30)] = 0.0
    semitones = 12 * np.log2(sr / (lo + first) / 100.0)
    voiced = periodicity >= voiced_threshold
    fill = float(np.median(semitones[voiced])) if voiced.any() else 0.0
    return np.vstack([np.where(voiced, semitones, fill), periodicity]).astype(np.float32)


def extract_features_reference(y: np.ndarray, *, sr: int, config: FeatureConfig | None = None,
                               chroma_tuning: float | None | str = "config") -> np.ndarray:
    """The straightforward way: each of the five features computed by librosa from the waveform.

    Used to check :func:`extract_features` and as the baseline of the benchmark. With
    ``chroma_tuning=None`` chroma estimates its tuning per clip, as librosa's default does.

    Returns
    -------
    np.ndarray, shape (config.n_features, config.max_frames), float32
    """
    import librosa

    c = config or FeatureConfig()
    tuning = c.chroma_tuning if chroma_tuning == "config" else chroma_tuning
    y = np.asarray(y, dtype=np.float32)
    if c.pad_mode == "repeat" and 0 < len(y) < c.window_samples:
        y = np.tile(y, -(-c.window_samples // len(y)))
    y = librosa.util.fix_length(y, size=c.window_samples)
    kw = {"n_fft": c.n_fft, "hop_length": c.hop_length}
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=c.n_mels, **kw),
                              ref=1.0, top_db=c.top_db)
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=c.n_mfcc, n_mels=c.n_mels, **kw)  # its dB uses top_db=80
    chroma = librosa.feature.chroma_stft(y=y, sr=sr, n_chroma=c.n_chroma, tuning=tuning, **kw)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=c.n_fft, hop_length=c.hop_length)
    rms = librosa.feature.rms(y=y, frame_length=c.n_fft, hop_length=c.hop_length)
    return np.vstack([mel, mfcc, chroma, zcr, rms]).astype(np.float32)


# --- one clip, possibly augmented, with a cache -------------------------------------------


CONDITION_PREFIX = "cond:"
CONDITIONS_SEED = 0  # the robustness report's noise is the same for every model


@dataclass(frozen=True)
class ClipTask:
    """Features wanted for one file: which versions to extract.

    A version is ``original``, a training augmentation (``ser.augment.training.VERSIONS``), or a condition
    of the robustness report written ``cond:<name>`` (``ser.augment.conditions.CONDITIONS``). ``babble`` names
    other speakers' clips that babble noise may be made of.
    """

    path: str
    versions: tuple[str, ...] = ("original",)
    babble: tuple[str, ...] = ()


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


@functools.lru_cache(maxsize=128)
def _babble_source(path: str, audio: AudioConfig) -> np.ndarray:
    """A clip to make babble of, loaded once per process (the same few clips serve every clip)."""
    from ser.audio.reader import load_audio

    return load_audio(path, config=audio)[0]


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

    Returns
    -------
    dict mapping version to an array of shape (n_features, max_frames)
    """
    from ser.audio.reader import finish_audio, read_audio
    from ser.augment.training import augment, version_rng
    from ser.augment.conditions import apply_condition

    cache = FeatureCache(cache_dir)
    digest = file_digest(task.path)
    out: dict[str, np.ndarray] = {}
    keys = {v: cache.key(digest, v, audio=config.audio, features=config.features, augment=config.augment,
                         seed=config.train.seed, babble=tuple(task.babble))
            for v in task.versions}
    if use_cache:
        for v, k in keys.items():
            hit = cache.get(k)
            if hit is not None:
                out[v] = hit
    missing = [v for v in task.versions if v not in out]
    if missing:
        raw = read_audio(task.path, config=config.audio, name=task.path).y
        sr = config.audio.sample_rate_hz
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
            feats = extract_features(finish_audio(y, config=config.audio, name=task.path), sr=sr,
                                     config=config.features)
            if use_cache:
                cache.put(keys[v], feats)
            out[v] = feats
    return out


def _worker(args: tuple[ClipTask, dict, str | None, bool]) -> dict[str, np.ndarray]:
    task, config_dict, cache_dir, use_cache = args
    return clip_features(task, config=Config.from_dict(config_dict), cache_dir=cache_dir, use_cache=use_cache)


def extract_many(tasks: Sequence[ClipTask], *, config: Config, cache_dir: str | Path | None = None,
                 use_cache: bool = True, n_jobs: int | None = None,
                 progress: ProgressFn | None = None,
                 should_stop: Callable[[], bool] | None = None) -> list[dict[str, np.ndarray] | Exception]:
    """Features for many files on all cores, in the order of ``tasks``.

    A file that fails gives its :class:`~ser.errors.SerError` in its place instead of
    stopping the rest. ``progress(done, total)`` is called after each file. When
    ``should_stop()`` turns true, pending files are cancelled and :class:`ser.errors.Stopped` is raised.
    """
    from ser.errors import SerError

    total = len(tasks)
    results: list[dict[str, np.ndarray] | Exception] = [RuntimeError("not run")] * total
    n_jobs = n_jobs or os.cpu_count() or 1
    cache_arg = str(cache_dir) if cache_dir else None
    if progress:
        progress(0, total)
    if n_jobs == 1 or total < 4:
        for i, task in enumerate(tasks):
            try:
                results[i] = clip_features(task, config=config, cache_dir=cache_arg, use_cache=use_cache)
            except SerError as exc:
                results[i] = exc
            if progress:
                progress(i + 1, total)
            if should_stop and should_stop():
                raise Stopped(f"stopped after {i + 1} of {total} files")
        if use_cache:
            FeatureCache(cache_dir).prune()
        return results
    from ser.parallel.workers import process_pool

    config_dict = config.to_dict()
    pool = process_pool(n_jobs)  # workers die with this process, even on kill -9
    try:
        futures = {pool.submit(_worker, (t, config_dict, cache_arg, use_cache)): i for i, t in enumerate(tasks)}
        for done, fut in enumerate(as_completed(futures), start=1):
            i = futures[fut]
            try:
                results[i] = fut.result()
            except SerError as exc:
                results[i] = exc
            if progress:
                progress(done, total)
            if should_stop and should_stop():
                raise Stopped(f"stopped after {done} of {total} files")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if use_cache:
        FeatureCache(cache_dir).prune()  # bounded: least recently used matrices go first
    return results
