"""Labels: the ``all_labels.csv`` that maps clips in several folders to emotions.

Paths in the CSV are relative to the CSV's own folder. Column names and emotion
spellings vary between corpora, so both are normalised here, once, where the data
enters `ser`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ser import EMOTIONS
from ser.errors import LabelsError

__all__ = [
    "normalise_emotion",
    "read_labels",
    "validate_labels",
    "usable_rows",
    "read_usable",
    "labels_from_scheme",
    "SCHEMES",
    "Problem",
]

PATH_COLUMNS = ("path", "file", "filename", "filepath", "file_path", "wav")
EMOTION_COLUMNS = ("emotion", "label", "emotions", "labels", "class")
SPEAKER_COLUMNS = ("speaker", "actor", "speaker_id", "actor_id")

_ALIASES = {
    "neutral": "neutral", "neu": "neutral", "n": "neutral",
    "calm": "calm",
    "happy": "happy", "happiness": "happy", "hap": "happy", "joy": "happy",
    "sad": "sad", "sadness": "sad",
    "angry": "angry", "anger": "angry", "ang": "angry",
    "fearful": "fearful", "fear": "fearful", "fea": "fearful", "afraid": "fearful",
    "disgust": "disgust", "disgusted": "disgust", "dis": "disgust",
    "surprised": "surprised", "surprise": "surprised", "ps": "surprised",
    "pleasant_surprise": "surprised", "pleasant surprise": "surprised", "sur": "surprised",
}


def normalise_emotion(label: object) -> str | None:
    """The canonical emotion name for ``label``, or ``None`` if it is not one of the 8.

    >>> normalise_emotion("FEAR"), normalise_emotion("ps"), normalise_emotion("boredom")
    ('fearful', 'surprised', None)
    """
    if not isinstance(label, str):
        return None
    return _ALIASES.get(label.strip().lower().replace("-", "_"))


def _pick(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    for name in candidates:
        if name in lowered:
            return lowered[name]
    return None


def read_labels(csv_path: str | Path) -> pd.DataFrame:
    """Read a labels CSV into a frame with columns ``path, emotion, speaker, label, abspath``.

    ``path`` is as written (relative to the CSV's folder), ``label`` as written,
    ``emotion`` the canonical name (``None`` where unknown), ``speaker`` may be empty,
    ``abspath`` is the resolved file path.

    Raises
    ------
    LabelsError
        If the file is missing, is not a CSV, or has no path or emotion column.
    """
    csv_path = Path(csv_path)
    if csv_path.is_dir():
        csv_path = csv_path / "all_labels.csv"
    if not csv_path.is_file():
        raise LabelsError(f"{csv_path}: labels file not found; give the path of an all_labels.csv "
                          "(or write one with `python -m ser labels ROOT --scheme ...`).")
    try:
        raw = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise LabelsError(f"{csv_path}: not a readable CSV ({exc}).") from exc
    path_col = _pick(list(raw.columns), PATH_COLUMNS)
    emo_col = _pick(list(raw.columns), EMOTION_COLUMNS)
    if path_col is None or emo_col is None:
        raise LabelsError(
            f"{csv_path}: columns {list(raw.columns)} lack a path column ({'/'.join(PATH_COLUMNS[:3])}) "
            f"or an emotion column ({'/'.join(EMOTION_COLUMNS[:2])}); rename them.")
    spk_col = _pick(list(raw.columns), SPEAKER_COLUMNS)
    root = csv_path.parent.resolve()
    frame = pd.DataFrame({
        "path": raw[path_col].str.strip(),
        "label": raw[emo_col].str.strip(),
        "speaker": raw[spk_col].str.strip() if spk_col else "",
    })
    frame["emotion"] = frame["label"].map(normalise_emotion)
    frame["abspath"] = [str((root / p).resolve()) if p else "" for p in frame["path"]]
    frame.attrs["root"] = str(root)
    frame.attrs["csv"] = str(csv_path)
    return frame[["path", "emotion", "speaker", "label", "abspath"]]


@dataclass(frozen=True)
class Problem:
    """One problem found in one row of a labels CSV (``row`` counts data rows from 1)."""

    row: int
    path: str
    problem: str


def validate_labels(labels: pd.DataFrame, *, check_audio: bool = True) -> list[Problem]:
    """Every problem in ``labels`` (from :func:`read_labels`), row by row; never stops early.

    Checks: empty path, path leaving the dataset folder, missing file, unreadable audio,
    unknown emotion, duplicate row.
    """
    import soundfile as sf

    root = Path(labels.attrs.get("root", "."))
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(labels.itertuples(index=False), start=1):
        if not rec.path:
            problems.append(Problem(i, rec.path, "empty path"))
            continue
        if not isinstance(rec.emotion, str):  # pandas may hold a missing emotion as NaN
            problems.append(Problem(i, rec.path, f"unknown emotion {rec.label!r} (known: {', '.join(EMOTIONS)})"))
        if rec.abspath in seen:
            problems.append(Problem(i, rec.path, f"duplicate of row {seen[rec.abspath]}"))
        else:
            seen[rec.abspath] = i
        target = Path(rec.abspath)
        if not target.is_relative_to(root):
            problems.append(Problem(i, rec.path, f"path leaves the dataset folder {root}"))
            continue
        if not target.is_file():
            problems.append(Problem(i, rec.path, "file not found"))
        elif check_audio:
            try:
                info = sf.info(str(target))
                if info.frames == 0:
                    problems.append(Problem(i, rec.path, "audio file is empty (0 samples)"))
            except (RuntimeError, sf.LibsndfileError) as exc:
                problems.append(Problem(i, rec.path, f"unreadable audio ({exc})"))
    return problems


def usable_rows(labels: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """The rows of ``labels`` that have no problem."""
    bad = {p.row for p in problems}
    keep = [i not in bad for i in range(1, len(labels) + 1)]
    out = labels[keep].reset_index(drop=True)
    out.attrs.update(labels.attrs)
    return out


def read_usable(csv_path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Read a labels CSV for training or evaluation: all rows, the usable rows, and the problems.

    Audio is not opened here (``check_audio=False``); clips that turn out unreadable are
    skipped when their features are extracted.
    """
    labels = read_labels(csv_path)
    problems = validate_labels(labels, check_audio=False)
    return labels, usable_rows(labels, problems), problems


# --- writing labels from a corpus's file-name convention ---------------------------------

_RAVDESS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad",
            "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised"}
