"""Evaluation: confusion matrix, per-class precision, recall, F1 and accuracy, macro F1 and UAR.

Macro F1 and UAR (unweighted average recall, the field's usual headline) are averaged over the
emotions present in the true labels only: a corpus without "calm" does not lose for it. The report
names the emotions that were absent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ser.model_folder import ModelFolder

__all__ = ["report_from_predictions", "write_report", "evaluate_model", "read_results", "clip_folders",
           "restricted_scores", "per_corpus_scores"]


def report_from_predictions(y_true: Sequence[str], y_pred: Sequence[str], *, emotions: Sequence[str],
                            n_skipped: int = 0) -> dict[str, Any]:
    """The evaluation report as a JSON-ready dict.

    Per-class ``accuracy`` is the one-vs-rest accuracy, (TP + TN) / N, for that emotion.
    Emotions with no true and no predicted clip get zero scores and zero support. ``macro_f1``
    and ``uar`` average over ``emotions_present`` (those with at least one true clip).
    """
    from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support,
                                 recall_score)

    labels = list(emotions)
    y_true, y_pred = list(y_true), list(y_pred)
    n = len(y_true)
    cm = confusion_matrix(y_true, y_pred, labels=labels) if n else np.zeros((len(labels),) * 2, dtype=int)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0) if n else (
        np.zeros(len(labels)),) * 4
    per_class = {}
    for i, emo in enumerate(labels):
        tp = cm[i, i]
        fp = cm[:, i].sum() - tp
        fn = cm[i, :].sum() - tp
        per_class[emo] = {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                          "support": int(s[i]), "accuracy": float((n - fp - fn) / n) if n else 0.0}
    present = sorted(set(y_true) & set(labels), key=labels.index)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)) if n else 0.0,
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)) if n else 0.0,
        "uar": float(recall_score(y_true, y_pred, labels=present, average="macro", zero_division=0)) if n else 0.0,
        "weighted_f1": float(f1_score(y_true, y_pred, labels=present, average="weighted", zero_division=0))
        if n else 0.0,
        "emotions_present": present,
        "emotions_absent": [e for e in labels if e not in present],
        "n_clips": n,
        "n_skipped": int(n_skipped),
        "per_class": per_class,
        "confusion": {"labels": labels, "matrix": cm.astype(int).tolist()},
    }


def write_report(out_dir: str | Path, *, paths: Sequence[str], y_true: Sequence[str], probs: np.ndarray,
                 emotions: Sequence[str], n_skipped: int = 0, extra: dict[str, Any] | None = None,
                 corpora: Sequence[str] | None = None,
                 emotion_sets: dict[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """Write ``report.json`` and ``predictions.csv`` into ``out_dir``; return the report.

    The report holds the open answer's scores, ``restricted`` (the answer among the emotions present,
    :func:`restricted_scores`) and, for clips of several corpora, ``per_corpus`` (:func:`per_corpus_scores`;
    ``predictions.csv`` then has a ``corpus`` column).

    Parameters
    ----------
    probs : np.ndarray, shape (n_clips, n_emotions)
    corpora : each clip's corpus, optional
    emotion_sets : each corpus's emotions (what its restricted answer is among), optional
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    emotions = list(emotions)
    y_pred = [emotions[i] for i in np.argmax(probs, axis=1)] if len(probs) else []
    report = report_from_predictions(y_true, y_pred, emotions=emotions, n_skipped=n_skipped)
    report["restricted"] = restricted_scores(y_true, probs, emotions=emotions)  # among the emotions present
    if corpora is not None and len(set(corpora)) > 1:
        report["per_corpus"] = per_corpus_scores(y_true, probs, corpora, emotions=emotions,
                                                 emotion_sets=emotion_sets)
    report.update(extra or {})
    preds = pd.DataFrame({"path": list(paths), "true": list(y_true), "predicted": y_pred})
    if corpora is not None and len(set(corpora)) > 1:
        preds.insert(0, "corpus", [str(c) for c in corpora])
    for j, emo in enumerate(emotions):
        preds[emo] = np.round(probs[:, j], 5) if len(probs) else []
    from ser.csvsafe import write_csv

    folder = ModelFolder(out_dir)
    write_csv(preds, folder.predictions_file)  # a file name like =HYPERLINK(...) stays text
    folder.report_file.write_text(json.dumps(report, indent=2) + "\n")
    return report


