"""Training runs in the background: one at a time per models folder, followable, stoppable.

The record ``<models>/.training.json`` says which run is (or was last) going on: its
process id and that process's start time (so that a reused id does not keep a dead run
alive), name, staging folder, progress file and status. A dashboard starts a run with
:func:`start_training_process`, follows its ``progress.jsonl``, and stops it with
:func:`request_stop`; the run itself polls for the ``STOP`` file in its staging folder.

Whatever checks the record and then writes it, and the install of a finished model, holds
the exclusive lock ``<models>/.training.lock`` (:func:`models_lock`), so two starts at once
cannot both be accepted and nobody sees a model folder half swapped. :func:`recover` (run
by :func:`list_models` and before every install) puts back a model whose install was cut
off between its two renames, and deletes old models left in ``.trash``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ser.errors import PathError, TrainingError
from ser.model_folder import ModelFolder
from ser.paths import check_name
from ser.parallel.processes import process_alive, process_started

if TYPE_CHECKING:
    from ser.access import Visitor
    from ser.config import Config

try:
    import fcntl
except ImportError:  # not POSIX: no lock, as before
    fcntl = None

__all__ = ["current_run", "claim", "finish", "start_training_process", "request_stop", "list_models",
           "remove_model", "models_lock", "recover", "staging_dir_for", "prepare_staging", "install", "RUN_RECORD", "LOCK_FILE",
           "TRASH"]

RUN_RECORD = ".training.json"
LOCK_FILE = ".training.lock"
TRASH = ".trash"


@contextmanager
def models_lock(models_dir: str | Path) -> Iterator[None]:
    """Hold the exclusive lock of ``models_dir`` (made if missing) for the ``with`` block.

    The lock is ``flock`` on ``<models>/.training.lock``: the kernel drops it when its holder
    dies, so a killed process never leaves the folder locked. It is not re-entrant: code that
    holds it calls the ``_locked`` helpers, never the public functions that take it again.
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / LOCK_FILE, "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _write(models_dir: Path, record: dict[str, Any]) -> None:
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = models_dir / f"{RUN_RECORD}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record, indent=2))
    os.replace(tmp, models_dir / RUN_RECORD)


def current_run(models_dir: str | Path) -> dict[str, Any] | None:
    """The latest run's status, or ``None`` if there was none: the one place a run's state is read.

    The record ``<models>/.training.json`` with ``running`` (bool) added and, once the run has ended,
    what its progress file ended with: ``scores`` (the test speakers' ``accuracy``, ``macro_f1`` and
    ``uar`` of a ``done`` run, else ``None``) and, for a failed run whose record names no ``error``, the
    error its progress ended with. A run counts as running only while its process lives and started
    when the record says (records written before start times were kept are judged by the process id
    alone); a ``running`` record whose process is gone is ``failed``.
    """
    record = _record(Path(models_dir))
    if record is None or record["running"]:
        return record
    from ser.training.progress import final_event, read_events

    final = final_event(read_events(record["progress"])) if record.get("progress") else None
    record["scores"] = ({k: final.get(k) for k in ("accuracy", "macro_f1", "uar")}
                        if final and final["stage"] == "done" else None)
    if final and final.get("error") and not record.get("error"):
        record["error"] = final["error"]
    return record


