"""The offset logistic regression shared by personal models and the encoder member, on seeded data."""

import numpy as np

from ser.training.logistic import fit_head, head_probs


def _data(n=300, d=5, K=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    Z = rng.normal(size=(n, d)) + 2.0 * np.eye(K, d)[y]  # class k shifts feature k
    return Z, y, np.log(np.full((n, K), 1.0 / K))


def test_an_infinite_penalty_leaves_the_offsets_alone():
    Z, y, offsets = _data()
    offsets = offsets + np.random.default_rng(1).normal(size=offsets.shape)
    W, b = fit_head(Z, offsets, y, l2=np.inf, l2_bias=1.0)
    assert not W.any() and not b.any()
    e = np.exp(offsets - offsets.max(axis=1, keepdims=True))
    np.testing.assert_allclose(head_probs(Z, offsets, W, b), e / e.sum(axis=1, keepdims=True))


def test_a_fitted_head_separates_the_classes_and_the_penalty_shrinks_it():
    Z, y, offsets = _data()
    W, b = fit_head(Z, offsets, y, l2=1e-3, l2_bias=1.0)
    P = head_probs(Z, offsets, W, b)
    assert P.shape == (len(y), 3) and np.allclose(P.sum(axis=1), 1)
    assert (P.argmax(axis=1) == y).mean() > 0.8
    W_strong, _ = fit_head(Z, offsets, y, l2=10.0, l2_bias=1.0)
    assert np.abs(W_strong).sum() < 0.5 * np.abs(W).sum()
