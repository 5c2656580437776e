"""Would a pretrained speech encoder help? ``python -m benchmarks.pretrained_encoder --data ../shared/data``.

A measurement for issue 19, not part of the product (the shipped encoder member, :mod:`ser.features.encoder`,
grew out of it and runs the same encoder in ONNX; ``pretrained_encoder.md`` ends with how). The encoder is
Resemblyzer 0.1.4's GE2E speaker encoder (Apache-2.0; its weights ship inside the PyPI wheel; a 3-layer
LSTM over 40 mel bands, 10 ms hop, trained for speaker verification on LibriSpeech and VoxCeleb). Each clip
(16 kHz, Resemblyzer's own volume normalisation and silence trimming) becomes 1792 numbers: the mean and
standard deviation over frames of each LSTM layer's 256 outputs (3 x 512) and the utterance embedding (256).
The embedding step needs PyTorch and Resemblyzer, which the project does not install::

    pip install torch==2.13.0 && pip install --no-deps resemblyzer==0.1.4 webrtcvad-wheels

(about 12 minutes for the three corpora on 2 cores; ``--work DIR`` keeps ``emb.npy`` and ``meta.csv`` and
a second run reuses them). The rest needs only the project's requirements.

What it prints, all on NON-test speakers of ``--model``'s ``split.csv`` (the test speakers are not read):

1. *Speaker CV within corpora*: the train and validation speakers of each corpus in 4 folds by speaker;
   a logistic regression (C = 0.01, every corpus's emotions balanced within it) on ``F`` (the model's own
   182-row features: mean, standard deviation and mean absolute change of each row over the whole clip),
   ``E`` (the encoder's 1792), ``E2`` (its second layer only) and ``F+E``; each also with every speaker's
   features z-normalised by their own clips (*spk*: per-speaker normalisation, labels unused).
2. *A corpus it never heard*: fitted on two corpora's train and validation speakers, scored on the third's
   (the emotions it shares with them), as ``ser cv --by corpus`` scores the networks (which also see the
   held-out corpus's test speakers; here they are left out).
3. *Validation speakers*: the regression fitted on the train part only, beside the shipped networks
   (``Predictor.predict_file``, open answer) on the validation part, and the mean of the two answers.

Scores per corpus: macro F1 of the open answer over the corpus's emotions / UAR of the answer restricted
to the corpus's emotions.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ser import EMOTIONS

CORPORA = ("ravdess", "nemo", "indian_emospeech")


def embed(data: Path, work: Path) -> None:
    """Write ``emb.npy`` (n_clips, 1792) and ``meta.csv`` (corpus, path, emotion, speaker) for every clip."""
    try:
        import soundfile as sf
        import torch
        from resemblyzer import VoiceEncoder, preprocess_wav
        from resemblyzer.audio import wav_to_mel_spectrogram
    except ImportError:
        raise SystemExit("the embedding step needs PyTorch and Resemblyzer: pip install torch==2.13.0 && "
                         "pip install --no-deps resemblyzer==0.1.4 webrtcvad-wheels") from None
    torch.set_num_threads(2)
    enc = VoiceEncoder("cpu", verbose=False)
    layers = []  # the encoder's 3-layer LSTM as 3 single layers, to read every layer's outputs
    for k in range(3):
        layer = torch.nn.LSTM(40 if k == 0 else 256, 256, batch_first=True)
        for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(layer, n + "_l0").data = getattr(enc.lstm, f"{n}_l{k}").data.clone()
        layers.append(layer)
    rows, meta, t0 = [], [], time.time()
    for corpus in CORPORA:
        labels = pd.read_csv(data / corpus / "all_labels.csv")
        for p, e, s in zip(labels.path, labels.emotion, labels.speaker):
            y, sr = sf.read(data / corpus / p, dtype="float32")
            y = y.mean(axis=1) if y.ndim > 1 else y
            w = preprocess_wav(y, source_sr=sr)
            w = y if len(w) < 1600 else w  # trimmed to almost nothing: the clip as it is
            with torch.no_grad():
                x, feats = torch.from_numpy(wav_to_mel_spectrogram(w)[None]), []
                for layer in layers:
                    x, _ = layer(x)
                    feats += [x[0].numpy().mean(0), x[0].numpy().std(0)]
                feats.append(enc.embed_utterance(w))
            rows.append(np.concatenate(feats).astype(np.float32))
            meta.append((corpus, p, e, f"{corpus}/{s}"))
        print(f"embedded {corpus}: {len(rows)} clips, {time.time() - t0:.0f} s", flush=True)
    np.save(work / "emb.npy", np.stack(rows))
    pd.DataFrame(meta, columns=["corpus", "path", "emotion", "speaker"]).to_csv(work / "meta.csv", index=False)


def functionals(data: Path, meta: pd.DataFrame, model: Path) -> np.ndarray:
    """The model's own feature rows over each whole clip, read as training reads it: (n_clips, 3 x 182)."""
    from ser.audio.reader import finish_audio, read_audio
    from ser.config import Config
    from ser.features.extract import extract_features

    cfg = Config.load(model / "config.json")
    out = []
    for corpus, p in zip(meta.corpus, meta.path):
        y = finish_audio(read_audio(data / corpus / p, config=cfg.audio).y, config=cfg.audio)
        X = extract_features(y, sr=cfg.audio.sample_rate_hz, config=cfg.features)
        out.append(np.concatenate([X.mean(1), X.std(1), np.abs(np.diff(X, axis=1)).mean(1)]))
    return np.asarray(out, np.float32)


