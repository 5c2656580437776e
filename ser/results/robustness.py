"""The robustness report: how a model does when only the recording conditions change.

Every clip of a labelled set is scored as recorded and under each fixed condition of
:data:`ser.augment.transforms.CONDITIONS` (gain, white/pink/babble noise, telephone band, a reverberant
room, a low-bitrate codec), each drawn from a seed fixed per clip and condition, so the report is
the same on every run. For each condition: accuracy, macro F1, UAR, and agreement (the share of clips
whose predicted emotion is the one predicted for the clean clip). Also how confident the model is
on inputs with no speech at all (white noise, a pure tone, silence).

Written as ``robustness.json``: :func:`ser.training.train.train` does it for every model on its test speakers;
``python -m ser robustness`` does it for any labelled folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ser.errors import LabelsError, ModelError
from ser.model_folder import ROBUSTNESS, ModelFolder
from ser.paths import portable
from ser.training.progress import ProgressFn

__all__ = ["robustness_report", "measure_robustness", "non_speech_probes", "summary_sentence", "TARGETS",
           "ROBUSTNESS_FILE", "example_for_conditions", "ConditionExample", "robustness_clips"]

ROBUSTNESS_FILE = ROBUSTNESS  # its name in a model folder (kept here for its callers)
TARGETS = {"gain": "agreement with clean >= 0.97", "mild": "macro F1 within 0.05 of clean",
           "hard": "macro F1 within 0.10 of clean"}


def non_speech_probes(*, sr: int, duration_s: float = 3.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Three signals with no voice in them: white noise, a 440 Hz tone, and digital silence.

    Returns
    -------
    dict mapping a name to an array of shape (n,), float32
    """
    t = np.arange(int(sr * duration_s)) / sr
    rng = np.random.default_rng(seed)
    return {"white noise": (0.1 * rng.standard_normal(t.size)).astype(np.float32),
            "440 Hz tone": (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32),
            "silence": np.zeros(t.size, dtype=np.float32)}


