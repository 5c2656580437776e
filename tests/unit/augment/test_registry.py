"""The transforms' registry: pinned samples (a refactor must not change one bit of what training or the
robustness report hears), and one registry behind training, the report and the Augmentations page."""

import hashlib

import numpy as np
import pytest
import soundfile as sf

from ser.augment.conditions import apply_condition
from ser.augment.training import augment, version_rng
from ser.config import AugmentConfig
from tests.conftest import DEMO

SR = 16_000
CLIP = DEMO / "Actor_06" / "03-01-05-01-01-02-06.wav"
OTHERS = [DEMO / "Actor_12" / name for name in ("03-01-01-01-01-02-12.wav", "03-01-02-01-01-01-12.wav",
                                                 "03-01-03-01-01-01-12.wav")]
ALL_ON = AugmentConfig(chain_p=1.0, noise_p=1.0, reverb_p=1.0, eq_p=1.0, channel_p=1.0, clipping_p=1.0)
SEEDS = range(6)


def digest(arrays) -> str:
    h = hashlib.sha1()
    for y in arrays:
        h.update(f"{y.dtype}{y.shape}".encode())
        h.update(np.ascontiguousarray(y).tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    y, sr = sf.read(CLIP, dtype="float32")
    assert sr == SR
    return y


@pytest.fixture(scope="module")
def others() -> list[np.ndarray]:
    return [sf.read(p, dtype="float32")[0] for p in OTHERS]


# Computed with the code before the transforms were gathered into one registry (commit 3aabfe7).
VERSION_DIGESTS = {
    "original/default": "d13649a838809691c6784de804b252f76268d037",
    "recording/default": "852f746721f27ca5a2fc9038ac54e92eed728aaf",
    "recording/no-babble": "542e0d6859f8c5e18054582c7e138fa235cc206f",
    "recording/all-on": "de40f767ea232181e543f0ab531e3efe6bdfd0cd",
    "stretch/default": "da2980867087bfade3cbd3bb2116abb8deca5a6e",
    "stretch/no-babble": "da2980867087bfade3cbd3bb2116abb8deca5a6e",
    "stretch/all-on": "0aadb96eb165da787342a1ccf6c397063edf69ac",
    "pitch/default": "d64baa51f590be99c39ee218a17364da0f53d3b6",
    "pitch/no-babble": "074c65cb1ef31fcfe4b61df91be3f58a982ace92",
    "pitch/all-on": "ba57b240528a1329f2a2f24854817f1b9e9047d1",
}
CONDITION_DIGESTS = {
    "clean": "3b00cf36a3578bc4595abd367086add5e917b5c7",
    "gain-20": "7bbb068873ca8b7b8f4378e1cd8306c27739a352",
    "gain-10": "03dfc4acd3680a014b7d3e44d3924df2f858ec4c",
    "gain+10": "3de05f540511b9c7e402e431de03a0e9852bbe02",
    "white20": "6da8c5b5f220a3c2c9e5b09f651a671b3c8dc497",
    "white10": "01bd290cd981022ba6c886c337535ae86f6833b5",
    "pink10": "2337efe04ed79932bdd5826768c6af4c363fd70f",
    "babble10": "80f87f0e13eb06afe1101b660ac6ce6b552d52a4",
    "telephone": "ebdb77079ebcbab54c6894cd1a9ae65124cd79a3",
    "reverb": "b929fe4ee3cb4a93f3e83562eaf4c915690cc562",
    "codec": "585a3f2339640c08c2b3ea7ccd89c4df04d34c94",
}


@pytest.mark.parametrize("case", sorted(VERSION_DIGESTS))
def test_training_versions_are_bit_identical_to_before(clip, others, case):
    version, setting = case.split("/")
    config = ALL_ON if setting == "all-on" else AugmentConfig()
    sources = () if setting == "no-babble" else others
    out = [augment(clip, sr=SR, version=version, rng=version_rng(seed, "demo", version), config=config,
                   babble_sources=sources) for seed in SEEDS]
    assert digest(out) == VERSION_DIGESTS[case]


@pytest.mark.parametrize("name", sorted(CONDITION_DIGESTS))
def test_report_conditions_are_bit_identical_to_before(clip, others, name):
    out = [apply_condition(clip, name, sr=SR, rng=version_rng(seed, "demo", "cond:" + name), babble_sources=others)
           for seed in SEEDS[:2]]
    assert digest(out) == CONDITION_DIGESTS[name]
