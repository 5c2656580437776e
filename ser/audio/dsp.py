"""librosa's spectral building blocks that prediction needs, in numpy alone.

Importing librosa (with scipy.signal, numba and the JIT compilation of its helpers) costs about two
seconds in a fresh process: more than everything else a one-clip prediction does. The few functions
prediction uses are small, so this module has them over numpy, each equal to librosa's function with
the same arguments up to float32 rounding (``tests/unit/audio/test_dsp.py`` compares them on seeded
signals). librosa stays the reference and the tool for everything else (augmentation, training).

The mel and chroma filter banks are librosa's own: those of the shipped settings are stored in
``ser/audio/assets/filters.npz`` (made by ``python -m ser.audio.dsp``, checked against librosa by the tests); other
settings build them with librosa.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

__all__ = ["fix_length", "frame", "stft_power", "power_to_db", "mfcc", "normalize_max", "rms",
           "zero_crossing_rate", "active_power", "Resampler", "resample", "mel_filters", "chroma_filters", "FILTERS_FILE"]

FILTERS_FILE = Path(__file__).parent / "assets" / "filters.npz"
# (sr, n_fft, n_mels) and (sr, n_fft, n_chroma, tuning) kept in FILTERS_FILE: the feature config's
# defaults, the speech check's 40-band mel at 16 kHz and the voice encoder's (ser.features.encoder).
STORED_MEL = ((16000, 1024, 128), (16000, 1024, 40), (16000, 400, 40))
STORED_CHROMA = ((16000, 1024, 12, 0.0),)


def fix_length(y: np.ndarray, *, size: int) -> np.ndarray:
    """``y`` cut or padded with zeros at its end to ``size`` samples (``librosa.util.fix_length``)."""
    if y.shape[-1] >= size:
        return y[..., :size]
    return np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, size - y.shape[-1])])


def frame(y: np.ndarray, *, frame_length: int, hop_length: int) -> np.ndarray:
    """Overlapping frames of a 1-D signal, shape (frame_length, n_frames), a view (``librosa.util.frame``)."""
    return np.lib.stride_tricks.sliding_window_view(y, frame_length)[::hop_length].T


@functools.lru_cache(maxsize=8)
def _hann(n_fft: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft))[:, None]  # periodic, as get_window


def stft_power(y: np.ndarray, *, n_fft: int = 2048, hop_length: int = 512) -> np.ndarray:
    """``np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length)) ** 2``: centred, zero-padded, Hann.

    Parameters
    ----------
    y : np.ndarray, shape (n,)

    Returns
    -------
    np.ndarray, shape (1 + n_fft // 2, 1 + n // hop_length), float32
    """
    padded = np.pad(np.asarray(y, dtype=np.float32), n_fft // 2)
    spectrum = np.fft.rfft(frame(padded, frame_length=n_fft, hop_length=hop_length) * _hann(n_fft), axis=0)
    spectrum = spectrum.astype(np.complex64)
    return (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)


def power_to_db(S: np.ndarray, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0) -> np.ndarray:
    """Power in decibels, floored ``top_db`` below the peak (``librosa.power_to_db`` with a fixed ``ref``)."""
    S = np.asarray(S)
    log_spec = 10.0 * np.log10(np.maximum(amin, S))
    log_spec -= 10.0 * np.log10(np.maximum(amin, ref))
    if top_db is not None:
        log_spec = np.maximum(log_spec, log_spec.max() - top_db)
    return log_spec


@functools.lru_cache(maxsize=8)
def _dct_matrix(n_mfcc: int, n_bands: int) -> np.ndarray:
    """The first ``n_mfcc`` rows of the orthonormal DCT-II over ``n_bands`` (``scipy.fft.dct(norm="ortho")``)."""
    k = np.arange(n_mfcc)[:, None]
    n = np.arange(n_bands)[None, :]
    m = np.sqrt(2.0 / n_bands) * np.cos(np.pi * k * (2 * n + 1) / (2 * n_bands))
    m[0] /= np.sqrt(2.0)
    return m


def mfcc(S_db: np.ndarray, *, n_mfcc: int = 20) -> np.ndarray:
    """MFCCs of a log-power mel spectrogram (``librosa.feature.mfcc(S=S_db, n_mfcc=n_mfcc)``).

    Parameters
    ----------
    S_db : np.ndarray, shape (n_mels, n_frames)

    Returns
    -------
    np.ndarray, shape (n_mfcc, n_frames)
    """
    return (_dct_matrix(n_mfcc, S_db.shape[-2]) @ S_db).astype(S_db.dtype)


def normalize_max(S: np.ndarray) -> np.ndarray:
    """Each column divided by its largest magnitude (``librosa.util.normalize(S, norm=np.inf, axis=-2)``)."""
    length = np.max(np.abs(S), axis=-2, keepdims=True)
    length[length < np.finfo(S.dtype).tiny] = 1.0
    return S / length


def rms(y: np.ndarray, *, frame_length: int = 2048, hop_length: int = 512) -> np.ndarray:
    """Root mean square of centred, zero-padded frames (``librosa.feature.rms(y=y, ...)``), shape (1, n_frames)."""
    x = frame(np.pad(y, frame_length // 2), frame_length=frame_length, hop_length=hop_length)
    return np.sqrt(np.mean(np.abs(x) ** 2, axis=0, keepdims=True))


def zero_crossing_rate(y: np.ndarray, *, frame_length: int = 2048, hop_length: int = 512,
                       threshold: float = 1e-10) -> np.ndarray:
    """Share of sign changes in centred, edge-padded frames (``librosa.feature.zero_crossing_rate``).

    As librosa's: samples within ``threshold`` of 0 count as 0, 0 counts as positive, and a frame's
    first sample is never a crossing. Returns shape (1, n_frames).
    """
    y = np.asarray(y)
    y = np.where(np.abs(y) <= threshold, 0, y)
    x = frame(np.pad(y, frame_length // 2, mode="edge"), frame_length=frame_length, hop_length=hop_length)
    sign = np.signbit(x)
    crossings = np.count_nonzero(sign[1:] != sign[:-1], axis=0)
    return (crossings / frame_length)[None, :]


def active_power(y: np.ndarray, *, gate_db: float = 30.0, frame_length: int = 512,
                 hop_length: int = 256) -> float:
    """Mean power of ``y`` over its active frames (those within ``gate_db`` of the loudest).

    A gated level in the spirit of ITU-R BS.1770's relative gate: silence around speech
    does not count, and scaling ``y`` by ``g`` scales the result by exactly ``g**2``.

    Parameters
    ----------
    y : np.ndarray, shape (n,)

    Returns
    -------
    float, in squared full-scale units (0 for an all-zero signal)
    """
    y = np.asarray(y, dtype=np.float64)
    if y.size < frame_length:
        return float(np.mean(y ** 2)) if y.size else 0.0
    frames = np.lib.stride_tricks.sliding_window_view(y, frame_length)[::hop_length]
    power = np.mean(frames ** 2, axis=1)
    top = float(power.max())
    if top <= 0.0:
        return 0.0
    return float(power[power >= top * 10 ** (-gate_db / 10)].mean())


class Resampler:
    """soxr's streaming HQ resampler from ``orig_sr`` to ``target_sr`` Hz, fed mono blocks.

    The one resampler of ser: files block by block (:func:`ser.audio.reader.read_audio`), signals at
    once (:func:`resample`). Its output does not depend on how the input is cut into blocks, and equals
    ``librosa.resample(res_type="soxr_hq")``, cut or padded to ``ceil(n * target_sr / orig_sr)`` samples.

    Parameters
    ----------
    orig_sr, target_sr : int
    dtype : numpy dtype, float32 or float64
        Of the blocks and of the result.
    """

    def __init__(self, *, orig_sr: int, target_sr: int, dtype=np.float32):
        import soxr

        self.orig_sr, self.target_sr, self.dtype, self.n_in = orig_sr, target_sr, np.dtype(dtype), 0
        self.n_taken = 0
        self._stream = soxr.ResampleStream(orig_sr, target_sr, 1, dtype=self.dtype.name, quality="HQ")
        self._parts: list[np.ndarray] = []

    def add(self, y: np.ndarray) -> None:
        """Resample the next block, shape (n,)."""
        self.n_in += y.size
        self._parts.append(self._stream.resample_chunk(np.ascontiguousarray(y, dtype=self.dtype), last=False))

    def take(self) -> np.ndarray:
        """The samples resampled so far and not taken before, shape (m,), for a stream read as it comes
        (:class:`ser.serving.live.LiveMeter`); soxr holds back its last few ms until more input comes.
        :meth:`result` then gives only the rest."""
        out = np.concatenate(self._parts) if self._parts else np.zeros(0, self.dtype)
        self._parts, self.n_taken = [], self.n_taken + out.size
        return out

    def result(self) -> np.ndarray:
        """Every block resampled, shape (ceil(n_in * target_sr / orig_sr),) (less what :meth:`take` took);
        call once, after the last block."""
        self._parts.append(self._stream.resample_chunk(np.zeros(0, self.dtype), last=True))
        n_samples = int(np.ceil(self.n_in * float(self.target_sr) / self.orig_sr)) - self.n_taken
        return fix_length(np.concatenate(self._parts), size=n_samples)


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """``librosa.resample(y, orig_sr=orig_sr, target_sr=target_sr, res_type="soxr_hq")`` of a 1-D
    float32 or float64 signal: :class:`Resampler` fed the whole signal at once."""
    if orig_sr == target_sr:
        return y
    resampler = Resampler(orig_sr=orig_sr, target_sr=target_sr, dtype=y.dtype)
    resampler.add(y)
    return resampler.result()


def _mel_key(sr: int, n_fft: int, n_mels: int) -> str:
    return f"mel_{sr}_{n_fft}_{n_mels}"


def _chroma_key(sr: int, n_fft: int, n_chroma: int, tuning: float) -> str:
    return f"chroma_{sr}_{n_fft}_{n_chroma}_{tuning:g}"


@functools.lru_cache(maxsize=1)
def _stored() -> dict[str, np.ndarray]:
    try:
        with np.load(FILTERS_FILE) as table:
            return {k: table[k] for k in table.files}
    except OSError:  # a checkout without the table: librosa builds them
        return {}


@functools.lru_cache(maxsize=8)
def mel_filters(*, sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)``, shape (n_mels, 1 + n_fft // 2), float32."""
    stored = _stored().get(_mel_key(sr, n_fft, n_mels))
    if stored is not None:
        return stored
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)


