"""Which folders `ser` may read and which names may become paths.

Every page and command that takes a folder or a name from a person checks it here first:

- a *name* (a run, a model, a dataset) is one plain path component: letters, digits, ``.``, ``_``
  and ``-``, never ``..`` nor a separator, so it cannot reach outside the folder it is joined to;
- a *folder* of data must lie inside an allowed root: the project's ``data/`` folder, plus the
  folders the operator lists in ``$SER_DATA_ROOTS`` (separated by ``os.pathsep``). Links are
  resolved before the check, so a link inside ``data/`` to ``/etc`` is refused too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ser.errors import PathError

__all__ = ["PROJECT", "DEMO_DIR", "DATA_ROOTS_ENV", "NAME_PATTERN", "data_roots", "datasets_dir", "check_writable_dataset", "check_name", "inside",
           "check_inside", "portable", "from_portable", "find_clip", "shown", "redact"]

PROJECT = Path(__file__).resolve().parents[1]
DEMO_DIR = PROJECT / "data" / "demo"
DATA_ROOTS_ENV = "SER_DATA_ROOTS"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


def datasets_dir() -> Path:
    """Where datasets made in the browser (uploads, recordings) are written: ``$SER_DATASETS_DIR``,
    else ``<project>/data``. It is always one of :func:`data_roots`."""
    return Path(os.environ.get("SER_DATASETS_DIR") or PROJECT / "data").expanduser().resolve()


def check_writable_dataset(folder: str | Path) -> Path:
    """``folder`` resolved, unless it is the shipped demo dataset, which uploads and recordings never
    change (:class:`PathError`)."""
    target = Path(folder).expanduser().resolve()
    demo = DEMO_DIR.resolve()
    if target == demo or (target.parent == demo.parent and target.name.lower() == demo.name.lower()):
        raise PathError(f"{target.name}: the shipped demo clips are not changed from the dashboard; pick another "
                        "dataset name.")
    return target


def data_roots() -> list[Path]:
    """The folders data may be read from: ``<project>/data``, :func:`datasets_dir` and those in
    ``$SER_DATA_ROOTS``."""
    roots = [PROJECT / "data", datasets_dir()]
    for part in os.environ.get(DATA_ROOTS_ENV, "").split(os.pathsep):
        if part.strip():
            roots.append(Path(part.strip()).expanduser())
    return list(dict.fromkeys(r.resolve() for r in roots))  # in order, each once


def check_name(name: object, *, what: str = "name") -> str:
    """Return ``name`` if it is one plain path component, else raise :class:`PathError`.

    Parameters
    ----------
    name : the name a person gave (a run, a model, a dataset)
    what : how the message calls it
    """
    text = str(name) if name is not None else ""
    if not NAME_PATTERN.fullmatch(text) or text in (".", ".."):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise PathError(f"{what} {shown!r} is not allowed: use 1-80 letters, digits, '.', '_' or '-', "
                        "starting with a letter or digit (no '/' and no '..').")
    return text


def inside(path: str | Path, roots: list[Path]) -> bool:
    """Whether ``path`` (links resolved) lies in one of ``roots``."""
    p = Path(path).expanduser().resolve()
    return any(p == r or p.is_relative_to(r) for r in (Path(r).resolve() for r in roots))


def check_inside(path: str | Path, roots: list[Path] | None = None, *, what: str = "folder") -> Path:
    """Return ``path`` resolved if it lies inside an allowed root, else raise :class:`PathError`.

    Parameters
    ----------
    path : a file or folder a person named
    roots : allowed roots; default :func:`data_roots`
    """
    roots = data_roots() if roots is None else roots
    if not inside(path, roots):
        names = ", ".join(shown(r) for r in roots)
        raise PathError(f"{path}: this {what} is outside the folders the dashboard may read ({names}). "
                        f"Copy it under data/, or ask the operator to add its folder to ${DATA_ROOTS_ENV}.")
    return Path(path).expanduser().resolve()


def portable(path: str | Path) -> str:
    """``path`` as stored in a model's files: relative to the project when inside it or beside it
    (``data/demo/...``, ``../shared/data/...``), so that a model trained on one machine finds its clips
    on another checkout; else absolute."""
    p = Path(os.path.abspath(Path(path).expanduser()))  # links kept: ../shared may be one
    if p.is_relative_to(PROJECT.parent):
        return os.path.relpath(p, PROJECT)
    return str(p)


def from_portable(text: str | Path) -> Path:
    """The inverse of :func:`portable`: a relative path is taken from the project, not the working folder."""
    p = Path(text).expanduser()
    return p if p.is_absolute() else PROJECT / p


def find_clip(path: str | Path, folders: list[Path], *, roots: list[Path] | None = None) -> Path | None:
    """The first of ``folder / path`` that is a file inside the allowed roots, or None.

    Parameters
    ----------
    path : a clip's path as a labels CSV or ``predictions.csv`` gives it (relative to its dataset)
    folders : where to look, in order (e.g. the model's training dataset, then the demo clips)
    roots : allowed roots; default :func:`data_roots`
    """
    roots = data_roots() if roots is None else roots
    for folder in folders:
        candidate = Path(folder) / path
        if candidate.is_file() and inside(candidate, roots):
            return candidate.resolve()
    return None


def shown(path: str | Path) -> str:
    """``path`` as a message or a report says it, without the server's layout: relative to the project
    (``data/demo/...``, ``../shared/data/...``), else under ``~`` or the temporary folder as ``…/name``.

    A visitor reads what a path means for the project, never where the server keeps it.
    """
    return redact(os.path.abspath(Path(path).expanduser()))


def _server_prefixes() -> list[tuple[str, str]]:
    """Absolute folders of this server and how messages say them, longest first."""
    import tempfile

    pairs = {str(PROJECT): ".", str(PROJECT.parent): ".."}
    for root in data_roots():
        if str(root).startswith(str(PROJECT.parent)):
            continue
        pairs[str(root)] = f"…/{root.name}"  # a data root elsewhere: its name only
    pairs.setdefault(tempfile.gettempdir(), "…")
    home = str(Path.home())
    if home not in ("/", ""):
        pairs.setdefault(home, "~")
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


def redact(text: str) -> str:
    """``text`` with every absolute path under the project, beside it, in a data root, the temporary
    folder or the home folder said as :func:`shown` says it (``/srv/app/data/x.wav`` -> ``data/x.wav``).

    Paths elsewhere (what a person typed, such as ``/proc/self/environ``) are left as they are.
    """
    for prefix, short in _server_prefixes():  # longest first: the project before the folder around it
        text = re.sub(re.escape(prefix) + "/", "" if short == "." else short.replace("\\", r"\\") + "/", text)
        text = re.sub(re.escape(prefix) + r"(?![\w-]|\.\w)", short, text)
    return text
