"""What a model's results say, in the shapes a person reads them: the emotions its scores average over,
chance, the held-out speakers, the per-emotion and per-corpus tables and the misclassified clips (the
Evaluate page)."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["emotions_present", "chance_level", "held_out_speakers", "per_class_table", "per_corpus_table",
           "misclassified"]


def emotions_present(report: dict[str, Any]) -> list[str]:
    """The emotions macro F1 and UAR average over: those of the test clips (``emotions_present``), or,
    in a report written before that field, every emotion of the confusion matrix."""
    return list(report.get("emotions_present") or report["confusion"]["labels"])


def chance_level(report: dict[str, Any]) -> float:
    """The accuracy of guessing at random among :func:`emotions_present`."""
    return 1 / max(len(emotions_present(report)), 1)


def held_out_speakers(split: pd.DataFrame | None, *, part: str = "test") -> list[str]:
    """The speakers of one part of a model's ``split.csv``, sorted; empty when the split names none.

    Parameters
    ----------
    split : DataFrame of ``split.csv`` (``path``, ``split``, optionally ``speaker``), or ``None``
    part : ``"train"``, ``"val"`` or ``"test"``
    """
    if split is None or "speaker" not in split:
        return []
    return sorted(str(s) for s in split.loc[split["split"] == part, "speaker"].dropna().unique())


def per_class_table(report: dict[str, Any]) -> pd.DataFrame:
    """One row per emotion of ``report.json``'s ``per_class``: precision, recall, F1, accuracy and the
    number of test clips (``support``, an integer)."""
    t = pd.DataFrame(report["per_class"]).T[["precision", "recall", "f1", "accuracy", "support"]]
    t["support"] = t["support"].astype(int)
    return t


def per_corpus_table(per_corpus: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per corpus of ``report.json``'s ``per_corpus`` scores, formatted to read."""
    rows = [{"corpus": name, "test clips": c["n_clips"], "accuracy": f"{c['accuracy']:.1%}",
             "macro F1": f"{c['macro_f1']:.1%}", "UAR": f"{c['uar']:.1%}",
             "restricted UAR": f"{c['restricted']['uar']:.1%}" if c["restricted"].get("uar") is not None else "–",
             "its emotions": ", ".join(c["restricted"]["emotions"]),
             "most frequent answer": f"{c['top_answer']} ({c['top_answer_share']:.0%})"}
            for name, c in per_corpus.items()]
    return pd.DataFrame(rows)


def misclassified(predictions: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``predictions.csv`` (``path``, ``true``, ``predicted``, a probability per emotion)
    whose answer was not the clip's emotion, numbered from 0."""
    return predictions[predictions["true"] != predictions["predicted"]].reset_index(drop=True)