def evaluate_model(model_dir: str | Path, labels_csv: str | Path, out_dir: str | Path, *,
                   cache_dir: str | Path | None = None, progress: Any = None,
                   emotions: str | Sequence[str] | None = None, speaker_norm: bool = False) -> dict[str, Any]:
    """Evaluate a saved model on every usable clip of a labelled folder.

    Clips whose emotion the model does not know, that are missing or unreadable, are
    skipped and counted in ``n_skipped``.

    ``emotions`` (``"angry,happy,neutral,sad"`` or a list, at least two the model knows) scores a
    closed-set answer: only the clips of those emotions are scored (the others count in ``n_skipped``),
    the answer is among those only (probabilities restricted and renormalised, :func:`ser.datasets.emotions.restrict`)
    and the report says ``emotions_chosen``. A :class:`~ser.errors.ConfigError` for a bad choice, a
    :class:`~ser.errors.LabelsError` when no clip is of a chosen emotion; nothing is written then.

    ``speaker_norm`` (for a model trained with ``TrainConfig.speaker_norm``) normalises each speaker's
    clips with the statistics of that speaker's own scored clips (:mod:`ser.features.speakers`; their labels are
    not used), a clip without a speaker by its own frames, and the report says ``"speaker_norm": true``.
    Such a model evaluated without it normalises every clip by its own frames (as a prediction without
    enrolment), and the report says ``"speaker_norm": false``. A :class:`~ser.errors.ConfigError` for a
    model trained without it, a :class:`~ser.errors.LabelsError` when the folder names no speaker.
    """
    from ser.features.clips import ClipTask
    from ser.features.engine import extract_many
    from ser.datasets.emotions import restrict
    from ser.errors import LabelsError
    from ser.datasets.labels import read_usable
    from ser.serving.predict import Predictor

    predictor = Predictor.load(model_dir)
    chosen = predictor.choice(emotions)  # ConfigError: unknown or fewer than two, before the labels are read
    trained_by_speaker = predictor.config.train.speaker_norm
    if speaker_norm and not trained_by_speaker:
        from ser.errors import ConfigError

        raise ConfigError(f"{model_dir}: was trained without per-speaker normalisation; evaluate it without "
                          "--speaker-norm, or train one with --set speaker_norm=true.")
    labels, good, _ = read_usable(labels_csv, require=True)  # LabelsError: no usable clip
    if speaker_norm and not good["speaker"].fillna("").astype(str).str.strip().ne("").any():
        raise LabelsError(f"{labels_csv}: names no speaker (no speaker column, or it is empty); per-speaker "
                          "normalisation needs each clip's speaker: add the column or evaluate without --speaker-norm.")
    good = good[good["emotion"].isin(predictor.emotions)].reset_index(drop=True)
    if chosen is not None:
        present = [e for e in predictor.emotions if e in set(good["emotion"])]
        good = good[good["emotion"].isin(chosen)].reset_index(drop=True)
        if good.empty:
            raise LabelsError(f"{labels_csv}: none of its clips is {' or '.join([', '.join(chosen[:-1]), chosen[-1]])}"
                              f" (the emotions chosen); it has {', '.join(present) or 'no emotion this model knows'}.")
    n_skipped = len(labels) - len(good)
    encoder = predictor.encoder_head is not None
    feats = extract_many([ClipTask(p, encoder=("original",) if encoder else ()) for p in good["abspath"]], config=predictor.config,
                         cache_dir=cache_dir,
                         progress=(lambda d, t: progress({"stage": "features", "step": d, "total": t}))
                         if progress else None)
    ok = [i for i, f in enumerate(feats) if isinstance(f, dict)]
    if not ok:  # nothing to score: an error, never "accuracy 0.000 on 0 clips"
        raise LabelsError(f"{labels_csv}: no usable clip for this model: of {len(labels)} rows, none is a readable "
                          f"clip of an emotion it knows ({', '.join(predictor.emotions)}); see "
                          f"`python -m ser validate {labels_csv}`.")
    n_skipped += len(good) - len(ok)
    X = np.stack([feats[i]["original"] for i in ok]) if ok else np.zeros((0,) + predictor.input_shape)
    if trained_by_speaker:  # by each speaker's own clips (speaker_norm), or each clip by its own frames
        from ser.features.speakers import normalise_groups, rms_row

        speakers = good["speaker"].fillna("").astype(str).str.strip()
        groups = [("speaker", speakers[i]) if speaker_norm and speakers[i] else ("clip", good["path"][i]) for i in ok]
        X = np.stack(normalise_groups(list(X), groups, original=[True] * len(ok),
                                      rms_row=rms_row(predictor.config.features)))
    from ser.features.clips import encoder_key

    rows = np.stack([feats[i][encoder_key("original")] for i in ok]) if encoder else None
    probs = predictor.predict_features(X, rows=rows) if ok else np.zeros((0, len(predictor.emotions)))
    scored, extra = predictor.emotions, {"model": str(model_dir), "labels": str(labels_csv)}
    if trained_by_speaker:
        extra["speaker_norm"] = bool(speaker_norm)
    if chosen is not None:  # the answer among the chosen: their columns only, renormalised
        columns = [predictor.emotions.index(e) for e in chosen]
        probs = restrict(probs, emotions=predictor.emotions, keep=chosen)[:, columns]
        scored, extra = list(chosen), {**extra, "emotions_chosen": list(chosen)}
    return write_report(out_dir, paths=[good["path"][i] for i in ok], y_true=[good["emotion"][i] for i in ok],
                        probs=probs, emotions=scored, n_skipped=n_skipped, extra=extra)


