"""Feature maths: a (182, max_frames) matrix per clip from one shared STFT.

Rows, in order: 128 mel bands (dB), 40 MFCCs, 12 chroma bins, zero-crossing rate, RMS (and, with
``prosody``, pitch and periodicity). Pure functions over numpy arrays; the cache, the per-clip
pipeline and the parallel engine are :mod:`ser.features.cache`, :mod:`ser.features.clips` and
:mod:`ser.features.engine`.
"""

from __future__ import annotations

import functools

import numpy as np

from ser.config import Config, FeatureConfig

__all__ = ["extract_features", "fit_window", "model_view", "mel_db", "pitch_features", "ROW_NAMES"]


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
    from ser.audio.reader import finish_audio, read_audio

    config = config or Config()
    prepared = finish_audio(read_audio(y, sr=sr, config=config.audio, name=name), config=config.audio)
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


def mel_db(y: np.ndarray, *, sr: int, config: FeatureConfig | None = None) -> np.ndarray:
    """The mel spectrogram of ``y`` in dB below its loudest cell, with the model's frame settings
    (``n_fft``, ``hop_length``, ``n_mels`` of ``config``), so that what a page shows of a clip is what
    the features are made of.

    Parameters
    ----------
    y : array of shape (n,), as it is (no trimming, no level change, no window)
    sr : its sample rate

    Returns
    -------
    array of shape (n_mels, frames)
    """
    from ser.audio import dsp

    c = config or FeatureConfig()
    S = dsp.mel_filters(sr=sr, n_fft=c.n_fft, n_mels=c.n_mels) @ dsp.stft_power(y, n_fft=c.n_fft,
                                                                               hop_length=c.hop_length)
    return dsp.power_to_db(S, ref=float(S.max()))
