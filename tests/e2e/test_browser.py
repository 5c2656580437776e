"""Five flows a person does in the browser, each checked for what they would see."""

import re
import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.conftest import DEMO, RAVDESS, make_subset

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
    """Open a page from the sidebar, once the current run is over.

    A click during a run can lose the race with it: when a training finishes, the Train page
    reruns itself in full, and a run of the Train page started after the click's navigation
    takes the address back to /train (CI failed once so, waiting for /predict)."""
    settle(page)
    page.get_by_role("link", name=title).first.click()
    try:
        page.wait_for_url(f"**{URL[title]}", timeout=30_000)
    except PlaywrightTimeout:  # the click lost that race after all: a person would click again
        settle(page)
        page.get_by_role("link", name=title).first.click()
        page.wait_for_url(f"**{URL[title]}")
    settle(page)


def start_training(page, *, run: str, epochs: int, patience: int) -> None:
    """On the Train page: the quick preset with these epochs and patience, named ``run``, started."""
    page.locator('input[aria-label="Epochs (at most)"]').fill(str(epochs))
    page.locator('input[aria-label="Early-stopping patience (epochs)"]').fill(str(patience))
    page.locator('input[aria-label="Run name"]').fill(run)
    preset = page.locator('[data-testid="stSelectbox"]').filter(has_text="Model preset")
    preset.click()
    page.get_by_role("option", name="Quick").click()
    page.get_by_role("button", name="Start training").click()


def test_every_page_loads_without_exception(page, shots):
    for title in ("Augmentations", "Train", "Evaluate", "Predict", "Dataset"):
        go(page, title)
        page.get_by_role("heading", name=title if title != "Predict" else "Predict emotion").first.wait_for()
        settle(page)
        if title == "Augmentations":  # the original and its eleven conditions, each playable
            page.get_by_text("A random recording").wait_for()
            page.locator("audio").nth(11).wait_for(state="attached")
        if title == "Evaluate":  # the shipped model's robustness chart, on first launch
            page.get_by_text("On a phone line this model is right").first.wait_for()
        assert page.locator(EXCEPTION).count() == 0, f"exception on {title}"
        page.screenshot(path=str(shots / f"page-{title.lower()}.png"), full_page=True)


def test_dataset_clip_playback_and_spectrogram(page, shots):
    page.get_by_text("Clips per emotion").first.wait_for()
    page.get_by_text("Mel spectrogram").first.wait_for()  # the first clip is drawn: the run is over
    settle(page)
    emotion_filter = page.locator('[data-testid="stMultiSelect"]').first.locator("input")
    emotion_filter.click()
    emotion_filter.fill("angry")
    page.get_by_role("option", name="angry").click()
    page.keyboard.press("Escape")
    settle(page)
    page.get_by_text("16 of 118 usable clips").wait_for()  # 12 RAVDESS and 4 nEMO
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
    bars = page.locator(".js-plotly-plot").first.locator(".bars .point")  # the probabilities: the first chart
    bars.nth(7).wait_for()
    assert bars.count() == 8, bars.count()
    page.get_by_text("Which seconds made it").first.wait_for()  # then why
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
    probabilities = page.locator(".js-plotly-plot").first.locator(".bars .point")
    probabilities.nth(7).wait_for()
    page.get_by_text("Which seconds made it").first.wait_for()  # a recording is explained too
    settle(page)
    assert probabilities.count() == 8
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


def test_train_progress_survives_leaving_and_appears_in_evaluate(page, shots, app_server, tmp_path):
    subset = make_subset(RAVDESS, tmp_path / "tiny", speakers=[f"Actor_{i:02d}" for i in range(1, 7)],
                         per_emotion=2)
    go(page, "Train")
    page.get_by_text("Use another folder").click()
    folder = page.get_by_label("Folder with an all_labels.csv (or the CSV itself)")
    folder.fill(str(subset.parent))
    folder.press("Enter")  # commit the text before the button reruns the page
    settle(page)
    page.get_by_role("button", name="Add dataset").click()
    settle(page)
    expect(page.locator('input[aria-label="Dataset to train on"]')).to_have_value(str(subset.resolve()))
    start_training(page, run="e2e-run", epochs=150, patience=150)
    page.get_by_text("Run “e2e-run” — running").wait_for(timeout=60_000)
    page.locator('[data-testid="stProgress"]').first.wait_for()
    page.get_by_text(re.compile(r"Epoch \d+ of at most")).first.wait_for(timeout=180_000)
    page.get_by_text("Loss (lower is better)").first.wait_for(timeout=60_000)
    page.get_by_text("Run “e2e-run” — running").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "train-running.png"))
    first = int(page.get_by_text("of at most").first.inner_text().split()[1])
    go(page, "Dataset")
    page.wait_for_timeout(3000)
    go(page, "Train")
    page.get_by_text("Run “e2e-run” —").wait_for()
    page.get_by_text("of at most").first.wait_for()
    later = int(page.get_by_text("of at most").first.inner_text().split()[1])
    assert later > first, (first, later)  # the run went on while the page was closed
    page.get_by_text("Run “e2e-run” — done").wait_for(timeout=300_000)
    page.get_by_text("Run “e2e-run” — done").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "train-done.png"))
    page.get_by_text("Open the report").click()
    page.get_by_role("heading", name="Evaluate").first.wait_for()
    settle(page)
    expect(page.locator('input[aria-label="Run"]')).to_have_value("e2e-run")
    page.get_by_role("heading", name="Confusion matrix").wait_for()
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(shots / "evaluate-e2e-run.png"), full_page=True)
    assert (app_server["models"] / "e2e-run" / "model.keras").is_file()
