"""The transforms' registry: pinned samples (a refactor must not change one bit of what training or the
robustness report hears), and one registry behind training, the report and the Augmentations page."""

import hashlib
import inspect

import numpy as np
import pytest
import soundfile as sf

from ser.augment.transforms import apply_condition
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


# The Augmentations page's if chain before the registry, at its defaults and other settings (seeds 0 and 3),
# keyed here by the panel that replaced each branch and its settings.
PANEL_DIGESTS = {
    ("original", ()): "3b00cf36a3578bc4595abd367086add5e917b5c7",
    ("white-noise", (("snr_db", 20.0),)): "1fe22e52936417725f1b0cdee6b391aa60bd780e",
    ("time-stretch", (("rate", 1.2),)): "e8fa48fc104da563767b9ab04c7135d05bc30e51",
    ("pitch-shift", (("n_steps", 2.0),)): "62ac5578e2e95df7c68a1bc774d0a56b08f1811e",
    ("colored-noise", (("kind", "pink"), ("snr_db", 15.0))): "7fc54ea5207dc863a4fcc9791206662976391edf",
    ("colored-noise", (("kind", "brown"), ("snr_db", 5.0))): "82fe45099060915df8dab3cb5c3d2fc2b8d04cc2",
    ("babble", (("snr_db", 10.0),)): "25bde3dc15a0e9c624f585838b98246be7625ba5",
    ("room", (("rt60_s", 0.6),)): "b929fe4ee3cb4a93f3e83562eaf4c915690cc562",
    ("room", (("rt60_s", 1.1),)): "7b5446d30d532cf5bf6d4bbea19014f52bbb096c",
    ("eq", (("db_per_octave", 3.0),)): "a1bd8ce9b67667fff9e12409fe6ec3e6298e0821",
    ("eq", (("db_per_octave", -2.0),)): "69c5256535e213142283faa8640d0f814db2683e",
    ("phone", ()): "ebdb77079ebcbab54c6894cd1a9ae65124cd79a3",
    ("channel", (("kind", "mp3"), ("compression_level", 0.9))): "585a3f2339640c08c2b3ea7ccd89c4df04d34c94",
    ("channel", (("kind", "gsm"), ("compression_level", 0.9))): "bf37c7629d2e8e50f2d4fb5676cdf21b15f90557",
    ("gain", (("gain_db", 10.0), ("percentile", 99.0))): "1e034f21dd2b223e07b86c0e3ff4df6844d597eb",
    ("gain", (("gain_db", -6.0), ("percentile", 100.0))): "3e3f150b2a5f6d627c9f9de5b023a451899933ce",
    ("recording", ()): "7292dbf12dcade57ac83451107afeff07847a029",
}


@pytest.mark.parametrize("case", list(PANEL_DIGESTS), ids=lambda c: f"{c[0]}{dict(c[1])}")
def test_page_panels_give_the_samples_the_page_gave(clip, others, case):
    from ser.augment.transforms import REGISTRY

    name, values = case
    sources = others if REGISTRY[name].babble else ()
    out = [apply_condition(clip, name, sr=SR, rng=np.random.default_rng(seed), babble_sources=sources, **dict(values))
           for seed in (0, 3)]
    assert digest(out) == PANEL_DIGESTS[case]


def test_training_the_report_and_the_page_read_one_registry():
    from ser.augment import training, transforms as t

    assert training.VERSIONS == ("original", "recording", "stretch", "pitch")
    assert training.VERSIONS == tuple(n for n, c in t.REGISTRY.items() if "training" in c.uses)
    assert list(t.CONDITIONS) == ["clean", "gain-20", "gain-10", "gain+10", "white20", "white10", "pink10",
                                  "babble10", "telephone", "reverb", "codec"]
    assert all(c.group in ("clean", "gain", "mild", "hard") for c in t.CONDITIONS.values())
    assert [c.name for c in t.PANELS] == [n for n, c in t.REGISTRY.items() if "page" in c.uses]
    assert len(t.PANELS) == 12 and t.PANELS[0].name == "original" and t.PANELS[-1].name == "recording"
    for c in t.PANELS:  # every panel is drawn from its params alone
        assert [p.name for p in c.params] == list(inspect.signature(c.make).parameters)[2:], c.name
        for p in c.params:
            assert (p.default in p.options) if p.options else (p.low <= p.default <= p.high), (c.name, p.name)


