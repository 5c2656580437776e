"""The encoder member on per-speaker-normalised rows: ``python -m benchmarks.speaker_member`` (5 min, cold cache).

Each encoder row minus its speaker's mean row over that speaker's original clips in the same part (train,
validation or test: a known protocol, the speaker's own unlabelled clips, as ``ser evaluate --speaker-norm``
normalises the networks), a regression fitted on the training speakers' normalised rows of every version
(C = 0.001, 0.003, 0.01), averaged with the shipped model's networks at weight 0.25, 0.4 or 0.5; beside the
shipped member on raw rows. Choose on the validation speakers; the test speakers only report. Scores are the
training's clip-level ones (the first window of each clip, as ``report.json``): macro F1 of the open answer /
UAR restricted to the corpus's emotions. Writes ``benchmarks/speaker_member.json``; the findings are in
``benchmarks/pretrained_encoder.md``. Not shipped: see there.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

def main():
    from ser.model_folder import ModelFolder
    from ser.training.dataset import features_for_split
    from ser.training.encoder_head import fit_encoder_head
    from ser.datasets.corpora import emotion_sets
    from ser.serving.predict import Predictor
    from ser.results.evaluate import report_from_predictions, restricted_scores
    t0 = time.time()
    folder = ModelFolder(REPO / "models" / "default")
    config = folder.config()
    clips = pd.concat([folder.split_clips(p) for p in ("train", "val", "test")], ignore_index=True)
    data, failed = features_for_split(clips, config, cache_dir=None,
        progress=lambda e: (e["step"] % 500 == 0) and print("features", e["step"], e["total"], f"{time.time()-t0:.0f}s", flush=True))
    print("features done", time.time() - t0, "failed", len(failed), flush=True)
    spk = dict(zip(clips["path"], clips["speaker"]))
    pred = Predictor.load(folder.path)
    sets = emotion_sets(folder.split())
    emotions = list(config.emotions)
    out = {}
    def speaker_of(paths):
        return np.array([spk[p.split("#")[0]] for p in paths])
    def normed(part):
        d = data[part]; R = np.stack(d["R"]).astype(np.float64); s = speaker_of(d["path"])
        orig = np.array(["#" not in p for p in d["path"]])
        Rn = R.copy()
        for v in np.unique(s):
            m = s == v
            Rn[m] -= R[m & orig].mean(axis=0)
        return R, Rn
    _, Rtr_n = normed("train")
    ytr, ctr = data["train"]["y"], data["train"]["corpus"]
    heads = {"raw": pred.encoder_head}
    for C in (0.001, 0.003, 0.01):
        heads[f"spk C={C}"] = fit_encoder_head(Rtr_n, ytr, ctr, emotions=emotions, emotion_sets=sets, C=C)
        print("fitted", C, time.time() - t0, flush=True)
    for part in ("val", "test"):
        d = data[part]
        R, Rn = normed(part)
        X = np.stack(d["X"]); nets = pred.predict_networks(X)
        y = np.array(d["y"]); corp = np.array(d["corpus"])
        cands = {"networks": nets}
        for name, h in heads.items():
            P = h.predict_proba(R if name == "raw" else Rn)
            for w in ((0.25,) if name == "raw" else (0.25, 0.4, 0.5)):
                cands[f"{name} w={w}"] = (1 - w) * nets + w * P
            cands[f"{name} alone"] = P
        res = {}
        for name, P in cands.items():
            row = {}
            for c in sorted(set(corp)):
                m = corp == c
                r = report_from_predictions(y[m], [emotions[i] for i in P[m].argmax(1)], emotions=emotions)
                rs = restricted_scores(y[m], P[m], emotions=emotions)
                row[c] = (round(r["macro_f1"], 3), round(rs["uar"], 3))
            res[name] = row
            print(part, f"{name:24s}", "  ".join(f"{c[:7]} {a:.3f}/{b:.3f}" for c, (a, b) in row.items()), flush=True)
        out[part] = res
    (REPO / "benchmarks" / "speaker_member.json").write_text(json.dumps(out, indent=1) + "\n")
    print("done", time.time() - t0)

if __name__ == "__main__":
    main()
