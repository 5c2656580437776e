from pathlib import Path

import pandas as pd
import pytest

from ser import EMOTIONS
from ser.errors import LabelsError
from ser.datasets.labels import labels_from_scheme, normalise_emotion, read_labels, usable_rows, validate_labels


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
    with pytest.raises(LabelsError, match=r"bad\.csv: no .path. column; the columns must be path, emotion"):
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


# Hostile input: errors name the file and what is wrong, never what is in it.

def _deny_reading(monkeypatch, path: Path) -> None:
    """Make ``path`` unreadable: chmod 000, and (as root, whom chmod does not stop) a PermissionError
    from every ``open`` of it."""
    import builtins
    import os

    path.chmod(0)
    if os.geteuid() == 0:
        real_open = builtins.open

        def deny(file, *args, **kwargs):
            if isinstance(file, (str, Path)) and Path(file).resolve() == path.resolve():
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", deny)


def test_a_one_line_secret_is_never_quoted(tmp_path):
    leaked = tmp_path / "environ.csv"
    leaked.write_text("SECRET_TOKEN=abc123")
    with pytest.raises(LabelsError, match=r"environ\.csv: no 'path' column; the columns must be path, emotion "
                                          r"and optionally speaker") as err:
        read_labels(leaked)
    assert "abc123" not in str(err.value) and "SECRET" not in str(err.value)


def test_undecodable_or_ragged_csv_errors_quote_nothing(tmp_path):
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"path,emotion\nx.wav,sad\n\xff\xfeSECRET_TOKEN=abc123\n")
    with pytest.raises(LabelsError, match=r"binary\.csv: is not UTF-8 text") as err:
        read_labels(binary)
    assert "abc123" not in str(err.value)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("path,emotion\nx.wav,sad\nSECRET_TOKEN=abc123,a,b,c\n")
    with pytest.raises(LabelsError, match=r"ragged\.csv: row 2 has more fields than the header") as err:
        read_labels(ragged)
    assert "abc123" not in str(err.value)


def test_header_only_csv_is_an_error(tmp_path):
    (tmp_path / "all_labels.csv").write_text("path,emotion,speaker\n")
    with pytest.raises(LabelsError, match=r"all_labels\.csv: has a header but no rows; add one row per clip"):
        read_labels(tmp_path)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_semicolon_tab_and_bar_separated_csvs_are_read(tmp_path, real_clip, sep):
    (tmp_path / "x.wav").write_bytes(real_clip.read_bytes())
    (tmp_path / "all_labels.csv").write_text(f"path{sep}emotion{sep}speaker\nx.wav{sep}angry{sep}s1\n")
    labels = read_labels(tmp_path)
    assert list(labels.emotion) == ["angry"] and list(labels.speaker) == ["s1"]


def test_a_labels_csv_that_is_a_folder_or_unreadable_says_so(tmp_path, monkeypatch):
    (tmp_path / "all_labels.csv").mkdir()
    with pytest.raises(LabelsError, match=r"all_labels\.csv: is a folder, not a labels CSV"):
        read_labels(tmp_path)
    locked = tmp_path / "locked.csv"
    locked.write_text("path,emotion\nx.wav,sad\n")
    _deny_reading(monkeypatch, locked)
    with pytest.raises(LabelsError, match=r"locked\.csv: cannot be read: permission denied"):
        read_labels(locked)


def test_audio_that_is_a_folder_or_unreadable_says_so(tmp_path, real_clip, monkeypatch):
    (tmp_path / "dir.wav").mkdir()
    (tmp_path / "locked.wav").write_bytes(real_clip.read_bytes())
    (tmp_path / "all_labels.csv").write_text("path,emotion\ndir.wav,sad\nlocked.wav,sad\n")
    labels = read_labels(tmp_path)
    _deny_reading(monkeypatch, tmp_path / "locked.wav")
    problems = {p.path: p.problem for p in validate_labels(labels)}
    assert problems == {"dir.wav": "is a folder, not an audio file",
                        "locked.wav": "cannot be read: permission denied"}


# What the data allows: at least two emotions, and a speaker split only with enough speakers.

