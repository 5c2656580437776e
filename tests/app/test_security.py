"""What a page may read: only data/ and the folders the operator allowed; nothing of the server leaks."""

import json
import os

from tests.app.test_app import no_exception, open_app
from tests.conftest import DEMO


def _add(at, folder: str):
    at.text_input(key="other_dataset").set_value(folder).run()
    next(b for b in at.button if b.label == "Add dataset").click().run()
    no_exception(at)
    return at


def _everything_shown(at) -> str:
    parts = [e.value for e in at.error] + [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [str(o) for s in at.selectbox for o in s.options]
    return "\n".join(parts)


def test_server_files_are_refused_and_never_quoted(monkeypatch):
    monkeypatch.delenv("SER_DATA_ROOTS", raising=False)
    at = _add(open_app(), "/proc/self/environ")
    errors = [e.value for e in at.error]
    assert any("/proc/self/environ: this folder is outside the folders the dashboard may read" in e for e in errors)
    shown = _everything_shown(at)
    assert "PATH=" not in shown and os.environ.get("HOME", "/root") + "\n" not in shown
    assert "/proc/self/environ" not in at.selectbox(key="p_dataset").options


def test_a_folder_outside_data_needs_the_operators_permission(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "all_labels.csv").write_text((DEMO / "all_labels.csv").read_text())
    monkeypatch.delenv("SER_DATA_ROOTS", raising=False)
    at = _add(open_app(), str(folder))
    assert any("outside the folders the dashboard may read" in e.value for e in at.error)
    assert at.selectbox(key="p_dataset").value == str(DEMO / "all_labels.csv")

    monkeypatch.setenv("SER_DATA_ROOTS", str(tmp_path))
    at = _add(open_app(), str(folder))
    assert not at.error
    assert at.selectbox(key="p_dataset").value == str((folder / "all_labels.csv").resolve())


def test_a_link_inside_data_to_a_server_folder_is_refused(tmp_path, monkeypatch):
    from ser.paths import PROJECT

    link = PROJECT / "data" / f"link-{os.getpid()}"
    target = tmp_path / "outside"
    target.mkdir()
    (target / "all_labels.csv").write_text("path,emotion\n")
    link.symlink_to(target)
    try:
        monkeypatch.delenv("SER_DATA_ROOTS", raising=False)
        at = _add(open_app(), str(link))
        assert any("outside the folders the dashboard may read" in e.value for e in at.error)
        assert all("outside" not in o for o in at.selectbox(key="p_dataset").options)
    finally:
        link.unlink()


# --- Item 5 of the hardening issue: what a person typed or uploaded is escaped wherever it is drawn ---------

HOSTILE = "![x](http://attacker.example/p.png)"
ANCHOR = '<a href="http://attacker.example">Sign in</a>'


def _markdown_shown(at) -> list[str]:
    """The source of every element Streamlit renders as Markdown."""
    kinds = ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success")
    return [str(e.value) for kind in kinds for e in at.get(kind)]


def _hostile_dataset(root):
    """Two demo clips, one under a file name that is a Markdown link, spoken by a speaker named like an image."""
    import shutil

    import pandas as pd

    labels = pd.read_csv(DEMO / "all_labels.csv").head(2).copy()
    (root / "hostile").mkdir()
    paths = ["[Sign in](http:attacker.example).wav", "plain.wav"]
    for src, dst in zip(labels.path, paths):
        shutil.copy(DEMO / src, root / "hostile" / dst)
    labels["path"], labels["speaker"] = paths, [HOSTILE, ANCHOR]
    labels.to_csv(root / "hostile" / "all_labels.csv", index=False)
    return root / "hostile"


def test_speaker_and_file_names_are_not_markdown_on_the_dataset_page(tmp_path, monkeypatch):
    folder = _hostile_dataset(tmp_path)
    monkeypatch.setenv("SER_DATA_ROOTS", str(tmp_path))
    at = _add(open_app(), str(folder))
    shown = _markdown_shown(at)
    assert any("attacker" in s for s in shown), "the clip view names the clip and its speaker"
    for s in shown:
        assert HOSTILE not in s and "[Sign in](http:" not in s, s
    charts = " ".join(json.dumps(json.loads(c.proto.spec)) for c in at.get("plotly_chart"))
    assert "attacker" in charts and "<a href" not in charts, "a speaker's name is a chart label, not a link"


def test_test_speakers_of_a_model_are_not_markdown_on_the_evaluate_page(own_models_folder):
    import pandas as pd

    split_csv = own_models_folder / "default" / "split.csv"
    split = pd.read_csv(split_csv)
    split.loc[split.split == "test", "speaker"] = HOSTILE
    split.to_csv(split_csv, index=False)
    at = open_app("pages/evaluate.py")
    no_exception(at)
    shown = _markdown_shown(at)
    assert any("attacker" in s for s in shown)
    assert all(HOSTILE not in s for s in shown)
