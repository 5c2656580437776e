"""A model folder: the one place that names the files a training writes, says which version a model
is, and reads what the training left there.

A training works in a staging folder that becomes the model folder when it finishes
(:func:`ser.training.runs.install`); both hold the same files:

=====================  =======================================================================
``config.json``        the settings (:class:`ser.config.Config`), written first
``split.csv``          which clip went to train, val and test
``progress.jsonl``     the run's events (:mod:`ser.training.progress`), from the start
``history.csv``        each epoch's metrics (one row per member and epoch)
``model.keras``        the network (``model.h5`` beside it: the same, for older Keras)
``model.onnx``         its export, run without TensorFlow (:mod:`ser.serving.export`)
``encoder_head.npz``   with ``train.encoder_member``: the regression on the voice encoder's rows
                       (:mod:`ser.training.encoder_head`), averaged with the networks
``report.json``        the test speakers' scores (``predictions.csv``: each clip's answer)
``robustness.json``    the test speakers' scores under each recording condition
``run.json``           what was run, where, and its headline scores, written last
``train.log``          a dashboard's run: its output (kept when the folder is installed)
``STOP``               touched to ask the run working in the folder to stop
``adapted.json``       a personal model (:mod:`ser.serving.adapt`): what it was adapted from and on what;
                       such a folder holds ``model.onnx`` and no Keras file
=====================  =======================================================================

A folder made before a file existed (no ``model.onnx``, ``robustness.json`` or ``run.json``) still
loads: each reader gives ``None`` (``{}`` for the run record) for a missing file.

The model's version (:meth:`ModelFolder.fingerprint`) is what the pages key their caches on: it
changes whenever one of the files that make its predictions changes (:data:`VERSION_FILES`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ser.config import Config

__all__ = ["ModelFolder", "CONFIG", "SPLIT", "PROGRESS", "HISTORY", "KERAS", "H5", "ONNX", "REPORT",
           "PREDICTIONS", "ROBUSTNESS", "RUN", "LOG", "STOP", "ADAPTED", "ENCODER_HEAD", "MODEL_FILES", "VERSION_FILES", "DOWNLOAD_FILES"]

CONFIG = "config.json"
SPLIT = "split.csv"
PROGRESS = "progress.jsonl"
HISTORY = "history.csv"
KERAS = "model.keras"
H5 = "model.h5"
ONNX = "model.onnx"
REPORT = "report.json"
PREDICTIONS = "predictions.csv"
ROBUSTNESS = "robustness.json"
RUN = "run.json"
LOG = "train.log"
STOP = "STOP"
ADAPTED = "adapted.json"
ENCODER_HEAD = "encoder_head.npz"

MODEL_FILES: tuple[str, ...] = (KERAS, H5)
"""The saved network, in the order prediction tries them (``model.h5`` when ``model.keras`` is damaged)."""
VERSION_FILES: tuple[str, ...] = (KERAS, H5, CONFIG, ONNX, ENCODER_HEAD)
"""The files that make a model's predictions: a change to any is a new version (:meth:`ModelFolder.fingerprint`)."""
DOWNLOAD_FILES: tuple[str, ...] = (KERAS, H5, ONNX, ENCODER_HEAD, CONFIG, REPORT, ADAPTED)
"""What the Evaluate page zips for download: the model (a personal model is its ``model.onnx`` and
``adapted.json`` alone), its settings and its scores; the files a folder lacks are left out."""