def robustness_report(predictor, frame: pd.DataFrame, *, cache_dir: str | Path | None = None,
                      progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
                      n_babble_sources: int = 24, cluster: str | None = None) -> dict[str, Any]:
    """Score ``predictor`` on the clips of ``frame`` under every condition.

    The versions of each clip are extracted by :func:`ser.features.engine.extract_many`: on this
    machine, or on the Dask cluster at ``cluster`` (``tcp://HOST:8786``) when one is given.

    Parameters
    ----------
    predictor : ser.serving.predict.Predictor
    frame : DataFrame with ``abspath``, ``path``, ``emotion`` and optionally ``speaker``
        (usable rows, as :func:`ser.datasets.labels.read_usable` gives). Babble is made of other speakers'
        clips of the same frame.

    Returns
    -------
    dict with ``conditions`` (a list, clean first, each with ``name``, ``label``, ``group``,
    ``accuracy``, ``macro_f1``, ``uar``, ``agreement``, ``n_clips``), ``n_clips``, ``n_skipped``,
    ``emotions_absent``, ``non_speech`` and ``targets``.
    """
    from ser.errors import AudioError
    from ser.augment.training import babble_pools
    from ser.augment.transforms import CONDITIONS
    from ser.results.evaluate import report_from_predictions
    from ser.features.cache import CONDITION_PREFIX
    from ser.features.clips import ClipTask, encoder_key
    from ser.features.engine import extract_many

    frame = frame[frame["emotion"].isin(predictor.emotions)].reset_index(drop=True)
    if frame.empty:
        raise LabelsError("no clip with an emotion this model knows; nothing to measure robustness on.")
    speakers = frame["speaker"].tolist() if "speaker" in frame and frame["speaker"].notna().all() else None
    paths = frame["abspath"].tolist()
    pools = babble_pools(paths, speakers, n_sources=n_babble_sources, seed=0)
    babble_from = "other speakers"
    if not all(pools):  # one speaker only (a validation split, a user's own voice): other clips of theirs
        pools = babble_pools(paths, None, n_sources=n_babble_sources, seed=0)
        babble_from = "other clips of the same speaker"
    names = [name for name, cond in CONDITIONS.items() if not cond.needs_babble or all(pools)]
    if len(names) < len(CONDITIONS):
        babble_from = None  # a single clip: nothing to make babble from, so that condition is left out
    versions = tuple(CONDITION_PREFIX + name for name in names)
    encoder = predictor.encoder_head is not None
    tasks = [ClipTask(p, versions, pool, encoder=versions if encoder else ()) for p, pool in zip(frame["abspath"], pools)]
    emit = progress or (lambda e: None)
    results = extract_many(tasks, config=predictor.config, cache_dir=cache_dir, should_stop=should_stop,
                           progress=lambda d, t: emit({"stage": "robustness", "step": d, "total": t}),
                           cluster=cluster)
    ok = [i for i, r in enumerate(results) if isinstance(r, dict)]
    if not ok:
        raise LabelsError(f"none of the {len(frame)} clips could be read; check them with `python -m ser validate`.")
    y_true = [frame["emotion"][i] for i in ok]
    emotions = predictor.emotions
    predicted: dict[str, list[str]] = {}
    for name in names:
        X = [results[i][CONDITION_PREFIX + name] for i in ok]
        if predictor.config.train.speaker_norm:  # each speaker by their own clips under the same condition
            from ser.features.speakers import normalise_groups, rms_row

            groups = [("speaker", str(speakers[i])) if speakers and str(speakers[i]).strip()
                      else ("clip", frame["path"][i]) for i in ok]
            X = normalise_groups(X, groups, original=[True] * len(X), rms_row=rms_row(predictor.config.features))
        rows = np.stack([results[i][encoder_key(CONDITION_PREFIX + name)] for i in ok]) if encoder else None
        probs = predictor.predict_features(np.stack(X), rows=rows)
        predicted[name] = [emotions[j] for j in probs.argmax(axis=1)]
    rows = []
    for name in names:
        cond = CONDITIONS[name]
        rep = report_from_predictions(y_true, predicted[name], emotions=emotions)
        agree = float(np.mean([a == b for a, b in zip(predicted[name], predicted["clean"])]))
        rows.append({"name": name, "label": cond.label, "group": cond.group, "accuracy": rep["accuracy"],
                     "macro_f1": rep["macro_f1"], "uar": rep["uar"], "agreement": agree, "n_clips": len(ok)})
    probes = {}
    sr = predictor.config.audio.sample_rate_hz
    for probe, y in non_speech_probes(sr=sr).items():
        try:
            pred = predictor.predict(y, sr=sr, name=probe)
            if pred.emotion is None:  # no speech detected: no emotion guessed
                probes[probe] = {"emotion": None, "refused": pred.reason}
            else:
                probes[probe] = {"emotion": pred.emotion, "confidence": round(pred.confidence, 4)}
        except AudioError as exc:
            probes[probe] = {"emotion": None, "refused": str(exc)}
    clean = rows[0]
    return {"conditions": rows, "n_clips": len(ok), "n_skipped": len(frame) - len(ok),
            "emotions_absent": report_from_predictions(y_true, predicted["clean"], emotions=emotions)[
                "emotions_absent"],
            "speakers": sorted({str(s) for s in speakers}) if speakers else None,
            "non_speech": probes, "targets": TARGETS, "babble_from": babble_from,
            "summary": summary_sentence(rows), "clean_accuracy": clean["accuracy"],
            "clean_macro_f1": clean["macro_f1"]}


def summary_sentence(rows: list[dict[str, Any]]) -> str:
    """One sentence a non-programmer reads: the phone line against clean, and the hardest condition."""
    by = {r["name"]: r for r in rows}
    clean = by["clean"]
    worst = min((r for r in rows if r["name"] != "clean"), key=lambda r: r["accuracy"])
    phone = by.get("telephone")
    text = ""
    if phone:
        text = (f"On a phone line this model is right {phone['accuracy']:.0%} of the time instead of "
                f"{clean['accuracy']:.0%}; ")
    return text + (f"the hardest condition is \"{worst['label'].lower()}\", where it is right "
                   f"{worst['accuracy']:.0%} of the time and keeps its clean answer for {worst['agreement']:.0%} "
                   f"of the clips.")


