"""Progress as an event stream: JSON lines another process can follow while a run goes on.

Each event is a dict with at least ``stage`` and ``time``; stages are ``start``,
``features`` (``step``, ``total``), ``epoch`` (``epoch``, ``epochs``, metrics, ``lr``),
``batch`` (``step``, ``total``, ``epoch``), ``export`` (the ONNX export; with ``warning`` when the
model could not be exported), ``evaluate``, ``robustness`` (``step``, ``total``: clips
scored under every recording condition), and one final ``done``,
``stopped`` or ``failed`` (``error``). When several models are trained and averaged,
``epoch`` and ``batch`` events also carry ``member`` (1-based) and ``members``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Event", "ProgressFn", "JsonlWriter", "read_events", "final_event", "summarise", "FINAL_STAGES"]

Event = dict[str, Any]
ProgressFn = Callable[[Event], None]
FINAL_STAGES = ("done", "stopped", "failed")


class JsonlWriter:
    """A progress callback that appends each event as one JSON line, flushed at once."""

    def __init__(self, path: str | Path, *, also: ProgressFn | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.also = also

    def __call__(self, event: Event) -> None:
        event = {"time": time.time(), **event}
        with open(self.path, "a") as f:
            f.write(json.dumps(event, default=float) + "\n")
        if self.also:
            self.also(event)


def read_events(path: str | Path) -> list[Event]:
    """All complete events in a progress file (a half-written last line is ignored)."""
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        return []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def final_event(events: list[Event]) -> Event | None:
    """The event a run ended with (``done``, ``stopped`` or ``failed``), ``None`` while it goes on."""
    return next((e for e in reversed(events) if e.get("stage") in FINAL_STAGES), None)


def summarise(events: list[Event]) -> dict[str, Any]:
    """What a progress view needs from a stream: latest stage, feature and epoch progress,
    per-epoch metrics of the model now training (``member`` of ``members``), elapsed and estimated
    remaining seconds."""
    out: dict[str, Any] = {"stage": None, "features": None, "epochs": [], "epoch_total": None,
                           "batch": None, "elapsed_s": 0.0, "eta_s": None, "final": None, "error": None,
                           "start": None, "member": 1, "members": 1, "robustness": None}
    all_epochs: list[Event] = []
    if not events:
        return out
    t0 = events[0]["time"]
    for e in events:
        st = e.get("stage")
        out["stage"] = st
        if st in ("epoch", "batch"):
            if e.get("member", 1) != out["member"]:  # the next model of an ensemble: its own curves
                out["member"], out["epochs"], out["batch"] = e.get("member", 1), [], None
            out["members"] = e.get("members", 1)
        if st == "start":
            out["start"] = e
        elif st == "features":
            out["features"] = (e["step"], e["total"])
        elif st == "robustness":
            out["robustness"] = (e["step"], e["total"])
        elif st == "epoch":
            out["epochs"].append(e)
            all_epochs.append(e)
            out["epoch_total"] = e.get("epochs")
        elif st == "batch":
            out["batch"] = (e["step"], e["total"])
            out["epoch_total"] = e.get("epochs", out["epoch_total"])
        elif st in FINAL_STAGES:
            out["final"] = st
            out["error"] = e.get("error")
    last = events[-1]["time"]
    out["elapsed_s"] = (time.time() if out["final"] is None else last) - t0
    if all_epochs and out["final"] is None and out["epoch_total"]:
        per_epoch = sum(e.get("epoch_s", 0.0) for e in all_epochs) / len(all_epochs)
        left = out["epoch_total"] - len(out["epochs"]) + (out["members"] - out["member"]) * out["epoch_total"]
        out["eta_s"] = per_epoch * left  # upper bound: early stopping may end sooner
    return out
