"""The Evaluate page reads installed models and never writes into them; downloads are built on click."""

import shutil
import zipfile

import pytest

from tests.app.test_app import no_exception, open_app
from tests.conftest import DEFAULT_MODEL


def _snapshot(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*"))


@pytest.fixture
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    shutil.copytree(DEFAULT_MODEL, folder / "default")
    monkeypatch.setenv("SER_MODELS_DIR", str(folder))
    monkeypatch.setenv("SER_CACHE_DIR", str(tmp_path / "cache" / "features"))
    monkeypatch.delenv("SER_DATA_ROOTS", raising=False)
    return folder


def test_measuring_and_evaluating_write_nothing_into_the_model(models):
    model = models / "default"
    (model / "robustness.json").unlink()  # as a model trained before the check existed
    before = _snapshot(model)
    at = open_app("pages/evaluate.py")
    no_exception(at)
    next(b for b in at.button if b.label.startswith("Measure robustness on")).click().run()
    no_exception(at)
    assert any("On a phone line this model is right" in m.value for m in at.markdown)  # measured and shown
    next(b for b in at.button if b.label == "Evaluate").click().run()  # the demo clips, the picker's default
    no_exception(at)
    assert any(s.value.startswith("Accuracy") for s in at.success)
    assert _snapshot(model) == before
    at = open_app("pages/evaluate.py")  # measured once: kept for the next visit
    assert not any(b.label.startswith("Measure robustness on") for b in at.button)


def test_the_model_zip_is_not_built_on_every_rerun(models, monkeypatch):
    built = []
    real = zipfile.ZipFile

    def counting(*args, **kwargs):
        built.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", counting)
    at = open_app("pages/evaluate.py")
    at.run()
    no_exception(at)
    assert any("Model (zip" in b.label for b in at.get("download_button"))
    assert built == []


def test_the_shipped_models_errors_play_on_a_fresh_clone(models, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # started from elsewhere, without the corpus it was trained on
    at = open_app("pages/evaluate.py")
    no_exception(at)
    assert any(h.value.startswith("Misclassified test clips") for h in at.subheader)
    assert not any("not on this machine" in c.value or "audio not found" in c.value for c in at.caption)
    assert len(at.get("audio")) >= 2  # the condition player and the misclassified clip