def test_an_unknown_name_or_setting_is_one_clear_line(clip):
    from ser.augment.transforms import condition
    from ser.errors import SerError

    with pytest.raises(SerError, match=r"^condition 'radio' is unknown; choose one of original, white-noise, .*codec\.$"):
        condition("radio")
    with pytest.raises(SerError, match=r"^augmentation version 'clean' is unknown; choose one of original, "
                                       r"recording, stretch, pitch\.$"):
        augment(clip, sr=SR, version="clean", rng=np.random.default_rng(0))
    with pytest.raises(SerError, match=r"^condition 'room' has no setting rt61_s; its settings: rt60_s\.$"):
        apply_condition(clip, "room", sr=SR, rng=np.random.default_rng(0), rt61_s=1.0)


def test_a_version_builds_only_what_it_uses():
    from ser.augment import transforms as t

    def names(tr):
        inner = [n for s in tr.transforms for n in names(s)] if isinstance(tr, t.Compose) else []
        return [type(tr).__name__] + inner

    chain = ["Compose", "RoomReverb", "AddBackgroundNoise", "EqTilt", "ChannelDegradation", "GainClipping"]
    built = {v: names(t.REGISTRY[v].transform()) for v in ("original", "recording", "stretch", "pitch")}
    assert built == {"original": ["Identity"], "recording": chain,
                     "stretch": ["Compose", "TimeStretch", *chain], "pitch": ["Compose", "PitchShift", *chain]}


def test_training_ranges_come_from_augment_config_alone():
    from ser.augment import transforms as t

    c = AugmentConfig(noise_snr_db_min=1.0, noise_snr_db_max=2.0, rt60_s_min=0.3, rt60_s_max=0.4,
                      eq_tilt_db_per_octave_max=1.5, gain_db_min=-3.0, gain_db_max=3.0, clipping_percentile_min=97.0,
                      stretch_rate_min=0.9, stretch_rate_max=1.1, chain_p=0.25, noise_p=0.5)
    room, noise, eq, channel, gain = t.recording_chain(c).transforms
    assert (room.rt60_s, room.p, noise.snr_db, noise.p, eq.db_per_octave) == ((0.3, 0.4), c.reverb_p, (1.0, 2.0), 0.5,
                                                                              (-1.5, 1.5))
    assert (gain.gain_db, gain.clip_p, gain.percentile[0], channel.p) == ((-3.0, 3.0), c.clipping_p, 97.0, c.channel_p)
    stretch, then = t.REGISTRY["stretch"].transform(config=c).transforms
    assert (stretch.rate, then.p) == ((0.9, 1.1), 0.25)
    for cls in (t.AddGaussianNoise, t.AddBackgroundNoise, t.RoomReverb, t.EqTilt, t.GainClipping, t.TimeStretch,
                t.PitchShift):  # no range of their own to disagree with AugmentConfig's
        with pytest.raises(TypeError):
            cls()


def test_fixed_values_and_p_none_draw_nothing(clip):
    from ser.augment import transforms as t

    for tr in (t.EqTilt(2.0), t.GainClipping(-6.0, percentile=99.0), t.ChannelDegradation("telephone"),
               t.TimeStretch(1.1), t.RoomReverb(0.5), t.Identity()):
        rng = np.random.default_rng(0)
        tr(clip[:8000], sr=SR, rng=rng)
        assert rng.random() == np.random.default_rng(0).random(), type(tr).__name__
    rng = np.random.default_rng(0)
    assert t.EqTilt(2.0, p=0.0)(clip, sr=SR, rng=rng) is clip  # a probability always spends one draw
    assert rng.random() == np.random.default_rng(0).random(size=2)[1]
