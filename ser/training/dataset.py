"""The data a training sees: a split's clips turned into (augmented, cached) feature matrices.

Shared by :mod:`ser.training.train` and :mod:`ser.training.cv`: labels are read by :mod:`ser.datasets.labels` and split by
:mod:`ser.datasets.split`; this module makes the features of each part.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ser.config import Config
from ser.training.progress import ProgressFn

__all__ = ["features_for_split"]


def features_for_split(split: pd.DataFrame, config: Config, *, cache_dir: str | Path | None = None,
                       progress: ProgressFn | None = None,
                       should_stop: Callable[[], bool] | None = None,
                       cluster: str | None = None) -> tuple[dict[str, dict[str, list]], list]:
    """Features of a split: training clips in every version (if augmenting), the others original only.

    Babble noise for a training clip is made of other *training* speakers' clips only, so no
    validation or test voice is heard in training.

    Parameters
    ----------
    split : DataFrame with ``abspath``, ``path``, ``emotion``, ``split`` (``train``/``val``/``test``)
        and optionally ``speaker``, as :func:`ser.datasets.split.split_labels` gives
    progress : receives ``{"stage": "features", "step", "total"}`` events
    should_stop : polled between files; when true, :class:`ser.errors.Stopped` is raised
    cluster : a Dask scheduler's address: the clips are extracted on its workers (the same numbers)

    Returns
    -------
    data : dict mapping ``train``/``val``/``test`` to ``{"X": [arrays (n_features, max_frames)], "R": [the voice
        encoder's rows (1792,) with ``train.encoder_member``, else ``None``],
        "y": [emotions], "path": [paths, ``path#version`` for augmented versions], "corpus": [corpus names,
        ``""`` when the split has no ``corpus`` column]}``
    failed : list of ``(path, message)`` of the clips that could not be read

    With ``config.train.speaker_norm`` every clip (each version) is normalised with its speaker's
    statistics (:mod:`ser.features.speakers`), taken from that speaker's original clips in the same part only;
    a clip without a speaker by its own frames.
    """
    from ser.augment.training import VERSIONS, babble_pools
    from ser.features.clips import ENCODER_PREFIX, ClipTask, encoder_key
    from ser.features.engine import extract_many

    train_versions = VERSIONS if config.augment.enabled else ("original",)
    is_train = (split["split"] == "train").to_numpy()
    train_rows = split[is_train]
    speakers = train_rows["speaker"].tolist() if "speaker" in split and split["speaker"].notna().all() else None
    pools = iter(babble_pools(train_rows["abspath"].tolist(), speakers, seed=config.train.seed)
                 if config.augment.enabled else [])
    member = config.train.encoder_member  # the encoder member's rows: of every version the networks see
    tasks = [ClipTask(p, train_versions, next(pools, ()), encoder=train_versions if member else ()) if t else
             ClipTask(p, ("original",), encoder=("original",) if member else ()) for p, t in zip(split["abspath"], is_train)]
    emit = progress or (lambda event: None)
    results = extract_many(tasks, config=config, cache_dir=cache_dir, should_stop=should_stop, cluster=cluster,
                           progress=lambda d, t: emit({"stage": "features", "step": d, "total": t}))
    data: dict[str, dict[str, list]] = {s: {"X": [], "R": [], "y": [], "path": [], "corpus": []}
                                        for s in ("train", "val", "test")}
    failed = []
    groups: dict[str, list] = {s: [] for s in data}  # speaker_norm: whose statistics, and whether an original
    for rec, res in zip(split.itertuples(index=False), results):
        if isinstance(res, Exception):
            failed.append((rec.path, str(res)))
            continue
        speaker = getattr(rec, "speaker", "")
        speaker = "" if pd.isna(speaker) else str(speaker).strip()
        for version, feats in res.items():
            if version.startswith(ENCODER_PREFIX):
                continue
            d = data[rec.split]
            d["X"].append(feats)
            d["R"].append(res.get(encoder_key(version)))
            d["y"].append(rec.emotion)
            d["path"].append(rec.path if version == "original" else f"{rec.path}#{version}")
            d["corpus"].append(str(getattr(rec, "corpus", "")))
            groups[rec.split].append((("speaker", speaker) if speaker else ("clip", rec.path), version == "original"))
    if config.train.speaker_norm:  # each speaker of each part by their own original clips (ser.features.speakers)
        from ser.features.speakers import normalise_groups, rms_row

        for part, d in data.items():
            d["X"] = normalise_groups(d["X"], [g for g, _ in groups[part]], original=[o for _, o in groups[part]],
                                      rms_row=rms_row(config.features))
    return data, failed
