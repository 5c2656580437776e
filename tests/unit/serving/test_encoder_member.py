"""A model with an encoder member: the networks' probabilities averaged with the regression's."""

import dataclasses
import shutil

import numpy as np
import pandas as pd
import pytest

from ser.audio.reader import finish_audio, read_audio
from ser.config import Config
from ser.errors import ModelError
from ser.features.encoder import encoder_row
from ser.model_folder import ModelFolder
from ser.serving.predict import Predictor
from ser.training.encoder_head import fit_encoder_head
from tests.conftest import DEFAULT_MODEL, DEMO


def _copy(src, dst, *, member: bool):
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("encoder_head.npz"))
    config = Config.load(dst / "config.json")
    dataclasses.replace(config, train=dataclasses.replace(config.train, encoder_member=member)).save(
        dst / "config.json")
    return dst


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """The shipped networks twice: alone, and with a head fitted here on the demo clips."""
    root = tmp_path_factory.mktemp("member")
    nets = _copy(DEFAULT_MODEL, root / "networks", member=False)
    both = _copy(DEFAULT_MODEL, root / "member", member=True)
    labels = pd.read_csv(DEMO / "all_labels.csv")
    config = Config.load(nets / "config.json")
    R = [encoder_row(finish_audio(read_audio(DEMO / p, config=config.audio), config=config.audio)
                     [:config.features.window_samples], sr=16_000) for p in labels.path]
    head = fit_encoder_head(np.stack(R), labels.emotion, emotions=config.emotions)
    head.save(ModelFolder(both).encoder_head_file)
    return nets, both, head


def test_the_answer_is_the_weighted_mean_of_networks_and_head(folders, real_clip):
    nets, both, head = folders
    alone, member = Predictor.load(nets), Predictor.load(both)
    assert alone.encoder_head is None and member.encoder_head is not None
    y = finish_audio(read_audio(real_clip, config=member.config.audio), config=member.config.audio)
    assert len(y) <= member.config.features.window_samples  # one window: the mean is exact
    p_net = alone.predict_file(real_clip).probabilities
    p_head = head.predict_proba(encoder_row(y, sr=16_000))[0]
    got = member.predict_file(real_clip).probabilities
    w = member.config.train.encoder_weight
    assert 0 < w < 1
    want = {e: (1 - w) * p_net[e] + w * float(p_head[k]) for k, e in enumerate(member.emotions)}
    assert got == pytest.approx(want, abs=1e-5)
    assert got != pytest.approx(p_net, abs=1e-3)  # the head changed the answer's probabilities
    chosen = member.predict_file(real_clip, emotions="angry,happy,neutral,sad").probabilities
    total = sum(want[e] for e in chosen)
    assert chosen == pytest.approx({e: want[e] / total for e in chosen}, abs=1e-5)  # restricted after the mean


def test_features_without_rows_are_refused_and_a_missing_head_named(folders, tmp_path):
    _, both, _ = folders
    member = Predictor.load(both)
    X = np.zeros((2, *member.input_shape), np.float32)
    with pytest.raises(ModelError, match=r"has an encoder member, so its probabilities need each clip's encoder row"):
        member.predict_features(X)
    shutil.copytree(both, tmp_path / "lost")
    (tmp_path / "lost" / "encoder_head.npz").unlink()
    with pytest.raises(ModelError, match=r"encoder_head.npz: missing; its config.json says the model has an encoder"):
        Predictor.load(tmp_path / "lost")


def test_a_config_written_before_the_member_has_none(tmp_path):
    import json

    data = json.loads((DEFAULT_MODEL / "config.json").read_text())
    data["train"].pop("encoder_member", None)
    (tmp_path / "config.json").write_text(json.dumps(data))
    assert Config.load(tmp_path / "config.json").train.encoder_member is False
