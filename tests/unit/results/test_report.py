"""The stakeholders' HTML report: every section, inlined charts and clips, nothing fetched."""

import json
import re
import shutil

import pytest

from ser.errors import ModelError
from ser.results.report import MAX_CLIPS, build_report, write_report_html
from tests.conftest import DEFAULT_MODEL


def test_the_shipped_models_report_has_every_section_and_needs_no_network(tmp_path, capsys):
    from ser.__main__ import main

    assert main(["report", "--model", str(DEFAULT_MODEL), "--out", str(tmp_path / "r.html")]) == 0
    assert "opens offline" in capsys.readouterr().out
    text = (tmp_path / "r.html").read_text()
    for section in ("model-card", "scores", "training", "robustness", "misclassified", "limitations"):
        assert f"<h2 id='{section}'" in text
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|<img[^>]+src=['\"]http", text)  # nothing to fetch
    for chart in ("confusion", "f1", "loss", "accuracy", "robustness"):
        assert f'<div id="{chart}" class="plotly-graph-div"' in text
    assert text.count("<audio") == MAX_CLIPS and text.count("data:audio/wav;base64,") == MAX_CLIPS
    assert "ravdess/Actor_06, ravdess/Actor_12, ravdess/Actor_18, ravdess/Actor_19" in text  # who was held out
    assert "<h3 id='per-corpus'>Per corpus</h3>" in text and "nemo: CC BY-NC-SA 4.0" in text
    accuracy = json.loads((DEFAULT_MODEL / "report.json").read_text())["accuracy"]
    assert "CC BY-NC-SA" in text and f"{accuracy:.1%}" in text
    assert re.search(r"networks averaged</t[dh]>\s*<td>3</td>", text)
    assert re.search(r"summary networks averaged with them</t[dh]>\s*<td>3</td>", text)  # the card names both kinds
    assert re.search(r"encoder member \(a regression on a pretrained voice encoder\) averaged with them</t[dh]>\s*<td>yes"
                     r"</td>", text)  # and the encoder member


def test_a_model_without_its_clips_or_robustness_still_reports(tmp_path):
    import pandas as pd

    model = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL, model, ignore=shutil.ignore_patterns("robustness.json", "run.json"))
    preds = pd.read_csv(model / "predictions.csv")
    preds.assign(path="elsewhere/" + preds.path.str.replace("/", "_")).to_csv(model / "predictions.csv", index=False)
    text = build_report(model)
    assert "has no robustness report" in text and "<audio" not in text
    assert "the clips are not on the machine" in text


def test_a_folder_without_a_report_is_one_line(tmp_path):
    with pytest.raises(ModelError, match="has no report.json; its training did not reach evaluation"):
        write_report_html(tmp_path, tmp_path / "r.html")
    with pytest.raises(ModelError, match="no such model folder"):
        build_report(tmp_path / "missing")
    assert not (tmp_path / "r.html").exists()


def test_the_report_names_no_server_path_nor_host(tmp_path, monkeypatch):
    import json

    from ser.paths import PROJECT

    model = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL, model)
    run = json.loads((model / "run.json").read_text())
    run["command"] = (f"python -m ser train --labels {PROJECT}/data/mine/all_labels.csv --out "
                      f"{PROJECT}/models/.staging/m-1")
    run["machine"] = "secret-host-17 x86_64 2 cores"
    (model / "run.json").write_text(json.dumps(run))
    text = build_report(model)
    assert "--labels data/mine/all_labels.csv --out models/.staging/m-1" in text
    assert str(PROJECT) not in text and "secret-host-17" not in text and "x86_64 2 cores" in text


def test_clips_outside_the_allowed_folders_are_said_to_be_so(tmp_path, monkeypatch):
    import json

    import pandas as pd

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    model = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL, model)
    preds = pd.read_csv(model / "predictions.csv")
    preds["path"] = "kept-" + preds.path.str.replace("/", "_")  # only in the corpus, not among the demo clips
    preds.to_csv(model / "predictions.csv", index=False)
    for path in preds.path:
        shutil.copy(next((DEFAULT_MODEL.parents[1] / "data" / "demo").rglob("*.wav")), corpus / path)
    run = json.loads((model / "run.json").read_text())
    run["labels"] = str(corpus / "all_labels.csv")
    run.pop("corpora", None)  # one corpus, kept outside the allowed folders
    (model / "run.json").write_text(json.dumps(run))
    monkeypatch.setenv("SER_DATA_ROOTS", "")
    text = build_report(model)
    assert "outside the folders this dashboard may read" in text and "not on the machine" not in text


def test_a_personal_models_estimate_is_not_called_a_held_out_test(tmp_path):
    import json

    model = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL, model, ignore=shutil.ignore_patterns("*.keras", "*.h5"))
    report = json.loads((model / "report.json").read_text())
    report.update(kind="personal", estimate="leave-one-clip-out on the 16 enrolment clips of <Ann>")
    (model / "report.json").write_text(json.dumps(report))
    text = build_report(model)
    assert "Scores on the held-out test speakers" not in text
    assert "leave-one-clip-out on the 16 enrolment clips of &lt;Ann&gt;" in text
