"""Issue 21's corrections and personal model in a real browser: four predictions corrected into a dataset,
a personal model made from them on the Tune tab, shown and removed on the Evaluate page."""

from __future__ import annotations

import csv

import pandas as pd
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import RAVDESS
from tests.e2e.test_browser import EXCEPTION, go, settle

SPEAKER = "Actor_01"  # a training speaker of models/default, never a test speaker


def _clips() -> dict[str, list]:
    frame = pd.read_csv(RAVDESS / "all_labels.csv")
    mine = frame[frame.speaker == SPEAKER]
    return {e: [RAVDESS / p for p in mine[mine.emotion == e].path[:2]] for e in ("happy", "sad")}


def choose(page, select, option: str) -> None:
    """Pick ``option`` in the selectbox ``select`` (a click that lands during a rerun is tried again, as a
    person would)."""
    for _ in range(3):
        select.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            settle(page)
    raise AssertionError(f"could not choose {option!r}")


def test_correct_four_predictions_tune_a_model_and_remove_it(page, shots, app_server):
    try:
        _flow(page, shots, app_server)
    except Exception:
        page.screenshot(path=str(shots / "DEBUG-fail.png"), full_page=True)
        raise


def _flow(page, shots, app_server):
    clips = _clips()
    go(page, "Predict")
    files = [c for cs in clips.values() for c in cs]
    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files([str(c) for c in files])
    page.get_by_text("All uploads").wait_for()
    settle(page)
    for emotion, cs in clips.items():
        for clip in cs:
            box = page.locator('[data-testid="stExpander"]').filter(has_text="That's not right").nth(files.index(clip))
            box.get_by_text("That's not right").click()
            settle(page)
            choose(page, box.locator('[data-testid="stSelectbox"]').filter(has_text="It really was"), emotion)
            settle(page)
            speaker = box.get_by_role("textbox", name="Speaker")
            if speaker.input_value() != "anna":
                speaker.fill("anna")
                speaker.press("Enter")
                settle(page)
            box.get_by_role("button", name="Save correction").click()
            box.get_by_text(f"as {emotion} in “my-corrections”").wait_for()
            settle(page)
    page.screenshot(path=str(shots / "predict-correction.png"), full_page=True)
    labels = app_server["datasets"] / "my-corrections" / "all_labels.csv"
    with open(labels, newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["emotion"], r["speaker"]) for r in rows) == [("happy", "anna")] * 2 + [("sad", "anna")] * 2

    page.get_by_role("tab", name="Tune to my voice").click()
    panel = page.get_by_role("tabpanel").filter(has_text="Name of your model")
    panel.get_by_role("button", name="Make my model").wait_for()
    settle(page)
    page.screenshot(path=str(shots / "predict-tune.png"), full_page=True)
    panel.get_by_role("button", name="Make my model").click()
    made = page.get_by_text("Made the personal model “default-anna” from 4 clips of anna")
    made.wait_for(timeout=180_000)
    assert made.is_visible()  # the Tune tab is still the one shown after the page reran
    settle(page)
    page.screenshot(path=str(shots / "predict-tuned.png"), full_page=True)
    model = app_server["models"] / "default-anna"
    assert (model / "adapted.json").is_file()
    assert page.locator(EXCEPTION).count() == 0

    go(page, "Evaluate")
    page.get_by_role("heading", name="Personal model of anna").wait_for()
    page.screenshot(path=str(shots / "evaluate-personal.png"), full_page=True)
    page.get_by_text("Yes, remove").click()
    settle(page)
    page.get_by_role("button", name="Remove this personal model").click()
    page.get_by_role("heading", name="Confusion matrix").wait_for()  # back on the shipped model's report
    settle(page)
    assert not model.exists()
    assert page.locator(EXCEPTION).count() == 0
