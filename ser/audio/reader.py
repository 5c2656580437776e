"""Audio in: any file soundfile reads (or a waveform in memory), to a mono float32 waveform at the configured rate.

Two steps, the same for training, prediction and the pages:

- :func:`read_audio`: the clip "as recorded" (mixed down, resampled by :class:`ser.audio.dsp.Resampler`,
  checked), with the file's warnings. Recording conditions are simulated on this, and the pages show it.
- :func:`finish_audio`: trimmed and level-normalised, what features are computed from.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ser.audio import dsp
from ser.config import AudioConfig
from ser.errors import AudioError, ConfigError

__all__ = ["read_audio", "Decoded", "finish_audio", "normalize_level", "trim_silence", "SILENCE_PEAK",
           "FULL_SCALE", "CLIPPED_SHARE", "BLOCK_S"]

SILENCE_PEAK = 1e-4  # peak amplitude below which a signal counts as digital silence
FULL_SCALE = 0.999  # a sample this loud (1.0 is full scale) counts as clipped
CLIPPED_SHARE = 0.001  # warn when at least this share of the samples is at full scale
BLOCK_S = 30.0  # seconds read at a time by read_audio


def _name(source: object, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, (str, Path)):
        return str(source)
    return getattr(source, "name", None) or "<audio>"


def _checked(y: np.ndarray, *, sr: int, config: AudioConfig, name: str) -> np.ndarray:
    """A mono signal checked: :class:`AudioError` if empty, not finite, too long or silent."""
    if y.size == 0:
        raise AudioError(f"{name}: the audio is empty (0 samples); record or choose a clip with speech in it.")
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{name}: the audio has NaN or infinite samples; re-export the file.")
    if y.size / sr > config.max_duration_s:
        raise _too_long(name, y.size / sr, config.max_duration_s)
    if float(np.max(np.abs(y))) < SILENCE_PEAK:
        raise AudioError(f"{name}: the audio is silent (peak below {SILENCE_PEAK:g}); check the microphone "
                         "or the file.")
    return y


def _resampled(mono: np.ndarray, *, sr: int, target: int) -> np.ndarray:
    if sr == target:
        return mono
    resampler = dsp.Resampler(orig_sr=sr, target_sr=target)
    resampler.add(mono)
    return resampler.result()


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
    see :func:`ser.audio.dsp.active_power`) is ``target_dbfs``.

    The result does not depend on the gain of ``y``: this is what makes the features level-free.

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    from ser.audio.dsp import active_power

    power = active_power(y, gate_db=gate_db)
    if power <= 0:
        return y
    return np.ascontiguousarray(y * np.float32(10 ** (target_dbfs / 20) / np.sqrt(power)), dtype=np.float32)


def finish_audio(y: np.ndarray | Decoded, *, config: AudioConfig | None = None,
                 name: str | None = None) -> np.ndarray:
    """A clip as recorded (:func:`read_audio`), finished: silence trimmed (relative to the loudest
    frame), the duration checked, the level normalised. What features are computed from.

    Parameters
    ----------
    y : np.ndarray, shape (n,), at ``config.sample_rate_hz``, or the :class:`Decoded` that
        :func:`read_audio` gave
    config : AudioConfig, optional
        The one the clip was read with.
    name : str, optional
        What to call the clip in messages; defaults to the :class:`Decoded`'s name.

    Returns
    -------
    np.ndarray, shape (m,), float32

    Raises
    ------
    AudioError
        If less than ``min_duration_s`` of sound is left.
    """
    config = config or AudioConfig()
    if isinstance(y, Decoded):
        y, name = y.y, name or y.name
    name = name or "<audio>"
    if config.trim_silence:
        y = trim_silence(y, top_db=config.trim_top_db)
    if y.size / config.sample_rate_hz < config.min_duration_s:
        raise AudioError(f"{name}: only {y.size / config.sample_rate_hz:.2f} s of sound"
                         f"{' after trimming silence' if config.trim_silence else ''}; "
                         f"need at least {config.min_duration_s} s.")
    if config.level_norm:
        y = normalize_level(y, target_dbfs=config.target_level_dbfs, gate_db=config.level_gate_db)
    return np.ascontiguousarray(y, dtype=np.float32)


def _open(source: str | Path | BinaryIO | bytes, label: str):
    """``source`` as something soundfile opens; :class:`AudioError` if a path is not a file."""
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(source)
    if isinstance(source, (str, Path)) and not Path(source).is_file():
        raise AudioError(f"{label}: file not found.")
    return source


def _unreadable(label: str, exc: Exception) -> AudioError:
    return AudioError(f"{label}: not a readable audio file ({exc}); use WAV, FLAC, OGG or MP3.")


def _too_long(label: str, duration_s: float, limit_s: float) -> AudioError:
    return AudioError(f"{label}: {duration_s:.0f} s is too long (limit {limit_s:.0f} s); cut it into shorter clips.")


_READ_ERRORS: tuple[type[Exception], ...] = (RuntimeError, TypeError, ValueError)  # + sf.LibsndfileError, a RuntimeError


@dataclass(frozen=True)
class Decoded:
    """A file read by :func:`read_audio`: mono at the configured rate, before trimming and level
    (the clip "as recorded", where recording conditions are simulated).

    Attributes
    ----------
    y : np.ndarray, shape (n,), float32
        Channels averaged, resampled to ``sr``.
    sr : int
        ``config.sample_rate_hz``.
    duration_s : float
        Seconds of audio read from the file.
    peak : float
        Largest absolute sample as decoded (1.0 is full scale).
    clipped : float
        Share of the decoded samples at full scale (``>= FULL_SCALE``).
    warnings : tuple of str
        One line each, naming the file: clipping, samples far above full scale, a file that ends early.
    name : str
        What messages call the clip (the path, or the name given).
    """

    y: np.ndarray
    sr: int
    duration_s: float
    peak: float
    clipped: float
    warnings: tuple[str, ...] = ()
    name: str = "<audio>"


def read_audio(source: str | Path | BinaryIO | bytes | np.ndarray, *, sr: int | None = None,
               config: AudioConfig | None = None, name: str | None = None, block_s: float = BLOCK_S) -> Decoded:
    """A file (or a waveform in memory) as recorded: mono at the configured rate, checked.

    The one way audio comes in (training, prediction, the pages, recording, babble sources), before
    :func:`finish_audio`. A file's duration is checked from its header first: a file longer than
    ``config.max_duration_s`` is refused before any sample is decoded, everywhere. Then ``block_s``
    seconds at a time are decoded, mixed down and resampled (:class:`ser.audio.dsp.Resampler`, soxr's
    streaming HQ resampler, as ``librosa.resample(res_type="soxr_hq")`` does at once), so memory holds
    the mono result at ``config.sample_rate_hz`` and one block: at most ~40 MB for the 600 s limit at
    16 kHz, whatever the file's rate and channels. A waveform is mixed down, checked and resampled by
    the same resampler: the samples of a file and of its decoded waveform are the same.

    Parameters
    ----------
    source : path, bytes, binary file object, or np.ndarray of shape (n,) or (n, channels)
    sr : int, optional
        The rate of a waveform ``source`` (required for one; a file says its own).
    config : AudioConfig, optional
    name : str, optional
        Name for messages; defaults to the path or the file object's ``name``.
    block_s : float
        Seconds decoded at a time.

    Returns
    -------
    Decoded
        ``y`` of shape (n,), float32 at ``config.sample_rate_hz``, with the file's warnings.

    Raises
    ------
    AudioError
        If the file is missing, unreadable, too long, empty, silent, or has NaN or infinite samples.
    ConfigError
        For a waveform without ``sr``, or a file with one.
    """
    config = config or AudioConfig()
    label = _name(source, name)
    if isinstance(source, (np.ndarray, list, tuple)):
        if sr is None:
            raise ConfigError(f"{label}: a waveform needs its sample rate: pass sr=.")
        return _read_signal(np.asarray(source, dtype=np.float32), sr=sr, config=config, label=label)
    if sr is not None:
        raise ConfigError(f"{label}: sr= is for a waveform; a file says its own rate.")
    return _read_file(source, config=config, label=label, block_s=block_s)


def _read_signal(y: np.ndarray, *, sr: int, config: AudioConfig, label: str) -> Decoded:
    """:func:`read_audio` of a waveform: mixed down, checked at its own rate, then resampled."""
    magnitude = np.abs(y)
    peak = float(magnitude.max()) if y.size else 0.0
    clipped = int(np.count_nonzero(magnitude >= FULL_SCALE)) / max(1, y.size)
    if y.ndim == 2:
        y = y.mean(axis=1)
    if y.ndim != 1:
        raise AudioError(f"{label}: expected a 1-D or (samples, channels) signal, got shape {y.shape}.")
    _checked(y, sr=sr, config=config, name=label)
    duration_s = y.size / sr
    y = np.ascontiguousarray(_resampled(y, sr=sr, target=config.sample_rate_hz), dtype=np.float32)
    return Decoded(y, config.sample_rate_hz, duration_s, peak, clipped, _warnings(label, peak, clipped), label)


def _read_file(source: str | Path | BinaryIO | bytes, *, config: AudioConfig, label: str,
               block_s: float) -> Decoded:
    """:func:`read_audio` of a file: header first, then block by block."""
    import soundfile as sf

    target = config.sample_rate_hz
    try:
        f = sf.SoundFile(_open(source, label))
    except _READ_ERRORS as exc:
        raise _unreadable(label, exc) from exc
    with f:
        sr, channels, frames = int(f.samplerate), f.channels, f.frames
        declared = frames
        cut = re.search(r"\bdata : (\d+) \(should be (\d+)\)", f.extra_info)  # a WAV cut short
        if cut and 0 < int(cut[2]) < int(cut[1]) < 0xFFFFFF00:  # (streamed WAVs say 0xFFFFFFFF: not cut)
            declared = int(frames * int(cut[1]) / int(cut[2]))
        if frames / sr > config.max_duration_s:
            raise _too_long(label, frames / sr, config.max_duration_s)
        limit = int(config.max_duration_s * sr)
        blocksize = max(1, min(int(block_s * sr), 2 ** 21 // channels))  # a block is at most 8 MB as float32
        stream = dsp.Resampler(orig_sr=sr, target_sr=target) if sr != target else None
        parts: list[np.ndarray] = []
        n_read, peak, n_full = 0, 0.0, 0
        while True:
            try:
                block = f.read(blocksize, dtype="float32", always_2d=True)
            except _READ_ERRORS as exc:
                raise _unreadable(label, exc) from exc
            if len(block) == 0:
                break
            n_read += len(block)
            if n_read > limit:  # a header that understates the length
                raise _too_long(label, n_read / sr, config.max_duration_s)
            if not np.all(np.isfinite(block)):
                raise AudioError(f"{label}: the audio has NaN or infinite samples; re-export the file.")
            magnitude = np.abs(block)
            peak = max(peak, float(magnitude.max()))
            n_full += int(np.count_nonzero(magnitude >= FULL_SCALE))
            mono = block.mean(axis=1) if channels > 1 else block[:, 0].copy()
            if stream is not None:
                stream.add(mono)
            else:
                parts.append(mono)
    if stream is not None:
        y = stream.result()
    else:
        y = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    y = np.ascontiguousarray(_checked(y, sr=target, config=config, name=label), dtype=np.float32)
    clipped = n_full / max(1, n_read * channels)
    warnings = _warnings(label, peak, clipped)
    if declared > n_read:
        warnings = (f"{label}: the file ends early (its header says {declared / sr:.1f} s, "
                    f"{n_read / sr:.1f} s could be read); re-export or download it again.", *warnings)
    return Decoded(y, target, n_read / sr, peak, clipped, warnings, label)


def _warnings(label: str, peak: float, clipped: float) -> tuple[str, ...]:
    """The lines that say a clip is far above full scale, or clipped."""
    if peak > 1.0:
        level = f"{peak:.0f} times full scale" if peak >= 2 else f"{20 * np.log10(peak):.1f} dB above full scale"
        return (f"{label}: the samples reach {level}; the file was probably exported with the wrong "
                "scale (the level is normalised here, but check the export).",)
    if clipped >= CLIPPED_SHARE:
        share = f"{clipped:.0%}" if clipped >= 0.01 else f"{clipped:.1%}"
        return (f"{label}: {share} of the samples are at full scale: the recording is clipped, "
                "which can change the emotion heard; record with less gain.",)
    return ()
