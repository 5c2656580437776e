"""Closed-set answers: the emotions a user cares about, and probabilities restricted to them.

A call centre may care about four emotions only (angry, happy, neutral, sad): the model's answer is
then the most likely of those, with its probabilities renormalised over them. The same restriction
scores a corpus on the emotions it has (the UAR "restricted to the emotions present" that cross-corpus
studies report). Pure numpy: prediction uses it without importing anything heavy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ser.errors import ConfigError

__all__ = ["parse_emotions", "restrict", "check_choice"]


def parse_emotions(text: str | Iterable[str] | None, *, known: Sequence[str]) -> tuple[str, ...] | None:
    """The emotions named in ``text`` (``"angry,happy,neutral,sad"`` or a list), in ``known``'s order.

    Any usual spelling is accepted (``fear``, ``Happy``); ``None`` or ``""`` means every emotion
    (``None`` is returned).

    Raises
    ------
    ConfigError
        For an unknown name, or fewer than two emotions (one line naming the value and the choice).
    """
    from ser.datasets.labels import normalise_emotion

    if text is None:
        return None
    parts = [p.strip() for p in (text.split(",") if isinstance(text, str) else text) if str(p).strip()]
    if not parts:
        return None
    chosen = []
    for part in parts:
        emo = normalise_emotion(part)
        if emo is None or emo not in known:
            raise ConfigError(f"--emotions: {part!r} is not an emotion this model knows; choose from "
                              f"{', '.join(known)}.")
        if emo not in chosen:
            chosen.append(emo)
    return check_choice(chosen, known=known)


def check_choice(chosen: Iterable[str], *, known: Sequence[str]) -> tuple[str, ...]:
    """``chosen`` in ``known``'s order; :class:`ConfigError` for an unknown one or fewer than two."""
    chosen = list(dict.fromkeys(chosen))
    unknown = [e for e in chosen if e not in known]
    if unknown:
        raise ConfigError(f"--emotions: {', '.join(unknown)} is not an emotion this model knows; choose from "
                          f"{', '.join(known)}.")
    if len(chosen) < 2:
        raise ConfigError(f"--emotions: {', '.join(chosen) or 'none'} is one emotion only; an answer needs at "
                          "least two to choose from.")
    return tuple(e for e in known if e in chosen)


def restrict(probs: np.ndarray, *, emotions: Sequence[str], keep: Iterable[str] | None) -> np.ndarray:
    """``probs`` with every emotion outside ``keep`` set to 0 and the rest renormalised to sum to 1.

    Parameters
    ----------
    probs : np.ndarray, shape (n, len(emotions)) or (len(emotions),)
    emotions : the order of ``probs``' last axis
    keep : the emotions to answer among (``None``: all, ``probs`` unchanged)

    Returns
    -------
    np.ndarray, same shape, float32; a row that gave the kept emotions no probability at all is spread
    evenly over them
    """
    p = np.asarray(probs, dtype=np.float32)
    if keep is None:
        return p
    keep = set(keep)
    mask = np.array([e in keep for e in emotions], dtype=np.float32)
    out = p * mask
    total = out.sum(axis=-1, keepdims=True)
    even = np.broadcast_to(mask / max(mask.sum(), 1.0), out.shape)
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), even).astype(np.float32)
