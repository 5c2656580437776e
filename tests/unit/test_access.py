"""The operator/visitor split: protected datasets and models no page changes, visitors' own kept apart,
operator actions only for the operator."""

import json
import time

import pytest

from ser.access import MARKER, AccessError, Visitor, check_password, delete, origin
from ser.datasets.importing import plan_labels, preview, save_dataset, unpack
from ser.datasets.recording import add_recording
from tests.conftest import tone
from tests.unit.datasets.test_importing import demo_clip, make_zip
from tests.unit.datasets.test_recording import wav_bytes

ANNA, BEN = Visitor("session-anna"), Visitor("session-ben")
OPERATOR = Visitor("session-op", operator=True)


def _upload(datasets):
    up = unpack(make_zip({"angry/a.wav": demo_clip("angry").read_bytes()}), datasets_dir=datasets)
    return up, preview(up, plan_labels(up))["labels"]


def operator_corpus(folder):
    """An operator's corpus with its notes: no marker."""
    folder.mkdir(parents=True)
    (folder / "all_labels.csv").write_text("path,emotion,speaker\nold.wav,sad,x\n")
    (folder / "NOTES.md").write_text("how this corpus was recorded")
    return folder


def test_a_visitor_never_replaces_a_protected_dataset_even_with_the_tick(tmp_path):
    datasets = tmp_path / "data"
    corpus = operator_corpus(datasets / "corpus")
    up, labels = _upload(datasets)
    for who in (ANNA, OPERATOR):
        with pytest.raises(AccessError, match="“corpus” is a protected dataset .*pick another name"):
            save_dataset(up, labels, name="corpus", datasets_dir=datasets, overwrite=True, by=who)
    assert (corpus / "NOTES.md").is_file() and "old.wav" in (corpus / "all_labels.csv").read_text()
    assert up.folder.exists()  # the upload is still there to save under another name


def test_a_saved_upload_is_marked_and_only_its_session_or_the_operator_replaces_it(tmp_path):
    datasets = tmp_path / "data"
    up, labels = _upload(datasets)
    target = save_dataset(up, labels, name="mine", datasets_dir=datasets, by=ANNA)
    made = json.loads((target / MARKER).read_text())
    assert made["made_by"] == "browser" and made["owner"] == ANNA.owner_id and "session-anna" not in made["owner"]
    up, labels = _upload(datasets)
    with pytest.raises(AccessError, match="“mine” is another visitor's dataset: it is read-only for you"):
        save_dataset(up, labels, name="mine", datasets_dir=datasets, overwrite=True, by=BEN)
    save_dataset(up, labels, name="mine", datasets_dir=datasets, overwrite=True, by=ANNA)
    up, labels = _upload(datasets)
    save_dataset(up, labels, name="mine", datasets_dir=datasets, overwrite=True, by=OPERATOR)
    assert origin(target)["owner"] == OPERATOR.owner_id


def test_an_uploaded_marker_is_not_taken_as_one(tmp_path):
    from ser.datasets.importing import UploadError

    with pytest.raises(UploadError, match="not audio"):
        unpack(make_zip({"angry/a.wav": demo_clip("angry").read_bytes(),
                         MARKER: json.dumps({"made_by": "browser", "owner": ANNA.owner_id}).encode()}),
               datasets_dir=tmp_path / "data")


def test_recordings_go_only_into_the_sessions_own_datasets(tmp_path):
    corpus = operator_corpus(tmp_path / "corpus")
    clip = wav_bytes(tone(220.0, seed=1))
    with pytest.raises(AccessError, match="“corpus” is a protected dataset"):
        add_recording(corpus, clip, speaker="anna", emotion="happy", by=OPERATOR)
    assert (corpus / "all_labels.csv").read_text().count("\n") == 2 and not (corpus / "anna").exists()
    mine = tmp_path / "mine"
    add_recording(mine, clip, speaker="anna", emotion="happy", by=ANNA)
    assert origin(mine)["owner"] == ANNA.owner_id
    add_recording(mine, clip, speaker="anna", emotion="sad", by=ANNA)
    with pytest.raises(AccessError, match="“mine” is another visitor's dataset: it is read-only for you"):
        add_recording(mine, clip, speaker="ben", emotion="sad", by=BEN)
    assert (mine / "all_labels.csv").read_text().count("\n") == 3 and not (mine / "ben").exists()


