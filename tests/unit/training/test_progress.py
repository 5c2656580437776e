import time

from ser.training.progress import JsonlWriter, read_events, summarise


def test_stream_round_trip_and_summary(tmp_path):
    seen = []
    w = JsonlWriter(tmp_path / "p.jsonl", also=seen.append)
    w({"stage": "start"})
    w({"stage": "features", "step": 5, "total": 10})
    for e in (1, 2):
        w({"stage": "epoch", "epoch": e, "epochs": 10, "loss": 1.0 / e, "epoch_s": 0.01})
    with open(tmp_path / "p.jsonl", "a") as f:
        f.write('{"stage": "batch", "ste')  # a line being written right now
    events = read_events(tmp_path / "p.jsonl")
    assert [e["stage"] for e in events] == ["start", "features", "epoch", "epoch"]
    assert len(seen) == 4 and all("time" in e for e in seen)
    s = summarise(events)
    assert s["features"] == (5, 10) and len(s["epochs"]) == 2 and s["final"] is None
    assert s["eta_s"] is not None and s["eta_s"] >= 0


def test_final_stage(tmp_path):
    w = JsonlWriter(tmp_path / "p.jsonl")
    w({"stage": "start"})
    time.sleep(0.01)
    w({"stage": "failed", "error": "boom"})
    s = summarise(read_events(tmp_path / "p.jsonl"))
    assert s["final"] == "failed" and s["error"] == "boom" and s["eta_s"] is None


def test_missing_file_is_empty(tmp_path):
    assert read_events(tmp_path / "none.jsonl") == []


def test_ensemble_members_each_get_their_own_curves():
    t = time.time()
    events = [{"stage": "start", "time": t}]
    for member in (1, 2):
        for epoch in (1, 2, 3):
            events.append({"stage": "epoch", "epoch": epoch, "epochs": 10, "member": member, "members": 3,
                           "epoch_s": 2.0, "time": t + len(events)})
    events.append({"stage": "batch", "epoch": 1, "epochs": 10, "step": 1, "total": 5, "member": 3, "members": 3,
                   "time": t + len(events)})
    s = summarise(events)
    assert (s["member"], s["members"], s["epochs"], s["batch"]) == (3, 3, [], (1, 5))
    assert s["eta_s"] == 2.0 * 10  # the third model's 10 epochs at most, 2 s each
    s = summarise(events[:-1])
    assert s["member"] == 2 and [e["epoch"] for e in s["epochs"]] == [1, 2, 3]
    assert s["eta_s"] == 2.0 * (7 + 10)
