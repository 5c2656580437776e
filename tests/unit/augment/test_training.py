import numpy as np
import pytest

from ser.augment.training import VERSIONS, augment_versions, babble_pools, version_rng
from ser.augment.transforms import AddGaussianNoise, PitchShift, TimeStretch
from tests.conftest import tone


def test_versions_are_original_plus_three_and_seeded():
    y = tone(duration_s=1.0)
    a = augment_versions(y, sr=16_000, rng=np.random.default_rng(7))
    b = augment_versions(y, sr=16_000, rng=np.random.default_rng(7))
    assert tuple(a) == VERSIONS
    assert a["original"] is y
    for v in VERSIONS:
        np.testing.assert_array_equal(a[v], b[v])
    c = augment_versions(y, sr=16_000, rng=np.random.default_rng(8))
    assert not np.array_equal(a["recording"], c["recording"])


def test_noise_hits_the_drawn_snr():
    y = tone(duration_s=2.0)
    out = AddGaussianNoise((20.0, 20.0))(y, sr=16_000, rng=np.random.default_rng(0))
    snr = 10 * np.log10(np.mean(y.astype(float) ** 2) / np.mean((out - y).astype(float) ** 2))
    assert snr == pytest.approx(20, abs=0.3)


def test_stretch_changes_length_and_pitch_keeps_it():
    y = tone(duration_s=2.0)
    fast = TimeStretch((1.25, 1.25))(y, sr=16_000, rng=np.random.default_rng(0))
    assert fast.size == pytest.approx(y.size / 1.25, rel=0.01)
    up = PitchShift((12.0, 12.0))(y, sr=16_000, rng=np.random.default_rng(0))
    assert up.size == y.size
    spec = lambda s: np.argmax(np.abs(np.fft.rfft(s[4000:12000])))  # noqa: E731
    assert spec(up) == pytest.approx(2 * spec(y), rel=0.05)  # an octave up doubles the fundamental


def test_probability_zero_is_identity():
    y = tone(duration_s=1.0)
    rng = np.random.default_rng(0)
    for t in (AddGaussianNoise(20.0, p=0.0), TimeStretch(1.1, p=0.0), PitchShift(1.0, p=0.0)):
        assert t(y, sr=16_000, rng=rng) is y


def test_version_rng_is_order_independent():
    a = version_rng(0, "abc", "recording").random()
    version_rng(0, "zzz", "pitch").random()
    assert version_rng(0, "abc", "recording").random() == a
    assert version_rng(1, "abc", "recording").random() != a
    assert version_rng(0, "abc", "cond:white10").random() != a


def test_babble_pools_hold_other_speakers_only():
    paths = [f"s{s}/c{i}.wav" for s in range(5) for i in range(4)]
    speakers = [p.split("/")[0] for p in paths]
    pools = babble_pools(paths, speakers, n_sources=8, seed=0)
    assert len(pools) == len(paths)
    drawn = set().union(*pools)
    assert len(drawn) == 8 and drawn <= set(paths)
    for p, s, pool in zip(paths, speakers, pools):
        assert pool and all(not q.startswith(s + "/") for q in pool)
    assert babble_pools(list(reversed(paths)), list(reversed(speakers)), n_sources=8, seed=0) == pools[::-1]
