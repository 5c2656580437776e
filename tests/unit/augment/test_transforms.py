"""The transforms: each is repeatable from its seed, ``p`` decides, and the report's conditions are fixed."""

from dataclasses import replace

import numpy as np
import pytest

from ser.augment import transforms as c
from ser.config import AugmentConfig
from ser.errors import ConfigError
from tests.conftest import tone

SR = 16_000


def _train_transforms(sources):
    chain = c.recording_chain(AugmentConfig(), babble_sources=sources)
    room, noise, eq, channel, gain = (replace(t, p=None) for t in chain.transforms)
    return [noise, room, eq, channel, replace(gain, clip_p=1.0), chain]


def test_every_training_transform_is_seeded(speech):
    sources = (tone(150.0, seed=1), tone(260.0, seed=2))
    for t in _train_transforms(sources):
        a = t(speech, sr=SR, rng=np.random.default_rng(5))
        b = t(speech, sr=SR, rng=np.random.default_rng(5))
        np.testing.assert_array_equal(a, b, err_msg=type(t).__name__)
        others = [t(speech, sr=SR, rng=np.random.default_rng(s)) for s in (6, 7, 8)]
        assert any(not np.array_equal(a, o) for o in others), f"{type(t).__name__} ignores its generator"


def test_probability_zero_leaves_the_clip_alone(speech):
    for t in (*(replace(t, p=0.0) for t in c.recording_chain(AugmentConfig()).transforms),
              c.recording_chain(AugmentConfig(), p=0.0)):
        assert t(speech, sr=SR, rng=np.random.default_rng(0)) is speech


@pytest.mark.parametrize("name", list(c.CONDITIONS))
def test_report_conditions_are_deterministic(speech, name):
    sources = [tone(150.0, seed=1), tone(260.0, seed=2)]
    a = c.apply_condition(speech, name, sr=SR, rng=np.random.default_rng(0), babble_sources=sources)
    b = c.apply_condition(speech, name, sr=SR, rng=np.random.default_rng(0), babble_sources=sources)
    assert a.shape == speech.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)


def test_babble_condition_needs_other_voices(speech):
    with pytest.raises(ConfigError, match="needs other speakers' clips"):
        c.apply_condition(speech, "babble10", sr=SR, rng=np.random.default_rng(0))
    with pytest.raises(ConfigError, match="condition 'radio' is unknown"):
        c.apply_condition(speech, "radio", sr=SR, rng=np.random.default_rng(0))
