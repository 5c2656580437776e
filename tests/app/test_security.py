"""What a page may read: only data/ and the folders the operator allowed; nothing of the server leaks."""

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
