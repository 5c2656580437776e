"""How the speech check and the crowd check answer real speech, barks and babble (issue 22, item 7).

Every clip is prepared as prediction prepares it (trimmed, level-normalised) and cut into the model's
windows; a clip is accepted when any window holds speech (:func:`ser.audio.speech.speech_weight`) and
flagged as several voices when every such window is (:func:`ser.audio.speech.many_voices`), as
:meth:`ser.serving.predict.Predictor.predict` decides. Run ``python benchmarks/speech_check.py [--per N]``
(N clips of nEMO and Indian EmoSpeech, default 300; RAVDESS and the demo clips are all used).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"
SR = 16_000


def judge(y: np.ndarray, window: int) -> tuple[bool, bool]:
    """(accepted as speech, every speech window several voices) for a prepared signal."""
    from ser.audio.speech import FRAME_S, many_voices, speech_frames, speech_weight

    starts = [0] if len(y) <= window else sorted({*range(0, len(y) - window + 1, window // 2), len(y) - window})
    frames, per = speech_frames(y, sr=SR), FRAME_S * SR
    speech = [s for s in starts
              if speech_weight(y[s:s + window], sr=SR,
                               probs=frames[int(s // per):int(np.ceil(min(len(y), s + window) / per))]) > 0]
    return bool(speech), bool(speech) and all(many_voices(y[s:s + window], sr=SR) for s in speech)


def main() -> None:
    from ser.audio.reader import finish_audio, read_audio
    from ser.augment.effects import babble
    from ser.augment.transforms import apply_condition
    from ser.config import Config
    from tests.unit.audio.test_speech import bark

    parser = argparse.ArgumentParser()
    parser.add_argument("--per", type=int, default=300)
    args = parser.parse_args()
    window = Config.load(REPO / "models" / "default" / "config.json").features.window_samples
    start = time.perf_counter()
    counts: dict[str, list[int]] = {}

    def count(kind: str, y: np.ndarray) -> None:
        ok, crowd = judge(y, window)
        c = counts.setdefault(kind, [0, 0, 0])
        c[0] += 1
        c[1] += ok
        c[2] += crowd

    corpora = {"demo": REPO / "data" / "demo", "ravdess": SHARED / "ravdess", "nemo": SHARED / "nemo",
               "indian_emospeech": SHARED / "indian_emospeech"}
    ravdess = {}
    for name, root in corpora.items():
        labels = pd.read_csv(root / "all_labels.csv")
        if name in ("nemo", "indian_emospeech") and len(labels) > args.per:
            labels = labels.sample(args.per, random_state=0)
        for path, speaker in zip(labels.path, labels.speaker):
            y = finish_audio(read_audio(root / path))
            count(name, y)
            if name == "ravdess":
                ravdess[path] = (y, speaker)
    for seed in range(100):
        count("bark", finish_audio(read_audio(bark(seed), sr=SR)))
    rng = np.random.default_rng(1)
    paths = list(ravdess)
    for n_voices in (4, 6, 8):
        for k in range(60):
            chosen, seen = [], set()
            for j in rng.permutation(len(paths)):
                y, speaker = ravdess[paths[j]]
                if speaker not in seen:
                    seen.add(speaker)
                    chosen.append(y * (10 ** (rng.uniform(-6, 6) / 20) if k % 2 else 1.0))  # odd: unequal levels
                if len(chosen) == n_voices:
                    break
            mix = babble(chosen, n=int(rng.uniform(3, 8) * SR), rng=rng, n_talkers=None)
            count(f"babble of {n_voices} RAVDESS voices", finish_audio(read_audio(0.1 * mix, sr=SR)))
    for k, path in enumerate(pd.Series(paths).sample(400, random_state=2)):
        y, speaker = ravdess[path]
        others = [ravdess[q][0] for q in rng.permutation(paths)[:40] if ravdess[q][1] != speaker][:24]
        mixed = apply_condition(y, "babble10", sr=SR, rng=np.random.default_rng(k), babble_sources=others)
        count("one RAVDESS voice + babble 10 dB", finish_audio(read_audio(mixed, sr=SR)))
    print(f"{'clips':<36} {'n':>5} {'speech':>7} {'several voices':>15}")
    for kind, (n, ok, crowd) in counts.items():
        print(f"{kind:<36} {n:>5} {ok:>7} {crowd:>15}")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
