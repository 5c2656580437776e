"""The charts of a model's results, and the history they draw, shared by the Evaluate page and the report."""

import pandas as pd

from ser.results.figures import f1_comparison_figure, f1_figure, progress_curves_figure, training_history

PER_CLASS = {"happy": {"f1": 0.5}, "sad": {"f1": 0.75}}


def test_training_history_counts_epochs_from_one_and_names_a_single_network():
    h = training_history(pd.DataFrame({"epoch": [0, 1], "loss": [2.0, 1.0], "val_loss": [2.1, 1.5]}))
    assert list(h["epoch"]) == [1, 2] and list(h["member"]) == [1, 1]
    ensemble = pd.DataFrame({"epoch": [0, 1, 0], "member": [1, 1, 2], "loss": [1, 1, 1], "val_loss": [1, 1, 1]})
    assert training_history(ensemble)["member"].nunique() == 2
    assert list(ensemble["epoch"]) == [0, 1, 0]  # the caller's frame is left as it was


def test_f1_figure_and_comparison_draw_each_emotion_of_each_run():
    one = f1_figure(PER_CLASS)
    assert list(one.data[0].x) == ["happy", "sad"] and list(one.data[0].y) == [0.5, 0.75]
    both = f1_comparison_figure({"a": PER_CLASS, "b": {"happy": {"f1": 0.25}, "angry": {"f1": 1.0}}})
    assert [t.name for t in both.data] == ["a", "b"] and both.layout.barmode == "group"
    assert list(both.data[1].x) == ["happy", "angry"] and list(both.data[1].y) == [0.25, 1.0]


def test_progress_curves_draw_training_and_validation_of_each_metric():
    epochs = [{"epoch": 1, "loss": 2.0, "val_loss": 2.2, "accuracy": 0.2, "val_accuracy": 0.1},
              {"epoch": 2, "loss": 1.0, "val_loss": 1.8, "accuracy": 0.4, "val_accuracy": 0.3}]
    fig = progress_curves_figure(epochs)
    assert [(t.name, list(t.y)) for t in fig.data] == [("training", [2.0, 1.0]), ("validation", [2.2, 1.8]),
                                                      ("training", [0.2, 0.4]), ("validation", [0.1, 0.3])]
