"""Bringing your own voices, in the browser only: a zip of clips to a trained model and a prediction,
recording labelled clips with the microphone, and the stakeholders' report opened offline."""

import re
import zipfile

import pandas as pd
from playwright.sync_api import expect

from tests.conftest import DEMO
from tests.e2e.test_browser import EXCEPTION, go, settle, start_training


def folders_zip(path) -> None:
    """Demo clips as a person would zip them: one folder per emotion, a sub-folder per speaker."""
    labels = pd.read_csv(DEMO / "all_labels.csv")
    labels = labels[labels.path.str.endswith(".wav")]  # the demo's RAVDESS clips: 4 speakers
    with zipfile.ZipFile(path, "w") as z:
        for (emo, spk), rows in labels.groupby(["emotion", "speaker"]):
            for p in rows.path[:2]:
                z.write(DEMO / p, f"our clips/{emo.capitalize()}/{spk}/{p.split('/')[-1]}")


def test_a_zip_of_clips_becomes_a_dataset_a_model_and_a_prediction(page, shots, app_server, tmp_path):
    zip_path = tmp_path / "our clips.zip"
    folders_zip(zip_path)
    page.get_by_text("New dataset from files", exact=True).click()
    page.get_by_role("heading", name="New dataset from files").wait_for()
    settle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(zip_path))
    page.get_by_text("Preview").first.wait_for()
    page.get_by_text("A folder level").click()
    settle(page)
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Clips to save")).to_contain_text("64")
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Speakers")).to_contain_text("4")
    name = page.locator('input[aria-label="Dataset name"]')
    name.fill("e2e-zip")
    name.press("Enter")
    settle(page)
    page.screenshot(path=str(shots / "dataset-upload-preview.png"), full_page=True)
    assert not (app_server["datasets"] / "e2e-zip").exists()  # nothing saved before Save
    page.get_by_role("button", name="Save dataset").click()
    page.get_by_text("Saved 64 clips").wait_for()
    saved = app_server["datasets"] / "e2e-zip" / "all_labels.csv"
    assert len(pd.read_csv(saved)) == 64
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Clips").first).to_contain_text("64")

    go(page, "Train")  # the new dataset is the one picked
    expect(page.locator('input[aria-label="Dataset to train on"]')).to_have_value(str(saved))
    start_training(page, run="e2e-zip-run", epochs=3, patience=3)
    page.get_by_text("Run “e2e-zip-run” — done").wait_for(timeout=300_000)
    assert (app_server["models"] / "e2e-zip-run" / "model.onnx").is_file()

    go(page, "Predict")
    model = page.locator('[data-testid="stSelectbox"]').filter(has_text="Model")
    model.click()
    page.get_by_role("option", name="e2e-zip-run").click()
    settle(page)
    page.get_by_text("Runs on ONNX Runtime").wait_for()
    clip = next((DEMO / "Actor_18").glob("*.wav"))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(clip))
    page.get_by_text("Predicted emotion").first.wait_for()
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(shots / "predict-own-model.png"), full_page=True)


def test_recording_two_labelled_clips_with_the_microphone(page, shots, app_server):
    page.get_by_text("Record clips", exact=True).click()
    page.get_by_role("heading", name="Record clips").wait_for()
    settle(page)
    dataset = page.locator('input[aria-label="Dataset"]')
    dataset.fill("e2e-voices")
    dataset.press("Enter")
    speaker = page.locator('input[aria-label="Speaker"]')
    speaker.fill("anna")
    speaker.press("Enter")
    settle(page)
    for emotion, n in (("happy", 1), ("sad", 2)):
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Emotion").click()
        page.get_by_role("option", name=emotion, exact=True).click()
        settle(page)
        box = page.locator('[data-testid="stAudioInput"]')
        box.get_by_role("button", name="Record").click()
        page.wait_for_timeout(2500)
        box.get_by_role("button", name="Stop recording").click()
        page.get_by_role("button", name="Keep").wait_for()
        settle(page)
        page.get_by_role("button", name="Keep").click()
        page.get_by_text(f"Kept anna/{emotion}/anna_{emotion}_001.wav").wait_for()
        page.get_by_text(f"{n} clips in “e2e-voices”").wait_for()
    settle(page)
    table = page.locator('[data-testid="stDataFrame"]').last
    expect(table).to_contain_text("anna/happy/anna_happy_001.wav")
    expect(table).to_contain_text("anna/sad/anna_sad_001.wav")
    page.screenshot(path=str(shots / "dataset-record.png"), full_page=True)
    labels = pd.read_csv(app_server["datasets"] / "e2e-voices" / "all_labels.csv")
    assert list(labels.emotion) == ["happy", "sad"] and set(labels.speaker) == {"anna"}
    assert page.locator(EXCEPTION).count() == 0


def test_the_report_downloads_and_opens_offline_with_its_charts(page, shots, browser, tmp_path):
    go(page, "Evaluate")
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name=re.compile("Download report")).click()
    report = tmp_path / "report.html"
    download.value.save_as(report)
    context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
    fetched = []
    context.route(re.compile(r"^(https?|wss?)://"), lambda route: (fetched.append(route.request.url), route.abort()))
    errors = []
    offline = context.new_page()
    offline.on("pageerror", lambda exc: errors.append(str(exc)))
    offline.goto(report.as_uri())
    for heading in ("Model card", "Scores on the held-out test speakers", "Training curves",
                    "Robustness to recording conditions", "Misclassified test clips", "Known limitations"):
        expect(offline.get_by_role("heading", name=heading)).to_be_visible()
    charts = offline.locator(".js-plotly-plot .main-svg")
    charts.first.wait_for()
    assert offline.locator(".js-plotly-plot").count() == 5
    assert offline.locator(".js-plotly-plot .heatmaplayer, .js-plotly-plot .hm").count() >= 1  # the confusion
    assert offline.locator(".js-plotly-plot .bars .point").count() >= 8
    assert offline.locator("audio").count() == 4
    assert fetched == [] and errors == []
    offline.screenshot(path=str(shots / "report.png"), full_page=True)
    context.close()
