"""A real browser against the real app: Debian's Chromium driven by Playwright.

The app is started on a free localhost port with a models folder of its own (a copy of the
shipped default model), and stopped afterwards. Screenshots go to the folder printed at the
start (``$SER_SCREENSHOTS`` or a temporary one).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_MODEL, DEMO, REPO

CHROMIUM = Path("/usr/bin/chromium")
FAKE_MIC_CLIP = DEMO / "Actor_19" / "03-01-05-02-01-01-19.wav"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    port = _free_port()
    env = dict(os.environ, SER_MODELS_DIR=str(models), TF_CPP_MIN_LOG_LEVEL="2",
               SER_DATA_ROOTS=str(tmp_path_factory.getbasetemp()))  # the tests' own datasets live there
    log = open(models.parent / "streamlit.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                             "--server.headless", "true", "--server.fileWatcherType", "none"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    t0 = time.time()
    while True:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.time() - t0 > 60:
                raise RuntimeError((models.parent / "streamlit.log").read_text())
            time.sleep(0.2)
    yield {"url": url, "models": models}
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.is_file():
        if os.environ.get("SER_REQUIRE_E2E"):
            pytest.fail("Chromium is missing at /usr/bin/chromium (apt-get install -y chromium)")
        pytest.skip("Chromium not installed (apt-get install -y chromium); set SER_REQUIRE_E2E=1 to fail instead")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={FAKE_MIC_CLIP}"])
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
