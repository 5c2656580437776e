"""Processes by id, told apart from later processes given the same id: a process counts as the one a
record names only while it also started when the record says (clock ticks since boot, ``/proc``
field 22). Training runs (:mod:`ser.training.runs`) and pool workers (:mod:`ser.parallel.workers`)
both keep their bookkeeping through these."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["process_alive", "process_started"]


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 first), or ``None``."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_started(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (``/proc`` field 22); ``None`` if unknown."""
    fields = _stat(pid)
    try:
        return int(fields[19]) if fields else None
    except (IndexError, ValueError):
        return None


def process_alive(pid: int, started: int | None = None) -> bool:
    """Whether ``pid`` runs and, when ``started`` is given, is the process that started then."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError, OverflowError):
        return False
    fields = _stat(pid)
    if fields is None:  # no /proc: the signal is all we know
        return True
    if fields[0] == "Z":  # a finished child that nobody has reaped yet is a zombie, not a run
        return False
    return started is None or process_started(pid) == started  # else the id was given to a newer process
