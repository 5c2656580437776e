"""Is there speech in a signal? Silero VAD, backed by a simple acoustic check.

The voice-activity detector is Silero VAD v6 (MIT; ``data/vad/LICENSE``), its 16 kHz "sequence"
ONNX export from the ``silero-vad`` 6.2.3 wheel, run with ``onnxruntime``: one speech probability per
32 ms frame, about 10 ms of one CPU core for 4 s of audio.

Measured on the 96 demo clips and seeded probes (level-normalised as for prediction): Silero alone
gives white and pink noise, a pure tone, DC and silence at most 0.05 (a harmonic tone 0.46), but it
also misses 4 of the 96 demo clips, shouted angry or fearful speech (no frame above 0.42). So a
signal is speech when

* at least ``MIN_SPEECH_RATIO`` of its frames have a probability of at least ``SPEECH_THRESHOLD``, or
* Silero leans that way somewhere (a frame at ``WEAK_THRESHOLD`` or more) and the sound is
  speech-like (:func:`speech_like`): not noise-like (median spectral flatness below
  ``MAX_FLATNESS``), not one dominant partial (a tone or a sweep: the strongest partial holds less than
  ``MAX_PARTIAL_SHARE`` of a frame's power) and changing its spectral shape as articulation does
  (median frame-to-frame change of the log-mel shape at least ``MIN_FLUX``; steady noise gives ~0.39,
  tones below 0.14, the demo clips 0.50 to 1.13).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["speech_frames", "speech_ratio", "speech_like", "speech_weight", "is_speech", "VAD_FILE", "FRAME_S",
           "SPEECH_THRESHOLD", "MIN_SPEECH_RATIO", "NO_SPEECH"]

VAD_FILE = Path(__file__).parent / "data" / "vad" / "silero_vad_16k_sequence.onnx"
VAD_RATE = 16_000
FRAME = 512  # samples per VAD frame at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous frame each frame sees
FRAME_S = FRAME / VAD_RATE
BLOCK_FRAMES = 512  # frames per ONNX call (16 s)

SPEECH_THRESHOLD = 0.5  # Silero's own default
MIN_SPEECH_RATIO = 0.05  # share of frames at SPEECH_THRESHOLD that makes a signal speech
WEAK_THRESHOLD = 0.1  # below this nowhere, Silero hears no speech at all
MAX_FLATNESS = 0.1
MAX_PARTIAL_SHARE = 0.9
MIN_FLUX = 0.45

NO_SPEECH = "no speech detected"


@lru_cache(maxsize=1)
def _session():
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(VAD_FILE), sess_options=options, providers=["CPUExecutionProvider"])


def _at_vad_rate(y: np.ndarray, sr: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if sr != VAD_RATE and y.size:
        from ser.dsp import resample

        y = resample(y, orig_sr=sr, target_sr=VAD_RATE)
    return np.ascontiguousarray(y, dtype=np.float32)


def speech_frames(y: np.ndarray, *, sr: int) -> np.ndarray:
    """Silero VAD's probability of speech for each 32 ms frame.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal; resampled to 16 kHz if ``sr`` differs.
    sr : int

    Returns
    -------
    np.ndarray, shape (ceil(n16 / 512),), float32
        ``n16`` is the length at 16 kHz; the last frame is zero-padded.
    """
    y = _at_vad_rate(y, sr)
    n = -(-y.size // FRAME)
    if n == 0:
        return np.zeros(0, np.float32)
    frames = np.zeros((n, FRAME), np.float32)
    frames.reshape(-1)[:y.size] = y
    context = np.zeros((n, CONTEXT), np.float32)
    context[1:] = frames[:-1, -CONTEXT:]
    h = np.zeros((1, 1, 128), np.float32)
    c = np.zeros((1, 1, 128), np.float32)
    out = []
    session = _session()
    for s in range(0, n, BLOCK_FRAMES):
        block = np.concatenate([context[s:s + BLOCK_FRAMES], frames[s:s + BLOCK_FRAMES]], axis=1)
        probs, h, c = session.run(["speech_probs", "hn", "cn"], {"input": block, "h": h, "c": c})
        out.append(np.asarray(probs, np.float32).reshape(-1))
    return np.concatenate(out)


def speech_ratio(y: np.ndarray, *, sr: int, threshold: float = SPEECH_THRESHOLD) -> float:
    """Share of 32 ms frames whose speech probability is at least ``threshold`` (0 for no frames)."""
    probs = speech_frames(y, sr=sr)
    return float(np.mean(probs >= threshold)) if probs.size else 0.0


def speech_like(y: np.ndarray, *, sr: int) -> bool:
    """The acoustic check: not noise, not a single partial, and a spectral shape that keeps changing.

    Measured on the frames within 30 dB of the loudest (1024-point STFT, hop 256 at 16 kHz); see the
    module's docstring for the thresholds and what they were measured on.
    """
    from ser import dsp

    y = _at_vad_rate(y, sr)
    if y.size < 2048:
        return False
    S = dsp.stft_power(y, n_fft=1024, hop_length=256)
    energy = S.sum(axis=0)
    S = S[:, energy > energy.max() * 1e-3] + 1e-12
    if S.shape[1] < 4:
        return False
    flatness = np.exp(np.log(S).mean(axis=0)) / S.mean(axis=0)
    peak = S.argmax(axis=0)
    near = np.clip(peak[None, :] + np.arange(-2, 3)[:, None], 0, S.shape[0] - 1)
    partial = np.take_along_axis(S, np.unique(near, axis=0), axis=0).sum(axis=0) / S.sum(axis=0)
    shape = np.log(dsp.mel_filters(sr=VAD_RATE, n_fft=1024, n_mels=40) @ S + 1e-10)
    shape -= shape.mean(axis=0)
    flux = np.sqrt(np.mean(np.diff(shape, axis=1) ** 2, axis=0))
    return bool(np.median(flatness) < MAX_FLATNESS and np.median(partial) < MAX_PARTIAL_SHARE
                and np.median(flux) >= MIN_FLUX)


def speech_weight(y: np.ndarray, *, sr: int, probs: np.ndarray | None = None,
                  min_ratio: float = MIN_SPEECH_RATIO) -> float:
    """How much speech ``y`` holds: 0 for none, else its share of speech frames (at least ``min_ratio``).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    sr : int
    probs : np.ndarray, shape (m,), optional
        :func:`speech_frames` of ``y`` if already known (e.g. a slice of a longer signal's).
    min_ratio : float

    Returns
    -------
    float in {0} or [min_ratio, 1]
    """
    probs = speech_frames(y, sr=sr) if probs is None else np.asarray(probs)
    if probs.size == 0 or not np.any(np.asarray(y)):
        return 0.0
    ratio = float(np.mean(probs >= SPEECH_THRESHOLD))
    if ratio >= min_ratio:
        return ratio
    if float(probs.max()) >= WEAK_THRESHOLD and speech_like(y, sr=sr):
        return min_ratio
    return 0.0


def is_speech(y: np.ndarray, *, sr: int, min_ratio: float = MIN_SPEECH_RATIO) -> bool:
    """Whether ``y`` (shape (n,)) holds speech; see the module's docstring for the rule."""
    return speech_weight(y, sr=sr, min_ratio=min_ratio) > 0
