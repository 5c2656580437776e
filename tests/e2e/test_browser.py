"""Five flows a person does in the browser, each checked for what they would see."""

import time

from tests.conftest import DEMO

EXCEPTION = '[data-testid="stException"]'


def settle(page, timeout_s: float = 60) -> None:
    """Wait until Streamlit has finished the current run."""
    page.wait_for_timeout(300)
    t0 = time.time()
    while page.locator('[data-testid="stStatusWidget"]').count() and time.time() - t0 < timeout_s:
        page.wait_for_timeout(200)


URL = {"Dataset": "/", "Augmentations": "/augment", "Train": "/train", "Evaluate": "/evaluate",
       "Predict": "/predict"}


def go(page, title: str) -> None:
    page.get_by_role("link", name=title).first.click()
    page.wait_for_url(f"**{URL[title]}")
    settle(page)


def test_every_page_loads_without_exception(page, shots):
    for title in ("Augmentations", "Train", "Evaluate", "Predict", "Dataset"):
        go(page, title)
        page.get_by_role("heading", name=title if title != "Predict" else "Predict emotion").first.wait_for()
        settle(page)
        assert page.locator(EXCEPTION).count() == 0, f"exception on {title}"
        page.screenshot(path=str(shots / f"page-{title.lower()}.png"), full_page=True)


def test_dataset_clip_playback_and_spectrogram(page, shots):
    page.get_by_text("Clips per emotion").first.wait_for()
    page.locator('[data-testid="stMultiSelect"]').first.click()
    page.get_by_role("option", name="angry").click()
    page.keyboard.press("Escape")
    settle(page)
    page.get_by_text("12 of 96 usable clips").wait_for()
    heading = page.get_by_role("heading", name="🎧").first
    heading.wait_for()
    assert page.get_by_text("Emotion angry").count() >= 1
    assert page.locator("audio").count() >= 1
    page.get_by_text("Mel spectrogram").first.wait_for()
    page.screenshot(path=str(shots / "dataset-clip.png"), full_page=True)
    assert page.locator(EXCEPTION).count() == 0


def test_predict_upload_real_clip_and_bad_file(page, shots, tmp_path):
    go(page, "Predict")
    clip = DEMO / "Actor_06" / "03-01-03-02-01-01-06.wav"
    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(str(clip))
    page.get_by_text("Predicted emotion").first.wait_for()
    settle(page)
    bars = page.locator(".js-plotly-plot .bars .point")
    bars.nth(7).wait_for()
    assert bars.count() == 8, bars.count()
    page.screenshot(path=str(shots / "predict-upload.png"), full_page=True)
    bad = tmp_path / "notes.wav"
    bad.write_text("this is a text file, not audio")
    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(str(bad))
    page.get_by_text("not a readable audio file").first.wait_for()
    assert page.locator(EXCEPTION).count() == 0
    assert page.get_by_text("Traceback").count() == 0
    page.screenshot(path=str(shots / "predict-bad-file.png"), full_page=True)


def test_predict_record_with_each_recorder(page, shots):
    go(page, "Predict")
    page.get_by_role("tab", name="Record").click()
    box = page.locator('[data-testid="stAudioInput"]')
    box.get_by_role("button", name="Record").click()
    page.wait_for_timeout(3500)
    box.get_by_role("button", name="Stop recording").click()
    page.get_by_text("Predicted emotion").first.wait_for()
    page.locator(".js-plotly-plot .bars .point").nth(7).wait_for()
    settle(page)
    assert page.locator(".js-plotly-plot .bars .point").count() == 8
    page.screenshot(path=str(shots / "predict-record-builtin.png"), full_page=True)

    page.get_by_text("Hands-free recorder").click()
    settle(page)
    frame = page.frame_locator('iframe[title="audio_recorder_streamlit.audio_recorder"]')
    mic = frame.locator("svg.fa-microphone")
    mic.wait_for()
    mic.click()
    page.wait_for_timeout(3500)
    mic.click()  # stop (it may also stop by itself on silence)
    page.get_by_text("recording.wav").first.wait_for()
    page.get_by_text("Predicted emotion").first.wait_for()
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(shots / "predict-record-handsfree.png"), full_page=True)