def fit_predict(X: np.ndarray, y: np.ndarray, corpora: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Logistic regression on standardised ``X[train]``; probabilities of ``X[test]`` over all 8 emotions."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from ser.training.fit import balanced_weights

    sc = StandardScaler().fit(X[train])
    lr = LogisticRegression(C=0.01, max_iter=2000).fit(sc.transform(X[train]), y[train],
                                                       sample_weight=balanced_weights(list(corpora[train]), y[train]))
    P = np.zeros((len(test), len(EMOTIONS)))
    P[:, lr.classes_] = lr.predict_proba(sc.transform(X[test]))
    return P


def scores(y: np.ndarray, P: np.ndarray) -> str:
    """``macro F1 / restricted UAR`` over the emotions present in ``y``."""
    from sklearn.metrics import f1_score, recall_score

    present = sorted(np.unique(y))
    f1 = f1_score(y, P.argmax(1), labels=present, average="macro")
    uar = recall_score(y, np.asarray(present)[P[:, present].argmax(1)], labels=present, average="macro")
    return f"{f1:.3f} / {uar:.3f}"


def by_speaker(X: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    """Each speaker's rows z-normalised by that speaker's own mean and spread."""
    X = X.copy()
    for s in np.unique(speakers):
        m = speakers == s
        X[m] = (X[m] - X[m].mean(0)) / (X[m].std(0) + 1e-6)
    return X


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--model", type=Path, default=Path("models/default"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/ser-encoder"))
    a = ap.parse_args(argv)
    a.work.mkdir(parents=True, exist_ok=True)
    if not (a.work / "emb.npy").exists():
        embed(a.data, a.work)
    meta = pd.read_csv(a.work / "meta.csv")
    E = np.load(a.work / "emb.npy")
    split = pd.read_csv(a.model / "split.csv")
    part = dict(zip(zip(split.corpus, split.path), split.split))
    meta["part"] = [part.get(k, "none") for k in zip(meta.corpus, meta.path)]
    keep = meta.part.isin(["train", "val"]).to_numpy()  # never a test speaker
    meta, E = meta[keep].reset_index(drop=True), E[keep]
    F = functionals(a.data, meta, a.model)
    y = meta.emotion.map(EMOTIONS.index).to_numpy()
    corpora, speakers = meta.corpus.to_numpy(), meta.speaker.to_numpy()
    sets = {"F": F, "E": E, "E2": E[:, 512:1024], "F+E": np.hstack([F, E])}

    rng = np.random.default_rng(0)
    fold = np.zeros(len(meta), int)
    for c in CORPORA:
        spk = np.array(sorted(set(speakers[corpora == c])))
        rng.shuffle(spk)
        for i, s in enumerate(spk):
            fold[speakers == s] = i % 4
    print("\n## Speaker CV within corpora (train + validation speakers, 4 folds)\n")
    print("| features | " + " | ".join(CORPORA) + " |\n|---|---|---|---|")
    for name, X in sets.items():
        for norm in (False, True):
            Xn = by_speaker(X, speakers) if norm else X
            P = np.zeros((len(meta), len(EMOTIONS)))
            for f in range(4):
                P[fold == f] = fit_predict(Xn, y, corpora, np.where(fold != f)[0], np.where(fold == f)[0])
            cells = [scores(y[corpora == c], P[corpora == c]) for c in CORPORA]
            print(f"| {name}{' spk' if norm else ''} | " + " | ".join(cells) + " |", flush=True)

    print("\n## A corpus it never heard (trained on the other two; scored over the emotions they have)\n")
    print("| features | " + " | ".join(CORPORA) + " |\n|---|---|---|---|")
    for name, X in sets.items():
        for norm in (False, True):
            Xn = by_speaker(X, speakers) if norm else X
            cells = []
            for c in CORPORA:
                train, known = np.where(corpora != c)[0], np.unique(y[corpora != c])
                test = np.where((corpora == c) & np.isin(y, known))[0]
                P = fit_predict(Xn, y, corpora, train, test)
                cells.append(scores(y[test], P * np.isin(np.arange(len(EMOTIONS)), known)))
            print(f"| {name}{' spk' if norm else ''} | " + " | ".join(cells) + " |", flush=True)

    from ser.serving.predict import Predictor

    predictor = Predictor.load(a.model)
    train, val = np.where(meta.part == "train")[0], np.where(meta.part == "val")[0]
    net = np.zeros((len(val), len(EMOTIONS)))
    for i, k in enumerate(val):
        probs = predictor.predict_file(a.data / meta.corpus[k] / meta.path[k]).probabilities
        net[i] = [probs.get(e, 0.0) for e in EMOTIONS]  # a clip with no speech: all zero, a wrong answer
    print(f"\n## Validation speakers ({meta.speaker[val].nunique()}), regression fitted on the train part\n")
    print("| answer | " + " | ".join(CORPORA) + " |\n|---|---|---|---|")
    rows = {"shipped networks": net}
    for name, X in sets.items():
        lr = fit_predict(X, y, corpora, train, val)
        rows[name] = lr
        rows[f"networks + {name} (mean)"] = (net + lr) / 2
    for name, P in rows.items():
        cells = [scores(y[val][corpora[val] == c], P[corpora[val] == c]) for c in CORPORA]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
