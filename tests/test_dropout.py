"""Inverted dropout: gradients with fixed masks, training only, reproducible."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skbp import BPClassifier
from skbp._core.activations import ACTIVATIONS
from skbp._core.network import Network


def _finite_difference_grad(net, theta, X, Y, sw, alpha, masks, eps=1e-6):
    numeric = np.empty_like(theta)
    scratch = np.empty_like(theta)
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = eps
        up = net.loss_and_grad(theta + step, X, Y, sw, alpha, scratch, masks)
        down = net.loss_and_grad(theta - step, X, Y, sw, alpha, scratch, masks)
        numeric[k] = (up - down) / (2 * eps)
    return numeric


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize(
    "loss, output, n_out",
    [("log_loss", "softmax", 3), ("squared_error", "logistic", 2)],
)
def test_gradient_with_fixed_masks(activation, loss, output, n_out):
    rng = np.random.RandomState(0)
    net = Network((3, 5, 4, n_out), (activation, activation), output, loss)
    theta = rng.randn(net.layout.size) * 0.5
    X = rng.randn(6, 3)
    Y = np.eye(n_out)[rng.randint(0, n_out, 6)]
    sw = rng.uniform(0.5, 2.0, 6)
    masks = net.dropout_masks((0.3, 0.5), 6, np.float64, rng)
    if activation in ("relu", "leaky_relu", "elu"):
        # Keep finite differences away from the kink at 0.
        W, b = net.layout.views(theta)
        b[0] += 0.05 * np.sign(b[0])
    grad = np.empty_like(theta)
    net.loss_and_grad(theta, X, Y, sw, 0.1, grad, masks)
    numeric = _finite_difference_grad(net, theta, X, Y, sw, 0.1, masks)
    error = np.abs(grad - numeric).max() / np.abs(numeric).max()
    assert error < 1e-6


def test_masks_are_inverted_dropout():
    net = Network((4, 50, 40, 2), ("relu", "relu"), "softmax", "log_loss")
    masks = net.dropout_masks((0.2, 0.5), 1000, np.float32, np.random.RandomState(0))
    assert [m.shape for m in masks] == [(1000, 50), (1000, 40)]
    for mask, rate in zip(masks, (0.2, 0.5)):
        assert mask.dtype == np.float32
        assert set(np.unique(mask)) == {0.0, np.float32(1 / (1 - rate))}
        assert abs((mask == 0).mean() - rate) < 0.02
        assert abs(mask.mean() - 1.0) < 0.03  # the expected activation is kept


def _fit(**params):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    params = {
        "hidden_layer_sizes": (32,),
        "learning_rate": 0.003,
        "max_iter": 15,
        "random_state": 0,
        **params,
    }
    clf = BPClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y), X, y


def test_dropout_trains_and_predicts_deterministically():
    clf, X, y = _fit(dropout=0.3)
    assert clf.score(X, y) > 0.9
    assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    again, _, _ = _fit(dropout=0.3)
    assert_allclose(again.predict_proba(X), clf.predict_proba(X))
    plain, _, _ = _fit(dropout=0.0)
    # Dropout changes training: different weights from the same start.
    assert not np.allclose(plain.coefs_[0], clf.coefs_[0])


def test_dropout_per_layer_and_online():
    clf, X, y = _fit(
        hidden_layer_sizes=(16, 16),
        dropout=(0.2, 0.0),
        batch_size=1,
        solver="sgd",
        momentum=0.0,
        learning_rate=0.05,
    )
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(dropout=(0.1, 0.2)), "one rate per hidden layer"),
        (dict(dropout=(1.5,)), r"\[0, 1\)"),
        (dict(dropout=0.2, solver="lbfgs"), "deterministic"),
    ],
)
def test_bad_dropout(params, match):
    X = np.random.RandomState(0).randn(20, 3)
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=match):
        BPClassifier(hidden_layer_sizes=(4,), **params).fit(X, y)
