from pathlib import Path

import pandas as pd
import pytest

from ser import EMOTIONS
from ser.errors import LabelsError
from ser.labels import labels_from_scheme, normalise_emotion, read_labels, usable_rows, validate_labels


@pytest.mark.parametrize("raw,expected", [
    ("fear", "fearful"), ("FEARFUL", "fearful"), ("surprise", "surprised"), ("ps", "surprised"),
    ("Angry", "angry"), (" sad ", "sad"), ("boredom", None), ("", None), (None, None),
])
def test_normalise_emotion(raw, expected):
    assert normalise_emotion(raw) == expected


def test_read_ravdess_labels(ravdess):
    labels = read_labels(ravdess / "all_labels.csv")
    assert len(labels) == 1200
    assert set(labels.emotion) == set(EMOTIONS)
    assert labels.speaker.nunique() == 20
    assert Path(labels.abspath[0]).is_file()


def test_read_labels_accepts_other_column_names(tmp_path, real_clip):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.wav").write_bytes(real_clip.read_bytes())
    (tmp_path / "all_labels.csv").write_text("Filename,Label,Actor\na/x.wav,FEAR,7\n")
    labels = read_labels(tmp_path)  # a folder means its all_labels.csv
    assert labels.loc[0, "emotion"] == "fearful" and labels.loc[0, "speaker"] == "7"
    assert labels.loc[0, "abspath"] == str((tmp_path / "a" / "x.wav").resolve())


def test_read_labels_errors_name_the_file(tmp_path):
    with pytest.raises(LabelsError, match="labels file not found"):
        read_labels(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("clip,mood\nx.wav,sad\n")
    with pytest.raises(LabelsError, match=r"bad\.csv.*lack a path column"):
        read_labels(bad)


def test_validate_reports_every_problem_row_by_row(tmp_path, real_clip):
    (tmp_path / "ok.wav").write_bytes(real_clip.read_bytes())
    (tmp_path / "text.wav").write_text("this is not audio")
    (tmp_path / "all_labels.csv").write_text(
        "path,emotion,speaker\n"
        "ok.wav,happy,s1\n"
        "missing.wav,sad,s1\n"
        "text.wav,sad,s1\n"
        "ok.wav,happy,s1\n"
        "ok.wav,boredom,s2\n"
        "../escape.wav,sad,s2\n")
    labels = read_labels(tmp_path / "all_labels.csv")
    problems = validate_labels(labels)
    by_row = {}
    for p in problems:
        by_row.setdefault(p.row, []).append(p.problem)
    assert 1 not in by_row
    assert by_row[2] == ["file not found"]
    assert "unreadable audio" in by_row[3][0]
    assert by_row[4] == ["duplicate of row 1"]
    assert any("unknown emotion 'boredom'" in m for m in by_row[5])
    assert any("leaves the dataset folder" in m for m in by_row[6])
    assert list(usable_rows(labels, problems).path) == ["ok.wav"]


@pytest.mark.parametrize("scheme,names,expected", [
    ("ravdess", ["Actor_03/03-01-06-01-02-01-03.wav"], [("fearful", "Actor_03")]),
    ("tess", ["OAF_back_ps.wav", "YAF_dog_angry.wav"], [("surprised", "OAF"), ("angry", "YAF")]),
    ("crema-d", ["1001_DFA_ANG_XX.wav", "1002_IEO_SAD_HI.wav"], [("angry", "1001"), ("sad", "1002")]),
    ("emodb", ["03a01Fa.wav", "16b10Lb.wav"], [("happy", "03")]),  # L (boredom) is not one of the 8
])
def test_labels_from_scheme(tmp_path, scheme, names, expected):
    for n in names:
        (tmp_path / n).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / n).write_bytes(b"")
    frame, skipped = labels_from_scheme(tmp_path, scheme=scheme)
    assert list(zip(frame.emotion, frame.speaker)) == expected
    assert len(skipped) == len(names) - len(expected)


def test_labels_cli_writes_ravdess_csv_that_matches_shipped(ravdess, tmp_path):
    from ser.__main__ import main

    out = tmp_path / "labels.csv"
    assert main(["labels", str(ravdess), "--scheme", "ravdess", "--out", str(out)]) == 0
    ours = pd.read_csv(out).sort_values("path").reset_index(drop=True)
    theirs = pd.read_csv(ravdess / "all_labels.csv").sort_values("path").reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, theirs)


def test_unknown_scheme():
    with pytest.raises(LabelsError, match="scheme='savee' is unknown"):
        labels_from_scheme(".", scheme="savee")
