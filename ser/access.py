"""Who may change what from the dashboard: the operator/visitor split of a demo server.

A dataset or model folder made from the browser carries a marker, :data:`MARKER`
(``{"made_by": "browser", "owner": <opaque id>, "created": ...}``), written by
:func:`ser.datasets.importing.save_dataset`, :func:`ser.datasets.recording.add_recording` (first clip) and a training run
a page starts (:func:`ser.training.runs.start_training_process`: it is written into the staging folder, which
becomes the model). Everything without it is *protected*: the demo clips, the operator's corpora
(``data/``, ``$SER_DATA_ROOTS``), ``models/default`` and every model trained with the command line.

- No page replaces, appends to or deletes a protected dataset or model, whoever is signed in: the
  operator changes those with the command line.
- A visitor (:class:`Visitor` with ``operator=False``) creates datasets and models under new names and
  changes only those their own session made; other visitors' are read-only for them.
- The operator (signed in with the password of ``.streamlit/secrets.toml``) may also replace or
  delete any browser-made dataset or model, and stop a training someone else started.
- Page runs never take a reserved name (:data:`RESERVED_MODEL_NAMES`), even where no such model exists.

``by=None`` in the functions that take it means the command line (the operator's own shell): no rule
applies and no marker is written, so what it makes is protected.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ser.errors import PathError

__all__ = ["MARKER", "RESERVED_MODEL_NAMES", "AccessError", "Visitor", "origin", "mark", "why_not_change",
           "check_may_change", "check_model_name", "why_not_stop", "delete", "browser_made", "check_password"]

MARKER = ".ser-origin.json"
RESERVED_MODEL_NAMES = ("default",)
_WRONG_PER_MINUTE = 20  # wrong passwords accepted server-wide per minute, before every try is refused


class AccessError(PathError):
    """Something a page may not change for the person using it (one line: what, and what to do)."""


@dataclass(frozen=True)
class Visitor:
    """The person using a page.

    Attributes
    ----------
    owner : an opaque id of their browser session (or of their account, with Streamlit's authentication);
        only a hash of it is written to disk
    operator : whether they signed in as the operator
    """

    owner: str
    operator: bool = False

    def __post_init__(self) -> None:
        if not self.owner:
            raise ValueError("a Visitor needs an owner id")

    @property
    def owner_id(self) -> str:
        """What markers keep: a hash of :attr:`owner`, so a marker that is read never lets anyone act as them."""
        return hashlib.sha256(self.owner.encode()).hexdigest()[:32]


def origin(folder: str | Path) -> dict | None:
    """The marker of ``folder``, or ``None`` (not made in the browser: protected).

    A marker that is not a JSON object saying ``made_by: browser`` with an owner counts as none.
    """
    try:
        data = json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("made_by") != "browser" or not isinstance(data.get("owner"), str):
        return None
    return data


def mark(folder: str | Path, by: Visitor) -> None:
    """Write ``folder``'s marker: made in the browser by ``by``'s session."""
    folder = Path(folder)
    tmp = folder / f".{MARKER}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(json.dumps({"made_by": "browser", "owner": by.owner_id,
                               "created": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n")
    os.replace(tmp, folder / MARKER)


def browser_made(folders: list[Path]) -> list[Path]:
    """Those of ``folders`` that carry a marker."""
    return [f for f in folders if origin(f) is not None]


def why_not_change(folder: str | Path, by: Visitor | None, *, what: str = "dataset") -> str | None:
    """Why ``by`` may not replace, append to or delete ``folder``, in one line; ``None`` if they may.

    A folder that does not exist yet may be made by anyone (it becomes theirs).
    """
    folder = Path(folder)
    if by is None or not folder.exists():
        return None
    made = origin(folder)
    if made is None:
        return (f"“{folder.name}” is a protected {what} (not made in the browser): no page changes it, the operator "
                "does with the command line; pick another name.")
    if made["owner"] != by.owner_id and not by.operator:
        return (f"“{folder.name}” is another visitor's {what}: it is read-only for you (only they or the operator "
                "may change it); pick another name.")
    return None


def check_may_change(folder: str | Path, by: Visitor | None, *, what: str = "dataset") -> Path:
    """``folder``, unless :func:`why_not_change` says why not (:class:`AccessError`)."""
    why = why_not_change(folder, by, what=what)
    if why:
        raise AccessError(why)
    return Path(folder)


def check_model_name(name: str, by: Visitor | None) -> str:
    """``name`` for a model a page trains, unless it is reserved (``default``, any case): :class:`AccessError`."""
    if by is not None and name.lower() in RESERVED_MODEL_NAMES:
        raise AccessError(f"model name {name!r} is reserved for the shipped model; pick another name.")
    return name


def why_not_stop(staging: str | Path, by: Visitor | None) -> str | None:
    """Why ``by`` may not stop the training working in ``staging`` (one line), or ``None``: its starter and
    the operator may; a run the command line started, only the operator."""
    if by is None or by.operator:
        return None
    made = origin(staging)
    if made is None or made["owner"] != by.owner_id:
        return "This training was started by someone else: only they or the operator can stop it."
    return None


def delete(folder: str | Path, by: Visitor | None, *, what: str = "dataset") -> None:
    """Delete a browser-made ``folder``: only the operator may, and never a protected one.

    A model is deleted under its models folder's lock (never halfway through an install); the folder is
    first renamed to a hidden name, so nobody sees it half deleted.
    """
    folder = Path(folder)
    if by is not None and not by.operator:
        raise AccessError(f"“{folder.name}”: only the operator may delete a {what}.")
    if not folder.is_dir() or folder.is_symlink():
        raise AccessError(f"“{folder.name}”: no such {what}.")
    if origin(folder) is None:
        raise AccessError(f"“{folder.name}” is a protected {what} (not made in the browser): no page deletes it, "
                          "the operator does with the command line.")
    gone = folder.with_name(f".deleted-{folder.name}-{uuid.uuid4().hex[:8]}")
    if what == "model":
        from ser.training.runs import models_lock

        with models_lock(folder.parent):
            os.replace(folder, gone)
    else:
        os.replace(folder, gone)
    shutil.rmtree(gone, ignore_errors=True)


_failures: list[float] = []
_failures_lock = threading.Lock()


def check_password(given: str, configured: str | None, *, now: float | None = None) -> bool:
    """Whether ``given`` is the operator's password (compared in constant time).

    No configured password means nobody is the operator (``False``). After :data:`_WRONG_PER_MINUTE`
    wrong tries in a minute on this server, every try is refused for the rest of that minute
    (:class:`AccessError`), so the password cannot be guessed quickly.
    """
    now = time.monotonic() if now is None else now
    with _failures_lock:
        _failures[:] = [t for t in _failures if 0 <= now - t < 60]
        if len(_failures) >= _WRONG_PER_MINUTE:
            raise AccessError("too many wrong operator passwords in the last minute; wait a minute and try again.")
    if not configured or not isinstance(configured, str):
        return False
    ok = hmac.compare_digest(given.encode(), configured.encode())
    if not ok:
        with _failures_lock:
            _failures.append(now)
    return ok
