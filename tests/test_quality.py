"""Held-out accuracy on digits: the defaults and the classic online delta rule."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import expit
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier


def _classic(**params):
    """One sigmoid hidden layer, sigmoid outputs, squared error, online updates."""
    defaults = dict(
        hidden_layer_sizes=(100,),
        activation="sigmoid",
        loss="squared_error",
        init="uniform",
        solver="sgd",
        momentum=0.0,
        batch_size=1,
        learning_rate=0.1,
        alpha=0.0,
        max_iter=20,
    )
    defaults.update(params)
    return BPClassifier(**defaults)


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


def test_default_pipeline_digits_accuracy(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = make_pipeline(StandardScaler(), BPClassifier(random_state=0))
    clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.97


def test_classic_backprop_digits_accuracy(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    # random_state=1, not 0: with seed 0 this configuration ends in a poor optimum
    # (held-out accuracy 0.88, final loss 0.074), and an independent numpy
    # implementation of the same updates from the same start reproduces that to
    # 1e-15 (see the oracle test below), so it is the seed, not skbp. Seeds 1-19
    # all reach 0.95-0.98 (measured: median 0.970 over seeds 0-19).
    clf = _classic(random_state=1)
    # 20 epochs is the classic budget: reaching max_iter is expected.
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        clf.fit(X_train / 16.0, y_train)
    assert clf.out_activation_ == "logistic"
    assert clf.score(X_test / 16.0, y_test) >= 0.90


def _online_delta_rule(X, Y, W, b, learning_rate, n_epochs):
    """The classic algorithm written out: sigmoid layers, E = 1/2 sum (y - a)^2.

    Returns the mean loss of each epoch; ``W`` and ``b`` are updated in place.
    """
    curve = []
    for _ in range(n_epochs):
        total = 0.0
        for x, t in zip(X, Y):
            x = x[None, :]
            a1 = expit(x @ W[0] + b[0])
            a2 = expit(a1 @ W[1] + b[1])
            total += 0.5 * np.sum((a2 - t) ** 2)
            delta2 = (a2 - t) * a2 * (1 - a2)  # dE/dz2 for sigmoid outputs
            delta1 = (delta2 @ W[1].T) * a1 * (1 - a1)
            W[1] -= learning_rate * a1.T @ delta2
            b[1] -= learning_rate * delta2[0]
            W[0] -= learning_rate * x.T @ delta1
            b[0] -= learning_rate * delta1[0]
        curve.append(total / len(X))
    return curve


def test_classic_configuration_is_the_online_delta_rule(digits_split):
    """From the same start and in the same order, skbp takes the classic steps."""
    X_train, _, y_train, _ = digits_split
    X, y = X_train[:200] / 16.0, y_train[:200]
    Y = np.eye(10)[y]
    rng = np.random.RandomState(0)
    W = [rng.uniform(-1, 1, (64, 12)), rng.uniform(-1, 1, (12, 10))]
    b = [rng.uniform(-1, 1, 12), rng.uniform(-1, 1, 10)]

    clf = _classic(hidden_layer_sizes=(12,), shuffle=False, random_state=0)
    clf.partial_fit(X[:1], y[:1], classes=np.arange(10))  # creates the attributes
    # Training restarts from whatever coefs_/intercepts_ hold (documented).
    clf.coefs_ = [w.copy() for w in W]
    clf.intercepts_ = [c.copy() for c in b]
    for _ in range(3):
        clf.partial_fit(X, y)

    expected_curve = _online_delta_rule(X, Y, W, b, learning_rate=0.1, n_epochs=3)
    assert_allclose(clf.loss_curve_[1:], expected_curve, rtol=1e-12)
    for got, expected in zip(clf.coefs_ + clf.intercepts_, W + b):
        assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
