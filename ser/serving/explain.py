"""Why the model said what it said: which stretches of a recording its answer rests on.

Occlusion over time. The recording is prepared once, exactly as :meth:`ser.serving.predict.Predictor.predict`
prepares it (resampled, silence trimmed, level normalised), and each model window of it is scored
once (speech weight and probabilities). Then one stretch at a time is silenced *in that prepared
signal*: only the windows the stretch touches are scored again (a window it covers entirely is silence,
weight 0, and needs no model), every other window keeps its score, and the windows are combined with
the prediction's own speech-weighted mean. A re-scored window's speech weight comes from the speech
detector's frames of the whole recording (computed once), with the frames the stretch silences counted
as silence. A stretch matters as much as the predicted emotion's
probability drops without it; a stretch whose silencing *raises* the probability (it argued against
the answer) gets a negative score. Silencing a stretch never re-trims or re-levels the rest: the
question is "what if these seconds were silent, all else as the model heard it".

The work is bounded whatever the length (the answer to "one upload can occupy the server for hours"):

- at most ``max_segments`` stretches: for long audio each stretch is made longer (a whole multiple of
  ``segment_s``), and the result says so (:attr:`Explanation.coarsened`);
- at most ``max_windows`` model windows in all, the prediction's own included, and at most
  ``max_rescored`` windows heard again, counted in windows of the networks alone (a model with an
  encoder member counts each :attr:`~ser.serving.predict.Predictor.window_cost`, 4, times: the voice encoder
  costs three times the networks per window): the stretches are made longer still until the planned work fits;
- ``deadline_s`` and ``should_stop`` are checked before each stretch; a result cut short says so
  (:attr:`Explanation.complete`, :attr:`Explanation.evaluated`) and its unsilenced stretches score 0.

It asks the loaded model itself (ONNX or Keras alike) and needs no gradients.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["MAX_RESCORED", "MAX_SEGMENTS", "MAX_WINDOWS", "Explanation", "explain"]

MAX_SEGMENTS = 48  # stretches at most, whatever the length
MAX_WINDOWS = 800  # model windows at most, the prediction's own ones included (600 s of audio has ~390)
# windows heard again at most, in windows of the networks alone (~7 ms each here): 300 keeps issue 22's bound of
# 3 s on a 9-minute upload for a model with the encoder member (~26 ms a window), whose stretches get longer;
# the networks alone need at most ~150 for 48 stretches, so their explanations do not change
MAX_RESCORED = 300

_REASONS = {"stopped": "stopped", "deadline": "out of time", "work": "the cap on work was reached"}


@dataclass(frozen=True)
class Explanation:
    """How much each stretch of a recording supports the predicted emotion.

    Attributes
    ----------
    emotion : the prediction explained (``None`` when the recording holds no speech)
    probability : its probability on the whole recording (the prediction's own)
    starts_s, ends_s : np.ndarray, shape (n_segments,)
        Each stretch, in seconds of the recording as given; together they cover it without gaps.
    importance : np.ndarray, shape (n_segments,)
        The drop of ``emotion``'s probability when the stretch is silenced (negative: it rises);
        0 for a stretch not evaluated.
    segment_s : seconds per stretch (longer than ``requested_segment_s`` for long audio)
    requested_segment_s : the stretch length asked for
    evaluated : np.ndarray of bool, shape (n_segments,), or None
        Which stretches were silenced (``None``: all of them).
    stop_reason : ``""`` when complete, else ``"stopped"``, ``"deadline"`` or ``"work"``
    n_windows : model windows scored in all, the prediction's own included
    """

    emotion: str | None
    probability: float
    starts_s: np.ndarray
    ends_s: np.ndarray
    importance: np.ndarray
    segment_s: float = 0.25
    requested_segment_s: float = 0.25
    evaluated: np.ndarray | None = field(default=None)
    stop_reason: str = ""
    n_windows: int = 0

    def __post_init__(self) -> None:
        if self.evaluated is None:
            object.__setattr__(self, "evaluated", np.ones(len(self.importance), bool))

    @property
    def complete(self) -> bool:
        """Whether every stretch was silenced (not cut short by ``should_stop``, a deadline or the cap)."""
        return not self.stop_reason

    @property
    def coarsened(self) -> bool:
        """Whether the stretches are longer than asked, to keep the work on long audio bounded."""
        return self.segment_s > self.requested_segment_s * (1 + 1e-9)

    def strongest(self) -> tuple[float, float] | None:
        """Start and end in seconds of the stretch the answer rests on most, or ``None``."""
        if self.emotion is None or not self.importance.size or self.importance.max() <= 0:
            return None
        i = int(np.argmax(self.importance))
        return float(self.starts_s[i]), float(self.ends_s[i])

    def caveats(self) -> str:
        """What limits this explanation, in one or two sentences, or ``""``."""
        out = []
        if self.coarsened:
            out.append(f"Each stretch is made longer ({self.segment_s:.2f} s instead of {self.requested_segment_s:.2f} s) "
                       f"to keep the work bounded on {float(self.ends_s[-1]):.0f} s of audio.")
        if not self.complete:
            done = int(self.evaluated.sum())
            upto = f" (up to {float(self.ends_s[done - 1]):.1f} s)" if done else ""
            out.append(f"The explanation was cut short ({_REASONS.get(self.stop_reason, self.stop_reason)}): only "
                       f"the first {done} of {len(self.importance)} stretches{upto} were silenced; the others show 0.")
        return " ".join(out)

    def sentence(self) -> str:
        """One line a person reads: where the answer comes from, and what limits it."""
        if self.emotion is None:
            return "No speech, so there is nothing to explain."
        best = self.strongest()
        if best is None:
            text = f"No single stretch decides “{self.emotion}”: it comes from the recording as a whole."
        else:
            i = int(np.argmax(self.importance))
            text = (f"“{self.emotion}” rests most on {best[0]:.2f}–{best[1]:.2f} s: without it, the model is "
                    f"{self.probability - self.importance[i]:.0%} sure instead of {self.probability:.0%}.")
        caveats = self.caveats()
        return f"{text} {caveats}" if caveats else text


def _prepared(raw: np.ndarray, config, name: str) -> tuple[np.ndarray, int]:
    """``finish_audio(raw)`` as :meth:`Predictor.predict` computes it, and where it starts in ``raw``."""
    from dataclasses import replace

    from ser.audio.reader import finish_audio, trim_silence

    if not config.trim_silence:
        return finish_audio(raw, config=config), 0
    kept = trim_silence(raw, top_db=config.trim_top_db)
    if kept.size / config.sample_rate_hz < config.min_duration_s:
        finish_audio(raw, config=config, name=name)  # raises its own one-line error
    if np.shares_memory(kept, raw):  # trim_silence returns a slice of its input
        offset = (kept.__array_interface__["data"][0] - raw.__array_interface__["data"][0]) // raw.itemsize
    else:
        offset = next(i for i in range(raw.size - kept.size + 1) if np.array_equal(raw[i:i + kept.size], kept))
    return finish_audio(kept, config=replace(config, trim_silence=False), name=name), int(offset)


def _mean(weights: np.ndarray, probs: np.ndarray) -> np.ndarray | None:
    """The prediction's speech-weighted mean of window probabilities (``None``: no window holds speech)."""
    total = float(weights.sum())
    return (weights[:, None] * probs).sum(axis=0) / total if total > 0 else None


def explain(predictor, y: np.ndarray, *, sr: int, segment_s: float = 0.25, name: str = "<audio>",
            max_segments: int = MAX_SEGMENTS, max_windows: int = MAX_WINDOWS, max_rescored: float = MAX_RESCORED,
            deadline_s: float | None = None,
            should_stop: Callable[[], bool] | None = None) -> Explanation:
    """Occlusion of ``y`` in stretches of ``segment_s`` seconds (longer for long audio), with bounded work.

    Parameters
    ----------
    predictor : ser.serving.predict.Predictor
    y : np.ndarray, shape (n,) or (n, channels)
        The recording, at any rate and level (prepared once, as :meth:`Predictor.predict` does).
    sr : its sample rate
    segment_s : length of each silenced stretch for short audio; a 4 s clip at 0.25 s has 16
    max_segments : stretches at most: longer audio gets stretches of a whole multiple of ``segment_s``
    max_windows : model windows scored at most, the prediction's own included
    max_rescored : windows heard again at most (partly silenced), each counted ``predictor.window_cost`` times
    deadline_s : seconds after which no further stretch is started (``None``: no deadline)
    should_stop : called before each stretch; ``True`` ends the explanation there

    Returns
    -------
    Explanation
        Flagged ``coarsened`` when the stretches were made longer and not ``complete`` when it was cut
        short; ``n_windows`` says how many model windows it scored.

    Raises
    ------
    AudioError
        As :meth:`Predictor.predict` does, for audio that cannot be predicted at all.
    """
    from ser.audio.reader import read_audio
    from ser.audio.speech import FRAME, VAD_RATE

    began = time.monotonic()
    y = np.asarray(y, dtype=np.float32)
    y = y.mean(axis=1) if y.ndim == 2 else y
    cfg = predictor.config.audio
    rate = cfg.sample_rate_hz
    raw = read_audio(y, sr=sr, config=cfg, name=name).y
    fin, offset = _prepared(raw, cfg, name)
    window = predictor.config.features.window_samples
    win_a = np.asarray(predictor.window_starts(len(fin)))
    win_b = np.minimum(win_a + window, len(fin))
    weights, probs, frames = predictor.score_windows(fin, list(win_a))
    n_windows = own = len(win_a)
    base = _mean(weights, probs)

    hop0 = max(1, int(round(segment_s * sr)))

    def stretches(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
        starts = np.arange(0, len(y), k * hop0)
        ends = np.minimum(starts + k * hop0, len(y))
        a = np.clip(np.round(starts * rate / sr).astype(np.int64) - offset, 0, len(fin))
        b = np.clip(np.round(ends * rate / sr).astype(np.int64) - offset, 0, len(fin))
        partial = []  # the windows each stretch touches without covering them: those the model hears again
        for lo, hi in zip(a, b):
            touched = (win_a < hi) & (win_b > lo) & (hi > lo)
            partial.append(np.flatnonzero(touched & ~((win_a >= lo) & (win_b <= hi))))
        return starts, ends, a, b, partial

    cost = float(predictor.window_cost)

    def too_much(again: int) -> bool:  # ``again`` windows heard again besides the prediction's own
        return own + again > max_windows or cost * again > max_rescored

    k = max(1, int(np.ceil(len(y) / (max(1, max_segments) * hop0))))
    starts, ends, a, b, partial = stretches(k)
    while len(starts) > 1 and too_much(sum(map(len, partial))):  # longer stretches, less work: the finest that fits
        k += max(1, k // 8)
        starts, ends, a, b, partial = stretches(k)
    explanation = dict(starts_s=starts / sr, ends_s=ends / sr, segment_s=k * hop0 / sr, requested_segment_s=hop0 / sr)
    importance = np.zeros(len(starts))
    evaluated = np.zeros(len(starts), bool)
    if base is None:
        return Explanation(None, 0.0, importance=importance, evaluated=np.ones(len(starts), bool),
                           n_windows=n_windows, **explanation)
    emotion = int(np.argmax(base))
    p = float(base[emotion])
    step = max(1, FRAME * rate // VAD_RATE)  # samples per speech-detector frame
    reason = "" if n_windows <= max_windows else "work"
    for i in range(len(starts)):
        if reason:
            break
        if should_stop is not None and should_stop():
            reason = "stopped"
            break
        if deadline_s is not None and time.monotonic() - began >= deadline_s:
            reason = "deadline"
            break
        lo, hi, redo = int(a[i]), int(b[i]), partial[i]
        if too_much(n_windows - own + len(redo)):
            reason = "work"
            break
        evaluated[i] = True
        if hi <= lo or not np.any(fin[lo:hi]):  # trimmed away or silent already: nothing changes
            continue
        w, pr = weights.copy(), probs.copy()
        covered = (win_a >= lo) & (win_b <= hi)
        w[covered], pr[covered] = 0.0, 0.0  # a window of silence holds no speech
        # the speech detector's frames of the recording, those the stretch silences entirely as silence
        silenced = frames.copy()
        silenced[-(-lo // step):max(0, hi // step)] = 0.0
        # the windows over the stretch's start and those over its end (a long stretch's silence between them
        # needs nothing), each from a span that starts on a speech-detector frame
        for group in np.split(redo, np.flatnonzero(win_a[redo][1:] >= win_b[redo][:-1]) + 1) if redo.size else []:
            first = int(win_a[group].min()) // step * step
            span = fin[first:int(win_b[group].max())].copy()
            span[min(len(span), max(0, lo - first)):max(0, hi - first)] = 0.0
            w[group], pr[group], _ = predictor.score_windows(
                span, list(win_a[group] - first), frames=silenced[first // step:-(-(first + len(span)) // step)],
                remember=False)
            n_windows += len(group)
        mean = _mean(w, pr)
        importance[i] = p - (float(mean[emotion]) if mean is not None else 0.0)
    return Explanation(predictor.emotions[emotion], p, importance=importance, evaluated=evaluated,
                       stop_reason=reason, n_windows=n_windows, **explanation)
