"""The live meter's latency and CPU (issue 21, item 1): ``python -m benchmarks.live [--quick]``.

What is measured, on real clips (demo clips of test speakers, each followed by a pause) streamed as a
browser streams them: 20 ms chunks at 48 kHz stereo, fed at real time (each chunk when its time comes).

* ``meter``: one :class:`ser.serving.live.LiveMeter` in this process, as the server runs it.
  ``answer_p50_s`` / ``answer_p95_s``: from the arrival of a window's last chunk to its answer
  (``Reading.latency_s``). ``page_p50_s`` / ``page_p95_s``: from the same instant until the page shows
  the answer: the Live tab's fragment reads the meter every ``REFRESH_S`` at a phase of its own, so each
  answer waits for the next refresh after it (computed from the measured answer times, for ten phases
  a tenth of ``REFRESH_S`` apart), then the time to draw it (the fragment's figure, ``draw_s``, measured
  here). The browser's own drawing and the network (localhost) are not in it.
  ``cpu_share``: this process's CPU time (every thread: the feeder, the meter's, ONNX Runtime's) over
  the wall time of the stream, in cores (0.25 = a quarter of one core); it includes resampling,
  the speech check and the model, not WebRTC's decoding.
* ``server`` (not with ``quick``, and only where Chromium is installed): the dashboard's own process
  while a Chromium tab streams the same audio from its fake microphone over WebRTC (Opus decoding,
  aiortc, the meter, the page's refreshes): its CPU time over wall time while streaming, less the same
  with the Live tab open but not streaming (``idle_share``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BROWSER_SR = 48_000
CHUNK = 960  # 20 ms
PAUSE_S = 1.5
CLIPS = ("Actor_19/03-01-05-02-01-01-19.wav", "Actor_06/03-01-03-02-01-01-06.wav",
         "Actor_12/03-01-04-01-01-01-12.wav", "Actor_18/03-01-01-01-01-01-18.wav")

__all__ = ["bench_live", "stream_audio"]


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


def stream_audio(seconds: float, *, sr: int = 16_000) -> np.ndarray:
    """``seconds`` of demo clips (test speakers) each followed by ``PAUSE_S`` of silence, looped, shape (n,)."""
    import soundfile as sf

    demo = REPO / "data" / "demo"
    parts = []
    for name in CLIPS:
        y, clip_sr = sf.read(demo / name, dtype="float32")
        assert clip_sr == sr, f"{name}: {clip_sr} Hz"
        parts += [y, np.zeros(int(PAUSE_S * sr), np.float32)]
    one = np.concatenate(parts)
    return np.tile(one, int(np.ceil(seconds * sr / one.size)))[:int(seconds * sr)]


def _bench_meter(model_dir: Path, seconds: float) -> dict:
    from pages._ui.live import REFRESH_S, live_figure
    from ser.audio.dsp import resample
    from ser.serving.live import LiveMeter
    from ser.serving.predict import Predictor

    predictor = Predictor.load(model_dir, runtime="onnx")
    y = resample(stream_audio(seconds), orig_sr=16_000, target_sr=BROWSER_SR)
    stereo = np.stack([y, y], axis=1)
    predictor.predict(stream_audio(3.0), sr=16_000)  # warm: the sessions are loaded before the clock starts
    meter = LiveMeter(predictor)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for k, s in enumerate(range(0, len(stereo), CHUNK)):
        due = wall0 + k * CHUNK / BROWSER_SR
        if (wait := due - time.perf_counter()) > 0:
            time.sleep(wait)
        meter.feed(stereo[s:s + CHUNK], sr=BROWSER_SR)
    time.sleep(0.3)  # the last answer
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    readings = meter.readings()
    meter.close()
    draws = []
    for _ in range(20):
        t0 = time.perf_counter()
        live_figure(readings, predictor.emotions, now_s=readings[-1].time_s).to_plotly_json()
        draws.append(time.perf_counter() - t0)
    draw_s = _pct(draws, 50)
    answer = [r.latency_s for r in readings]
    page = []  # the page refreshes every REFRESH_S at a phase of its own: every phase, a tenth of it apart
    for phase in np.arange(10) * REFRESH_S / 10:
        for r in readings:
            shown = wall0 + phase + np.ceil((r.answered_at - wall0 - phase) / REFRESH_S) * REFRESH_S
            page.append(shown + draw_s - (r.answered_at - r.latency_s))
    return {"seconds": round(seconds, 1), "readings": len(readings), "skipped": meter.skipped,
            "speech_share": round(float(np.mean([r.emotion is not None for r in readings])), 2),
            "answer_p50_s": round(_pct(answer, 50), 3), "answer_p95_s": round(_pct(answer, 95), 3),
            "refresh_s": REFRESH_S, "draw_s": round(draw_s, 4), "page_p50_s": round(_pct(page, 50), 3),
            "page_p95_s": round(_pct(page, 95), 3), "cpu_share": round(cpu / wall, 3)}


def _cpu_s(pid: int) -> float:
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _bench_server(model_dir: Path, seconds: float) -> dict:
    import soundfile as sf
    from playwright.sync_api import sync_playwright

    from benchmarks.launch import launch_chromium, streamlit_app

    root = Path(tempfile.mkdtemp(prefix="ser-live-bench-"))
    try:
        (root / "models").mkdir()
        shutil.copytree(model_dir, root / "models" / "default")
        wav = root / "mic.wav"
        sf.write(wav, stream_audio(30.0), 16_000, subtype="PCM_16")
        env = {"SER_MODELS_DIR": str(root / "models"), "SER_DATASETS_DIR": str(root / "datasets"),
               "SER_DATA_ROOTS": str(root)}
        with open(root / "streamlit.log", "wb") as log, streamlit_app(env=env, log=log) as app, \
                sync_playwright() as p:
            pid = app["process"].pid
            browser = launch_chromium(p, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                      f"--use-file-for-fake-audio-capture={wav}")
            page = browser.new_context(permissions=["microphone"]).new_page()
            page.set_default_timeout(90_000)
            page.goto(f"{app['url']}/predict")
            page.get_by_role("tab", name="Live").click()
            start = page.frame_locator('iframe[title*="streamlit_webrtc"]').get_by_role("button",
                                                                                      name="Start listening")
            start.wait_for()
            page.wait_for_timeout(2000)
            shares = {}
            for phase in ("idle", "streaming"):
                if phase == "streaming":
                    start.click()
                    page.locator('[data-testid="stMetricValue"]').first.wait_for()
                    page.wait_for_timeout(2000)
                wall0, cpu0 = time.perf_counter(), _cpu_s(pid)
                page.wait_for_timeout(seconds * 1000)
                shares[phase] = (_cpu_s(pid) - cpu0) / (time.perf_counter() - wall0)
            browser.close()
        return {"seconds": seconds, "idle_share": round(shares["idle"], 3),
                "streaming_share": round(shares["streaming"], 3),
                "session_share": round(shares["streaming"] - shares["idle"], 3)}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def bench_live(quick: bool, *, model_dir: str | Path | None = None) -> dict:
    """The live meter's latency and CPU (see the module's docstring for what each number is).

    Parameters
    ----------
    quick : bool
        10 s of streamed audio and no browser, instead of 30 s and the dashboard with Chromium.

    Returns
    -------
    dict with ``meter`` (and, not quick and with Chromium, ``server``), plus the targets
    """
    from benchmarks.launch import CHROMIUM

    model_dir = Path(model_dir or REPO / "models" / "default")
    out = {"meter": _bench_meter(model_dir, 10.0 if quick else 30.0),
           "targets": {"page_p95_s": 0.5, "cpu_share": 0.25}}
    if not quick and CHROMIUM.is_file():
        out["server"] = _bench_server(model_dir, 20.0)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 s of audio, no browser")
    ap.add_argument("--model", default=str(REPO / "models" / "default"))
    a = ap.parse_args(argv)
    print(json.dumps(bench_live(a.quick, model_dir=a.model), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
