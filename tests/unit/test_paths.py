"""Names that become paths stay plain; folders outside the allowed roots are refused, links resolved."""

from pathlib import Path

import pytest

from ser.errors import PathError
from ser.paths import PROJECT, check_inside, check_name, data_roots


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".", "", "/etc", ".trash", "x" * 81, "a\\b", "a b"])
def test_names_that_could_leave_their_folder_are_refused(name):
    with pytest.raises(PathError, match=r"run name .* is not allowed: use 1-80 letters, digits"):
        check_name(name, what="run name")


@pytest.mark.parametrize("name", ["default", "quick-2", "run_3.v2", "A1"])
def test_plain_names_pass(name):
    assert check_name(name) == name


def test_only_data_and_the_operators_roots(tmp_path, monkeypatch):
    monkeypatch.delenv("SER_DATA_ROOTS", raising=False)
    assert data_roots() == [(PROJECT / "data").resolve()]
    assert check_inside(PROJECT / "data" / "demo") == (PROJECT / "data" / "demo").resolve()
    with pytest.raises(PathError, match=r"/proc/self/environ: this folder is outside the folders .*\$SER_DATA_ROOTS"):
        check_inside("/proc/self/environ")
    with pytest.raises(PathError, match="outside"):
        check_inside(PROJECT / "data" / ".." / "models")  # '..' resolved before the check
    monkeypatch.setenv("SER_DATA_ROOTS", f"{tmp_path}:/nonexistent")
    assert check_inside(tmp_path / "x") == (tmp_path / "x").resolve()


def test_a_link_is_judged_by_where_it_points(tmp_path, monkeypatch):
    monkeypatch.setenv("SER_DATA_ROOTS", str(tmp_path / "allowed"))
    (tmp_path / "allowed").mkdir()
    (tmp_path / "allowed" / "escape").symlink_to("/etc")
    with pytest.raises(PathError, match="outside"):
        check_inside(tmp_path / "allowed" / "escape")


def test_stored_paths_are_relative_to_the_project_and_read_back_from_it(tmp_path, monkeypatch):
    from ser.paths import find_clip, from_portable, portable

    assert portable(PROJECT / "data" / "demo" / "all_labels.csv") == "data/demo/all_labels.csv"
    assert portable(PROJECT.parent / "shared" / "data" / "x.csv") == "../shared/data/x.csv"
    monkeypatch.chdir(tmp_path)  # read back from the project, not from where the process started
    assert from_portable("data/demo/all_labels.csv") == PROJECT / "data" / "demo" / "all_labels.csv"
    assert from_portable("/abs/x.csv") == Path("/abs/x.csv")
    monkeypatch.delenv("SER_DATA_ROOTS", raising=False)
    clip = "Actor_06/03-01-01-01-01-01-06.wav"
    assert find_clip(clip, [tmp_path / "gone", PROJECT / "data" / "demo"]) == PROJECT / "data" / "demo" / clip
    assert find_clip("../../../etc/passwd", [PROJECT / "data" / "demo"]) is None  # outside the allowed roots


def test_messages_say_server_paths_relative_to_the_project(tmp_path):
    from ser.paths import PROJECT, redact, shown

    text = (f"{PROJECT}/data/demo/a.wav: bad; {PROJECT.parent}/shared/data/x/b.flac; {tmp_path}/c.wav; "
            f"{Path.home()}/.cache/ser; /proc/self/environ")
    out = redact(text)
    assert out.startswith("data/demo/a.wav: bad; ../shared/data/x/b.flac; …/")
    assert str(PROJECT) not in out and str(tmp_path) not in out and str(Path.home()) + "/" not in out
    assert out.endswith("~/.cache/ser; /proc/self/environ"), "what a person typed stays as typed"
    assert shown(PROJECT / "models" / "default") == "models/default"
