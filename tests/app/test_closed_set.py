"""Closed-set answers on the pages (issue 19 part 3): "Answer among" on Predict and on Evaluate's other folder."""

import json

import pandas as pd

from tests.app.test_app import no_exception, open_app, plain
from tests.conftest import DEFAULT_MODEL, DEMO

CALL_CENTRE = ["neutral", "happy", "sad", "angry"]


def _bars(at) -> list[dict]:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return [s["data"][0] for s in specs if s["data"] and s["data"][0].get("type") == "bar"
            and not s["layout"].get("title", {}).get("text", "").startswith("Which")]


def _calm_clip():
    """A demo clip the shipped model calls calm: outside the call-centre set."""
    preds = pd.read_csv(DEFAULT_MODEL / "predictions.csv")
    demo = set(pd.read_csv(DEMO / "all_labels.csv").path)
    ok = preds[(preds.true == "calm") & (preds.predicted == "calm") & preds.path.isin(demo)]
    return DEMO / ok.sort_values("calm", ascending=False).path.iloc[0]


def test_predict_answers_among_all_emotions_by_default():
    at = open_app("pages/predict.py")
    no_exception(at)
    among = at.multiselect(key="p_answer_among")
    assert among.label == "Answer among" and among.value == list(json.loads((DEFAULT_MODEL / "config.json")
                                                                             .read_text())["emotions"])


def test_predict_upload_and_recording_answer_among_the_chosen_emotions_only():
    clip = _calm_clip()
    at = open_app("pages/predict.py")
    at.multiselect(key="p_answer_among").set_value(["sad", "angry", "happy", "neutral"]).run()
    at.file_uploader(key="uploads").set_value((clip.name, clip.read_bytes(), "audio/wav")).run()
    no_exception(at)
    assert not at.error
    bars = _bars(at)
    assert bars and list(bars[0]["x"]) == CALL_CENTRE and abs(sum(bars[0]["y"]) - 1) < 1e-3
    emotion = next(m.value for m in at.metric if m.label == "Predicted emotion").split()[-1]
    assert emotion in CALL_CENTRE  # the open answer is calm
    assert any(c.value.startswith("No explanation: among all its emotions the model would answer “calm”")
               for c in at.caption)  # the explanation of "calm" is not shown as one of the restricted answer
    at.switch_page("pages/dataset.py").run()  # the choice survives a page switch
    at.switch_page("pages/predict.py").run()
    assert sorted(at.multiselect(key="p_answer_among").value) == sorted(CALL_CENTRE)
    at.audio_input(key="mic").set_value(("recording.wav", clip.read_bytes(), "audio/wav")).run()
    no_exception(at)
    assert next(m.value for m in at.metric if m.label == "Predicted emotion").split()[-1] in CALL_CENTRE
    assert list(_bars(at)[0]["x"]) == CALL_CENTRE


def test_predict_with_fewer_than_two_emotions_says_so_in_one_line_and_predicts_nothing():
    clip = _calm_clip()
    at = open_app("pages/predict.py")
    at.multiselect(key="p_answer_among").set_value(["sad"]).run()
    at.file_uploader(key="uploads").set_value((clip.name, clip.read_bytes(), "audio/wav")).run()
    no_exception(at)
    errors = [plain(e.value) for e in at.error]
    assert len(errors) == 1 and "sad is one emotion only; an answer needs at least two" in errors[0]
    assert "\n" not in errors[0]
    assert not any(m.label == "Predicted emotion" for m in at.metric)
    at.multiselect(key="p_answer_among").set_value([]).run()
    assert ["none is one emotion only" in plain(e.value) for e in at.error] == [True]


def test_evaluate_another_folder_among_chosen_emotions(tmp_path, monkeypatch):
    monkeypatch.setenv("SER_CACHE_DIR", str(tmp_path / "cache" / "features"))
    at = open_app("pages/evaluate.py")
    no_exception(at)
    among = at.multiselect(key="p_ev_answer_among")
    assert among.label == "Answer among" and len(among.value) == 8
    among.set_value(["angry", "sad"]).run()
    next(b for b in at.button if b.label == "Evaluate").click().run()  # the demo clips: 12 angry, 12 sad
    no_exception(at)
    done = [s.value for s in at.success if s.value.startswith("Accuracy")]
    assert done and "on 32 clips" in done[0] and "answers among sad, angry" in plain(done[0])
    at.multiselect(key="p_ev_answer_among").set_value(["angry"]).run()
    next(b for b in at.button if b.label == "Evaluate").click().run()
    assert any("angry is one emotion only" in plain(e.value) for e in at.error)