def read_results(model_dir: str | Path) -> dict[str, Any]:
    """What a training wrote into ``model_dir``, each ``None`` where the file is missing (``run`` and
    ``config`` are ``{}`` then).

    Returns
    -------
    dict with ``report``, ``run``, ``config``, ``robustness`` (JSON files) and ``history``, ``split``,
    ``predictions`` (DataFrames of the CSVs)
    """
    return ModelFolder(model_dir).results()


def clip_folders(run: dict[str, Any]) -> list[Path]:
    """Where a run's test clips may be found on this machine (for :func:`ser.paths.find_clip`): the folder
    of each corpus it was trained on, then the demo clips."""
    from ser.paths import DEMO_DIR, from_portable

    corpora = [from_portable(c["labels"]).parent for c in (run.get("corpora") or {}).values() if c.get("labels")]
    own = corpora or ([from_portable(run["labels"]).parent] if run.get("labels") else [])
    return own + [DEMO_DIR]


def restricted_scores(y_true: Sequence[str], probs: np.ndarray, *, emotions: Sequence[str],
                      among: Sequence[str] | None = None) -> dict[str, Any]:
    """Scores of the answer restricted to ``among`` (default: the emotions present in ``y_true``), as
    cross-corpus studies report them beside the open answer.

    Returns
    -------
    dict with ``emotions`` (the set answered among), ``uar``, ``macro_f1`` and ``accuracy`` of the
    restricted answer, on the clips whose true emotion is in the set
    """
    from ser.datasets.emotions import restrict

    emotions = list(emotions)
    among = [e for e in emotions if e in set(among if among is not None else y_true)]
    keep = np.array([t in among for t in y_true], dtype=bool)
    if not keep.any() or len(among) < 2:
        return {"emotions": among, "uar": None, "macro_f1": None, "accuracy": None, "n_clips": int(keep.sum())}
    p = restrict(np.asarray(probs)[keep], emotions=emotions, keep=among)
    y = [t for t, k in zip(y_true, keep) if k]
    rep = report_from_predictions(y, [emotions[i] for i in p.argmax(axis=1)], emotions=emotions)
    return {"emotions": among, "uar": rep["uar"], "macro_f1": rep["macro_f1"], "accuracy": rep["accuracy"],
            "n_clips": int(keep.sum())}


def per_corpus_scores(y_true: Sequence[str], probs: np.ndarray, corpora: Sequence[str], *,
                      emotions: Sequence[str], emotion_sets: dict[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """The scores of each corpus's clips: the open answer (all the model's emotions) and the answer restricted
    to the corpus's own emotions (``emotion_sets[corpus]``, default those present in its clips).

    Returns
    -------
    dict mapping corpus to ``{"n_clips", "accuracy", "macro_f1", "uar", "emotions_present",
    "restricted": restricted_scores(...), "top_answer", "top_answer_share"}``
    """
    emotions = list(emotions)
    probs = np.asarray(probs)
    corpora = np.asarray([str(c) for c in corpora])
    y_true = np.asarray(list(y_true), dtype=object)
    out = {}
    for name in dict.fromkeys(corpora):
        rows = np.flatnonzero(corpora == name)
        y = list(y_true[rows])
        pred = [emotions[i] for i in probs[rows].argmax(axis=1)]
        rep = report_from_predictions(y, pred, emotions=emotions)
        top = max(set(pred), key=pred.count)
        own = (emotion_sets or {}).get(name)
        out[name] = {"n_clips": len(rows), "accuracy": rep["accuracy"], "macro_f1": rep["macro_f1"],
                     "uar": rep["uar"], "emotions_present": rep["emotions_present"],
                     "restricted": restricted_scores(y, probs[rows], emotions=emotions, among=own),
                     "top_answer": top, "top_answer_share": pred.count(top) / len(pred)}
    return out
