"""A pretrained voice encoder's view of a clip: 1792 numbers for the encoder member of a model.

The encoder is Resemblyzer 0.1.4's GE2E speaker encoder (Apache-2.0; ``assets/encoder/NOTICE`` and
``LICENSE``): a 3-layer LSTM (256 units) over a 40-band mel power spectrogram (25 ms window, 10 ms hop,
16 kHz), trained for speaker verification on LibriSpeech and VoxCeleb, i.e. on thousands of voices in
many recording conditions. Exported once to ONNX (``assets/encoder/export_encoder.py``; PyTorch is
never needed to run it) and run with ``onnxruntime``, one thread, as the speech check's Silero VAD.

:func:`encoder_row` gives, for a finished signal (trimmed, level-normalised as for the networks), the
mean and standard deviation over frames of each LSTM layer's outputs (3 x 2 x 256) and Resemblyzer's
utterance embedding (256: the normalised mean of the embeddings of 1.6 s partials, 1.3 per second), in
that order. Its arithmetic is Resemblyzer's, but for two choices: the signal is scaled to
``TARGET_DBFS`` (Resemblyzer's -30 dBFS) whatever its level, so the row does not depend on the gain, and
silence is trimmed as ser trims it, not by Resemblyzer's webrtcvad. Measured on non-test speakers of the
three corpora (``benchmarks/pretrained_encoder.md``), a logistic regression on these rows averaged with
the networks lifts validation macro F1 by 0.13 (RAVDESS), 0.14 (nEMO) and 0.29 (Indian EmoSpeech).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["ENCODER_COST", "ENCODER_FILE", "ENCODER_RATE", "ENCODER_VERSION", "N_ENCODER", "encoder_mel", "encoder_row",
           "encoder_rows", "partial_slices"]

ENCODER_FILE = Path(__file__).parent / "assets" / "encoder" / "ge2e_encoder.onnx"
ENCODER_VERSION = "ge2e-0.1.4-1"  # part of the feature cache's key: a changed row is a new version
ENCODER_RATE = 16_000
N_FFT = 400  # 25 ms
HOP_LENGTH = 160  # 10 ms
N_MELS = 40
N_UNITS = 256
N_ENCODER = 7 * N_UNITS  # 3 layers x (mean, std) + the embedding
PARTIAL_FRAMES = 160  # 1.6 s
PARTIALS_PER_S = 1.3
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
# the encoder's time per model window relative to the networks' (features, speech check and model): ~19 ms
# against ~7 ms, measured on this 2-core machine in batches of 32 (Predictor.score_windows); the explanation's
# cap on work counts a window of a model with an encoder member 1 + ENCODER_COST times (ser.serving.explain)
ENCODER_COST = 3.0


@lru_cache(maxsize=1)
def _session():
    from ser.runtime import inference_session

    return inference_session(ENCODER_FILE, one_thread=True)


def encoder_mel(y: np.ndarray, *, sr: int = ENCODER_RATE) -> np.ndarray:
    """Resemblyzer's input: ``librosa.feature.melspectrogram(y=y, sr=16000, n_fft=400, hop_length=160,
    n_mels=40).T`` (power, not in dB), from :mod:`ser.audio.dsp`.

    Parameters
    ----------
    y : np.ndarray, shape (n,); resampled to 16 kHz when ``sr`` differs

    Returns
    -------
    np.ndarray, shape (1 + n16 // 160, 40), float32
    """
    from ser.audio import dsp

    y = np.asarray(y, dtype=np.float32)
    if sr != ENCODER_RATE and y.size:
        y = dsp.resample(y, orig_sr=sr, target_sr=ENCODER_RATE)
    S = dsp.stft_power(y, n_fft=N_FFT, hop_length=HOP_LENGTH)
    return (dsp.mel_filters(sr=ENCODER_RATE, n_fft=N_FFT, n_mels=N_MELS) @ S).T.astype(np.float32)


def partial_slices(n_samples: int) -> list[tuple[int, int]]:
    """The mel frames ``(start, stop)`` of the 1.6 s partials whose embeddings Resemblyzer averages
    (``VoiceEncoder.compute_partial_slices`` with its defaults: 1.3 partials a second, a last partial
    kept when it covers at least 75 % of its length, always at least one)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP_LENGTH))
    step = int(np.round(ENCODER_RATE / PARTIALS_PER_S / HOP_LENGTH))
    slices = [(i, i + PARTIAL_FRAMES) for i in range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step)]
    start, stop = slices[-1][0] * HOP_LENGTH, slices[-1][1] * HOP_LENGTH
    if (n_samples - start) / (stop - start) < MIN_COVERAGE and len(slices) > 1:
        slices = slices[:-1]
    return slices


def encoder_row(y: np.ndarray, *, sr: int) -> np.ndarray:
    """The encoder's 1792 numbers for a finished signal.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono, as :func:`ser.audio.reader.finish_audio` gives it; resampled to 16 kHz when ``sr`` differs.
    sr : int

    Returns
    -------
    np.ndarray, shape (1792,), float32
        Mean over frames of layer 1, 2, 3's outputs, each followed by their standard deviation (256 each),
        then the utterance embedding (256, unit length).
    """
    return encoder_rows([y], sr=sr)[0]


def _levelled(y: np.ndarray, sr: int) -> np.ndarray:
    from ser.audio import dsp

    y = np.asarray(y, dtype=np.float32).reshape(-1)
    if sr != ENCODER_RATE and y.size:
        y = dsp.resample(y, orig_sr=sr, target_sr=ENCODER_RATE)
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0
    return y * np.float32(10 ** (TARGET_DBFS / 20) / rms) if rms > 0 else y


def encoder_rows(ys, *, sr: int) -> np.ndarray:
    """:func:`encoder_row` of several signals, those of the same length run through the LSTM together (a
    batch costs little more than one signal: the model windows of a long recording, an explanation's).

    Parameters
    ----------
    ys : sequence of np.ndarray, each of shape (n_i,)
    sr : int

    Returns
    -------
    np.ndarray, shape (len(ys), 1792), float32
    """
    ys = [_levelled(y, sr) for y in ys]
    out = np.zeros((len(ys), N_ENCODER), np.float32)
    session = _session()
    groups: dict[int, list[int]] = {}
    for i, y in enumerate(ys):
        groups.setdefault(y.size, []).append(i)
    for n, members in groups.items():
        mels = np.stack([encoder_mel(ys[i]) for i in members])
        layers = session.run(["layer1", "layer2", "layer3"], {"mels": mels})
        stats = np.concatenate([f(o, axis=1) for o in layers for f in (np.mean, np.std)], axis=1)
        slices = partial_slices(n)
        pad = max(0, slices[-1][1] * HOP_LENGTH - n)
        pmels = [encoder_mel(np.pad(ys[i], (0, pad))) for i in members]
        (embeds,) = session.run(["embed"], {"mels": np.stack([m[a:b] for m in pmels for a, b in slices])})
        embeds = embeds.reshape(len(members), len(slices), -1).mean(axis=1)
        embeds /= np.maximum(np.linalg.norm(embeds, axis=1, keepdims=True), 1e-12)
        out[members] = np.concatenate([stats, embeds], axis=1)
    return out