def _record(models_dir: Path) -> dict[str, Any] | None:
    """The record as written, with ``running`` added and a dead ``running`` run settled as ``failed``."""
    try:
        record = json.loads((Path(models_dir) / RUN_RECORD).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    record["running"] = record.get("status") == "running" and process_alive(int(record.get("pid", -1)),
                                                                      record.get("pid_started"))
    if record.get("status") == "running" and not record["running"]:
        record["status"] = "failed"
        record.setdefault("error", "the training process ended without finishing (killed?)")
    return record


def claim(models_dir: str | Path, *, name: str, staging: Path, pid: int | None = None) -> dict[str, Any]:
    """Record a run as running, unless another live process holds the models folder.

    Parameters
    ----------
    models_dir : the models folder the run installs into
    name : the run's name, one plain path component (else :class:`PathError`)
    staging : the run's staging folder
    pid : the run's process id; default this process
    """
    check_name(name, what="run name")
    with models_lock(models_dir):
        return _claim_locked(Path(models_dir), name=name, staging=Path(staging), pid=pid or os.getpid())


def _claim_locked(models_dir: Path, *, name: str, staging: Path, pid: int) -> dict[str, Any]:
    run = current_run(models_dir)
    if run and run["running"] and run["pid"] != pid:
        raise TrainingError(f"a training run ({run['name']!r}, started {run['started']}) is in progress; "
                            "wait for it to finish or stop it first.")
    record = {"pid": pid, "pid_started": process_started(pid), "name": name, "staging": str(staging),
              "progress": str(ModelFolder(staging).progress_file), "status": "running",
              "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    _write(models_dir, record)
    return record


def finish(models_dir: str | Path, *, status: str, progress: Path, error: str | None = None) -> None:
    """Mark the recorded run as ended (``done``, ``stopped`` or ``failed``)."""
    models_dir = Path(models_dir)
    with models_lock(models_dir):
        run = _record(models_dir) or {}
        run.pop("running", None)
        run.update(status=status, progress=str(progress), ended=time.strftime("%Y-%m-%d %H:%M:%S"))
        if error:
            run["error"] = error
        _write(models_dir, run)


def start_training_process(*, labels: str | Path | list, models_dir: str | Path, name: str,
                           config: "Config | None" = None, cache_dir: str | Path | None = None,
                           by: "Visitor | None" = None) -> dict[str, Any]:
    """Start ``python -m ser train --config FILE`` in its own process session; return the run record.

    ``labels`` is one labels CSV or several (one per corpus). ``config`` (default :class:`ser.config.Config`'s
    defaults: the default preset) is saved as the staging folder's ``config.json``, the file the run then
    trains with and installs: the settings travel as that file, never flag by flag. ``cache_dir`` is the
    feature cache (default ``$SER_CACHE_DIR`` or ``~/.cache/ser``). ``name`` must be one plain path
    component (else :class:`PathError`). The check that no run is going on, the start and the
    record are one step under :func:`models_lock`: of two starts at once, one is refused.

    ``by`` is the person starting it from a page (:class:`ser.access.Visitor`): a reserved name
    (``default``), a protected model or another visitor's is refused (:class:`ser.access.AccessError`),
    and the staging folder gets their marker, which the install keeps. ``None``: the command line.
    """
    from ser.access import check_model_name

    check_name(name, what="run name")
    check_model_name(name, by)
    models_dir = Path(models_dir)
    with models_lock(models_dir):
        return _start_locked(labels=labels, models_dir=models_dir, name=name, config=config, cache_dir=cache_dir,
                             by=by)


def _start_locked(*, labels: str | Path | list, models_dir: Path, name: str, config: "Config | None",
                  cache_dir: str | Path | None, by: "Visitor | None" = None) -> dict[str, Any]:
    from ser.access import check_may_change, mark
    from ser.config import Config

    out = models_dir / name
    check_may_change(out, by, what="model")  # under the lock: nothing installs between this and the start
    run = current_run(models_dir)
    if run and run["running"]:
        raise TrainingError(f"a training run ({run['name']!r}) is in progress; wait for it or stop it first.")
    staging = staging_dir_for(out)
    staging.mkdir(parents=True, exist_ok=True)
    if by is not None:
        mark(staging, by)  # the staging folder becomes the model: the marker goes with it
    settings = ModelFolder(staging).config_file  # the run saves the same config there again, then installs it
    (config or Config()).save(settings)
    csvs = [labels] if isinstance(labels, (str, Path)) else list(labels)  # several: one corpus each
    cmd = [sys.executable, "-m", "ser", "train", *(a for csv in csvs for a in ("--labels", str(csv))),
           "--out", str(out), "--staging", str(staging), "--config", str(settings),
           *(("--cache-dir", str(cache_dir)) if cache_dir else ())]
    env = dict(os.environ)  # the child must import this very ser, wherever it is started from
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    log = open(ModelFolder(staging).log_file, "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=env)
    log.close()
    record = _claim_locked(models_dir, name=name, staging=staging, pid=proc.pid)
    record["command"] = shlex.join(cmd)
    return record


def request_stop(models_dir: str | Path, *, by: "Visitor | None" = None) -> bool:
    """Ask the running training to stop cleanly; ``False`` if none is running.

    Also ``False`` when the run has just installed its model (its staging folder is gone). A
    record whose staging folder is not in ``<models>/.staging`` raises :class:`PathError`. From a
    page (``by``), only the run's starter or the operator may stop it (:class:`ser.access.AccessError`).
    """
    models_dir = Path(models_dir)
    run = current_run(models_dir)
    if not run or not run["running"]:
        return False
    staging, allowed = Path(run["staging"]), models_dir / ".staging"
    if staging.parent.resolve() != allowed.resolve() or staging.name in ("", ".", ".."):
        raise PathError(f"{models_dir / RUN_RECORD}: the staging folder {staging} is not in {allowed}; "
                        f"stop the process {run['pid']} yourself or delete the record.")
    from ser.access import AccessError, why_not_stop

    if why := why_not_stop(staging, by):
        raise AccessError(why)
    try:
        ModelFolder(staging).stop_file.touch()
    except FileNotFoundError:  # installed: the staging folder is the model now, nothing left to stop
        return False
    return True


def recover(models_dir: str | Path) -> list[str]:
    """Finish an install that was cut off; return the names of the models put back.

    An install moves the old model to ``.trash/<name>-<ns>``, then the new one in, then deletes
    the old. Cut off between the moves, the model folder is missing: its newest ``.trash`` copy
    is moved back. Every other ``.trash`` entry is an old model already replaced, and is deleted.
    Holds :func:`models_lock`, so it never runs in the middle of an install.
    """
    models_dir = Path(models_dir)
    if not (models_dir / TRASH).is_dir():
        return []
    with models_lock(models_dir):
        return _recover_locked(models_dir)


def _recover_locked(models_dir: Path) -> list[str]:
    def when(entry: Path) -> int:  # the ``<ns>`` of ``<name>-<ns>``; anything else counts as oldest
        stamp = entry.name.rpartition("-")[2]
        return int(stamp) if stamp.isdigit() else 0

    if not (models_dir / TRASH).is_dir():
        return []
    restored = []
    for entry in sorted((models_dir / TRASH).iterdir(), key=when, reverse=True):  # newest first
        name = entry.name.rpartition("-")[0]
        if (name and not name.startswith(".") and "/" not in name and name not in restored
                and entry.is_dir() and not entry.is_symlink() and not (models_dir / name).exists()):
            os.replace(entry, models_dir / name)
            restored.append(name)
        elif entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    return restored


def list_models(models_dir: str | Path) -> list[Path]:
    """Model folders (with ``config.json`` and a model file) under ``models_dir``, ``default`` first,
    then newest first. An install cut off midway is finished first (:func:`recover`), when the
    folder is writable."""
    root = Path(models_dir)
    if not root.is_dir():
        return []
    try:
        recover(root)
    except OSError:  # a read-only models folder: nothing can be put back, list what is there
        pass
    found = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and ModelFolder(p).has_model()]
    return sorted(found, key=lambda p: (p.name != "default", -p.stat().st_mtime))


def remove_model(models_dir: str | Path, name: str, *, by: "Visitor | None" = None) -> None:
    """Delete the personal model ``name`` (made by :func:`ser.serving.adapt.adapt`) from ``models_dir``.

    Only a personal model is removed (the shipped model and trained models never are), only by whom
    :func:`ser.access.why_not_change` allows (its maker or the operator from a page; ``by=None``, the
    command line), and never while a training of that name is in progress. Under the models folder's
    lock the folder is renamed to a hidden name (nobody sees it half deleted), then deleted.

    Raises
    ------
    PathError
        A name that is not one plain name, or no such model.
    AccessError
        Not a personal model, or one ``by`` may not change.
    TrainingError
        A training of that name is in progress.
    """
    from ser.access import AccessError, check_may_change

    root = Path(models_dir)
    name = check_name(name, what="model name")
    folder = root / name
    if not folder.is_dir() or folder.is_symlink():
        raise PathError(f"“{name}”: no such model in the models folder.")
    if not ModelFolder(folder).is_personal():
        raise AccessError(f"“{name}” is not a personal model: only personal models are removed here (the shipped "
                          "and trained models are the operator's, with the command line).")
    check_may_change(folder, by, what="model")
    gone = root / f".removed-{name}-{time.time_ns()}"
    with models_lock(root):
        run = _record(root)
        if run and run["running"] and run.get("name") == name:
            raise TrainingError(f"“{name}”: a training of that name is in progress; wait for it or stop it, then "
                                "remove the model.")
        os.replace(folder, gone)
    shutil.rmtree(gone, ignore_errors=True)


# --- staging folders and installing a finished model -----------------------------------------

def staging_dir_for(out_dir: Path) -> Path:
    """A new staging folder for ``out_dir``: ``<parent>/.staging/<name>-<date>-<time>-<pid>``.

    Raises :class:`~ser.errors.PathError` if the model folder's name is not one plain name.
    """
    name = check_name(Path(out_dir).name, what="model folder name")
    return Path(out_dir).parent / ".staging" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"


def _owner_file(staging: Path) -> Path:
    """``<staging>.owner`` beside the staging folder: ``"<pid> <start time>"`` of the process training in it."""
    return staging.with_name(staging.name + ".owner")


def _in_use(staging: Path) -> bool:
    """Whether a live process works in ``staging``: the one its owner file names, or, before a run
    wrote one, the one whose id ends the folder's name (a dashboard that has just started it)."""
    try:
        pid, started = _owner_file(staging).read_text().split()
        return process_alive(int(pid), None if started == "None" else int(started))
    except FileNotFoundError:
        return process_alive(int(staging.name.rpartition("-")[2]))
    except (OSError, ValueError):
        return False


def prepare_staging(out_dir: Path, staging: Path | None) -> Path:
    """Check the model folder's name, make the staging folder and mark it as this process's.

    Earlier staging folders of the *same* name (``<name>-<date>-<time>-<pid>``: failed or stopped
    tries) are deleted once no live process works in them; other names' folders are never touched.
    """
    name = check_name(out_dir.name, what="model folder name")
    staging = staging or staging_dir_for(out_dir)
    staging.mkdir(parents=True, exist_ok=True)
    _owner_file(staging).write_text(f"{os.getpid()} {process_started(os.getpid())}")
    earlier = re.compile(re.escape(name) + r"-\d{8}-\d{6}-\d+")
    for old in staging.parent.iterdir():
        if old != staging and earlier.fullmatch(old.name) and old.is_dir() and not old.is_symlink() \
                and not _in_use(old):
            shutil.rmtree(old, ignore_errors=True)
            _owner_file(old).unlink(missing_ok=True)
    return staging


def install(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``staging``; the old model is deleted only once the new one is in.

    Two renames (the old model to ``.trash``, the new one in) under the models folder's lock
    (:func:`ser.training.runs.models_lock`). A process killed between them leaves no model folder but
    its ``.trash`` copy, which :func:`ser.training.runs.recover` (run here first and by ``list_models``)
    moves back; killed after them, the ``.trash`` copy is deleted there too.
    """
    from ser.access import origin

    staging, out_dir = Path(staging), Path(out_dir)
    check_name(out_dir.name, what="model folder name")
    with models_lock(out_dir.parent):
        _recover_locked(out_dir.parent)
        if out_dir.exists() and origin(staging) is not None and origin(out_dir) is None:
            raise TrainingError(f"“{out_dir.name}” is a protected model (made with the command line while this "
                                "run trained): nothing was replaced; train again under another name.")
        trash = None
        if out_dir.exists():
            trash = out_dir.parent / TRASH / f"{out_dir.name}-{time.time_ns()}"
            trash.parent.mkdir(parents=True, exist_ok=True)
            os.replace(out_dir, trash)
        os.replace(staging, out_dir)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    _owner_file(staging).unlink(missing_ok=True)
