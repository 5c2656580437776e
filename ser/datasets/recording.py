"""Your own clips, one recording at a time: saved as 16-bit WAV into a dataset folder, with a row
appended to its ``all_labels.csv``, and a count of what a useful training still needs.

The CSV is never edited in place: the new version is written beside it and renamed over it, so a
crash leaves the old file or the new one, never half of one. Clips go to
``<dataset>/<speaker>/<emotion>/<speaker>_<emotion>_<n>.wav``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ser import EMOTIONS
from ser.csvsafe import neutralise_cell
from ser.datasets.labels import MIN_CLIPS_PER_EMOTION, MIN_SPEAKERS_PER_EMOTION
from ser.errors import LabelsError, PathError

if TYPE_CHECKING:
    from ser.access import Visitor

__all__ = ["add_recording", "collection_status", "CollectionStatus"]

_HEADER = ("path", "emotion", "speaker")
LABELS_FILE = "all_labels.csv"


def add_recording(dataset_dir: str | Path, audio: bytes, *, speaker: str, emotion: str,
                  name: str = "recording", by: "Visitor | None" = None) -> str:
    """Save one recording into ``dataset_dir`` and append its row to ``all_labels.csv``.

    Parameters
    ----------
    dataset_dir : the dataset's folder (made if missing, with a new ``all_labels.csv``)
    audio : the recording as a file's bytes (any format soundfile reads; the microphone gives WAV),
        kept mono at the model's rate (:func:`ser.audio.reader.read_audio`)
    speaker : who speaks (a plain name: letters, digits, ``.``, ``_``, ``-``)
    emotion : one of the 8 emotions, any usual spelling
    name : the recording's name, for messages
    by : the person recording from a page (:class:`ser.access.Visitor`): a dataset this call makes gets
        their marker, and an existing one is appended to only when :func:`ser.access.why_not_change`
        allows it (never a protected one: the demo, an operator's corpus). ``None``: the command line.

    Returns
    -------
    The clip's path relative to ``dataset_dir``.

    Clips are numbered, written and listed under a lock on the dataset, so two people keeping clips
    at once never take the same number nor lose a row.

    Raises
    ------
    AudioError
        For audio that is unreadable, empty, silent or too long (checked before anything is written).
    LabelsError, PathError
        For an unknown emotion or a speaker name that is not a plain name;
        :class:`ser.access.AccessError` for a dataset ``by`` may not append to.
    """
    import soundfile as sf

    from ser.audio.reader import read_audio
    from ser.config import AudioConfig
    from ser.datasets.labels import normalise_emotion
    from ser.paths import check_name, check_writable_dataset

    from ser.access import check_may_change, mark, origin

    check_writable_dataset(dataset_dir)
    check_may_change(dataset_dir, by, what="dataset")  # before decoding: a refusal costs nothing
    emo = normalise_emotion(emotion)
    if emo is None:
        raise LabelsError(f"emotion {emotion!r} is not one of {', '.join(EMOTIONS)}.")
    speaker = check_name(speaker.strip(), what="speaker name")
    if speaker.lower() == LABELS_FILE:  # its folder would stand where the CSV must be
        raise PathError(f"speaker name {speaker!r} is the name of the dataset's labels file; choose another name.")
    # too long (from the header), empty, silent, NaN: refused before writing; read block by block and
    # kept as the model hears it, mono at its rate
    decoded = read_audio(audio, config=AudioConfig(), name=name)
    y, sr = decoded.y, decoded.sr
    dataset_dir = Path(dataset_dir)
    csv_path = dataset_dir / "all_labels.csv"
    made_here = not dataset_dir.exists()
    dataset_dir.mkdir(parents=True, exist_ok=True)
    with _locked(dataset_dir):  # two browser sessions keeping clips at once take turns
        if by is not None and made_here and origin(dataset_dir) is None and not csv_path.exists():
            mark(dataset_dir, by)  # the first clip of a new dataset: it is theirs
        else:
            check_may_change(dataset_dir, by, what="dataset")  # again, under the lock: another may have made it
        _check_header(csv_path)
        folder = dataset_dir / speaker / emo
        folder.mkdir(parents=True, exist_ok=True)
        n = 1 + max((int(p.stem.rsplit("_", 1)[1]) for p in folder.glob(f"{speaker}_{emo}_*.wav")
                     if p.stem.rsplit("_", 1)[1].isdigit()), default=0)
        clip = folder / f"{speaker}_{emo}_{n:03d}.wav"
        tmp = clip.with_name(f".{clip.name}.{uuid.uuid4().hex[:8]}.tmp")
        pcm = np.clip(np.asarray(y, dtype=np.float32), -1.0, 1.0)
        sf.write(tmp, pcm, sr, subtype="PCM_16", format="WAV")
        os.replace(tmp, clip)
        rel = clip.relative_to(dataset_dir).as_posix()
        _append_row(csv_path, (rel, emo, speaker))
    return rel


@contextlib.contextmanager
def _locked(dataset_dir: Path) -> Iterator[None]:
    """An exclusive lock on the dataset (``.lock`` in its folder) for the block."""
    with open(dataset_dir / ".lock", "a") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # no fcntl (Windows): one process at a time is the operator's care
            pass
        yield


def _check_header(csv_path: Path) -> None:
    """Rows are appended as ``path,emotion,speaker``: a CSV with other columns or separators is refused."""
    if not csv_path.is_file():
        return
    with open(csv_path, encoding="utf-8", errors="replace") as f:
        first = f.readline().strip().lstrip("\ufeff")
    if first and first.lower() != ",".join(_HEADER):
        raise LabelsError(f"{csv_path}: its columns are {first[:60]!r}, not path,emotion,speaker; record into a "
                          "new dataset name, or rewrite this file's header.")


def _append_row(csv_path: Path, row: tuple[str, str, str]) -> None:
    """Write the CSV with one more row to a temporary file beside it, then rename it over the old one."""
    old = csv_path.read_bytes() if csv_path.is_file() else b""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if not old.strip():
        writer.writerow(_HEADER)
    writer.writerow([neutralise_cell(c) for c in row])  # a speaker like =cmd() stays text in a spreadsheet
    sep = b"" if not old or old.endswith(b"\n") else b"\n"
    tmp = csv_path.with_name(f".{csv_path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as f:
        f.write(old + sep + out.getvalue().encode())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, csv_path)


@dataclass(frozen=True)
class CollectionStatus:
    """How far a collection is from a useful training.

    Attributes
    ----------
    per_emotion : clips of each of the 8 emotions
    speakers_per_emotion : distinct speakers of each emotion
    missing : one line per thing still missing, empty when the speaker split can be trained
    """

    per_emotion: dict[str, int]
    speakers_per_emotion: dict[str, int]
    missing: tuple[str, ...]


def collection_status(rows: list[tuple[str, str]], *, min_clips: int = MIN_CLIPS_PER_EMOTION,
                      min_speakers: int = MIN_SPEAKERS_PER_EMOTION) -> CollectionStatus:
    """Counts per emotion and what is missing for a training with a speaker split: at least
    ``min_clips`` clips of each emotion, from at least ``min_speakers`` speakers of each.

    The defaults are the rule the split itself applies (:func:`ser.datasets.labels.training_problem`,
    :func:`ser.datasets.labels.speaker_split_problem`), so "enough" here is exactly when the Train page
    and ``python -m ser train`` accept the collection.

    Parameters
    ----------
    rows : ``(emotion, speaker)`` of every clip
    """
    per = {e: 0 for e in EMOTIONS}
    who: dict[str, set[str]] = {e: set() for e in EMOTIONS}
    for emo, spk in rows:
        if emo in per:
            per[emo] += 1
            if spk:
                who[emo].add(spk)
    missing = []
    for e in EMOTIONS:
        if per[e] < min_clips:
            missing.append(f"{e}: {min_clips - per[e]} more clip(s)")
        if len(who[e]) < min_speakers:
            missing.append(f"{e}: {min_speakers - len(who[e])} more speaker(s)")
    return CollectionStatus(per, {e: len(s) for e, s in who.items()}, tuple(missing))
