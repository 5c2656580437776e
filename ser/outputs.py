"""What a command may write over: only what `ser` itself wrote there before, never anything else.

Every command that writes where a person points it (``--out``) checks the target here first:

- ``train --out DIR`` replaces ``DIR`` (a staged swap): it must be missing, an empty folder, or a
  model folder made by `ser` (:func:`is_model_folder`: a real folder, not a link, holding a
  ``config.json`` that `ser` reads as its settings and a ``model.keras`` or ``model.h5``). Anything
  else (``data/demo``, a home folder, a file) is refused, so a typo never deletes data.
- ``evaluate --out DIR`` and ``cv --out DIR`` write files into ``DIR``: it must be missing, empty, or
  hold only files that same command writes (an earlier run of it).
- ``robustness --out FILE``, ``report --out FILE`` and ``labels --out FILE`` write one file: an
  existing one must be a plain file (not a link or a folder) that the same command wrote (a
  robustness report, ser's HTML report, a labels CSV).

Each refusal is one :class:`~ser.errors.PathError` naming the target and the fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ser.errors import ConfigError, PathError
from ser.model_folder import MODEL_FILES, PREDICTIONS, REPORT, ModelFolder

__all__ = ["is_model_folder", "check_model_target", "check_output_folder", "check_output_file",
           "EVALUATE_FILES", "CV_FILES"]

EVALUATE_FILES = (re.compile(re.escape(REPORT)), re.compile(re.escape(PREDICTIONS)))
CV_FILES = (re.compile(r"cv\.json"), re.compile(r"cv_probs\.npz"), re.compile(r"history_fold\d+\.csv"),
            re.compile(r"history_[A-Za-z0-9._-]+\.csv"), re.compile(r"probs_[A-Za-z0-9._-]+\.npz"))
_HEAD_BYTES = 64 * 1024  # what is read of an existing file to tell whether ser wrote it
_REPORT_START = b"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Model report: "


def is_model_folder(path: str | Path) -> bool:
    """Whether ``path`` is a model folder made by `ser`: a real folder (not a link) holding a
    ``config.json`` that :meth:`ser.config.Config.load` accepts and a ``model.keras`` or ``model.h5``."""
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return False
    if not any((path / f).is_file() and not (path / f).is_symlink() for f in MODEL_FILES):
        return False
    try:
        ModelFolder(path).config()
    except (ConfigError, OSError):
        return False
    return True


def _is_empty_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def check_model_target(out: str | Path) -> Path:
    """``out`` if a training may install its model there (missing, an empty folder or a model folder
    made by `ser`), else :class:`PathError`."""
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return out
    if _is_empty_folder(out) or is_model_folder(out):
        return out
    what = "a link" if out.is_symlink() else "a folder that is not a model made by ser" if out.is_dir() else "a file"
    raise PathError(f"{out}: is {what}; training replaces its --out folder, so it only replaces a model folder "
                    "(config.json and model.keras or model.h5); name a new folder, e.g. models/mine.")


def check_output_folder(out: str | Path, *, command: str, files: tuple[re.Pattern, ...]) -> Path:
    """``out`` if ``command`` may write its files there (missing, empty, or holding only files that
    match ``files``: an earlier run of the same command), else :class:`PathError`."""
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return out
    if out.is_dir() and not out.is_symlink():
        foreign = [p.name for p in out.iterdir() if not any(f.fullmatch(p.name) for f in files) or not p.is_file()]
        if not foreign:
            return out
    what = "a link" if out.is_symlink() else "a file" if not out.is_dir() else \
        f"a folder holding files that `ser {command}` does not write (first: {sorted(foreign)[0]!r})"
    raise PathError(f"{out}: is {what}; `ser {command}` writes only into a new or empty folder or one it wrote "
                    "before; name a new folder.")


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(_HEAD_BYTES)


def _is_robustness_report(path: Path) -> bool:
    if path.stat().st_size > 16 * 2**20:
        return False
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(report, dict) and isinstance(report.get("conditions"), list)


def _is_labels_csv(path: Path) -> bool:
    from ser.datasets.labels import EMOTION_COLUMNS, PATH_COLUMNS

    try:
        first = _head(path).decode("utf-8-sig").splitlines()[0]
    except (UnicodeDecodeError, IndexError):
        return False
    for sep in (",", ";", "\t", "|"):
        columns = [c.strip().strip('"').strip().lower() for c in first.split(sep)]
        if any(c in PATH_COLUMNS for c in columns) and any(c in EMOTION_COLUMNS for c in columns):
            return True
    return False


_FILE_KINDS = {
    "robustness": ("a robustness report", _is_robustness_report),
    "report": ("ser's HTML report", lambda p: _head(p).startswith(_REPORT_START)),
    "labels": ("a labels CSV", _is_labels_csv),
}


def check_output_file(out: str | Path, *, command: str) -> Path:
    """``out`` if ``command`` (``robustness``, ``report`` or ``labels``) may write its one file there:
    missing, or a plain file that the same command wrote. Else :class:`PathError`."""
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return out
    kind, wrote = _FILE_KINDS[command]
    if out.is_file() and not out.is_symlink():
        try:
            if wrote(out):
                return out
        except OSError:
            pass
        what = f"a file that is not {kind}"
    else:
        what = "a link" if out.is_symlink() else "a folder"
    raise PathError(f"{out}: is {what}; `ser {command}` replaces only {kind} it wrote before; name a new file.")
