"""A new dataset from uploaded files: a zip (or loose audio files) to ``<datasets>/<name>/`` with its
``all_labels.csv``.

Three steps, so that nothing is written where a person can see it before they agree:

1. :func:`unpack` checks the upload from the zip's directory alone (sizes, names, links, kinds of
   file) and refuses a hostile one before a byte is extracted; it then extracts into a hidden
   temporary folder beside the datasets, stopping at the sizes the directory declared.
2. :func:`plan_labels` finds the labels in what was unpacked: an ``all_labels.csv``, one folder per
   emotion (speakers from a folder level, a file-name pattern, or none), or a corpus's file naming
   (:data:`ser.datasets.labels.SCHEMES`); :func:`preview` checks every clip (unreadable ones are listed and
   left out) and counts clips per emotion and speaker.
3. :func:`save_dataset` writes ``all_labels.csv`` and moves the folder into place in one rename;
   an existing dataset of that name is replaced only with ``overwrite=True`` (and then only after the
   new one is complete). :func:`discard` removes an unpacked upload nobody saved.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from ser.csvsafe import write_csv
from ser.errors import LabelsError, PathError, SerError
from ser.datasets.labels import AUDIO_SUFFIXES, SCHEMES, normalise_emotion

if TYPE_CHECKING:
    import pandas as pd

    from ser.access import Visitor

__all__ = ["UploadError", "Limits", "Unpacked", "LabelPlan", "unpack", "plan_labels", "preview",
           "save_dataset", "discard", "SPEAKER_SOURCES", "INCOMING_PREFIX", "MAX_INCOMING_BYTES",
           "INCOMING_IDLE_S", "keep_alive", "hold", "UploadLease"]

INCOMING_PREFIX = ".incoming-"
SPEAKER_SOURCES = ("none", "folder", "pattern")
# Files a zip made on a Mac or Windows carries that are nobody's data: skipped, not refused.
_OS_LITTER = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)
_TEXT_OK = re.compile(r"(^|/)(all_labels\.csv|(readme|licen[cs]e|attribution)[^/]*\.(md|txt))$|(^|/)(readme|licen[cs]e)$",
                      re.IGNORECASE)


class UploadError(SerError):
    """An upload that cannot become a dataset: hostile, too large, or holding no audio."""


@dataclass(frozen=True)
class Limits:
    """What an upload may hold, checked from the zip's directory before anything is extracted.

    Attributes
    ----------
    max_files : members (folders not counted)
    max_total_mb : uncompressed size of every member together, in MiB
    max_file_mb : uncompressed size of one member, in MiB
    max_ratio : uncompressed over compressed size of a member above 1 MiB (audio compresses ~1.1-3×;
        a zip bomb 100-1000×)
    """

    max_files: int = 5000
    max_total_mb: float = 2048.0
    max_file_mb: float = 200.0
    max_ratio: float = 50.0


@dataclass(frozen=True)
class Unpacked:
    """An upload extracted into a temporary folder, not yet a dataset.

    Attributes
    ----------
    folder : the temporary folder (hidden, beside the datasets)
    audio : audio files, paths relative to ``folder`` (posix)
    skipped : ``(name, why)`` of members left out (system litter)
    labels_csv : relative path of an ``all_labels.csv`` in the upload, or ``""``
    """

    folder: Path
    audio: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    labels_csv: str = ""


@dataclass(frozen=True)
class LabelPlan:
    """Labels found for an unpacked upload.

    Attributes
    ----------
    layout : ``"labels csv"``, ``"emotion folders"``, ``"<scheme> names"``
    rows : list of ``(path, emotion, speaker)`` (paths relative to the dataset's folder)
    unlabelled : ``(path, why)`` of audio files that got no emotion
    """

    layout: str
    rows: list[tuple[str, str, str]]
    unlabelled: list[tuple[str, str]] = field(default_factory=list)


def _member_problem(info: zipfile.ZipInfo) -> str:
    """Why a zip member may not be extracted, or ``""``."""
    name = info.filename
    if "\\" in name:
        return "has a backslash in its path"
    parts = PurePosixPath(name).parts
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path"
    if ".." in parts:
        return "reaches outside the zip with '..'"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "is a link"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):  # 0: a zip that records no file type
        return "is not a plain file"
    if info.flag_bits & 0x1:
        return "is encrypted"
    return ""


def _check_directory(infos: list[zipfile.ZipInfo], *, source: str, limits: Limits) -> list[tuple[str, str]]:
    """Refuse a hostile zip from its directory; return the litter it may skip."""
    files = [i for i in infos if not i.is_dir()]
    if len(files) > limits.max_files:
        raise UploadError(f"{source}: holds {len(files)} files, more than {limits.max_files}; upload it in parts.")
    bad = [(i.filename, why) for i in infos if (why := _member_problem(i))]
    if bad:
        shown = "; ".join(f"{name[:60]!r} {why}" for name, why in bad[:3])
        raise UploadError(f"{source}: refused, {len(bad)} member(s) unsafe to extract ({shown}); zip the "
                          "folder again without links or paths outside it.")
    total = sum(i.file_size for i in files)
    if total > limits.max_total_mb * 2**20:
        raise UploadError(f"{source}: unpacks to {total / 2**20:,.0f} MB, more than {limits.max_total_mb:,.0f} MB; "
                          "upload it in parts.")
    for i in files:
        if i.file_size > limits.max_file_mb * 2**20:
            raise UploadError(f"{source}: {i.filename[:60]!r} unpacks to {i.file_size / 2**20:,.0f} MB, more than "
                              f"{limits.max_file_mb:,.0f} MB for one file; cut it into clips.")
        if i.file_size > 2**20 and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise UploadError(f"{source}: refused, {i.filename[:60]!r} is compressed {i.file_size // max(i.compress_size, 1)}"
                              f"× (a zip bomb?); audio compresses a few times at most.")
    packed = sum(i.compress_size for i in files)
    if total > 64 * 2**20 and total > limits.max_ratio * max(packed, 1):  # many small bombs together
        raise UploadError(f"{source}: refused, it unpacks {total // max(packed, 1)}× larger than it is (a zip "
                          "bomb?); audio compresses a few times at most.")
    litter = [(i.filename, "system file") for i in files if _OS_LITTER.search(i.filename)]
    others = [i.filename for i in files if not _OS_LITTER.search(i.filename)
              and Path(i.filename).suffix.lower() not in AUDIO_SUFFIXES and not _TEXT_OK.search(i.filename)]
    if others:
        shown = ", ".join(repr(n[:60]) for n in others[:3])
        raise UploadError(f"{source}: refused, {len(others)} member(s) are not audio ({shown}); a dataset zip holds "
                          f"{', '.join(AUDIO_SUFFIXES)} files and optionally all_labels.csv and a README.")
    return litter


MAX_INCOMING_BYTES = 4 * 2**30
"""The most bytes all unpacked, unsaved uploads together may hold (every session's): a new upload past it is
refused until older ones are saved, discarded or idle for :data:`INCOMING_IDLE_S`."""
INCOMING_IDLE_S = 15 * 60
"""An unsaved upload whose session has not looked at it (:func:`keep_alive`) for this long is removed."""


def _incoming(datasets_dir: Path, *, need: int = 0, source: str = "the upload") -> Path:
    """A new hidden folder for an upload of ``need`` bytes, once idle uploads are removed and the total of
    unsaved uploads stays within :data:`MAX_INCOMING_BYTES`."""
    try:
        datasets_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale_incoming(datasets_dir)
        held = sum(_size(old) for old in datasets_dir.glob(f"{INCOMING_PREFIX}*"))
        if held + need > MAX_INCOMING_BYTES:
            raise UploadError(f"{source}: the server holds {held / 2**30:,.1f} GB of uploads not yet saved and this "
                              f"one would pass the {MAX_INCOMING_BYTES / 2**30:,.0f} GB they may hold together; "
                              "try again in a few minutes, or upload fewer clips.")
        folder = datasets_dir / f"{INCOMING_PREFIX}{uuid.uuid4().hex[:12]}"
        folder.mkdir()
    except OSError as exc:
        raise UploadError(f"{datasets_dir}: cannot be written ({exc.strerror}); ask the operator to make it "
                          "writable or to set $SER_DATASETS_DIR.") from exc
    return folder


def _size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def _remove_stale_incoming(datasets_dir: Path, *, max_age_s: float | None = None) -> None:
    """Uploads unpacked but never saved nor discarded go once nobody looked at them (:func:`keep_alive`)
    for ``max_age_s`` (:data:`INCOMING_IDLE_S`): a closed browser tab, an ended session."""
    max_age_s = INCOMING_IDLE_S if max_age_s is None else max_age_s
    for old in datasets_dir.glob(f"{INCOMING_PREFIX}*"):
        try:
            if time.time() - old.stat().st_mtime > max_age_s:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


def keep_alive(unpacked: Unpacked) -> bool:
    """Mark an unsaved upload as still looked at (its folder's time is the heartbeat); ``False`` when it is
    gone (saved, discarded, or removed after :data:`INCOMING_IDLE_S` idle)."""
    try:
        os.utime(unpacked.folder)
    except OSError:
        return False
    return unpacked.folder.is_dir()


class UploadLease:
    """A session's hold on its unsaved upload: the upload is removed when the lease is dropped (the
    session's state replaced or ended, the server stopped), and :meth:`touch` is its heartbeat."""

    def __init__(self, unpacked: Unpacked):
        import weakref

        self.unpacked = unpacked
        self._finalizer = weakref.finalize(self, discard, unpacked.folder)

    def touch(self) -> bool:
        """:func:`keep_alive` for the held upload."""
        return keep_alive(self.unpacked)

    def release(self) -> None:
        """Remove the upload now (nothing happens if it was saved meanwhile: it is no longer there)."""
        self._finalizer()


def hold(unpacked: Unpacked) -> UploadLease:
    """An :class:`UploadLease` on ``unpacked``: keep it in the session's state."""
    return UploadLease(unpacked)


def _copy_bounded(src: BinaryIO, dst: Path, *, limit: int, name: str, source: str) -> None:
    """Copy at most ``limit`` bytes (the size the directory declared): a member that is longer is a lie."""
    written = 0
    with open(dst, "wb") as out:
        while block := src.read(1 << 20):
            written += len(block)
            if written > limit:
                raise UploadError(f"{source}: refused, {name[:60]!r} holds more than its declared size.")
            out.write(block)


def unpack(upload: str | Path | bytes | BinaryIO | list[tuple[str, bytes]], *, datasets_dir: str | Path,
           name: str = "upload.zip", limits: Limits | None = None) -> Unpacked:
    """Check an upload and extract it into a hidden temporary folder in ``datasets_dir``.

    Parameters
    ----------
    upload : a zip (path, bytes or file object), or loose files as ``[(file name, bytes), ...]``
    datasets_dir : where datasets live (the temporary folder is made there, so saving is one rename)
    name : the upload's name, for messages
    limits : :class:`Limits`

    Raises
    ------
    UploadError
        For a zip that is not one, is hostile (a member with an absolute or ``..`` path, a link, a
        zip bomb, more files or bytes than ``limits``), holds something that is not audio, or no audio.
    """
    limits = limits or Limits()
    datasets_dir = Path(datasets_dir)
    if isinstance(upload, list):
        return _unpack_files(upload, datasets_dir=datasets_dir, limits=limits)
    import io

    source = io.BytesIO(upload) if isinstance(upload, bytes) else upload
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UploadError(f"{name}: is not a zip file ({type(exc).__name__}); zip the folder of clips, or upload "
                          "the audio files themselves.") from exc
    with archive:
        infos = archive.infolist()
        litter = _check_directory(infos, source=name, limits=limits)
        skip = {n for n, _ in litter}
        members = [i for i in infos if not i.is_dir() and i.filename not in skip]
        folder = _incoming(datasets_dir, need=sum(i.file_size for i in members), source=name)
        try:
            for info in members:
                target = folder.joinpath(*PurePosixPath(info.filename).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src:
                    _copy_bounded(src, target, limit=info.file_size, name=info.filename, source=name)
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, zlib.error) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise UploadError(f"{name}: is damaged ({type(exc).__name__}); zip the folder again.") from exc
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return _finish_unpacked(folder, litter, source=name)


def _unpack_files(files: list[tuple[str, bytes]], *, datasets_dir: Path, limits: Limits) -> Unpacked:
    if len(files) > limits.max_files:
        raise UploadError(f"{len(files)} files is more than {limits.max_files}; upload them in parts.")
    for fname, data in files:
        base = Path(fname).name
        if Path(base).suffix.lower() not in AUDIO_SUFFIXES and base != "all_labels.csv":
            raise UploadError(f"{base}: is not audio; upload {', '.join(AUDIO_SUFFIXES)} files (or a zip of them).")
        if len(data) > limits.max_file_mb * 2**20:
            raise UploadError(f"{base}: is {len(data) / 2**20:,.0f} MB, more than {limits.max_file_mb:,.0f} MB for one "
                              "file; cut it into clips.")
    total = sum(len(data) for _, data in files)
    if total > limits.max_total_mb * 2**20:
        raise UploadError(f"the uploaded files hold {total / 2**20:,.0f} MB, more than {limits.max_total_mb:,.0f} MB; "
                          "upload them in parts.")
    names = [Path(fname).name for fname, _ in files]
    if len(set(names)) < len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise UploadError(f"{twice[0]}: uploaded twice; rename one of them or zip them in folders.")
    folder = _incoming(datasets_dir, need=total, source="the uploaded files")
    for fname, data in files:
        (folder / Path(fname).name).write_bytes(data)
    return _finish_unpacked(folder, [], source="the uploaded files")


def _finish_unpacked(folder: Path, litter: list[tuple[str, str]], *, source: str) -> Unpacked:
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    # A zip of one folder: that folder is the dataset.
    top = {f.split("/", 1)[0] for f in files}
    if len(top) == 1 and all("/" in f for f in files) and not normalise_emotion(next(iter(top))):
        inner = folder / next(iter(top))
        moved = folder.with_name(folder.name + "-x")
        inner.rename(moved)
        shutil.rmtree(folder)
        moved.rename(folder)
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    if any(f.split("/", 1)[0].lower() == "all_labels.csv" for f in files if "/" in f):
        discard(folder)  # saving would write the labels where that folder is
        raise UploadError(f"{source}: has a folder named all_labels.csv; rename that folder: the name is kept for "
                          "the labels file.")
    audio = tuple(f for f in files if Path(f).suffix.lower() in AUDIO_SUFFIXES)
    if not audio:
        discard(folder)
        raise UploadError(f"{source}: holds no audio ({', '.join(AUDIO_SUFFIXES)}); nothing to make a dataset of.")
    csv = "all_labels.csv" if "all_labels.csv" in files else ""
    return Unpacked(folder, audio, tuple(litter), csv)


def plan_labels(unpacked: Unpacked, *, speaker_from: str = "none", speaker_level: int = 1,
                speaker_pattern: str = "", emotion: str | None = None) -> LabelPlan:
    """Labels for the unpacked audio, from the first layout that fits.

    1. The upload's ``all_labels.csv`` (read by :func:`ser.datasets.labels.read_labels`: any documented column
       names and emotion spellings).
    2. One folder per emotion: the first folder in a file's path whose name is an emotion (``angry``,
       ``Happy``, ``fear``, ...). The speaker comes from ``speaker_from``: ``"folder"`` (the folder
       at ``speaker_level`` in the path, 1 the outermost), ``"pattern"`` (the first group of the
       regular expression ``speaker_pattern`` searched in the file name, or the whole match), or ``"none"``.
    3. A corpus's file naming (:data:`ser.datasets.labels.SCHEMES`) that names the emotion of most files (a
       known corpus also names its speakers).
    4. ``emotion``: every file is that emotion (loose recordings of one emotion).

    Raises
    ------
    LabelsError
        When no layout gives an emotion to any file (the message says which layouts are understood),
        or the speaker pattern is not a regular expression.
    """
    from ser.datasets.labels import read_labels

    if unpacked.labels_csv:  # one row per clip: no more rows than an upload may hold files
        frame = read_labels(unpacked.folder / unpacked.labels_csv, max_rows=Limits().max_files)
        known = [isinstance(r.emotion, str) for r in frame.itertuples()]
        rows = [(r.path, r.emotion, r.speaker) for r, ok in zip(frame.itertuples(), known) if ok]
        unlabelled = [(r.path, f"emotion {r.label!r} is not one of the 8")
                      for r, ok in zip(frame.itertuples(), known) if not ok]
        return LabelPlan("labels csv", rows, unlabelled)
    if speaker_from not in SPEAKER_SOURCES:
        raise LabelsError(f"speaker_from={speaker_from!r} is unknown; choose one of {', '.join(SPEAKER_SOURCES)}.")
    pattern = None
    if speaker_from == "pattern":
        try:
            pattern = re.compile(speaker_pattern)
        except re.error as exc:
            raise LabelsError(f"speaker pattern {speaker_pattern!r} is not a regular expression ({exc}); for "
                              r"the text before the first '_', use ^([^_]+)_") from exc

    def speaker_of(path: str) -> str:
        parts = PurePosixPath(path).parts
        if speaker_from == "folder":
            return parts[speaker_level - 1] if 0 < speaker_level < len(parts) else ""
        if pattern is not None:
            m = pattern.search(PurePosixPath(path).stem)
            return (m.group(1) if m and m.groups() else m.group(0) if m else "") or ""
        return ""

    by_folder, unlabelled = [], []
    for path in unpacked.audio:
        emo = next((e for e in map(normalise_emotion, PurePosixPath(path).parts[:-1]) if e), None)
        if emo:
            by_folder.append((path, emo, speaker_of(path)))
        else:
            unlabelled.append((path, "no folder in its path names an emotion"))
    if by_folder:
        return LabelPlan("emotion folders", by_folder, unlabelled)
    best: tuple[str, list, list] | None = None
    for scheme, parse in SCHEMES.items():
        rows, missed = [], []
        for path in unpacked.audio:
            got = parse(PurePosixPath(path).stem)
            if got and got[0]:
                rows.append((path, got[0], got[1]))
            else:
                missed.append((path, f"the name does not follow the {scheme} naming"))
        if rows and (best is None or len(rows) > len(best[1])):
            best = (scheme, rows, missed)
    if best and len(best[1]) >= 0.5 * len(unpacked.audio):
        return LabelPlan(f"{best[0]} names", best[1], best[2])
    if emotion:
        emo = normalise_emotion(emotion)
        if not emo:
            raise LabelsError(f"emotion {emotion!r} is not one of the 8.")
        return LabelPlan("one emotion", [(p, emo, speaker_of(p)) for p in unpacked.audio], [])
    raise LabelsError("no emotion found for any file: put an all_labels.csv (path, emotion, speaker) in the zip, "
                      "or one folder per emotion (angry/, happy/, ...), or use a known corpus's file names; "
                      "loose files of one emotion: pick that emotion.")


def preview(unpacked: Unpacked, plan: LabelPlan) -> dict:
    """What saving would give: the labels table with every problem :func:`ser.datasets.labels.validate_labels`
    finds (unreadable files are listed and left out), and clips per emotion and speaker.

    Returns
    -------
    dict with ``labels`` (DataFrame ``path, emotion, speaker``, usable rows only), ``problems`` (list of
    :class:`ser.datasets.labels.Problem`), ``unlabelled`` (``(path, why)``), ``counts`` (DataFrame: speakers
    by emotions), ``layout``
    """
    import pandas as pd

    from ser.datasets.labels import read_labels, usable_rows, validate_labels

    frame = pd.DataFrame(plan.rows, columns=["path", "emotion", "speaker"])
    tmp_csv = unpacked.folder / ".preview_labels.csv"
    write_csv(frame, tmp_csv)
    try:
        labels = read_labels(tmp_csv)
    finally:
        tmp_csv.unlink(missing_ok=True)
    problems = validate_labels(labels)
    usable = usable_rows(labels, problems)
    counts = (usable.assign(speaker=usable["speaker"].replace("", "(none)"))
              .pivot_table(index="speaker", columns="emotion", values="path", aggfunc="count", fill_value=0))
    return {"labels": usable[["path", "emotion", "speaker"]].reset_index(drop=True), "problems": problems,
            "unlabelled": list(plan.unlabelled), "counts": counts, "layout": plan.layout}


def save_dataset(unpacked: Unpacked, labels: "pd.DataFrame", *, name: str, datasets_dir: str | Path,
                 overwrite: bool = False, by: "Visitor | None" = None) -> Path:
    """Write ``all_labels.csv`` (the usable rows of :func:`preview`) and move the upload into
    ``datasets_dir/name`` in one rename.

    ``by`` is the person saving from a page (:class:`ser.access.Visitor`): the dataset gets their
    marker, and an existing one is replaced only when :func:`ser.access.why_not_change` allows it
    (never a protected one). ``None``: the command line, no marker.

    Raises
    ------
    PathError
        For a name that is not one plain folder name; :class:`ser.access.AccessError` for a dataset
        ``by`` may not replace.
    UploadError
        When a dataset of that name exists and ``overwrite`` is false, or there is no row to save.
    """
    from ser.paths import check_name, check_writable_dataset

    name = check_name(name, what="dataset name")
    datasets_dir = Path(datasets_dir)
    target = datasets_dir / name
    check_writable_dataset(target)
    if name.startswith(INCOMING_PREFIX.strip(".")) or target.resolve().parent != datasets_dir.resolve():
        raise PathError(f"dataset name {name!r} is not allowed; pick another.")
    if not len(labels):
        raise UploadError(f"{name}: no usable clip to save; fix the problems listed in the preview first.")
    from ser.access import check_may_change, mark

    check_may_change(target, by, what="dataset")
    if target.exists() and not overwrite:
        raise UploadError(f"{target}: a dataset of that name exists; pick another name or confirm replacing it.")
    import posixpath

    labels = labels.assign(path=[posixpath.normpath(p) for p in labels["path"]])  # "./a.wav", "a//b.wav"
    tmp = unpacked.folder / ".all_labels.csv.tmp"
    write_csv(labels[["path", "emotion", "speaker"]], tmp)  # a speaker like =cmd() stays text in a spreadsheet
    os.replace(tmp, unpacked.folder / "all_labels.csv")
    keep = set(labels["path"]) | {"all_labels.csv"}
    for f in [p for p in unpacked.folder.rglob("*") if p.is_file()]:  # unreadable or unlabelled clips stay out
        rel = f.relative_to(unpacked.folder).as_posix()
        if rel not in keep and Path(rel).suffix.lower() in AUDIO_SUFFIXES:
            f.unlink()
    if by is not None:
        mark(unpacked.folder, by)
    if target.exists():  # replaced only now that the new one is complete
        check_may_change(target, by, what="dataset")  # again: it may have been made since the first check
        old = datasets_dir / f"{INCOMING_PREFIX}old-{uuid.uuid4().hex[:8]}"
        target.rename(old)
        try:
            unpacked.folder.rename(target)
        except OSError:
            old.rename(target)  # the old dataset back where it was
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        unpacked.folder.rename(target)
    return target


def discard(unpacked: Unpacked | Path) -> None:
    """Remove an unpacked upload nobody saved (only a folder this module made)."""
    folder = unpacked.folder if isinstance(unpacked, Unpacked) else Path(unpacked)
    if folder.name.startswith(INCOMING_PREFIX) and folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