def _clips(folder: Path, real_clip: Path, rows: list[tuple[str, str]]) -> Path:
    """An all_labels.csv in ``folder`` over copies of one real clip, one per (emotion, speaker) row."""
    lines = ["path,emotion,speaker"]
    for i, (emotion, speaker) in enumerate(rows):
        (folder / f"c{i}.wav").write_bytes(real_clip.read_bytes())
        lines.append(f"c{i}.wav,{emotion},{speaker}")
    (folder / "all_labels.csv").write_text("\n".join(lines) + "\n")
    return folder / "all_labels.csv"


def test_training_and_speaker_split_problems(tmp_path, real_clip):
    from ser.datasets.labels import read_usable, speaker_split_problem, training_problem

    one = _clips(tmp_path, real_clip, [("sad", f"s{i % 3}") for i in range(12)])
    _, good, _ = read_usable(one)
    assert training_problem(good) == "only one emotion (sad) among the 12 usable clips; a model needs at least two"
    rows = [(e, f"s{i % 3}") for e in ("sad", "happy") for i in range(6)]
    _, good, _ = read_usable(_clips(tmp_path, real_clip, rows))
    assert training_problem(good) is None and speaker_split_problem(good) is None
    _, good, _ = read_usable(_clips(tmp_path, real_clip, rows[:-1] + [("happy", "")]))
    assert speaker_split_problem(good) == "1 clip names no speaker (first: c11.wav)"
    two = [(e, f"s{i % 2}") for e in ("sad", "happy") for i in range(6)]
    _, good, _ = read_usable(_clips(tmp_path, real_clip, two))
    assert speaker_split_problem(good) == ("a speaker split needs at least 3 speakers of every emotion (one each "
                                           "for training, validation and test): sad has 2, happy has 2")
    _, good, _ = read_usable(_clips(tmp_path, real_clip, rows[:8]))
    assert training_problem(good) == ("too few clips of happy (2): every emotion needs at least 3, one each for "
                                      "training, validation and test")


def test_a_quoted_semicolon_in_a_path_does_not_fool_the_delimiter_sniffer(tmp_path):
    # issue 22 item 11: the sniffer took ';' for the delimiter and found no 'path' column
    (tmp_path / "all_labels.csv").write_text('path,emotion,speaker\n"a ""x"";y.wav",sad,anna\nb.wav,happy,bob\n')
    labels = read_labels(tmp_path / "all_labels.csv")
    assert list(labels["path"]) == ['a "x";y.wav', "b.wav"]
    assert list(labels["emotion"]) == ["sad", "happy"]
    (tmp_path / "semi.csv").write_text("path;emotion;speaker\na,b.wav;sad;anna\n")  # a real ';' file still reads
    assert list(read_labels(tmp_path / "semi.csv")["path"]) == ["a,b.wav"]


def test_a_labels_csv_longer_than_the_cap_is_refused_in_one_line(tmp_path, monkeypatch):
    # issue 22 item 4: a one-million-row CSV was read whole (255 s, 1.2 GB in the upload preview)
    import ser.datasets.labels as labels_mod

    assert labels_mod.MAX_LABEL_ROWS == 100_000
    big = tmp_path / "all_labels.csv"
    with open(big, "w") as out:
        out.write("path,emotion,speaker\n")
        out.writelines(f"c{i}.wav,sad,s{i % 7}\n" for i in range(labels_mod.MAX_LABEL_ROWS + 1))
    with pytest.raises(LabelsError, match=r"all_labels\.csv: has more than 100,000 rows") as err:
        read_labels(big)
    assert "\n" not in str(err.value)
    monkeypatch.setattr(labels_mod, "MAX_LABEL_BYTES", 1000)  # the bytes are checked before anything is read
    with pytest.raises(LabelsError, match=r"all_labels\.csv: is larger than"):
        read_labels(big)
    monkeypatch.undo()
    ok = tmp_path / "ok.csv"
    ok.write_text("path,emotion\n" + "".join(f"c{i}.wav,sad\n" for i in range(labels_mod.MAX_LABEL_ROWS)))
    assert len(read_labels(ok)) == labels_mod.MAX_LABEL_ROWS
