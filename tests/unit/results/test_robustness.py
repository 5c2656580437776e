"""The robustness report: written with every model, the same on every run, and refused where it would mislead."""

import json

import pytest

from ser.augment.transforms import CONDITIONS
from ser.errors import LabelsError
from ser.results.robustness import measure_robustness, summary_sentence


def test_training_writes_robustness_for_the_test_speakers(trained_quick_model):
    rob = json.loads((trained_quick_model / "robustness.json").read_text())
    report = json.loads((trained_quick_model / "report.json").read_text())
    assert [r["name"] for r in rob["conditions"]] == list(CONDITIONS)
    clean = rob["conditions"][0]
    assert clean["agreement"] == 1.0
    assert clean["accuracy"] == pytest.approx(report["accuracy"])  # the same clips, the same model
    assert clean["macro_f1"] == pytest.approx(report["macro_f1"])
    assert rob["n_clips"] == report["n_clips"] and rob["split"] == "test"
    assert set(rob["non_speech"]) == {"white noise", "440 Hz tone", "silence"}
    assert "refused" in rob["non_speech"]["silence"]


def test_report_is_the_same_on_every_run(trained_quick_model, tmp_path, small_subset):
    a = measure_robustness(trained_quick_model, small_subset, out=tmp_path / "a.json", split="test",
                           cache_dir=tmp_path / "cache-a")
    b = measure_robustness(trained_quick_model, small_subset, out=tmp_path / "b.json", split="test",
                           cache_dir=tmp_path / "cache-b")  # nothing cached: every condition drawn again
    assert a["conditions"] == b["conditions"]
    own = json.loads((trained_quick_model / "robustness.json").read_text())
    assert a["conditions"] == own["conditions"]


def test_another_folder_needs_an_out_file(trained_quick_model, small_subset):
    with pytest.raises(LabelsError, match=r"say where to write the report \(--out FILE\)"):
        measure_robustness(trained_quick_model, small_subset)


def test_cli_prints_a_table(trained_quick_model, small_subset, tmp_path, feature_cache, capsys):
    from ser.__main__ import main

    out = tmp_path / "rob.json"
    assert main(["robustness", "--model", str(trained_quick_model), "--labels", str(small_subset), "--out", str(out),
                 "--split", "val", "--cache-dir", str(feature_cache)]) == 0
    text = capsys.readouterr().out
    rob = json.loads(out.read_text())
    split = json.loads((trained_quick_model / "run.json").read_text())["counts"]
    assert rob["n_clips"] == split["val"] and rob["split"] == "val"
    # the validation part is one speaker: babble is made of their other clips, and no condition is lost
    assert [r["name"] for r in rob["conditions"]] == list(CONDITIONS)
    assert rob["babble_from"] == "other clips of the same speaker"
    for r in rob["conditions"]:
        assert r["label"] in text
    assert "On a phone line this model is right" in text


def test_summary_sentence_names_the_phone_line_and_the_hardest_condition():
    rows = [{"name": "clean", "label": "As recorded", "accuracy": 0.56, "agreement": 1.0},
            {"name": "telephone", "label": "Telephone line", "accuracy": 0.41, "agreement": 0.6},
            {"name": "white10", "label": "White noise, 10 dB SNR", "accuracy": 0.32, "agreement": 0.41}]
    assert summary_sentence(rows) == ("On a phone line this model is right 41% of the time instead of 56%; the "
                                      "hardest condition is \"white noise, 10 db snr\", where it is right 32% of "
                                      "the time and keeps its clean answer for 41% of the clips.")


def test_one_clip_leaves_out_only_babble(trained_quick_model, small_subset, tmp_path):
    from ser.datasets.labels import read_usable
    from ser.serving.predict import Predictor
    from ser.results.robustness import robustness_report

    _, good, _ = read_usable(small_subset)
    rob = robustness_report(Predictor.load(trained_quick_model), good.head(1), cache_dir=tmp_path / "cache")
    assert [r["name"] for r in rob["conditions"]] == [n for n, c in CONDITIONS.items() if not c.needs_babble]
    assert rob["babble_from"] is None and rob["n_clips"] == 1
