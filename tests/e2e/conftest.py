"""A real browser against the real app: Debian's Chromium driven by Playwright.

The app is started on a free localhost port with a models folder of its own (a copy of the
shipped default model), and stopped afterwards. Screenshots go to the folder printed at the
start (``$SER_SCREENSHOTS`` or a temporary one).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from benchmarks.launch import CHROMIUM, launch_chromium, streamlit_app
from tests.conftest import DEFAULT_MODEL, DEMO

FAKE_MIC_CLIP = DEMO / "Actor_19" / "03-01-05-02-01-01-19.wav"


@pytest.fixture(scope="session")
def shots() -> Path:
    folder = Path(os.environ.get("SER_SCREENSHOTS") or tempfile.mkdtemp(prefix="ser-e2e-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}", file=sys.stderr)
    return folder


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory):
    models = tmp_path_factory.mktemp("e2e") / "models"
    models.mkdir()
    shutil.copytree(DEFAULT_MODEL, models / "default")
    datasets = models.parent / "datasets"  # where the browser's uploads and recordings are saved
    env = {"SER_MODELS_DIR": str(models), "SER_DATASETS_DIR": str(datasets),
           "SER_DATA_ROOTS": str(tmp_path_factory.getbasetemp())}  # the tests' own datasets live there
    with open(models.parent / "streamlit.log", "wb") as log, streamlit_app(env=env, log=log) as app:
        yield {"url": app["url"], "models": models, "datasets": datasets}


@pytest.fixture(scope="session")
def playwright():
    """The session's one Playwright: its sync API cannot be started twice at once, so every browser of
    the tests (this file's ``browser``, the live meter's own) is launched from it."""
    if not CHROMIUM.is_file():
        if os.environ.get("SER_REQUIRE_E2E"):
            pytest.fail("Chromium is missing at /usr/bin/chromium (apt-get install -y chromium)")
        pytest.skip("Chromium not installed (apt-get install -y chromium); set SER_REQUIRE_E2E=1 to fail instead")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    b = launch_chromium(playwright, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                        f"--use-file-for-fake-audio-capture={FAKE_MIC_CLIP}")
    yield b
    b.close()


@pytest.fixture
def page(browser, app_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, permissions=["microphone"])
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(app_server["url"])
    pg.get_by_role("heading", name="Dataset").first.wait_for()
    yield pg
    context.close()
