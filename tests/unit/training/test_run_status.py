"""A run's status is read in one place (:func:`ser.training.runs.current_run`): the Train page asks it
for the outcome, the scores and the error, and never reads the progress file's last line itself."""

import json
from pathlib import Path

from ser.training.progress import JsonlWriter
from ser.training.runs import RUN_RECORD, claim, current_run, finish

ROOT = Path(__file__).resolve().parents[3]
RECORD_KEYS = {"pid", "pid_started", "name", "staging", "progress", "status", "started", "ended"}


def _run(models: Path, *final: dict) -> Path:
    staging = models / ".staging" / "a-1"
    claim(models, name="a", staging=staging)
    emit = JsonlWriter(staging / "progress.jsonl")
    emit({"stage": "start", "name": "a"})
    for event in final:
        emit(event)
    return staging


def test_a_finished_run_gives_its_scores_and_its_record_file_keeps_its_fields(tmp_path):
    staging = _run(tmp_path, {"stage": "done", "model_dir": str(tmp_path / "a"), "wall_s": 3.0,
                              "accuracy": 0.5, "macro_f1": 0.25, "uar": 0.375})
    finish(tmp_path, status="done", progress=staging / "progress.jsonl")
    run = current_run(tmp_path)
    assert run["status"] == "done" and not run["running"]
    assert run["scores"] == {"accuracy": 0.5, "macro_f1": 0.25, "uar": 0.375}
    assert set(json.loads((tmp_path / RUN_RECORD).read_text())) == RECORD_KEYS  # the file is as before


def test_a_failed_run_gives_the_error_its_progress_ended_with(tmp_path):
    staging = _run(tmp_path, {"stage": "failed", "error": "no clip could be read"})
    finish(tmp_path, status="failed", progress=staging / "progress.jsonl")  # the record itself names no error
    run = current_run(tmp_path)
    assert run["status"] == "failed" and run["error"] == "no clip could be read" and run["scores"] is None


def test_the_record_s_own_error_comes_first(tmp_path):
    staging = _run(tmp_path, {"stage": "failed", "error": "TypeError: x"})
    finish(tmp_path, status="failed", progress=staging / "progress.jsonl", error="training a failed: x")
    run = current_run(tmp_path)
    assert run["error"] == "training a failed: x" and run["scores"] is None


def test_an_old_record_without_a_progress_file_still_reads(tmp_path):
    (tmp_path / RUN_RECORD).write_text(json.dumps({"pid": 2 ** 22 + 7, "name": "old", "staging": "x",
                                                   "progress": str(tmp_path / "gone.jsonl"), "status": "done",
                                                   "started": "2025-01-01 00:00:00"}))
    run = current_run(tmp_path)
    assert run["status"] == "done" and run["scores"] is None and "error" not in run


def test_the_train_page_reads_the_status_only_through_current_run():
    source = (ROOT / "pages" / "train.py").read_text()
    assert 'get("stage") == "done"' not in source, "the page reads the progress file's last line for the scores"
    assert 's["error"]' not in source, "the page reads the progress file's error beside the record's"
    assert "current_run(" in source
