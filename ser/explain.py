"""Why the model said what it said: which stretches of a recording its answer rests on.

Occlusion over time: the recording is predicted again with one stretch of ``segment_s`` seconds
silenced at a time; a stretch matters as much as the predicted emotion's probability drops without
it. This asks the loaded model itself (ONNX or Keras alike) and needs no gradients. Silencing a stretch
can also *raise* the probability (the stretch argued against the answer): such stretches get a negative
score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Explanation", "explain"]


@dataclass(frozen=True)
class Explanation:
    """How much each stretch of a recording supports the predicted emotion.

    Attributes
    ----------
    emotion : the prediction explained (``None`` when the recording holds no speech)
    probability : its probability on the whole recording
    starts_s, ends_s : np.ndarray, shape (n_segments,)
        Each stretch, in seconds of the recording as given.
    importance : np.ndarray, shape (n_segments,)
        The drop of ``emotion``'s probability when the stretch is silenced (negative: it rises).
    """

    emotion: str | None
    probability: float
    starts_s: np.ndarray
    ends_s: np.ndarray
    importance: np.ndarray

    def strongest(self) -> tuple[float, float] | None:
        """Start and end in seconds of the stretch the answer rests on most, or ``None``."""
        if self.emotion is None or not self.importance.size or self.importance.max() <= 0:
            return None
        i = int(np.argmax(self.importance))
        return float(self.starts_s[i]), float(self.ends_s[i])

    def sentence(self) -> str:
        """One line a person reads: where the answer comes from."""
        if self.emotion is None:
            return "No speech, so there is nothing to explain."
        best = self.strongest()
        if best is None:
            return f"No single stretch decides “{self.emotion}”: it comes from the recording as a whole."
        i = int(np.argmax(self.importance))
        return (f"“{self.emotion}” rests most on {best[0]:.2f}–{best[1]:.2f} s: without it, the model is "
                f"{self.probability - self.importance[i]:.0%} sure instead of {self.probability:.0%}.")


def explain(predictor, y: np.ndarray, *, sr: int, segment_s: float = 0.25, name: str = "<audio>") -> Explanation:
    """Occlusion of ``y`` in stretches of ``segment_s`` seconds, each predicted by ``predictor``.

    Parameters
    ----------
    predictor : ser.predict.Predictor
    y : np.ndarray, shape (n,) or (n, channels)
        The recording, at any rate and level (prepared as :meth:`Predictor.predict` does).
    sr : its sample rate
    segment_s : length of each silenced stretch; a 4 s clip at 0.25 s costs 17 predictions

    Returns
    -------
    Explanation
    """
    y = np.asarray(y, dtype=np.float32)
    y = y.mean(axis=1) if y.ndim == 2 else y
    base = predictor.predict(y, sr=sr, name=name)
    hop = max(1, int(round(segment_s * sr)))
    starts = np.arange(0, len(y), hop)
    ends = np.minimum(starts + hop, len(y))
    if base.emotion is None:
        return Explanation(None, 0.0, starts / sr, ends / sr, np.zeros(len(starts)))
    p = base.probabilities[base.emotion]
    importance = np.zeros(len(starts))
    for i, (a, b) in enumerate(zip(starts, ends)):
        occluded = y.copy()
        occluded[a:b] = 0.0
        try:
            pred = predictor.predict(occluded, sr=sr, name=name)
        except Exception as exc:  # a stretch whose silencing leaves nothing usable (all silence)
            from ser.errors import SerError

            if not isinstance(exc, SerError):
                raise
            pred = None
        q = pred.probabilities.get(base.emotion, 0.0) if pred is not None and pred.emotion else 0.0
        importance[i] = p - q
    return Explanation(base.emotion, float(p), starts / sr, ends / sr, importance)
