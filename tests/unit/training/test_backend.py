"""The CLI prints its own lines only: TensorFlow's start-up noise stays off stderr."""

import subprocess
import sys

from tests.conftest import DEFAULT_MODEL, DEMO, REPO


def test_cli_predict_prints_nothing_but_its_answer():
    clip = sorted((DEMO / "Actor_06").glob("*.wav"))[0]
    res = subprocess.run([sys.executable, "-m", "ser", "predict", "--model", str(DEFAULT_MODEL), str(clip)],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert res.stdout.startswith(f"{clip}: ")


def test_quiet_import_keeps_later_errors_visible():
    code = ("import sys; from ser.training import backend; backend.keras(); "
            "print('after', file=sys.stderr); raise SystemExit(3)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 3 and res.stderr == "after\n"
