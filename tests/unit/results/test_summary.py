"""What a model's report says, in the shapes the Evaluate page shows: emotions present, chance, tables."""

import json

import pandas as pd

from ser.results.summary import (chance_level, emotions_present, held_out_speakers, misclassified, per_class_table,
                                 per_corpus_table)
from tests.conftest import DEFAULT_MODEL

REPORT = json.loads((DEFAULT_MODEL / "report.json").read_text())


def test_emotions_present_and_chance_follow_the_test_clips():
    report = {"confusion": {"labels": ["happy", "sad", "angry", "calm"]}, "emotions_present": ["happy", "sad"]}
    assert emotions_present(report) == ["happy", "sad"] and chance_level(report) == 0.5
    older = {"confusion": {"labels": ["happy", "sad", "angry", "calm"]}}  # before emotions_present was written
    assert emotions_present(older) == ["happy", "sad", "angry", "calm"] and chance_level(older) == 0.25


def test_held_out_speakers_are_the_test_parts_own():
    split = pd.DataFrame({"path": list("abcde"), "split": ["train", "test", "test", "val", "test"],
                          "speaker": ["s1", "s9", "s2", "s3", None]})
    assert held_out_speakers(split) == ["s2", "s9"] and held_out_speakers(split, part="val") == ["s3"]
    assert held_out_speakers(None) == [] and held_out_speakers(split.drop(columns="speaker")) == []


def test_tables_of_the_shipped_models_report():
    t = per_class_table(REPORT)
    assert list(t.columns) == ["precision", "recall", "f1", "accuracy", "support"]
    assert list(t.index) == list(REPORT["per_class"]) and t["support"].dtype.kind == "i"
    corpora = per_corpus_table(REPORT["per_corpus"])
    assert list(corpora["corpus"]) == list(REPORT["per_corpus"])
    assert corpora.columns[0] == "corpus" and "restricted UAR" in corpora and "most frequent answer" in corpora


def test_misclassified_are_the_clips_whose_answer_was_not_their_emotion():
    preds = pd.DataFrame({"path": ["a.wav", "b.wav", "c.wav"], "true": ["sad", "happy", "calm"],
                          "predicted": ["sad", "sad", "angry"], "sad": [0.9, 0.6, 0.1]})
    wrong = misclassified(preds)
    assert list(wrong["path"]) == ["b.wav", "c.wav"] and list(wrong.index) == [0, 1] and "sad" in wrong
    assert misclassified(preds.iloc[:1]).empty
