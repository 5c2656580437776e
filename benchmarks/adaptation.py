"""How much a personal model helps: ``python -m benchmarks.adaptation [--quick] [--choose] [--model DIR]``.

For every TEST speaker (``--part val``: validation speaker) of every corpus of the model's ``split.csv``, for k = 1, 2, 4 clips per emotion
and several seeded draws: the head of :mod:`ser.serving.adapt` is fitted on k clips of each of that
speaker's emotions that has at least k + 1 clips (and their augmented versions, as ``adapt()`` does), and
that speaker's OTHER clips of those emotions are scored, beside the unadapted model on the same clips
restricted to the same emotions (``base``; ``base_all`` is the unrestricted model's answer among all its
emotions). Macro F1 and UAR are over the speaker's scored emotions (:func:`ser.results.evaluate.report_from_predictions`).
For a model with an encoder member (:mod:`ser.training.encoder_head`), two more answers on the same clips:
``shipped``, the model as it predicts (networks and member, :meth:`ser.serving.predict.Predictor.predict_file`)
restricted to the same emotions, and ``adapted_member``, the adapted head's mean mixed with the member's as the
shipped model mixes its networks' (``train.encoder_weight``). A personal model drops the member (it is built on
the networks alone), so ``adapted`` against ``shipped`` is what tuning to one's voice changes for a user. The
member's clip mean comes from the identity ``shipped = (1 - w) * networks + w * member`` (both speech-weighted
means over the same windows).
Prints a markdown table per corpus and the means, and writes JSON.

``--choose`` instead picks the method's settings (:data:`ser.serving.adapt.L2`, ``L2_BIAS``, ``SCALING``, the
augmented versions; ``--scaling`` and ``--versions`` narrow the grid) on
the VALIDATION speakers (never seen by the network's weights, unlike the train speakers, and never the
test speakers): the setting with the best mean macro-F1 gain at k = 2 (mean over corpora).

The heavy part, the network's activations, is computed once per clip version; the heads are fitted in
numpy. A clip is read as prediction reads it (:func:`ser.serving.adapt.clip_rows`): a clip longer than the
model's window is fitted on each of its windows and scored by the mean over them, weighted by speech, as
:meth:`ser.serving.predict.Predictor.predict` scores it.

:func:`bench_adapt_time` times the real :func:`ser.serving.adapt.adapt` end to end from a cold process
(fresh feature cache) on one speaker's 2 clips per emotion, for ``benchmarks/bench.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
KS = (1, 2, 4)
GRID_L2 = (0.3, 1.0, 3.0, 10.0, 30.0)
GRID_L2_BIAS = (0.0001, 0.001, 0.01, 0.1, 1.0)
GRID_VERSIONS = (("original",), ("original", "recording", "stretch", "pitch"))
GRID_SCALING = ("enrolment", "train", "train_spread")
NAMES = ("adapted", "base", "base_all", "shipped", "adapted_member")  # the answers compared, where the model has them


def speaker_clips(model_dir: Path, splits: tuple[str, ...], *, quick: bool = False) -> list[dict]:
    """One entry per speaker of ``splits``: corpus, speaker, paths, emotions."""
    import pandas as pd

    from ser.model_folder import ModelFolder

    clips = pd.concat([ModelFolder(model_dir).split_clips(part) for part in splits], ignore_index=True)
    out = []
    for (corpus, speaker), g in clips.groupby(["corpus", "speaker"], sort=True):
        out.append({"corpus": corpus, "speaker": speaker, "paths": list(g["abspath"]), "emotions": list(g["emotion"])})
    if quick:  # two speakers per corpus
        seen: dict[str, int] = {}
        out = [s for s in out if seen.setdefault(s["corpus"], 0) < 2 and not seen.update(
            {s["corpus"]: seen[s["corpus"]] + 1})]
    return out


def embed_speakers(model_dir: Path, speakers: list[dict], versions: tuple[str, ...]) -> tuple | None:
    """Adds to each speaker, per clip, the rows :func:`ser.serving.adapt.clip_rows` gives (each window of a
    clip longer than the model's, and the augmented ``versions``), as activations ``Z`` (n_rows, d), base
    probabilities ``P`` (n_rows, n_emotions), ``original`` (n_rows,) and speech ``weight`` (n_rows,); returns the
    activations' training statistics (:attr:`ser.serving.adapt.Embedder.train`)."""
    from ser.errors import AudioError
    from ser.model_folder import ModelFolder
    from ser.serving.adapt import Embedder, clip_rows

    from ser.serving.predict import Predictor

    config = ModelFolder(model_dir).config()
    embedder = Embedder(model_dir)
    predictor = Predictor.load(model_dir) if config.train.encoder_member else None
    t0 = time.perf_counter()
    for i, s in enumerate(speakers):
        clips, kept = [], []
        for j, path in enumerate(s["paths"]):
            try:
                X, original, weight, _ = clip_rows(path, config=config, versions=versions)
            except AudioError:  # prediction gives no emotion for it either: left out, and counted
                continue
            Z, P = embedder(X)
            clip = {"Z": Z, "P": P, "original": original, "weight": weight}
            if predictor is not None:  # the shipped answer, and the member's mean from it (the identity above)
                shipped = predictor.predict_file(path)
                w = config.train.encoder_weight
                clip["S"] = np.array([shipped.probabilities[e] for e in config.emotions])
                nets = np.average(P[original], axis=0, weights=weight[original])
                clip["M"] = np.clip((clip["S"] - (1 - w) * nets) / w, 0.0, None)
                clip["w"] = w
            clips.append(clip)
            kept.append(j)
        s["skipped"] = [s["paths"][j] for j in range(len(s["paths"])) if j not in set(kept)]
        s["clips"], s["paths"], s["emotions"] = clips, [s["paths"][j] for j in kept], [s["emotions"][j] for j in kept]
        print(f"  activations {i + 1}/{len(speakers)} {s['speaker']} ({len(s['paths'])} clips, "
              f"{time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return embedder.train


def score_draw(s: dict, k: int, rng: np.random.Generator, *, known: list[str], l2: float, l2_bias: float,
               augmented: bool, scaling: str | None = None, train: tuple | None = None) -> dict | None:
    """One draw: adapt on k clips per eligible emotion, score the rest as prediction does (the mean over a
    clip's windows, weighted by speech); ``None`` when fewer than two emotions have k + 1 clips. ``scaling``
    (default :data:`ser.serving.adapt.SCALING`) with ``train`` (what :func:`embed_speakers` returns), as
    :func:`ser.serving.adapt.standardiser` takes them."""
    from ser.results.evaluate import report_from_predictions
    from ser.serving.adapt import SCALING, restricted_log, standardiser
    from ser.training.logistic import fit_head, head_probs

    emotions = np.asarray(s["emotions"])
    chosen = [e for e in known if np.count_nonzero(emotions == e) >= k + 1]
    if len(chosen) < 2:
        return None
    keep = [known.index(e) for e in chosen]
    enrol = np.concatenate([rng.choice(np.flatnonzero(emotions == e), size=k, replace=False) for e in chosen])
    rest = np.array([i for i in np.flatnonzero(np.isin(emotions, chosen)) if i not in set(enrol)])
    used = [(c, np.ones(len(c["Z"]), bool) if augmented else c["original"]) for c in (s["clips"][i] for i in enrol)]
    Z = np.concatenate([c["Z"][m] for c, m in used])
    P = np.concatenate([c["P"][m] for c, m in used])
    y = np.concatenate([[chosen.index(e)] * int(m.sum()) for e, (_, m) in zip(emotions[enrol], used)])
    mu, sd = standardiser(Z, train=train, scaling=scaling or SCALING)
    W, b = fit_head((Z - mu) / sd, restricted_log(P, keep), y, l2=l2, l2_bias=l2_bias)
    answers: dict[str, list[int]] = {name: [] for name in NAMES}
    for i in rest:
        c = s["clips"][i]
        m, w = c["original"], c["weight"][c["original"]]
        Pm = c["P"][m]
        A = np.average(head_probs((c["Z"][m] - mu) / sd, restricted_log(Pm, keep), W, b), axis=0, weights=w)
        answers["adapted"].append(A.argmax())
        answers["base"].append(np.average(Pm[:, keep], axis=0, weights=w).argmax())
        answers["base_all"].append(np.average(Pm, axis=0, weights=w).argmax())
        if "S" in c:
            member = c["M"][keep] / max(float(c["M"][keep].sum()), 1e-12)
            answers["shipped"].append(c["S"][keep].argmax())
            answers["adapted_member"].append(((1 - c["w"]) * A + c["w"] * member).argmax())
    truth = list(emotions[rest])
    scores = {}
    for name, pred in answers.items():
        if not pred:
            continue
        pred = [known[i] for i in pred] if name == "base_all" else [chosen[i] for i in pred]
        r = report_from_predictions(truth, pred, emotions=known if name == "base_all" else chosen)
        scores[name] = {"macro_f1": r["macro_f1"], "uar": r["uar"]}
    return {**scores, "n_emotions": len(chosen), "n_scored": len(rest)}


def run(speakers: list[dict], *, known: list[str], l2: float, l2_bias: float, augmented: bool, ks: tuple[int, ...],
        draws: int, scaling: str | None = None, train: tuple | None = None) -> dict:
    """Per corpus, per k: each speaker's mean over draws, and the means over speakers and corpora."""
    out: dict = {"per_speaker": [], "per_corpus": {}, "mean": {}}
    for si, s in enumerate(speakers):
        for k in ks:
            rows = [score_draw(s, k, np.random.default_rng([si, k, d]), known=known, l2=l2, l2_bias=l2_bias, augmented=augmented,
                               scaling=scaling, train=train)
                    for d in range(draws)]
            rows = [r for r in rows if r is not None]
            if not rows:
                continue
            m = {name: {key: float(np.mean([r[name][key] for r in rows])) for key in ("macro_f1", "uar")}
                 for name in NAMES if name in rows[0]}
            out["per_speaker"].append({"corpus": s["corpus"], "speaker": s["speaker"], "k": k, **m,
                                       "n_emotions": rows[0]["n_emotions"], "n_scored": rows[0]["n_scored"],
                                       "draws": len(rows)})
    for k in ks:
        corpus_means = {}
        for corpus in sorted({s["corpus"] for s in speakers}):
            rows = [r for r in out["per_speaker"] if r["corpus"] == corpus and r["k"] == k]
            if rows:
                corpus_means[corpus] = {name: {key: float(np.mean([r[name][key] for r in rows]))
                                               for key in ("macro_f1", "uar")}
                                        for name in NAMES if name in rows[0]} | {"n_speakers": len(rows)}
                out["per_corpus"].setdefault(corpus, {})[str(k)] = corpus_means[corpus]
        rows = [r for r in out["per_speaker"] if r["k"] == k]
        if not rows:
            continue
        names = [name for name in NAMES if name in rows[0]]
        out["mean"][str(k)] = {
            "over_corpora": {name: {key: float(np.mean([c[name][key] for c in corpus_means.values()]))
                                    for key in ("macro_f1", "uar")} for name in names},
            "over_speakers": {name: {key: float(np.mean([r[name][key] for r in rows])) for key in ("macro_f1", "uar")}
                              for name in names},
            "n_speakers": len(rows)}
    return out


def table(result: dict) -> str:
    lines = []
    head = ("| k clips/emotion | speakers | base macro F1 | adapted macro F1 | gain | base UAR | adapted UAR | gain |"
            " unrestricted base macro F1 | shipped (with the member) macro F1 | adapted + member macro F1 |"
            "\n|---|---|---|---|---|---|---|---|---|---|---|")

    def row(k: str, m: dict, n: int) -> str:
        a, b, ball = m["adapted"], m["base"], m["base_all"]
        extra = " | ".join(f"{m[name]['macro_f1']:.3f}" if name in m else "–" for name in ("shipped", "adapted_member"))
        return (f"| {k} | {n} | {b['macro_f1']:.3f} | {a['macro_f1']:.3f} | {a['macro_f1'] - b['macro_f1']:+.3f} | "
                f"{b['uar']:.3f} | {a['uar']:.3f} | {a['uar'] - b['uar']:+.3f} | {ball['macro_f1']:.3f} | {extra} |")

    for corpus, by_k in result["per_corpus"].items():
        lines += [f"\n**{corpus}** ({result.get('settings', {}).get('part', 'test')} speakers)\n", head]
        lines += [row(k, m, m["n_speakers"]) for k, m in by_k.items()]
    for what in ("over_corpora", "over_speakers"):
        lines += [f"\n**mean {what.replace('_', ' ')}**\n", head]
        lines += [row(k, m[what], m["n_speakers"]) for k, m in result["mean"].items()]
    return "\n".join(lines)


def choose(model_dir: Path, *, draws: int, quick: bool, scalings: tuple[str, ...] = GRID_SCALING,
           versions_grid: tuple[tuple[str, ...], ...] = GRID_VERSIONS) -> dict:
    """The grid of (scaling, L2, bias, versions) on the validation speakers, k = 2: mean macro-F1 gain over corpora."""
    from ser.model_folder import ModelFolder

    known = list(ModelFolder(model_dir).config().emotions)
    speakers = speaker_clips(model_dir, ("val",), quick=quick)
    all_versions = max(versions_grid, key=len)
    train = embed_speakers(model_dir, speakers, all_versions)
    grid = []
    for scaling in scalings if train is not None else ("enrolment",):
        for versions in versions_grid:
            for l2 in GRID_L2:
                for l2_bias in GRID_L2_BIAS:
                    r = run(speakers, known=known, l2=l2, l2_bias=l2_bias, augmented=len(versions) > 1, ks=(2,),
                            draws=draws, scaling=scaling, train=train)["mean"]["2"]["over_corpora"]
                    gain = r["adapted"]["macro_f1"] - r["base"]["macro_f1"]
                    grid.append({"scaling": scaling, "l2": l2, "l2_bias": l2_bias, "versions": list(versions),
                                 "gain_macro_f1": gain, "gain_uar": r["adapted"]["uar"] - r["base"]["uar"]})
                    print(f"  scaling={scaling:<12} l2={l2:<5} l2_bias={l2_bias:<5} versions={len(versions)} "
                          f"gain macro F1 {gain:+.3f}", file=sys.stderr, flush=True)
    best = max(grid, key=lambda g: g["gain_macro_f1"])
    return {"speakers": [s["speaker"] for s in speakers], "k": 2, "draws": draws, "grid": grid, "best": best}


def bench_adapt_time(*, model_dir: str | Path = REPO / "models" / "default",
                     labels: str | Path = REPO / "data" / "demo" / "all_labels.csv", speaker: str = "Actor_06",
                     per_emotion: int = 2) -> dict:
    """The real ``adapt()`` end to end on ``per_emotion`` clips of each of ``speaker``'s emotions, in a cold
    process (fresh feature cache, nothing imported): wall time of the process and ``adapt()``'s own."""
    from ser.datasets.labels import read_labels

    frame = read_labels(labels)
    frame = frame[frame["speaker"] == speaker].groupby("emotion", sort=False).head(per_emotion)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "all_labels.csv"
        frame.assign(path=frame["abspath"])[["path", "emotion", "speaker"]].to_csv(csv, index=False)
        code = ("import json,sys;from ser.serving.adapt import adapt;"
                f"r=adapt({str(model_dir)!r},{str(csv)!r},out_dir={str(Path(tmp) / 'models' / 'me')!r});"
                "print(json.dumps({'seconds':r.seconds,'n_clips':r.n_clips}))")
        env = {**os.environ, "SER_CACHE_DIR": str(Path(tmp) / "cache")}
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(f"adapt failed: {done.stderr.strip().splitlines()[-1:]}")
    inner = json.loads(done.stdout.strip().splitlines()[-1])
    return {"adapt_process_s": round(wall, 2), "adapt_s": round(inner["seconds"], 2), "n_clips": inner["n_clips"],
            "speaker": speaker, "clips_per_emotion": per_emotion}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.adaptation", description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=str(REPO / "models" / "default"))
    ap.add_argument("--quick", action="store_true", help="two speakers per corpus, 2 draws")
    ap.add_argument("--choose", action="store_true", help="choose the settings on the validation speakers")
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--part", choices=("test", "val"), default="test",
                    help="whose clips are scored: the test speakers (the report) or the validation speakers "
                         "(to choose by, as whether a personal model keeps the encoder member was chosen)")
    ap.add_argument("--scaling", default=",".join(GRID_SCALING), help="--choose: the scalings to try, comma-separated")
    ap.add_argument("--versions", choices=("both", "original", "augmented"), default="both",
                    help="--choose: fit on the clips as recorded, with their augmented versions, or try both")
    ap.add_argument("--out", default=None, help="JSON output (default benchmarks/adaptation[-choose].json)")
    args = ap.parse_args(argv)
    from ser.model_folder import ModelFolder
    from ser.paths import portable
    from ser.serving.adapt import L2, L2_BIAS, SCALING, VERSIONS_USED

    model_dir = Path(args.model)
    draws = args.draws or (2 if args.quick else (10 if args.choose else 5))
    t0 = time.perf_counter()
    if args.choose:
        grid_versions = {"both": GRID_VERSIONS, "original": GRID_VERSIONS[:1], "augmented": GRID_VERSIONS[1:]}
        result = choose(model_dir, draws=draws, quick=args.quick, scalings=tuple(args.scaling.split(",")),
                        versions_grid=grid_versions[args.versions])
        print(f"best on the validation speakers: {result['best']}")
    else:
        known = list(ModelFolder(model_dir).config().emotions)
        speakers = speaker_clips(model_dir, (args.part,), quick=args.quick)
        train = embed_speakers(model_dir, speakers, VERSIONS_USED)
        result = run(speakers, known=known, l2=L2, l2_bias=L2_BIAS, augmented=len(VERSIONS_USED) > 1, ks=KS, draws=draws,
                     scaling=SCALING, train=train)
        result["skipped_no_speech"] = [portable(p) for s in speakers for p in s["skipped"]]
        result["settings"] = {"part": args.part, "l2": L2, "l2_bias": L2_BIAS, "versions": list(VERSIONS_USED), "draws": draws, "quick": args.quick,
                              "scaling": SCALING if train is not None else "enrolment"}
        if not args.quick:
            result["adapt_time"] = bench_adapt_time(model_dir=model_dir)
        print(table(result))
        if "adapt_time" in result:
            print(f"\nadapt() end to end, cold process: {result['adapt_time']}")
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    print(f"\nwall time {result['wall_s']} s")
    out = Path(args.out or REPO / "benchmarks" / f"adaptation{'-choose' if args.choose else ''}.json")
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
