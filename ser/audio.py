"""Audio in: any file soundfile reads, to a mono float32 waveform at the configured rate."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ser.config import AudioConfig
from ser.errors import AudioError

__all__ = ["load_audio", "prepare_audio", "finish_audio", "normalize_level", "trim_silence", "SILENCE_PEAK"]

SILENCE_PEAK = 1e-4  # peak amplitude below which a signal counts as digital silence


def _name(source: object, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, (str, Path)):
        return str(source)
    return getattr(source, "name", None) or "<audio>"


def prepare_audio(y: np.ndarray, *, sr: int, config: AudioConfig | None = None,
                  name: str = "<audio>", finish: bool = True) -> np.ndarray:
    """Mix down, resample, check, and (unless ``finish=False``) trim and level-normalise a signal.

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (n, channels)
        Decoded samples, channels last (soundfile's layout).
    sr : int
        Sample rate of ``y`` in Hz.
    config : AudioConfig, optional
    name : str
        What to call the signal in error messages (usually its file name).
    finish : bool
        ``False`` stops before :func:`finish_audio`: the signal as a microphone gave it, at the
        configured rate, which is where recording conditions are simulated.

    Returns
    -------
    np.ndarray, shape (m,), float32 at ``config.sample_rate_hz``

    Raises
    ------
    AudioError
        If the signal is empty, not finite, silent, shorter than ``min_duration_s`` or longer
        than ``max_duration_s``.
    """
    import librosa

    config = config or AudioConfig()
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1)
    if y.ndim != 1:
        raise AudioError(f"{name}: expected a 1-D or (samples, channels) signal, got shape {y.shape}.")
    if y.size == 0:
        raise AudioError(f"{name}: the audio is empty (0 samples); record or choose a clip with speech in it.")
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{name}: the audio has NaN or infinite samples; re-export the file.")
    duration_s = y.size / sr
    if duration_s > config.max_duration_s:
        raise AudioError(f"{name}: {duration_s:.0f} s is too long (limit {config.max_duration_s:.0f} s); "
                         "cut it into shorter clips.")
    if float(np.max(np.abs(y))) < SILENCE_PEAK:
        raise AudioError(f"{name}: the audio is silent (peak below {SILENCE_PEAK:g}); check the microphone "
                         "or the file.")
    if sr != config.sample_rate_hz:
        y = librosa.resample(y, orig_sr=sr, target_sr=config.sample_rate_hz, res_type="soxr_hq")
    y = np.ascontiguousarray(y, dtype=np.float32)
    return finish_audio(y, config=config, name=name) if finish else y


def trim_silence(y: np.ndarray, *, top_db: float = 30.0, frame_length: int = 2048,
                 hop_length: int = 512) -> np.ndarray:
    """Leading and trailing frames more than ``top_db`` below the loudest frame, removed.

    librosa's ``effects.trim`` with its floor (``amin``) set so low that the decision depends on
    the signal's shape only: ``trim_silence(g * y)`` keeps the same samples for any gain ``g``.

    Returns
    -------
    np.ndarray, shape (m,), float32
    """
    y64 = np.pad(np.asarray(y, dtype=np.float64), frame_length // 2)
    n_frames = 1 + (y64.size - frame_length) // hop_length
    if n_frames < 1:
        return y
    energy = np.concatenate([[0.0], np.cumsum(y64 ** 2)])  # mean square of every frame from one cumsum
    starts = np.arange(n_frames) * hop_length
    mse = (energy[starts + frame_length] - energy[starts]) / frame_length
    top = float(mse.max())
    if top <= 0:
        return y[:0]
    loud = np.flatnonzero(mse > top * 10 ** (-top_db / 10))
    start = int(loud[0]) * hop_length
    end = min(y.size, (int(loud[-1]) + 1) * hop_length)
    return y[start:end]


def normalize_level(y: np.ndarray, *, target_dbfs: float = -23.0, gate_db: float = 30.0) -> np.ndarray:
    """``y`` scaled so that its active level (RMS over frames within ``gate_db`` of the loudest,
    see :func:`ser.conditions.active_power`) is ``target_dbfs``.

    The result does not depend on the gain of ``y``: this is what makes the features level-free.

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    from ser.conditions import active_power

    power = active_power(y, gate_db=gate_db)
    if power <= 0:
        return y
    return np.ascontiguousarray(y * np.float32(10 ** (target_dbfs / 20) / np.sqrt(power)), dtype=np.float32)


def finish_audio(y: np.ndarray, *, config: AudioConfig | None = None, name: str = "<audio>") -> np.ndarray:
    """The last steps of :func:`prepare_audio` on a mono signal at the configured rate: trim
    silence (relative to the loudest frame), check the duration, normalise the level.

    Raises
    ------
    AudioError
        If less than ``min_duration_s`` of sound is left.
    """
    config = config or AudioConfig()
    if config.trim_silence:
        y = trim_silence(y, top_db=config.trim_top_db)
    if y.size / config.sample_rate_hz < config.min_duration_s:
        raise AudioError(f"{name}: only {y.size / config.sample_rate_hz:.2f} s of sound"
                         f"{' after trimming silence' if config.trim_silence else ''}; "
                         f"need at least {config.min_duration_s} s.")
    if config.level_norm:
        y = normalize_level(y, target_dbfs=config.target_level_dbfs, gate_db=config.level_gate_db)
    return np.ascontiguousarray(y, dtype=np.float32)


def decode(source: str | Path | BinaryIO | bytes, *, name: str | None = None) -> tuple[np.ndarray, int]:
    """Decode a file (path, bytes or file object) without any processing.

    Returns
    -------
    y : np.ndarray, shape (n,) or (n, channels), float32
    sr : int
    """
    import soundfile as sf

    label = _name(source, name)
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    if isinstance(source, (str, Path)) and not Path(source).is_file():
        raise AudioError(f"{label}: file not found.")
    try:
        y, sr = sf.read(source, dtype="float32", always_2d=False)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{label}: not a readable audio file ({exc}); use WAV, FLAC, OGG or MP3.") from exc
    return y, int(sr)


def load_audio(source: str | Path | BinaryIO | bytes, *, config: AudioConfig | None = None,
               name: str | None = None) -> tuple[np.ndarray, int]:
    """Load any format soundfile reads as a checked mono waveform at the configured rate.

    Parameters
    ----------
    source : path, bytes or binary file object
    config : AudioConfig, optional
    name : str, optional
        Name for error messages; defaults to the path or the file object's ``name``.

    Returns
    -------
    y : np.ndarray, shape (n,), float32
    sr : int
        ``config.sample_rate_hz``.
    """
    config = config or AudioConfig()
    label = _name(source, name)
    y, sr = decode(source, name=label)
    return prepare_audio(y, sr=sr, config=config, name=label), config.sample_rate_hz
