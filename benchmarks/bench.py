"""Benchmark: ``python -m benchmarks.bench [--quick] [--labels CSV]``.

Measures, side by side in one run on real clips: feature extraction against the
separate-librosa-calls way, a cold-cache extraction with augmentation against its compute floor,
training step cost of the ``seed`` and ``default`` presets, prediction with the ONNX export against
Keras (cold CLI, load, memory, warm latency), and the dashboard's first page against a bare
Streamlit page, and the peak memory of the Dataset page browsing a 60-minute FLAC, the live meter's latency and CPU
(:mod:`benchmarks.live`) and the time to make a personal model (:mod:`benchmarks.adaptation`). Prints a markdown
table and writes JSON. Each training preset runs in its own process, so that peak memory
is its own.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


def bench_features(paths: list[str]) -> dict:
    from ser.audio.reader import finish_audio, read_audio
    from ser.config import Config
    from ser.features.clips import ClipTask
    from ser.features.engine import extract_many
    from ser.features.extract import extract_features
    from ser.features.reference import extract_features_reference

    ys = [finish_audio(read_audio(p)) for p in paths]
    sr = 16_000
    extract_features(ys[0], sr=sr)
    extract_features_reference(ys[0], sr=sr, chroma_tuning=None)  # warm up caches and numba
    fast, seed_way, same = [], [], []
    max_diff = 0.0
    for y in ys:
        t = time.perf_counter()
        a = extract_features(y, sr=sr)
        fast.append(time.perf_counter() - t)
        t = time.perf_counter()
        extract_features_reference(y, sr=sr, chroma_tuning=None)
        seed_way.append(time.perf_counter() - t)
        t = time.perf_counter()
        b = extract_features_reference(y, sr=sr)
        same.append(time.perf_counter() - t)
        max_diff = max(max_diff, float(np.max(np.abs(a - b))))
    out = {"clips": len(ys), "fast_median_ms": 1e3 * _pct(fast, 50), "fast_p95_ms": 1e3 * _pct(fast, 95),
           "separate_median_ms": 1e3 * _pct(seed_way, 50), "separate_p95_ms": 1e3 * _pct(seed_way, 95),
           "separate_same_settings_median_ms": 1e3 * _pct(same, 50), "max_abs_diff_same_settings": max_diff}
    out["speedup"] = out["separate_median_ms"] / out["fast_median_ms"]
    out["speedup_same_settings"] = out["separate_same_settings_median_ms"] / out["fast_median_ms"]
    with tempfile.TemporaryDirectory() as cache:
        tasks = [ClipTask(p) for p in paths]
        for label in ("cold", "warm"):
            t = time.perf_counter()
            extract_many(tasks, config=Config(), cache_dir=cache)
            out[f"folder_{label}_clips_per_s"] = len(tasks) / (time.perf_counter() - t)
    out["cores"] = os.cpu_count()
    return out


def bench_cold_extraction(labels_csv: str, *, n_clips: int | None, floor_clips: int = 200) -> dict:
    """A cold-cache extraction of training clips with augmentation (every version of
    ``ser.augment.training.VERSIONS``, babble from 24 other clips) on all cores, beside the compute floor: the
    same work done clip after clip in this process once warm (imports, JIT, babble clips loaded),
    on an even sample of ``floor_clips`` clips, times the number of cores."""
    from ser.augment.training import VERSIONS, babble_pools
    from ser.config import Config
    from ser.features.clips import ClipTask, clip_features
    from ser.features.engine import extract_many
    from ser.datasets.labels import read_labels

    labels = read_labels(labels_csv)
    if n_clips:
        labels = labels.iloc[:: max(1, len(labels) // n_clips)][:n_clips]
    paths, speakers = labels["abspath"].tolist(), labels["speaker"].tolist()
    config = Config()
    tasks = [ClipTask(p, VERSIONS, pool) for p, pool in zip(paths, babble_pools(paths, speakers, seed=0))]
    for task in tasks[:3]:
        clip_features(task, config=config, use_cache=False)
    sample = tasks[:: max(1, len(tasks) // floor_clips)]
    t = time.perf_counter()
    for task in sample:
        clip_features(task, config=config, use_cache=False)
    per_clip_s = (time.perf_counter() - t) / len(sample)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        extract_many(tasks, config=config, cache_dir=cache)
        wall = time.perf_counter() - t
    floor = cores / per_clip_s
    return {"labels": labels_csv, "clips": len(tasks), "versions": len(VERSIONS), "cores": cores,
            "floor_ms_per_clip": 1e3 * per_clip_s, "floor_clips_per_s": floor, "cold_s": wall,
            "cold_clips_per_s": len(tasks) / wall, "share_of_floor": len(tasks) / wall / floor}


def _train_child(preset: str, steps: int, paths: list[str]) -> dict:
    """Run in a fresh process: seconds per training step of ``preset`` on batches of 64 real clips."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from ser.training import backend

    keras = backend.keras()

    from ser.config import Config, for_preset
    from ser.features.clips import ClipTask
    from ser.features.engine import extract_many
    from ser.training.model import build_model, compile_model

    feats = [r["original"] for r in extract_many([ClipTask(p) for p in paths], config=Config(), n_jobs=1)
             if isinstance(r, dict)]
    X = np.stack([feats[i % len(feats)] for i in range(64)])
    y = keras.utils.to_categorical(np.arange(64) % 8, 8)
    cfg = for_preset(preset)
    model = compile_model(build_model(preset, n_features=182, n_frames=X.shape[2], n_classes=8, train_features=X),
                          learning_rate=cfg.train.learning_rate)
    model.train_on_batch(X, y)  # graph tracing
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        model.train_on_batch(X, y)
        times.append(time.perf_counter() - t)
    step_s = float(np.median(times))
    steps_per_epoch = math.ceil(840 * 4 / 64)  # 1200 clips: 840 training clips x 4 versions
    return {"preset": preset, "params": int(model.count_params()), "steps_timed": steps, "step_s": step_s,
            "epoch_s_projected": step_s * steps_per_epoch, "steps_per_epoch": steps_per_epoch,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def bench_training(paths: list[str], *, quick: bool) -> dict:
    out = {}
    for preset, steps in (("default", 10 if quick else 30), ("seed", 2 if quick else 5)):
        cmd = [sys.executable, "-m", "benchmarks.bench", "--_train-child", preset, "--_steps", str(steps), "--_paths",
               json.dumps(paths[:16])]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
        if res.returncode != 0:
            raise RuntimeError(f"training benchmark of {preset} failed:\n{res.stderr[-2000:]}")
        out[preset] = json.loads(res.stdout.strip().splitlines()[-1])
    from ser.config import PRESET_TABLE

    out["seed_over_default"] = out["seed"]["step_s"] / out["default"]["step_s"]
    out["default_networks"] = PRESET_TABLE["default"].ensemble_size  # the preset trains this many, one after another
    out["seed_over_default_all_networks"] = out["seed_over_default"] / out["default_networks"]
    return out


def _predict_child(model_dir: str, path: str, runtime: str, calls: int) -> dict:
    """Run in a fresh process: import and load times of one runtime, then its warm latencies."""
    t = time.perf_counter()
    if runtime == "keras":
        from ser.training import backend

        backend.keras()
    else:
        importlib.import_module("onnxruntime")
    import_s = time.perf_counter() - t
    import soundfile as sf

    from ser.audio.dsp import fix_length, resample
    from ser.serving.predict import Predictor

    t = time.perf_counter()
    predictor = Predictor.load(model_dir, runtime=runtime)
    load_s = time.perf_counter() - t
    y, sr = sf.read(path, dtype="float32")
    y4 = fix_length(y, size=4 * sr)
    predictor.predict(y4, sr=sr)
    # a predictor keeps the scores of the signal it scored last (an explanation after a prediction reuses
    # them): each timed call gets its own inaudible dither (-120 dBFS), so every one does the whole work
    dither = np.random.default_rng(1)

    def fresh(y: np.ndarray) -> np.ndarray:
        return (y + 1e-6 * dither.standard_normal(y.shape)).astype(np.float32)

    lat = []
    for _ in range(calls):
        y_call = fresh(y4)
        t = time.perf_counter()
        predictor.predict(y_call, sr=sr)
        lat.append(time.perf_counter() - t)
    X = np.random.default_rng(0).normal(size=(1, *predictor.input_shape)).astype(np.float32)
    model_lat = []
    for _ in range(calls):
        t = time.perf_counter()
        predictor.predict_networks(X)
        model_lat.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as tmp:
        up = resample(y4, orig_sr=sr, target_sr=48_000)
        file_lat = []
        for k in range(max(10, calls // 5)):
            wav = Path(tmp) / f"stereo48k-{k}.wav"
            one = fresh(up)
            sf.write(wav, np.stack([one, one], axis=1), 48_000, subtype="FLOAT")
            t = time.perf_counter()
            predictor.predict_file(wav)
            file_lat.append(time.perf_counter() - t)
    from ser.serving.explain import explain

    explain(predictor, y4, sr=sr)
    explain_s = []
    for _ in range(3):
        t = time.perf_counter()
        explain(predictor, y4, sr=sr)
        explain_s.append(time.perf_counter() - t)
    return {"runtime": predictor.runtime, "import_s": import_s, "load_s": load_s, "calls": calls,
            "explain_4s_clip_s": float(np.median(explain_s)),
            "p50_ms": 1e3 * _pct(lat, 50), "p95_ms": 1e3 * _pct(lat, 95), "model_p50_ms": 1e3 * _pct(model_lat, 50),
            "file_48k_stereo_p50_ms": 1e3 * _pct(file_lat, 50), "file_48k_stereo_p95_ms": 1e3 * _pct(file_lat, 95),
            "tensorflow_imported": "tensorflow" in sys.modules}


# Run from a fresh, small interpreter: Linux records the memory peak of the process that spawned a
# child as the child's own (exec keeps the old address space's high-water mark), so a child of this
# benchmark, which has held hundreds of MB by then, would report at least that much.
_MEASURE = """
import json, os, sys, time
quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
t = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=quiet)
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"wall_s": time.perf_counter() - t, "peak_rss_mb": usage.ru_maxrss / 1024,
                  "code": os.waitstatus_to_exitcode(status)}))
"""


def _timed_child(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak resident memory (MB) and exit status of a command run in a fresh process."""
    res = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, check=True, cwd=REPO)
    out = json.loads(res.stdout)
    return out["wall_s"], out["peak_rss_mb"], out["code"]


def bench_prediction(model_dir: Path, path: str, *, calls: int, cold_runs: int = 3) -> dict:
    """Both runtimes side by side: a one-clip CLI prediction from a cold process (wall, peak memory),
    import and model load, and warm latencies. Keras is what prediction fell back to before the export."""
    out: dict = {"model": str(model_dir), "clip": path}
    for runtime in ("keras", "onnx"):
        cmd = [sys.executable, "-m", "ser", "predict", "--runtime", runtime, "--model", str(model_dir), path]
        _timed_child(cmd)  # once untimed: the files are in the page cache for both runtimes alike
        runs = [_timed_child(cmd) for _ in range(cold_runs)]
        if any(code != 0 for *_, code in runs):
            raise RuntimeError(f"{' '.join(cmd)} failed")
        children = []
        for _ in range(cold_runs):  # load times vary by ±20 % between processes: the median of three
            res = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--_predict-child", runtime, "--_model",
                                  str(model_dir), "--_paths", json.dumps([path]), "--_steps", str(calls)],
                                 capture_output=True, text=True, check=False, cwd=REPO)
            if res.returncode != 0:
                raise RuntimeError(f"prediction benchmark of {runtime} failed:\n{res.stderr[-2000:]}")
            children.append(json.loads(res.stdout.strip().splitlines()[-1]))
        middle = sorted(children, key=lambda c: c["load_s"])[len(children) // 2]
        out[runtime] = {**middle, "load_runs_s": [c["load_s"] for c in children],
                        "cli_cold_s": float(np.median([w for w, _, _ in runs])),
                        "cli_peak_rss_mb": float(np.median([m for _, m, _ in runs]))}
    k, o = out["keras"], out["onnx"]
    out["ratios"] = {"cli_cold": k["cli_cold_s"] / o["cli_cold_s"], "load": k["load_s"] / o["load_s"],
                     "import_and_load": (k["import_s"] + k["load_s"]) / (o["import_s"] + o["load_s"]),
                     "peak_rss": k["cli_peak_rss_mb"] / o["cli_peak_rss_mb"], "warm_p50": k["p50_ms"] / o["p50_ms"],
                     "model_p50": k["model_p50_ms"] / o["model_p50_ms"]}
    return out


def _tf_loaded(pid: int) -> bool:
    try:
        return "tensorflow" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def bench_app_start(timeout_s: float = 60, *, repeats: int = 3) -> dict:
    """Start-up of the dashboard, and of a bare one-title Streamlit app as the floor on this machine,
    alternately ``repeats`` times each after one untimed start of each (medians: single starts on 2
    cores vary by ±0.3 s)."""
    runs: dict[str, list[dict]] = {"bare": [], "app": []}
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text('import streamlit as st\nst.title("Dataset")\n')
        _app_start(bare, timeout_s), _app_start(REPO / "streamlit_app.py", timeout_s)  # files into the page cache
        for _ in range(repeats):
            runs["bare"].append(_app_start(bare, timeout_s))
            runs["app"].append(_app_start(REPO / "streamlit_app.py", timeout_s))

    def median(kind: str, key: str) -> float | None:
        values = [r[key] for r in runs[kind] if r.get(key) is not None]
        return float(np.median(values)) if values else None

    out = {"repeats": repeats, "measured": runs["app"][0]["measured"],
           "server_answering_s": median("app", "server_answering_s"), "first_page_s": median("app", "first_page_s"),
           "bare_streamlit_first_page_s": median("bare", "first_page_s"),
           "bare_streamlit_server_answering_s": median("bare", "server_answering_s"),
           "tensorflow_loaded": any(r["tensorflow_loaded"] for r in runs["app"])}
    if out["first_page_s"] is not None and out["bare_streamlit_first_page_s"] is not None:
        out["first_page_over_bare_s"] = out["first_page_s"] - out["bare_streamlit_first_page_s"]
    return out


def _app_start(script: Path, timeout_s: float) -> dict:
    """Seconds from ``streamlit run`` to the first page's heading drawn in Chromium (or, with no
    browser, to the server answering), and whether TensorFlow was loaded in the server by then.

    The browser is started before the clock, so its own start-up is not counted as the app's.
    """
    import contextlib

    from benchmarks.launch import CHROMIUM, launch_chromium, streamlit_app

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    with contextlib.ExitStack() as stack:
        page = None
        if CHROMIUM.is_file() and sync_playwright:
            browser = launch_chromium(stack.enter_context(sync_playwright()))
            stack.callback(browser.close)
            page = browser.new_page()
        t0 = time.perf_counter()
        app = stack.enter_context(streamlit_app(script, timeout_s=timeout_s, clock=t0))
        out = {"server_answering_s": app["answering_s"], "measured": "server"}
        if page is not None:
            page.goto(app["url"])
            page.get_by_role("heading", name="Dataset").first.wait_for(timeout=timeout_s * 1000)
            out["first_page_s"] = time.perf_counter() - t0
            out["measured"] = "browser"
        out["tensorflow_loaded"] = _tf_loaded(app["process"].pid)
        return out


# A fresh process draws the Dataset page's Browse view with AppTest and reports its own peak (VmHWM:
# reset by exec, unlike ru_maxrss) and what the page said about the clip.
_BROWSE = """
import json, re, sys, time
from pathlib import Path
t = time.perf_counter()
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=300)
at.run()
if sys.argv[2] != "-":
    at.selectbox(key="p_dataset").set_value(sys.argv[2]).run()
status = Path("/proc/self/status").read_text()
print(json.dumps({"peak_rss_mb": int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024,
                  "wall_s": time.perf_counter() - t, "errors": [e.value for e in at.error],
                  "exception": bool(at.exception), "audio_players": len(at.get("audio"))}))
"""


def _long_flac(path: Path, *, minutes: int, sr: int = 16_000) -> None:
    """A FLAC of ``minutes`` that is small on disk: silence with a seeded 1 s tone+noise blip each minute."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    t = np.arange(sr) / sr
    minute = np.zeros(60 * sr, np.float32)
    minute[:sr] = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(sr)
    with sf.SoundFile(path, "w", samplerate=sr, channels=1, format="FLAC", subtype="PCM_16") as f:
        for _ in range(minutes):
            f.write(minute)


def bench_long_clip_browse(minutes: int = 60) -> dict:
    """Peak memory of a fresh process drawing the Dataset page's Browse view of a dataset whose clip is
    a ``minutes``-long FLAC (refused from its header), against the same page on the demo clips."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "datasets" / "long"
        folder.mkdir(parents=True)
        _long_flac(folder / "long.flac", minutes=minutes)
        (folder / "all_labels.csv").write_text("path,emotion,speaker\nlong.flac,happy,ann\n")
        env = {**os.environ, "SER_DATASETS_DIR": str(folder.parent), "SER_MODELS_DIR": str(Path(tmp) / "models")}
        runs = {}
        for name, csv in (("demo", "-"), ("long", str(folder / "all_labels.csv"))):
            res = subprocess.run([sys.executable, "-c", _BROWSE, str(REPO / "streamlit_app.py"), csv], cwd=REPO,
                                 env=env, capture_output=True, text=True, check=False)
            if res.returncode != 0:
                raise RuntimeError(f"Browse benchmark on {name} failed:\n{res.stderr[-2000:]}")
            runs[name] = json.loads(res.stdout.strip().splitlines()[-1])
        flac_mb = (folder / "long.flac").stat().st_size / 2 ** 20
    long = runs["long"]
    return {"minutes": minutes, "flac_mb": flac_mb, "decoded_mb": minutes * 60 * 16_000 * 4 / 2 ** 20,
            "peak_rss_mb": long["peak_rss_mb"], "demo_peak_rss_mb": runs["demo"]["peak_rss_mb"],
            "wall_s": long["wall_s"], "shown": long["errors"], "traceback": long["exception"],
            "audio_players": long["audio_players"]}


def _speech_of(seconds: float, clips: list[np.ndarray], *, sr: int = 16_000, pause_s: float = 0.3) -> np.ndarray:
    """``seconds`` of real speech: the demo clips one after another, each followed by a short pause."""
    parts, n, i = [], 0, 0
    pause = np.zeros(int(pause_s * sr), np.float32)
    while n < seconds * sr:
        parts += [clips[i % len(clips)], pause]
        n += len(parts[-2]) + len(pause)
        i += 1
    return np.concatenate(parts)[:int(seconds * sr)]


def bench_explanation(model_dir: Path, *, lengths_s: tuple[float, ...] = (4, 30, 540)) -> dict:
    """What the Predict page's explanation of one upload costs (:func:`ser.serving.explain.explain`, its defaults) after
    the page's prediction of it (whose window scores it reuses), on uploads of demo clips strung together,
    beside that prediction."""
    import io

    import soundfile as sf

    from ser.audio.reader import read_audio
    from ser.serving.explain import explain
    from ser.serving.predict import Predictor

    predictor = Predictor.load(model_dir)
    clips = [read_audio(p).y for p in sorted((REPO / "data" / "demo").glob("*/*.wav"))]
    explain(predictor, clips[-1], sr=16_000)  # warm up (not on the audio timed below: its scores would be kept)
    out = {"runtime": predictor.runtime, "lengths": {}}
    for seconds in lengths_s:
        buf = io.BytesIO()
        sf.write(buf, _speech_of(seconds, clips), 16_000, format="WAV")
        y = read_audio(buf.getvalue(), config=predictor.config.audio).y  # as the page reads the upload
        t = time.perf_counter()
        predictor.predict(y, sr=16_000)  # the page shows the answer first, then explains it
        predict_s = time.perf_counter() - t
        t = time.perf_counter()
        e = explain(predictor, y, sr=16_000)
        explain_s = time.perf_counter() - t
        out["lengths"][f"{seconds:g}"] = {"explain_s": explain_s, "predict_s": predict_s, "stretches": len(e.importance),
                                          "segment_s": e.segment_s, "model_windows": e.n_windows,
                                          "complete": e.complete}
    return out


def table(r: dict) -> str:
    f, t, p, a = r.get("features"), r.get("training"), r.get("prediction"), r.get("app")
    rows = ["| what | measured | target |", "|---|---|---|"]
    if f:
        rows += [
            f"| features per clip, median (p95) | {f['fast_median_ms']:.2f} ms ({f['fast_p95_ms']:.2f}) | |",
            f"| separate librosa calls, median (p95) | {f['separate_median_ms']:.2f} ms ({f['separate_p95_ms']:.2f}) | |",
            f"| features speed-up | **{f['speedup']:.1f}×** ({f['speedup_same_settings']:.1f}× vs same settings) | ≥ 3× |",
            f"| max abs difference (same settings) | {f['max_abs_diff_same_settings']:.1e} | ≤ 1e-4 |",
            f"| folder extraction, {f['cores']} cores: cold / warm cache | {f['folder_cold_clips_per_s']:.0f} / "
            f"{f['folder_warm_clips_per_s']:.0f} clips/s | |"]
    c = r.get("extraction")
    if c:
        rows.append(f"| cold cache, {c['clips']} clips × {c['versions']} versions (augmented), {c['cores']} workers | "
                    f"{c['cold_clips_per_s']:.1f} clips/s against a floor of {c['floor_clips_per_s']:.1f} "
                    f"({c['floor_ms_per_clip']:.0f} ms a clip on one core): **{100 * c['share_of_floor']:.0f} %** | "
                    "≥ 70 % |")
    if t:
        for k in ("default", "seed"):
            rows.append(f"| `{k}`: step of 64 / epoch (1200 clips ×4) / peak memory | {t[k]['step_s']:.3f} s / "
                        f"{t[k]['epoch_s_projected']:.0f} s / {t[k]['peak_rss_mb']:.0f} MB | |")
        rows.append(f"| `default` cheaper per epoch than `seed`, one network | **{t['seed_over_default']:.0f}×** | ≥ 20× |")
        if t.get("default_networks", 1) > 1:
            rows.append(f"| same, an epoch of each of the preset's {t['default_networks']} networks | "
                        f"{t['seed_over_default_all_networks']:.0f}× | |")
    if a:
        first = a.get("first_page_s")
        rows += [f"| app: server answering | {a['server_answering_s']:.2f} s | |",
                 f"| app: first page drawn in Chromium | **{first:.2f} s** | ≤ 3 s |" if first else
                 "| app: first page drawn | (no browser here) | ≤ 3 s |",
                 f"| bare one-title Streamlit app, same measure | {a['bare_streamlit_first_page_s']:.2f} s | |"
                 if a.get("bare_streamlit_first_page_s") else "| bare Streamlit app | (no browser here) | |",
                 f"| TensorFlow loaded by then | {'yes' if a['tensorflow_loaded'] else 'no'} | no |"]
        if a.get("first_page_over_bare_s") is not None:
            rows.append(f"| first page minus bare page (medians of {a['repeats']}) | "
                        f"**{a['first_page_over_bare_s']:+.2f} s** | ≤ 0.3 s |")
    b = r.get("browse")
    if b:
        rows.append(f"| Dataset Browse of a {b['minutes']}-minute FLAC ({b['flac_mb']:.1f} MB, {b['decoded_mb']:.0f} MB "
                    f"decoded): peak memory of the page's process (demo clips: {b['demo_peak_rss_mb']:.0f} MB) | "
                    f"**{b['peak_rss_mb']:.0f} MB**, {len(b['shown'])} line, "
                    f"{'a traceback' if b['traceback'] else 'no traceback'} | < 1 GB |")
    ex = r.get("explanation")
    if ex:
        for seconds, v in ex["lengths"].items():
            rows.append(f"| explain a {float(seconds):g} s upload ({ex['runtime']}): {v['stretches']} stretches of "
                        f"{v['segment_s']:.2f} s, {v['model_windows']} model windows"
                        f"{'' if v['complete'] else ', cut short'} (a plain prediction: {v['predict_s']:.2f} s) | "
                        f"**{v['explain_s']:.2f} s** | ≤ 3 s |")
    if p:
        k, o, x = p["keras"], p["onnx"], p["ratios"]
        rows += ["", "| prediction (one process each) | Keras (before) | ONNX Runtime (now) | ratio | target |",
                 "|---|---|---|---|---|",
                 f"| CLI predict of one clip, cold process | {k['cli_cold_s']:.2f} s | {o['cli_cold_s']:.2f} s | "
                 f"**{x['cli_cold']:.1f}×** | ≥ 5× |",
                 f"| model load (runtime imported), median of {len(o['load_runs_s'])} processes | {k['load_s']:.2f} s | "
                 f"{o['load_s'] * 1e3:.0f} ms | "
                 f"**{x['load']:.0f}×** | ≥ 10× |",
                 f"| import runtime + load | {k['import_s'] + k['load_s']:.2f} s | "
                 f"{(o['import_s'] + o['load_s']) * 1e3:.0f} ms | {x['import_and_load']:.0f}× | |",
                 f"| peak memory of the predicting process | {k['cli_peak_rss_mb']:.0f} MB | "
                 f"{o['cli_peak_rss_mb']:.0f} MB | **{x['peak_rss']:.1f}×** | ≥ 3× |",
                 f"| warm predict of a 4 s clip, p50 (p95) over {o['calls']} | {k['p50_ms']:.1f} ms ({k['p95_ms']:.1f}) | "
                 f"{o['p50_ms']:.1f} ms ({o['p95_ms']:.1f}) | **{x['warm_p50']:.1f}×** | ≥ 1× |",
                 f"| warm model call alone, p50 | {k['model_p50_ms']:.1f} ms | {o['model_p50_ms']:.1f} ms | "
                 f"{x['model_p50']:.1f}× | |",
                 f"| explain a 4 s clip (occlusion, 16 stretches), median of 3 | {k['explain_4s_clip_s']:.2f} s | "
                 f"**{o['explain_4s_clip_s']:.2f} s** | | < 2 s |",
                 f"| predict_file 48 kHz stereo WAV, p50 | {k['file_48k_stereo_p50_ms']:.1f} ms | "
                 f"{o['file_48k_stereo_p50_ms']:.1f} ms | | |",
                 f"| TensorFlow imported by the predicting process | {'yes' if k['tensorflow_imported'] else 'no'} | "
                 f"{'yes' if o['tensorflow_imported'] else 'no'} | | no |"]
    lv = r.get("live")
    if lv:
        m = lv["meter"]
        rows += ["", "| live meter and personal models | measured | target |", "|---|---|---|",
                 f"| live: window end to answer, p50 (p95), {m['readings']} readings of {m['seconds']:g} s streamed | "
                 f"{m['answer_p50_s'] * 1e3:.0f} ms ({m['answer_p95_s'] * 1e3:.0f}) | |",
                 f"| live: window end to answer on the page (refresh every {m['refresh_s']:g} s), p50 (p95) | "
                 f"{m['page_p50_s']:.2f} s (**{m['page_p95_s']:.2f} s**) | ≤ 0.5 s p95 |",
                 f"| live: CPU of one session's meter, share of a core | **{m['cpu_share']:.2f}** | ≤ 0.25 |"]
        sv = lv.get("server")
        if sv:
            rows.append(f"| live: CPU of the dashboard's process with one Chromium session streaming, minus idle | "
                        f"**{sv['session_share']:.2f}** of a core ({sv['streaming_share']:.2f} streaming, "
                        f"{sv['idle_share']:.3f} idle) | ≤ 0.25 |")
    ad = r.get("adaptation")
    if ad:
        rows.append(f"| personal model: `adapt()` on {ad['n_clips']} clips ({ad['clips_per_emotion']} per emotion), cold "
                    f"process, empty feature cache | **{ad['adapt_process_s']:.1f} s** ({ad['adapt_s']:.1f} s in adapt) | "
                    "≤ 60 s |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer clips and steps (under 5 minutes)")
    ap.add_argument("--labels", default=str(REPO / "data" / "demo" / "all_labels.csv"))
    ap.add_argument("--model", default=str(REPO / "models" / "default"))
    ap.add_argument("--clips", type=int, default=None, help="clips for the feature benchmark")
    shared = REPO.parent / "shared" / "data" / "ravdess" / "all_labels.csv"
    ap.add_argument("--extract-labels", default=str(shared if shared.is_file() else REPO / "data" / "demo" /
                                                    "all_labels.csv"),
                    help="clips for the cold extraction (default: the 1200 RAVDESS clips beside the checkout)")
    ap.add_argument("--out", default="bench.json")
    ap.add_argument("--skip", nargs="*", default=[],
                    choices=["features", "extraction", "training", "prediction", "app", "browse", "explanation",
                             "live", "adaptation"])
    ap.add_argument("--_train-child", dest="train_child", help=argparse.SUPPRESS)
    ap.add_argument("--_steps", dest="steps", type=int, default=5, help=argparse.SUPPRESS)
    ap.add_argument("--_paths", dest="paths", help=argparse.SUPPRESS)
    ap.add_argument("--_predict-child", dest="predict_child", help=argparse.SUPPRESS)
    ap.add_argument("--_model", dest="child_model", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.train_child:
        print(json.dumps(_train_child(a.train_child, a.steps, json.loads(a.paths))))
        return 0
    if a.predict_child:
        print(json.dumps(_predict_child(a.child_model, json.loads(a.paths)[0], a.predict_child, a.steps)))
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from benchmarks.adaptation import bench_adapt_time
    from benchmarks.live import bench_live
    from ser.datasets.labels import read_labels

    labels = read_labels(a.labels)
    n = a.clips or (20 if a.quick else 96)
    paths = list(labels["abspath"][:: max(1, len(labels) // n)][:n])
    result: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                    "command": "python -m benchmarks.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
                    "labels": a.labels}
    steps = [("features", lambda: bench_features(paths)),
             ("extraction", lambda: bench_cold_extraction(a.extract_labels, n_clips=96 if a.quick else None,
                                                          floor_clips=24 if a.quick else 200)),
             ("training", lambda: bench_training(paths, quick=a.quick)),
             ("prediction", lambda: bench_prediction(Path(a.model), paths[0], calls=50,
                                                     cold_runs=1 if a.quick else 3)),
             ("app", lambda: bench_app_start(repeats=1 if a.quick else 5)),
             ("browse", lambda: bench_long_clip_browse()),
             ("explanation", lambda: bench_explanation(Path(a.model))),  # 4 s, 30 s and 9 min, --quick too
             ("live", lambda: bench_live(a.quick, model_dir=a.model)),  # --quick: the meter alone, no browser
             ("adaptation", lambda: bench_adapt_time(model_dir=a.model))]
    for name, fn in steps:
        if name in a.skip:
            continue
        print(f"measuring {name}…", file=sys.stderr, flush=True)
        result[name] = fn()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"\n(JSON in {a.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
