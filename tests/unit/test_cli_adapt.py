"""``python -m ser adapt``: one summary line and the folder; bad input one line and exit 2."""

from __future__ import annotations

import pandas as pd
import pytest

from ser.__main__ import main
from ser.serving.predict import Predictor
from tests.conftest import DEFAULT_MODEL, DEMO


@pytest.fixture(autouse=True)
def _own_cache(feature_cache, monkeypatch):
    monkeypatch.setenv("SER_CACHE_DIR", str(feature_cache))


def test_adapt_cli_makes_a_personal_model(tmp_path, capsys):
    out = tmp_path / "models" / "me"
    code = main(["adapt", "--model", str(DEFAULT_MODEL), "--labels", str(DEMO / "all_labels.csv"), "--out", str(out),
                 "--speaker", "MK0", "--emotions", "happy,sad,angry"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.strip().splitlines()
    assert len(lines) == 2 and "MK0" in lines[0] and "happy, sad, angry" in lines[0] and "6 clips" in lines[0]
    assert lines[1] == str(out)
    assert "clips" in captured.err  # progress goes to standard error
    assert tuple(Predictor.load(out).emotions) == ("happy", "sad", "angry")
    assert main(["export", "--model", str(out)]) == 2  # its model.onnx is all it has: nothing to export from
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "personal model" in err[0] and "ser adapt" in err[0] and "runtime" not in err[0]


def test_adapt_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "models" / "me"
    assert main(["adapt", "--model", str(DEFAULT_MODEL), "--labels", str(DEMO / "all_labels.csv"),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "--speaker" in err[0]
    assert not out.parent.exists() or not any(out.parent.iterdir())
    one = tmp_path / "one.csv"
    pd.DataFrame([(str(DEMO / "MK0" / p.split("/")[-1]), e, s) for p, e, s in pd.read_csv(
        DEMO / "all_labels.csv").query("speaker == 'MK0' and emotion == 'sad'").itertuples(index=False)],
        columns=["path", "emotion", "speaker"]).to_csv(one, index=False)
    assert main(["adapt", "--model", str(DEFAULT_MODEL), "--labels", str(one), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "one emotion only" in err[0]
    assert main(["adapt", "--model", str(DEFAULT_MODEL), "--labels", str(one), "--out", str(DEFAULT_MODEL)]) == 2
    assert "is the base model" in capsys.readouterr().err