class ModelFolder:
    """The files of one model folder (or of the staging folder a training makes it in).

    Parameters
    ----------
    path : the folder; nothing is read until asked
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"ModelFolder({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelFolder) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    # --- the files ---------------------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        return self.path / CONFIG

    @property
    def split_file(self) -> Path:
        return self.path / SPLIT

    @property
    def progress_file(self) -> Path:
        return self.path / PROGRESS

    @property
    def history_file(self) -> Path:
        return self.path / HISTORY

    @property
    def keras_file(self) -> Path:
        return self.path / KERAS

    @property
    def h5_file(self) -> Path:
        return self.path / H5

    @property
    def onnx_file(self) -> Path:
        return self.path / ONNX

    @property
    def report_file(self) -> Path:
        return self.path / REPORT

    @property
    def predictions_file(self) -> Path:
        return self.path / PREDICTIONS

    @property
    def robustness_file(self) -> Path:
        return self.path / ROBUSTNESS

    @property
    def run_file(self) -> Path:
        return self.path / RUN

    @property
    def log_file(self) -> Path:
        return self.path / LOG

    @property
    def stop_file(self) -> Path:
        return self.path / STOP

    @property
    def encoder_head_file(self) -> Path:
        return self.path / ENCODER_HEAD

    @property
    def adapted_file(self) -> Path:
        return self.path / ADAPTED

    def has_model(self) -> bool:
        """Whether the folder holds a ``config.json`` and a model file (neither read: a damaged one
        still counts, and says so when loaded); for a personal model, ``model.onnx``."""
        return self.config_file.is_file() and (any((self.path / f).is_file() for f in MODEL_FILES)
                                               or (self.is_personal() and self.onnx_file.is_file()))

    def is_personal(self) -> bool:
        """Whether this is a personal model made by :func:`ser.serving.adapt.adapt` (it holds ``adapted.json``)."""
        return self.adapted_file.is_file()

    def adapted(self) -> dict[str, Any]:
        """What a personal model was adapted from and on what (``adapted.json``: base, base_fingerprint,
        speaker, emotions, n_clips, clips_per_emotion, method, seconds...); ``{}`` for any other model."""
        try:
            data = self._json(ADAPTED)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def fingerprint(self) -> str:
        """The model's version: the modification times of those of :data:`VERSION_FILES` that exist,
        ``"none"`` when none does. A new training, a new export or an edited config changes it."""
        files = [self.path / f for f in VERSION_FILES if (self.path / f).is_file()]
        return "-".join(f"{f.stat().st_mtime_ns:x}" for f in files) or "none"

    def derived_dir(self) -> Path:
        """Where what the pages measure about this model (robustness, evaluations on other folders) is
        kept: beside the feature cache, one folder per model version (:meth:`fingerprint`), so an
        installed model's folder is never written by a page and a new version is measured afresh."""
        from ser.features.cache import default_cache_dir

        return default_cache_dir().parent / "derived" / f"{self.path.name}-{self.fingerprint()}"

    # --- what the training wrote ---------------------------------------------------------------

    def _json(self, name: str) -> Any:
        p = self.path / name
        return json.loads(p.read_text()) if p.is_file() else None

    def _csv(self, name: str) -> "pd.DataFrame | None":
        from ser.csvsafe import read_csv

        p = self.path / name
        return read_csv(p) if p.is_file() else None  # names like =HYPERLINK(...) read back as text

    def config(self) -> "Config":
        """The settings, :class:`ser.errors.ConfigError` (one line naming the file and the fix) when
        missing or not ser's."""
        from ser.config import Config

        return Config.load(self.config_file)

    def run(self) -> dict[str, Any]:
        """The run record (``run.json``): command, machine, labels, counts, headline scores; ``{}``
        for a folder without one."""
        return self._json(RUN) or {}

    def report(self) -> dict[str, Any] | None:
        """The test speakers' scores (``report.json``), ``None`` if the training did not reach them."""
        return self._json(REPORT)

    def robustness(self) -> dict[str, Any] | None:
        """The robustness report (``robustness.json``), ``None`` for a model trained before it existed."""
        return self._json(ROBUSTNESS)

    def history(self) -> "pd.DataFrame | None":
        return self._csv(HISTORY)

    def split(self) -> "pd.DataFrame | None":
        return self._csv(SPLIT)

    def predictions(self) -> "pd.DataFrame | None":
        return self._csv(PREDICTIONS)

    def training_labels(self) -> Path | None:
        """The labels CSV the model was trained on (the first, with several corpora), as a path on this
        machine; ``None`` when the run record names none."""
        from ser.paths import from_portable

        labels = self.run().get("labels")
        return from_portable(labels) if labels else None

    def clip_folder(self, corpus: str | None = None) -> Path | None:
        """The folder a training clip's relative path (``split.csv``) is under on this machine: the folder of
        the labels CSV of its ``corpus`` (``run.json``; the first labels without corpora); ``None`` when the
        run record names none."""
        from ser.paths import from_portable

        run = self.run()
        labels = ((run.get("corpora") or {}).get(corpus) or {}).get("labels") if corpus else None
        labels = labels or run.get("labels")
        return from_portable(labels).parent if labels else None

    def split_clips(self, part: str) -> "pd.DataFrame":
        """The clips of one part of ``split.csv`` (``"train"``, ``"val"`` or ``"test"``) with ``abspath``, where each
        is on this machine: under the folder of its corpus's labels CSV (:meth:`clip_folder`).

        Raises :class:`~ser.errors.ModelError`, one line, when ``split.csv`` is missing or the run record does
        not say where the part's clips are, or the part has none.
        """
        from ser.errors import ModelError

        split = self.split()
        if split is None or "split" not in split:
            raise ModelError(f"{self.split_file}: missing, so the model's {part} clips are unknown.")
        clips = split[split["split"] == part].reset_index(drop=True)
        corpora = clips["corpus"].astype(str).tolist() if "corpus" in clips else [None] * len(clips)
        roots = {c: self.clip_folder(c) for c in set(corpora)}
        if None in roots.values() or clips.empty:
            raise ModelError(f"{self.run_file}: does not say where the {part} clips are, or there are none.")
        clips["abspath"] = [str(roots[c] / p) for p, c in zip(clips["path"], corpora)]
        return clips

    def results(self) -> dict[str, Any]:
        """Everything the training wrote, each ``None`` where the file is missing (``run`` and
        ``config``, the parsed JSON, are ``{}`` then).

        Returns
        -------
        dict with ``report``, ``run``, ``config``, ``robustness`` (JSON files) and ``history``,
        ``split``, ``predictions`` (DataFrames of the CSVs)
        """
        return {"report": self.report(), "run": self.run(), "config": self._json(CONFIG) or {},
                "robustness": self.robustness(), "history": self.history(), "split": self.split(),
                "predictions": self.predictions()}