def test_page_runs_never_take_default_nor_a_protected_or_anothers_model(tmp_path):
    from ser.training.runs import current_run, start_training_process

    models = tmp_path / "models"
    (models / "cli-model").mkdir(parents=True)
    (models / "theirs").mkdir()
    (models / "theirs" / MARKER).write_text(json.dumps({"made_by": "browser", "owner": BEN.owner_id}))
    for name, why in (("default", "model name 'default' is reserved"), ("Default", "reserved"),
                      ("cli-model", "“cli-model” is a protected model"),
                      ("theirs", "“theirs” is another visitor's model")):
        with pytest.raises(AccessError, match=why):
            start_training_process(labels=tmp_path / "missing.csv", models_dir=models, name=name, by=ANNA)
    with pytest.raises(AccessError, match="reserved"):
        start_training_process(labels=tmp_path / "missing.csv", models_dir=models, name="default",
                               by=OPERATOR)
    assert current_run(models) is None and not (models / ".staging").exists()


def test_a_page_runs_marker_survives_the_staged_install(tmp_path):
    from ser.errors import TrainingError
    from ser.training.runs import install, staging_dir_for

    from ser.access import mark

    models = tmp_path / "models"
    out = models / "mine"
    staging = staging_dir_for(out)
    staging.mkdir(parents=True)
    mark(staging, ANNA)
    (staging / "model.keras").write_text("new")
    install(staging, out)
    assert origin(out)["owner"] == ANNA.owner_id
    protected = models / "cli-model"  # made with the command line while the page's run trained
    protected.mkdir()
    (protected / "model.keras").write_text("operator's")
    staging = staging_dir_for(protected)
    staging.mkdir(parents=True)
    mark(staging, ANNA)
    with pytest.raises(TrainingError, match="“cli-model” is a protected model"):
        install(staging, protected)
    assert (protected / "model.keras").read_text() == "operator's"


def test_only_its_starter_or_the_operator_stops_a_training(tmp_path):
    from ser.access import mark
    from ser.training.runs import claim, request_stop

    models = tmp_path / "models"
    staging = models / ".staging" / "anna-run"
    staging.mkdir(parents=True)
    mark(staging, ANNA)
    claim(models, name="anna-run", staging=staging)  # this process: alive
    with pytest.raises(AccessError, match="started by someone else: only they or the operator can stop it"):
        request_stop(models, by=BEN)
    assert not (staging / "STOP").exists()
    assert request_stop(models, by=ANNA)
    (staging / "STOP").unlink()
    assert request_stop(models, by=OPERATOR)


def test_only_the_operator_deletes_and_only_what_the_browser_made(tmp_path):
    corpus = operator_corpus(tmp_path / "corpus")
    mine = tmp_path / "mine"
    add_recording(mine, wav_bytes(tone(220.0, seed=1)), speaker="anna", emotion="happy", by=ANNA)
    with pytest.raises(AccessError, match="only the operator may delete"):
        delete(mine, ANNA)
    with pytest.raises(AccessError, match="“corpus” is a protected dataset"):
        delete(corpus, OPERATOR)
    delete(mine, OPERATOR)
    assert not mine.exists() and corpus.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]


def test_the_password_is_compared_and_guessing_is_throttled():
    assert not check_password("anything", None) and not check_password("", "")
    now = time.monotonic() + 10_000  # a minute of its own
    assert check_password("s3cret", "s3cret", now=now)
    for _ in range(20):
        assert not check_password("guess", "s3cret", now=now)
    with pytest.raises(AccessError, match="too many wrong operator passwords in the last minute"):
        check_password("s3cret", "s3cret", now=now + 1)
    assert check_password("s3cret", "s3cret", now=now + 61)
