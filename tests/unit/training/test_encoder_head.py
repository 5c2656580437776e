import numpy as np
import pytest

from ser.errors import ModelError
from ser.training.encoder_head import EncoderHead, fit_encoder_head

EMOS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def rows(rng, centres, labels, *, spread=0.5):
    return np.stack([centres[EMOS.index(e)] + spread * rng.standard_normal(1792) for e in labels]).astype(np.float32)


def test_fits_separable_rows_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((8, 1792))
    y = [EMOS[k % 8] for k in range(160)]
    head = fit_encoder_head(rows(rng, centres, y), y, emotions=EMOS)
    test_y = [EMOS[k % 8] for k in range(40)]
    P = head.predict_proba(rows(rng, centres, test_y))
    assert P.shape == (40, 8) and np.allclose(P.sum(axis=1), 1, atol=1e-5)
    assert np.mean(np.array(EMOS)[P.argmax(1)] == np.array(test_y)) > 0.9
    head.save(tmp_path / "encoder_head.npz")
    again = EncoderHead.load(tmp_path / "encoder_head.npz", emotions=EMOS)
    probe = rows(rng, centres, test_y[:3])
    np.testing.assert_allclose(again.predict_proba(probe), head.predict_proba(probe), atol=1e-6)
    assert again.emotions == EMOS and again.C == head.C


@pytest.mark.parametrize("offset, floor", [(-np.inf, 0.6), (-1.0, 0.3)])
def test_a_corpus_without_an_emotion_does_not_teach_that_it_never_happens(offset, floor):
    """Corpus B has no calm; its neutral clips sound like corpus A's calm. With its absent emotions offset
    (or not counted at all), B's clips lower calm where A taught it less than when they are counted in full."""
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((8, 1792))
    a = [EMOS[k % 8] for k in range(160)]
    b = ["neutral"] * 60 + [EMOS[k % 8] for k in range(60) if EMOS[k % 8] not in ("calm", "disgust")]
    Rb = np.concatenate([rows(rng, centres, ["calm"] * 60), rows(rng, centres, b[60:])])  # neutral that sounds calm
    R = np.concatenate([rows(rng, centres, a), Rb])
    y, corpora = a + b, ["a"] * len(a) + ["b"] * len(b)
    sets = {"a": EMOS, "b": tuple(e for e in EMOS if e not in ("calm", "disgust"))}
    masked = fit_encoder_head(R, y, corpora, emotions=EMOS, emotion_sets=sets, absent_offset=offset)
    open_ = fit_encoder_head(R, y, corpora, emotions=EMOS, emotion_sets={"a": EMOS, "b": EMOS})
    calm = rows(rng, centres, ["calm"] * 20)
    k = EMOS.index("calm")
    kept, lost = masked.predict_proba(calm)[:, k].mean(), open_.predict_proba(calm)[:, k].mean()
    assert kept > floor and lost < kept - 0.1, (kept, lost)


def test_load_says_what_is_wrong_in_one_line(tmp_path):
    with pytest.raises(ModelError, match=r"encoder_head.npz: missing; its config.json says"):
        EncoderHead.load(tmp_path / "encoder_head.npz", emotions=EMOS)
    (tmp_path / "encoder_head.npz").write_bytes(b"not numpy")
    with pytest.raises(ModelError, match=r"encoder_head.npz: is not an encoder head ser wrote"):
        EncoderHead.load(tmp_path / "encoder_head.npz", emotions=EMOS)
    rng = np.random.default_rng(2)
    y = [EMOS[k % 8] for k in range(40)]
    fit_encoder_head(rng.standard_normal((40, 1792)), y, emotions=EMOS).save(tmp_path / "encoder_head.npz")
    with pytest.raises(ModelError, match=r"was made for another model.*mixes files of two runs"):
        EncoderHead.load(tmp_path / "encoder_head.npz", emotions=EMOS[:4])
