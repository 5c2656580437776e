"""A multinomial logistic regression with per-row offsets: the head of a personal model
(:mod:`ser.serving.adapt`, offsets the base model's log-probabilities) and the encoder member
(:mod:`ser.training.encoder_head`, offsets that hold back a corpus's absent emotions).

    p(k | row) = softmax_k( offsets[row, k] + Z[row] @ W[:, k] + b[k] )
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_head", "head_probs"]


def head_probs(Z: np.ndarray, offsets: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """softmax(offsets + Z @ W + b) row by row.

    Parameters
    ----------
    Z : np.ndarray, shape (n, d); offsets : np.ndarray, shape (n, K) (log-probabilities)
    W : np.ndarray, shape (d, K); b : np.ndarray, shape (K,)

    Returns
    -------
    np.ndarray, shape (n, K)
    """
    logits = offsets + Z @ W + b
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def fit_head(Z: np.ndarray, offsets: np.ndarray, y: np.ndarray, *, l2: float, l2_bias: float,
             weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The L2-penalised multinomial logistic regression on ``Z`` with ``offsets`` (L-BFGS).

    Minimises ``sum_i w_i CE_i / sum_i w_i + l2 * (|W|^2 + l2_bias |b|^2)``; ``l2 = inf`` gives ``W = 0, b = 0``
    (the offsets alone: for a personal model, the base model).

    Parameters
    ----------
    Z : np.ndarray, shape (n, d): standardised activations
    offsets : np.ndarray, shape (n, K)
    y : np.ndarray of int, shape (n,): the class of each row, in 0..K-1
    weights : np.ndarray, shape (n,), optional: each row's weight (default: every class weighs the same)

    Returns
    -------
    W : np.ndarray, shape (d, K); b : np.ndarray, shape (K,)
    """
    from scipy.optimize import minimize

    n, d = Z.shape
    K = offsets.shape[1]
    if not np.isfinite(l2) or n == 0:
        return np.zeros((d, K)), np.zeros(K)
    if weights is None:
        counts = np.bincount(y, minlength=K).astype(float)
        weights = 1.0 / np.maximum(counts[y], 1)
    w = np.asarray(weights, float) / np.sum(weights)
    Y = np.eye(K)[y]
    Z64, O64 = Z.astype(np.float64), offsets.astype(np.float64)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        W, b = theta[:d * K].reshape(d, K), theta[d * K:]
        logits = O64 + Z64 @ W + b
        logits -= logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        value = -np.sum(w * np.sum(Y * logp, axis=1)) + l2 * (np.sum(W * W) + l2_bias * np.sum(b * b))
        G = w[:, None] * (np.exp(logp) - Y)
        grad = np.concatenate([(Z64.T @ G + 2 * l2 * W).ravel(), G.sum(axis=0) + 2 * l2 * l2_bias * b])
        return float(value), grad

    res = minimize(loss, np.zeros(d * K + K), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x[:d * K].reshape(d, K), res.x[d * K:]