_EMODB = {"W": "angry", "E": "disgust", "A": "fearful", "F": "happy", "T": "sad", "N": "neutral"}


def _ravdess(name: str) -> tuple[str | None, str] | None:
    m = re.fullmatch(r"(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)", name)
    return (_RAVDESS.get(m.group(3)), f"Actor_{m.group(7)}") if m else None


def _tess(name: str) -> tuple[str | None, str] | None:
    m = re.fullmatch(r"([A-Za-z]+)_\w+?_([A-Za-z]+)", name)
    return (normalise_emotion(m.group(2)), m.group(1).upper()) if m else None


def _crema(name: str) -> tuple[str | None, str] | None:
    m = re.fullmatch(r"(\d+)_([A-Z]+)_([A-Z]+)_\w+", name)
    return (normalise_emotion(m.group(3)), m.group(1)) if m else None


def _emodb(name: str) -> tuple[str | None, str] | None:
    m = re.fullmatch(r"(\d\d)([a-z]\d\d)([A-Z])([a-z]?)", name)
    return (_EMODB.get(m.group(3)), m.group(1)) if m else None


SCHEMES: dict[str, Callable[[str], tuple[str | None, str] | None]] = {
    "ravdess": _ravdess, "tess": _tess, "crema-d": _crema, "emodb": _emodb,
}
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def labels_from_scheme(root: str | Path, *, scheme: str) -> tuple[pd.DataFrame, list[str]]:
    """Labels for every audio file under ``root`` from a corpus's file-name convention.

    Returns
    -------
    labels : DataFrame with ``path, emotion, speaker`` (paths relative to ``root``)
    skipped : list of relative paths whose name did not match or whose emotion is not one of the 8
    """
    if scheme not in SCHEMES:
        raise LabelsError(f"scheme={scheme!r} is unknown; choose one of {', '.join(SCHEMES)}.")
    root = Path(root)
    if not root.is_dir():
        raise LabelsError(f"{root}: not a folder; give the folder that holds the corpus's audio files.")
    parse = SCHEMES[scheme]
    rows, skipped = [], []
    for f in sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES):
        rel = f.relative_to(root).as_posix()
        parsed = parse(f.stem)
        if parsed is None or parsed[0] is None:
            skipped.append(rel)
        else:
            rows.append((rel, parsed[0], parsed[1]))
    return pd.DataFrame(rows, columns=["path", "emotion", "speaker"]), skipped
