"""Several labelled corpora as one dataset.

Each clip keeps its corpus (the name of the folder its ``all_labels.csv`` is in). With more than one
corpus, speakers are namespaced by corpus (``ravdess/Actor_01``), so two corpora's ``spk1`` are two
voices, and the speaker split is made within each corpus (:func:`split_corpora`), so every corpus has
test speakers of its own. A corpus's emotions (:func:`emotion_sets`) are what training may ask of
its clips: a corpus without "calm" never teaches the model that calm does not happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ser.errors import LabelsError

__all__ = ["read_corpora", "split_corpora", "emotion_sets", "corpus_name", "corpora_of"]


def corpus_name(csv_path: str | Path) -> str:
    """The corpus a labels CSV belongs to: the name of its folder (``…/nemo/all_labels.csv`` -> ``nemo``)."""
    return Path(csv_path).expanduser().resolve().parent.name or "labels"


def _as_list(csv_paths: str | Path | Sequence[str | Path]) -> list[str | Path]:
    return [csv_paths] if isinstance(csv_paths, (str, Path)) else list(csv_paths)


def read_corpora(csv_paths: str | Path | Sequence[str | Path], *,
                 require: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """Read one or several labels CSVs as one dataset (:func:`ser.datasets.labels.read_usable` each).

    Parameters
    ----------
    csv_paths : one ``all_labels.csv`` or several
    require : every file must hold a usable clip (:class:`LabelsError` naming it otherwise)

    Returns
    -------
    labels : every row of every file, with a ``corpus`` column
    good : the usable rows, with ``corpus``; speakers are ``corpus/speaker`` when there are several corpora
    problems : every file's problems

    Raises
    ------
    LabelsError
        For a file that cannot be read, that holds no usable clip, or that lists a clip another file lists
        too (one line naming both files and an example).
    """
    from ser.datasets.labels import read_usable

    csvs = _as_list(csv_paths)
    if not csvs:
        raise LabelsError("no labels file given; pass --labels path/to/all_labels.csv (once per corpus).")
    several = len(csvs) > 1
    names: dict[str, str | Path] = {}
    all_labels, all_good, all_problems = [], [], []
    owner: dict[str, str | Path] = {}
    for csv in csvs:
        labels, good, problems = read_usable(csv, require=require)
        name = base = corpus_name(csv)
        n = 2
        while name in names:
            if Path(names[name]).expanduser().resolve() == Path(csv).expanduser().resolve():
                raise LabelsError(f"{csv}: given twice; pass each labels file once.")
            name, n = f"{base}-{n}", n + 1
        names[name] = csv
        clips = good["abspath"].map(lambda p: str(Path(p).resolve()))
        twice = [c for c in clips if c in owner]
        if twice:
            example = Path(twice[0]).name
            raise LabelsError(f"{csv}: lists {len(twice)} clip(s) that {owner[twice[0]]} lists too (e.g. {example}); "
                              "give each clip in one labels file only.")
        owner.update(dict.fromkeys(clips, csv))
        good = good.assign(corpus=name)
        labels = labels.assign(corpus=name)
        if several:
            has = good["speaker"].astype(str).str.len() > 0
            good.loc[has, "speaker"] = name + "/" + good.loc[has, "speaker"].astype(str)
        all_labels.append(labels)
        all_good.append(good)
        all_problems += problems
    labels = pd.concat(all_labels, ignore_index=True)
    good = pd.concat(all_good, ignore_index=True)
    source = " + ".join(str(c) for c in csvs)
    for frame in (labels, good):
        frame.attrs.update(csv=source, corpora={k: str(v) for k, v in names.items()})
    return labels, good, all_problems


def corpora_of(frame: pd.DataFrame) -> list[str]:
    """The corpora of a dataset or split, in order of appearance (one unnamed corpus: ``[""]``)."""
    if "corpus" not in frame:
        return [""]
    return list(dict.fromkeys(frame["corpus"].astype(str)))


def split_corpora(good: pd.DataFrame, *, mode: str = "speaker", test_fraction: float = 0.2,
                  val_fraction: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """:func:`ser.datasets.split.split_labels` within each corpus, so every corpus has test (and validation) speakers.

    One corpus is split exactly as :func:`~ser.datasets.split.split_labels` splits it.

    Raises
    ------
    LabelsError
        When a corpus cannot be split that way (e.g. an emotion spoken by fewer than 3 of its speakers),
        naming that corpus's file.
    """
    from ser.datasets.split import split_labels

    corpora = corpora_of(good)
    if len(corpora) == 1:
        out = split_labels(good, mode=mode, test_fraction=test_fraction, val_fraction=val_fraction, seed=seed)
        if "corpus" in good and "corpus" not in out:
            out["corpus"] = good["corpus"].to_numpy()
        return out
    files = good.attrs.get("corpora", {})
    parts, modes = [], set()
    for name in corpora:
        sub = good[good["corpus"] == name].reset_index(drop=True)
        sub.attrs.update(csv=files.get(name, name))
        part = split_labels(sub, mode=mode, test_fraction=test_fraction, val_fraction=val_fraction, seed=seed)
        part["corpus"] = name
        modes.add(part.attrs["split_mode"])
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out.attrs.update(good.attrs, split_mode=modes.pop() if len(modes) == 1 else mode)
    return out


def emotion_sets(frame: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Each corpus's emotions (those it has clips of), in the canonical order.

    Returns
    -------
    dict mapping corpus name (``""`` without a ``corpus`` column) to its emotions
    """
    from ser import EMOTIONS

    if "corpus" not in frame:
        present = set(frame["emotion"])
        return {"": tuple(e for e in EMOTIONS if e in present)}
    out = {}
    for name, rows in frame.groupby("corpus", sort=False):
        present = set(rows["emotion"])
        out[str(name)] = tuple(e for e in EMOTIONS if e in present)
    return out
