"""Labels: the ``all_labels.csv`` that maps clips in several folders to emotions.

Paths in the CSV are relative to the CSV's own folder. Column names and emotion
spellings vary between corpora, so both are normalised here, once, where the data
enters `ser`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ser import EMOTIONS
from ser.errors import LabelsError

if TYPE_CHECKING:  # pandas is imported where a table is read: the CLI starts without it
    import pandas as pd

__all__ = [
    "normalise_emotion",
    "read_labels",
    "validate_labels",
    "usable_rows",
    "read_usable",
    "no_usable_clip",
    "labels_from_scheme",
    "SCHEMES",
    "Problem",
    "summarise_problems",
    "training_problem",
    "speaker_split_problem",
    "TrainingVerdict",
    "training_verdict",
    "combined_verdict",
    "MIN_CLIPS_PER_EMOTION",
    "MIN_SPEAKERS_PER_EMOTION",
    "MAX_LABEL_ROWS",
    "MAX_LABEL_BYTES",
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


DELIMITERS = ",;\t|"
SNIFF_BYTES = 8192
MAX_LABEL_ROWS = 100_000
"""The most data rows a labels CSV may have (every reader: pages, CLI, uploads); a longer one is refused."""
MAX_LABEL_BYTES = 64 * 2**20
"""The most bytes a labels CSV may have, checked from its size before it is read."""


def _delimiter(sample: str) -> str:
    """The delimiter of a CSV starting with ``sample``: the first of ``,;\t|`` with which the header names a
    path and an emotion column (so a quoted ``;`` in a path never wins over the comma), else the sniffer's guess."""
    import csv
    import io

    for delimiter in DELIMITERS:
        try:
            header = next((row for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
                           if any(cell.strip() for cell in row)), [])
        except csv.Error:
            continue
        header = [c.strip() for c in header]
        if _pick(header, PATH_COLUMNS) and _pick(header, EMOTION_COLUMNS):
            return delimiter
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _table(csv_path: Path, *, max_rows: int | None = None) -> tuple[list[str], list[list[str]]]:
    """The header and the data rows of ``csv_path``; its delimiter (one of ``,;\t|``) found by :func:`_delimiter`.

    At most :data:`MAX_LABEL_BYTES` bytes and ``max_rows`` (:data:`MAX_LABEL_ROWS`) rows: the size is checked
    before reading and the rows are read one by one, stopping past the cap. Every error names the file and
    what is wrong with it, never what is in it.
    """
    import csv

    if csv_path.is_dir():
        raise LabelsError(f"{csv_path}: is a folder, not a labels CSV; give the all_labels.csv inside a dataset folder.")
    cap = MAX_LABEL_ROWS if max_rows is None else max_rows
    try:
        if csv_path.stat().st_size > MAX_LABEL_BYTES:
            raise LabelsError(f"{csv_path}: is larger than {MAX_LABEL_BYTES / 2**20:,.0f} MB, the most a labels CSV "
                              f"may be; split it into datasets of at most {cap:,} clips.")
        with open(csv_path, encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(SNIFF_BYTES)
            if len(sample) == SNIFF_BYTES:
                sample = sample[:sample.rfind("\n") + 1] or sample  # whole lines only
            if not sample.strip():
                raise LabelsError(f"{csv_path}: is empty; its first line must name the columns path, emotion and "
                                  "optionally speaker.")
            handle.seek(0)

            def lines():  # a file that grows while it is read stops at the cap too
                read = 0
                for line in handle:
                    read += len(line)
                    if read > MAX_LABEL_BYTES:
                        raise LabelsError(f"{csv_path}: is larger than {MAX_LABEL_BYTES / 2**20:,.0f} MB, the most "
                                          f"a labels CSV may be; split it into datasets of at most {cap:,} clips.")
                    yield line

            reader = csv.reader(lines(), delimiter=_delimiter(sample))
            rows: list[list[str]] = []
            try:
                for row in reader:
                    if any(cell.strip() for cell in row):
                        if len(rows) > cap:  # the header and ``cap`` data rows are in already
                            raise LabelsError(f"{csv_path}: has more than {cap:,} rows, the most a labels CSV may "
                                              "have; split it into datasets of fewer clips.")
                        rows.append(row)
            except csv.Error as exc:
                raise LabelsError(f"{csv_path}: is not a CSV (unreadable at line {reader.line_num}); "
                                  "check that file is a labels CSV.") from exc
    except UnicodeDecodeError as exc:
        raise LabelsError(f"{csv_path}: is not UTF-8 text; save the labels as a UTF-8 CSV.") from exc
    except PermissionError as exc:
        raise LabelsError(f"{csv_path}: cannot be read: permission denied; make it readable or copy it.") from exc
    except OSError as exc:
        raise LabelsError(f"{csv_path}: cannot be read ({type(exc).__name__}); check the file.") from exc
    if not rows:
        raise LabelsError(f"{csv_path}: is empty; its first line must name the columns path, emotion and "
                          "optionally speaker.")
    header, body = [c.strip() for c in rows[0]], rows[1:]
    for i, row in enumerate(body, start=1):
        if len(row) > len(header):
            raise LabelsError(f"{csv_path}: row {i} has more fields than the header ({len(row)} > {len(header)}); "
                              "quote values that contain the delimiter.")
    return header, [row + [""] * (len(header) - len(row)) for row in body]


def read_labels(csv_path: str | Path, *, max_rows: int | None = None) -> pd.DataFrame:
    """Read a labels CSV into a frame with columns ``path, emotion, speaker, label, abspath``.

    ``path`` is as written (relative to the CSV's folder), ``label`` as written,
    ``emotion`` the canonical name (``None`` where unknown), ``speaker`` may be empty,
    ``abspath`` is the resolved file path. The delimiter may be ``,``, ``;``, a tab or ``|``.
    At most ``max_rows`` data rows (:data:`MAX_LABEL_ROWS`) and :data:`MAX_LABEL_BYTES` bytes.

    Raises
    ------
    LabelsError
        If the file is missing, a folder, unreadable, not a UTF-8 CSV, longer than the caps, has no
        path or emotion column, or has no data row. The message names the file, never its contents.
    """
    import pandas as pd

    csv_path = Path(csv_path)
    if csv_path.is_dir() and (csv_path / "all_labels.csv").exists():
        csv_path = csv_path / "all_labels.csv"
    elif csv_path.is_dir():
        raise LabelsError(f"{csv_path}: is a folder without an all_labels.csv; give the path of a labels CSV "
                          "(or write one with `python -m ser labels ROOT --scheme ...`).")
    if not csv_path.exists():
        raise LabelsError(f"{csv_path}: labels file not found; give the path of an all_labels.csv "
                          "(or write one with `python -m ser labels ROOT --scheme ...`).")
    header, body = _table(csv_path, max_rows=max_rows)
    path_col = _pick(header, PATH_COLUMNS)
    emo_col = _pick(header, EMOTION_COLUMNS)
    for col, name, others in ((path_col, "path", PATH_COLUMNS[1:4]), (emo_col, "emotion", EMOTION_COLUMNS[1:2])):
        if col is None:
            raise LabelsError(f"{csv_path}: no '{name}' column; the columns must be path, emotion and optionally "
                              f"speaker (or {'/'.join(others)} for {name}), named in the first line.")
    if not body:
        raise LabelsError(f"{csv_path}: has a header but no rows; add one row per clip (path, emotion, speaker).")
    spk_col = _pick(header, SPEAKER_COLUMNS)
    raw = pd.DataFrame(body, columns=range(len(header)), dtype=str)
    root = csv_path.parent.resolve()
    from ser.csvsafe import restore_cell

    def column(col: str):  # a cell ser wrote as '=x (see ser.csvsafe) is read as =x
        return raw[header.index(col)].map(restore_cell).str.strip()

    frame = pd.DataFrame({
        "path": column(path_col),
        "label": column(emo_col),
        "speaker": column(spk_col) if spk_col else "",
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
            label = rec.label if len(rec.label) <= 24 else rec.label[:24] + "…"
            problems.append(Problem(i, rec.path, f"unknown emotion {label!r} (known: {', '.join(EMOTIONS)})"))
        if rec.abspath in seen:
            problems.append(Problem(i, rec.path, f"duplicate of row {seen[rec.abspath]}"))
        else:
            seen[rec.abspath] = i
        target = Path(rec.abspath)
        if not target.is_relative_to(root) and not _linked_into_allowed_root(root, rec.path, target):
            problems.append(Problem(i, rec.path, f"path leaves the dataset folder {root}"))
            continue
        if target.is_dir():
            problems.append(Problem(i, rec.path, "is a folder, not an audio file"))
            continue
        if not target.is_file():
            problems.append(Problem(i, rec.path, "file not found"))
            continue
        try:
            open(target, "rb").close()
        except PermissionError:
            problems.append(Problem(i, rec.path, "cannot be read: permission denied"))
            continue
        except OSError as exc:
            problems.append(Problem(i, rec.path, f"cannot be read ({type(exc).__name__})"))
            continue
        if check_audio:
            try:
                info = sf.info(str(target))
                if info.frames == 0:
                    problems.append(Problem(i, rec.path, "audio file is empty (0 samples)"))
            except (RuntimeError, sf.LibsndfileError) as exc:
                problems.append(Problem(i, rec.path, f"unreadable audio ({exc})"))
    return problems


_KINDS = ("empty path", "unknown emotion", "duplicate", "path leaves the dataset folder", "is a folder",
          "file not found", "cannot be read", "unreadable audio", "audio file is empty")


def summarise_problems(problems: list[Problem]) -> str:
    """``"skipped 3 rows: 2 file not found, 1 unknown emotion"`` (``""`` when nothing is skipped)."""
    rows: dict[int, str] = {}
    for p in problems:  # one kind per row: its first problem
        rows.setdefault(p.row, next((k for k in _KINDS if p.problem.startswith(k)), "other problem"))
    if not rows:
        return ""
    counts: dict[str, int] = {}
    for kind in rows.values():
        counts[kind] = counts.get(kind, 0) + 1
    parts = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    return f"skipped {len(rows)} row{'s' if len(rows) != 1 else ''}: {parts}"


# "Enough for a speaker split": the one threshold, used by the split (:mod:`ser.datasets.split`), the
# checks below, and the Record page's count of what a collection still needs
# (:func:`ser.datasets.recording.collection_status`). One clip, of its own speaker, each for training,
# validation and test.
MIN_CLIPS_PER_EMOTION = 3
MIN_SPEAKERS_PER_EMOTION = 3


def training_problem(usable: pd.DataFrame) -> str | None:
    """Why ``usable`` clips cannot give an honestly evaluated model, or ``None`` if they can.

    The rule: clips of at least two emotions, and at least :data:`MIN_CLIPS_PER_EMOTION` (3) of
    each, one each for training, validation and test.
    """
    n = len(usable)
    if n == 0:
        return "no usable clip"
    counts = usable["emotion"].value_counts()
    if len(counts) < 2:
        return f"only one emotion ({counts.index[0]}) among the {n} usable clips; a model needs at least two"
    few = counts[counts < MIN_CLIPS_PER_EMOTION]
    if len(few):
        return (f"too few clips of {', '.join(f'{e} ({c})' for e, c in few.items())}: every emotion needs at least "
                f"{MIN_CLIPS_PER_EMOTION}, one each for training, validation and test")
    return None


def speaker_split_problem(usable: pd.DataFrame) -> str | None:
    """Why ``usable`` clips cannot be split by speaker, or ``None`` if they can.

    The rule: every clip names its speaker, and every emotion is spoken by at least
    :data:`MIN_SPEAKERS_PER_EMOTION` (3) speakers, so that training, validation and test each get
    voices of their own for it.
    """
    speakers = usable["speaker"].fillna("").astype(str).str.strip()
    missing = usable["path"][speakers == ""]
    if len(missing):
        return f"{len(missing)} clip{' names' if len(missing) == 1 else 's name'} no speaker (first: {missing.iloc[0]})"
    per_emotion = usable.assign(speaker=speakers).groupby("emotion", sort=False)["speaker"].nunique()
    few = per_emotion[per_emotion < MIN_SPEAKERS_PER_EMOTION]
    if len(few):
        return (f"a speaker split needs at least {MIN_SPEAKERS_PER_EMOTION} speakers of every emotion (one each for "
                f"training, validation and test): {', '.join(f'{e} has {n}' for e, n in few.items())}")
    return None


@dataclass(frozen=True)
class TrainingVerdict:
    """What usable clips allow, said before anything is trained.

    Attributes
    ----------
    cannot : why no training is possible (:func:`training_problem`), or ``None``
    no_speaker_split : why they cannot be split by speaker (:func:`speaker_split_problem`), or ``None``
    speakers : how many speakers they name
    """

    cannot: str | None
    no_speaker_split: str | None
    speakers: int


def training_verdict(usable: pd.DataFrame) -> TrainingVerdict:
    """The :class:`TrainingVerdict` of one dataset's usable clips."""
    return TrainingVerdict(training_problem(usable), speaker_split_problem(usable), int(usable["speaker"].nunique()))


def combined_verdict(verdicts: Mapping[str, TrainingVerdict]) -> TrainingVerdict:
    """Several corpora trained together, each split by its own speakers: the first problem of any (its
    corpus named first when there are several), and their speakers added.

    Parameters
    ----------
    verdicts : each corpus's name, as the caller shows it, and its :func:`training_verdict`
    """
    several = len(verdicts) > 1

    def first(field: str) -> str | None:
        return next((f"{name}: {text}" if several else text for name, v in verdicts.items()
                     if (text := getattr(v, field))), None)

    return TrainingVerdict(first("cannot"), first("no_speaker_split"), sum(v.speakers for v in verdicts.values()))


def usable_rows(labels: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """The rows of ``labels`` that have no problem."""
    bad = {p.row for p in problems}
    keep = [i not in bad for i in range(1, len(labels) + 1)]
    out = labels[keep].reset_index(drop=True)
    out.attrs.update(labels.attrs)
    return out


def _linked_into_allowed_root(root: Path, written: str, target: Path) -> bool:
    """Whether a row whose file lies outside its dataset folder got there through a link into an
    allowed root (``data/``, ``$SER_DATA_ROOTS``: :func:`ser.paths.data_roots`), as an operator links
    a corpus kept on another disk. A path *written* to leave the folder (``..``, absolute) never does."""
    import os

    from ser.paths import data_roots, inside

    as_written = Path(os.path.normpath(root / written))
    return as_written.is_relative_to(root) and inside(target, data_roots())


def no_usable_clip(csv_path: str | Path, problems: list[Problem]) -> LabelsError:
    """The one-line error for a labels file none of whose rows can be used."""
    first = f" (first: {problems[0].path!r}: {problems[0].problem})" if problems else ""
    return LabelsError(f"{csv_path}: no usable clip; {summarise_problems(problems) or 'nothing to use'}{first}; "
                       f"see `python -m ser validate {csv_path}`.")


def read_usable(csv_path: str | Path, *, require: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Read a labels CSV for training or evaluation: all rows, the usable rows, and the problems.

    Audio is not opened here (``check_audio=False``); clips that turn out unreadable are
    skipped when their features are extracted. With ``require``, a file without one usable row
    raises :func:`no_usable_clip`'s :class:`LabelsError`.
    """
    labels = read_labels(csv_path)
    problems = validate_labels(labels, check_audio=False)
    usable = usable_rows(labels, problems)
    if require and usable.empty:
        raise no_usable_clip(csv_path, problems)
    return labels, usable, problems


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
    import pandas as pd

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