def measure_robustness(model_dir: str | Path, labels_csv: str | Path | None = None, *,
                       out: str | Path | None = None, split: str | None = None,
                       cache_dir: str | Path | None = None, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Measure a saved model's robustness and write the report.

    Parameters
    ----------
    model_dir : a model folder
    labels_csv : the labelled clips; default the labels the model was trained on (``run.json``),
        restricted to its test speakers (``split.csv``)
    out : where to write; default ``<model_dir>/robustness.json`` for the model's own test
        speakers, and required otherwise (so another folder's report never replaces the model's own)
    split : restrict to the clips of this part of the model's ``split.csv`` (``"test"``)
    """
    from ser.datasets.labels import read_usable
    from ser.serving.predict import Predictor

    model_dir = Path(model_dir)
    folder = ModelFolder(model_dir)
    predictor = Predictor.load(model_dir)
    own = labels_csv is None
    if own:
        try:
            labels_csv = folder.training_labels()
        except json.JSONDecodeError:
            labels_csv = None
        if labels_csv is None:
            raise ModelError(f"{model_dir}: no run.json naming its training labels; give --labels.")
        split = split or "test"
    if out is None and not (own and split == "test"):
        raise LabelsError("say where to write the report (--out FILE): only a model's own test speakers "
                          "are written into its folder.")
    _, good, _ = read_usable(labels_csv, require=True)  # LabelsError: no usable clip
    if split:
        parts = folder.split()
        if parts is None:
            raise ModelError(f"{model_dir}: no split.csv, so its {split} clips are unknown; give --labels.")
        keep = set(parts.loc[parts["split"] == split, "path"])
        good = good[good["path"].isin(keep)].reset_index(drop=True)
        if good.empty:
            raise LabelsError(f"{labels_csv}: none of the model's {split} clips is there; is it the folder the "
                              "model was trained on?")
    report = robustness_report(predictor, good, cache_dir=cache_dir, progress=progress)
    report.update(labels=portable(labels_csv), split=split, model=portable(model_dir))
    target = Path(out) if out is not None else folder.robustness_file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2) + "\n")
    return report


@dataclass(frozen=True)
class ConditionExample:
    """A clip to hear the recording conditions on.

    Attributes
    ----------
    path : the clip's file
    name : its path as the labels give it
    emotion : its label
    babble : one clip of each other speaker, the voices of the babble condition
    """

    path: Path
    name: str
    emotion: str
    babble: tuple[Path, ...]


def example_for_conditions(labels_csv: str | Path) -> ConditionExample:
    """The first clip of ``labels_csv`` and, for the babble, one clip of each of the other speakers."""
    labels_csv = Path(labels_csv)
    labels = pd.read_csv(labels_csv)
    first = labels.iloc[0]
    others = labels[labels.speaker != first.speaker].groupby("speaker").head(1).path
    return ConditionExample(labels_csv.parent / first.path, str(first.path), str(first.emotion),
                            tuple(labels_csv.parent / p for p in others))


def robustness_clips(model_dir: str | Path) -> tuple[Path, str | None]:
    """The labelled clips the dashboard measures a model's robustness on, and the part of its split.

    The model's own test speakers (``"test"``) when the labels it was trained on (``run.json``) are on
    this machine, in a folder data may be read from (:func:`ser.paths.data_roots`), and its
    ``split.csv`` says which clips were held out; otherwise all the shipped demo clips (``None``).
    """
    from ser.model_folder import ModelFolder
    from ser.paths import DEMO_DIR, data_roots, inside

    folder = ModelFolder(model_dir)
    try:
        labels = folder.training_labels()
    except (json.JSONDecodeError, UnicodeDecodeError):
        labels = None
    if labels is not None and labels.is_file() and inside(labels, data_roots()) and folder.split_file.is_file():
        return labels, "test"
    return DEMO_DIR / "all_labels.csv", None
