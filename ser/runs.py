"""Training runs in the background: one at a time per models folder, followable, stoppable.

The record ``<models>/.training.json`` says which run is (or was last) going on: its
process id, name, staging folder, progress file and status. A dashboard starts a run with
:func:`start_training_process`, follows its ``progress.jsonl``, and stops it with
:func:`request_stop`; the run itself polls for the ``STOP`` file in its staging folder.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ser.errors import TrainingError

__all__ = ["current_run", "claim", "finish", "start_training_process", "request_stop", "list_models",
           "RUN_RECORD"]

RUN_RECORD = ".training.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a finished child that nobody has reaped yet is a zombie, not a run
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return True


def _write(models_dir: Path, record: dict[str, Any]) -> None:
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = models_dir / f"{RUN_RECORD}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record, indent=2))
    os.replace(tmp, models_dir / RUN_RECORD)


def current_run(models_dir: str | Path) -> dict[str, Any] | None:
    """The latest run's record with ``running`` (bool) added, or ``None`` if there was none."""
    try:
        record = json.loads((Path(models_dir) / RUN_RECORD).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    record["running"] = record.get("status") == "running" and _alive(int(record.get("pid", -1)))
    if record.get("status") == "running" and not record["running"]:
        record["status"] = "failed"
        record.setdefault("error", "the training process ended without finishing (killed?)")
    return record


def claim(models_dir: str | Path, *, name: str, staging: Path, pid: int | None = None) -> dict[str, Any]:
    """Record a run as running, unless another live process holds the models folder."""
    models_dir = Path(models_dir)
    pid = pid or os.getpid()
    run = current_run(models_dir)
    if run and run["running"] and run["pid"] != pid:
        raise TrainingError(f"a training run ({run['name']!r}, started {run['started']}) is in progress; "
                            "wait for it to finish or stop it first.")
    record = {"pid": pid, "name": name, "staging": str(staging), "progress": str(staging / "progress.jsonl"),
              "status": "running", "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    _write(models_dir, record)
    return record


def finish(models_dir: str | Path, *, status: str, progress: Path, error: str | None = None) -> None:
    """Mark the recorded run as ended (``done``, ``stopped`` or ``failed``)."""
    models_dir = Path(models_dir)
    run = current_run(models_dir) or {}
    run.pop("running", None)
    run.update(status=status, progress=str(progress), ended=time.strftime("%Y-%m-%d %H:%M:%S"))
    if error:
        run["error"] = error
    _write(models_dir, run)


def start_training_process(*, labels: str | Path, models_dir: str | Path, name: str,
                           options: dict[str, Any]) -> dict[str, Any]:
    """Start ``python -m ser train`` in its own process session; return the run record.

    ``options`` are CLI options without dashes (``{"preset": "quick", "epochs": 3}``);
    ``True`` adds a flag, ``False``/``None`` leaves it out.
    """
    from ser.train import staging_dir_for

    models_dir = Path(models_dir)
    run = current_run(models_dir)
    if run and run["running"]:
        raise TrainingError(f"a training run ({run['name']!r}) is in progress; wait for it or stop it first.")
    out = models_dir / name
    staging = staging_dir_for(out)
    staging.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "ser", "train", "--labels", str(labels), "--out", str(out),
           "--staging", str(staging)]
    for key, value in options.items():
        if value is None or value is False:
            continue
        cmd.append(f"--{key.replace('_', '-')}")
        if value is not True:
            cmd.append(str(value))
    env = dict(os.environ)  # the child must import this very ser, wherever it is started from
    package_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    log = open(staging / "train.log", "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, env=env)
    log.close()
    record = claim(models_dir, name=name, staging=staging, pid=proc.pid)
    record["command"] = shlex.join(cmd)
    return record


def request_stop(models_dir: str | Path) -> bool:
    """Ask the running training to stop cleanly; ``False`` if none is running."""
    run = current_run(models_dir)
    if not run or not run["running"]:
        return False
    Path(run["staging"], "STOP").touch()
    return True


def list_models(models_dir: str | Path) -> list[Path]:
    """Model folders (with ``config.json`` and a model file) under ``models_dir``, ``default`` first,
    then newest first."""
    from ser.predict import MODEL_FILES

    root = Path(models_dir)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
             and (p / "config.json").is_file() and any((p / f).is_file() for f in MODEL_FILES)]
    return sorted(found, key=lambda p: (p.name != "default", -p.stat().st_mtime))