@functools.lru_cache(maxsize=8)
def chroma_filters(*, sr: int, n_fft: int, n_chroma: int, tuning: float) -> np.ndarray:
    """``librosa.filters.chroma(sr=sr, n_fft=n_fft, n_chroma=n_chroma, tuning=tuning)``, shape
    (n_chroma, 1 + n_fft // 2)."""
    stored = _stored().get(_chroma_key(sr, n_fft, n_chroma, tuning))
    if stored is not None:
        return stored
    import librosa

    return librosa.filters.chroma(sr=sr, n_fft=n_fft, n_chroma=n_chroma, tuning=tuning)


def librosa_filter_table() -> dict[str, np.ndarray]:
    """The filter banks of :data:`STORED_MEL` and :data:`STORED_CHROMA`, built by librosa now."""
    import librosa

    table = {_mel_key(*k): librosa.filters.mel(sr=k[0], n_fft=k[1], n_mels=k[2]) for k in STORED_MEL}
    table.update({_chroma_key(*k): librosa.filters.chroma(sr=k[0], n_fft=k[1], n_chroma=k[2], tuning=k[3])
                  for k in STORED_CHROMA})
    return table


if __name__ == "__main__":  # python -m ser.audio.dsp: write the stored filter banks again
    np.savez_compressed(FILTERS_FILE, **librosa_filter_table())
    print(f"wrote {FILTERS_FILE}")
