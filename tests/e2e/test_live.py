"""The live meter in a real Chromium: its fake microphone plays silence then a real clip, over WebRTC with
host candidates only (no STUN server: the test machine has no internet)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import expect

from benchmarks.launch import launch_chromium, streamlit_app
from tests.conftest import DEFAULT_MODEL, DEMO

CLIP = DEMO / "Actor_19" / "03-01-05-02-01-01-19.wav"  # angry, a RAVDESS test speaker
SILENCE_S = 10.0  # longer than a slow WebRTC connection under load takes (CI: 2 busy cores): the stream starts in silence
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
METRIC = '[data-testid="stMetricValue"]'
EXCEPTION = '[data-testid="stException"]'


def threads(pid: int) -> int:
    """The number of threads of process ``pid`` now."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError(f"no thread count for process {pid}")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory):
    """A server of its own, so that its threads are this module's alone."""
    root = tmp_path_factory.mktemp("live")
    models = root / "models"
    models.mkdir()
    shutil.copytree(DEFAULT_MODEL, models / "default")
    env = {"SER_MODELS_DIR": str(models), "SER_DATASETS_DIR": str(root / "datasets"), "SER_DATA_ROOTS": str(root)}
    with open(root / "streamlit.log", "wb") as log, streamlit_app(env=env, log=log) as app:
        yield {"url": app["url"], "pid": app["process"].pid, "log": root / "streamlit.log"}


@pytest.fixture(scope="module")
def mic_browser(playwright, tmp_path_factory: pytest.TempPathFactory):
    """Chromium whose fake microphone loops ``SILENCE_S`` of silence then the clip (launched from the
    session's one Playwright: a second sync Playwright inside the first fails)."""
    y, sr = sf.read(CLIP, dtype="float32")
    wav = tmp_path_factory.mktemp("mic") / "silence-then-angry.wav"
    sf.write(wav, np.concatenate([np.zeros(int(SILENCE_S * sr), np.float32), y]), sr, subtype="PCM_16")
    b = launch_chromium(playwright, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                        f"--use-file-for-fake-audio-capture={wav}")
    yield b
    b.close()


def open_live(browser, url: str):
    """A new browser window on the Predict page's Live tab, streaming; returns (context, page)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, permissions=["microphone"])
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{url}/predict")
    page.get_by_role("heading", name="Predict emotion").first.wait_for()
    page.get_by_role("tab", name="Live").click()
    start = page.frame_locator('iframe[title*="streamlit_webrtc"]').get_by_role("button", name="Start listening")
    start.wait_for()
    return context, page, start


def readings_seen(page, *, until_emotion: bool = True, timeout_s: float = 150) -> list[str]:
    """The meter's values as they change, until one names an emotion (or ``timeout_s`` passes)."""
    seen: list[str] = []
    t0 = time.time()
    while time.time() - t0 < timeout_s:
        values = page.locator(METRIC)
        text = values.first.inner_text(timeout=5_000).strip() if values.count() else ""
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        if until_emotion and text.endswith(EMOTIONS):
            break
        page.wait_for_timeout(100)
    return seen


def wait_threads(pid: int, at_most: int, timeout_s: float = 150) -> int:
    t0 = time.time()
    while (n := threads(pid)) > at_most and time.time() - t0 < timeout_s:
        time.sleep(0.5)
    return n


def test_live_meter_says_no_speech_then_an_emotion_and_leaves_nothing_running(live_server, mic_browser, shots):
    context, page, start = open_live(mic_browser, live_server["url"])
    page.wait_for_timeout(1000)
    baseline = threads(live_server["pid"])
    start.click()
    seen = readings_seen(page)
    answers = [v for v in seen if "listening" not in v]
    assert answers and answers[0].endswith("no speech detected"), seen  # the microphone starts with silence
    assert answers[-1].endswith(EMOTIONS), seen  # then the clip: an emotion
    page.locator(".js-plotly-plot").first.wait_for()  # the last 30 seconds' chart
    page.screenshot(path=str(shots / "predict-live.png"), full_page=True)
    assert page.locator(EXCEPTION).count() == 0
    assert threads(live_server["pid"]) > baseline  # the stream and the meter run in threads of their own
    page.get_by_role("button", name="📸 Keep this moment").last.click()  # (a refresh may be drawing a new one)
    page.get_by_text("Kept moment").wait_for()
    assert page.locator("audio").count() >= 1
    context.close()  # the tab closes without pressing Stop: the server notices the stream is gone
    left = wait_threads(live_server["pid"], baseline)
    assert left <= baseline, f"{left} threads left running, {baseline} before the stream"


def test_two_pages_live_at_once_both_show_readings(live_server, mic_browser):
    windows = [open_live(mic_browser, live_server["url"]) for _ in range(2)]
    windows[0][1].wait_for_timeout(1000)
    baseline = threads(live_server["pid"])
    for _, _, start in windows:
        start.click()
    for _, page, _ in windows:
        seen = readings_seen(page)
        assert seen[-1].endswith(EMOTIONS), seen
        assert page.locator(EXCEPTION).count() == 0
    first = windows[0][1]
    first.frame_locator('iframe[title*="streamlit_webrtc"]').get_by_role("button", name="Stop").click()
    expect(first.locator(METRIC)).to_have_count(0, timeout=60_000)  # stopped: no meter drawn
    seen = readings_seen(windows[1][1], until_emotion=False, timeout_s=40)  # the other goes on: 10 s silence, 4 s clip
    assert any(v.endswith("no speech detected") for v in seen) and any(v.endswith(EMOTIONS) for v in seen), seen
    for context, _, _ in windows:
        context.close()
    left = wait_threads(live_server["pid"], baseline)
    assert left <= baseline, f"{left} threads left running, {baseline} before the streams"
