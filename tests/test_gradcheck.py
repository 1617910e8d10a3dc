"""Tests for skbp._tools.gradcheck: the public finite-difference gradient checker."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skbp import BPClassifier
from skbp._core.network import Network
from skbp._tools.gradcheck import (
    GradientCheck,
    check_gradients,
    check_network_gradients,
)

#: Output kind -> (n_outputs, output function, loss, target layout).
KINDS = {
    "binary-log_loss": (1, "logistic", "log_loss", "binary"),
    "multiclass-log_loss": (3, "softmax", "log_loss", "onehot"),
    "multilabel-log_loss": (3, "logistic", "log_loss", "multilabel"),
    "multiclass-squared_error": (3, "logistic", "squared_error", "onehot"),
    "multilabel-squared_error": (3, "logistic", "squared_error", "multilabel"),
}
SMOOTH = ["tanh", "sigmoid", "softplus", "gelu", "elu"]


def _problem(kind, activations, rng, n_samples=12):
    n_outputs, output, loss, layout = KINDS[kind]
    net = Network((3, 4, 3, n_outputs), activations, output, loss)
    theta = rng.randn(net.layout.size)
    X = rng.randn(n_samples, 3)
    if layout == "onehot":
        Y = np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    else:
        Y = rng.randint(2, size=(n_samples, n_outputs)).astype(float)
    return net, theta, X, Y


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("activation", SMOOTH)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_network_gradients_agree(kind, activation, weighted, alpha):
    rng = np.random.RandomState(0)
    net, theta, X, Y = _problem(kind, (activation, "tanh"), rng)
    sw = rng.uniform(0.1, 3.0, size=X.shape[0]) if weighted else None
    result = check_network_gradients(net, theta, X, Y, sample_weight=sw, alpha=alpha)
    assert isinstance(result, GradientCheck)
    assert result.max_relative_error < 1e-6
    assert len(result.per_layer) == 3
    assert result.analytic.shape == result.numeric.shape == (net.layout.size,)
    assert result.analytic.dtype == np.float64


def test_network_gradients_sparse_and_single_sample():
    rng = np.random.RandomState(1)
    net, theta, X, Y = _problem("multiclass-log_loss", ("tanh", "sigmoid"), rng)
    dense = check_network_gradients(net, theta, X, Y, alpha=0.1)
    sparse = check_network_gradients(net, theta, sp.csr_matrix(X), Y, alpha=0.1)
    assert sparse.max_relative_error < 1e-6
    assert_allclose(sparse.analytic, dense.analytic, rtol=1e-12, atol=1e-14)
    # A batch of one row, with a weight that the weighted mean must cancel.
    one = check_network_gradients(net, theta, X[:1], Y[:1], sample_weight=[2.0])
    assert one.max_relative_error < 1e-6


def test_theta_is_not_modified():
    rng = np.random.RandomState(2)
    net, theta, X, Y = _problem("binary-log_loss", ("tanh", "tanh"), rng)
    before = theta.copy()
    check_network_gradients(net, theta, X, Y)
    assert np.array_equal(theta, before)


def test_broken_derivative_is_detected():
    rng = np.random.RandomState(3)
    net, theta, X, Y = _problem("multiclass-log_loss", ("tanh", "tanh"), rng)
    derivative = net._hidden[1].derivative

    def wrong_derivative(ops, z, a, out):
        out = derivative(ops, z, a, out)
        return ops.multiply(out, 1.5, out=out)  # a 50% error in f'

    net._hidden[1] = net._hidden[1]._replace(derivative=wrong_derivative)
    result = check_network_gradients(net, theta, X, Y)
    assert result.max_relative_error > 1e-3
    by_layer = {row["layer"]: row for row in result.per_layer}
    # The error enters below the second hidden layer; the output layer is right.
    assert by_layer[2]["weights"] < 1e-6
    assert by_layer[1]["weights"] > 1e-3
    assert by_layer[0]["weights"] > 1e-3


def test_broken_loss_and_grad_is_detected():
    class Broken(Network):
        def loss_and_grad(self, theta, X, Y, sample_weight, alpha, grad):
            loss = super().loss_and_grad(theta, X, Y, sample_weight, alpha, grad)
            grad[self.layout.bias_slices[-1]] *= -1.0  # sign error on output biases
            return loss

    rng = np.random.RandomState(4)
    _, theta, X, Y = _problem("multiclass-log_loss", ("tanh", "tanh"), rng)
    net = Broken((3, 4, 3, 3), ("tanh", "tanh"), "softmax", "log_loss")
    result = check_network_gradients(net, theta, X, Y)
    assert result.max_relative_error > 1e-3
    assert result.per_layer[-1]["biases"] > 1e-3
    assert result.per_layer[-1]["weights"] < 1e-6


def _fitted(X, y, **params):
    params = {"hidden_layer_sizes": (4, 3), "activation": "tanh", **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return BPClassifier(max_iter=5, random_state=0, **params).fit(X, y)


@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_fitted_estimator(loss, multiclass_data, binary_data, multilabel_data):
    for X, y in (multiclass_data, binary_data, multilabel_data):
        X, y = X[:20], y[:20]
        clf = _fitted(X, y, loss=loss, alpha=0.5)
        coefs = [c.copy() for c in clf.coefs_]
        result = check_gradients(clf, X, y)
        assert result.max_relative_error < 1e-6
        # The check reads the current weights and leaves them alone.
        for before, after in zip(coefs, clf.coefs_):
            assert np.array_equal(before, after)


def test_fitted_estimator_with_sample_and_class_weights(multiclass_data):
    X, y = multiclass_data
    X, y = X[:20], y[:20]
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    clf = _fitted(X, y, class_weight="balanced", activation=("sigmoid", "gelu"))
    assert check_gradients(clf, X, y, sample_weight=sw).max_relative_error < 1e-6


def test_check_uses_current_weights(binary_data):
    X, y = binary_data
    X, y = X[:15], y[:15]
    clf = _fitted(X, y)
    first = check_gradients(clf, X, y)
    clf.coefs_[0][...] += 0.5  # hand-edited weights are the ones checked
    second = check_gradients(clf, X, y)
    assert second.max_relative_error < 1e-6
    assert not np.allclose(first.analytic, second.analytic)


def test_unfitted_estimator_is_not_modified(iris):
    X, y = iris
    X, y = X[::10], y[::10]
    clf = BPClassifier(hidden_layer_sizes=(5,), activation="softplus")
    result = check_gradients(clf, X, y)
    assert result.max_relative_error < 1e-6
    assert not hasattr(clf, "coefs_")
    assert clf.max_iter == 200 and clf.random_state is None
    # The random_state seeds the one-epoch fit: same seed, same weights.
    again = check_gradients(clf, X, y)
    assert_allclose(again.analytic, result.analytic)


def test_unfitted_estimator_keeps_its_own_random_state(iris):
    # An estimator with a random_state of its own is fitted with it (the
    # function's random_state only stands in for None): the checked weights are
    # those of a one-epoch fit with that seed.
    X, y = iris
    X, y = X[::10], y[::10]
    clf = BPClassifier(hidden_layer_sizes=(5,), activation="tanh", random_state=3)
    result = check_gradients(clf, X, y, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = BPClassifier(
            hidden_layer_sizes=(5,), activation="tanh", random_state=3, max_iter=1
        ).fit(X, y)
    assert_allclose(result.analytic, check_gradients(fitted, X, y).analytic)
    assert clf.random_state == 3 and not hasattr(clf, "coefs_")


def test_float32_model_checked_in_float64(multiclass_data):
    X, y = multiclass_data
    X, y = X[:20].astype(np.float32), y[:20]
    clf = _fitted(X, y, alpha=0.1)
    assert clf.coefs_[0].dtype == np.float32
    result = check_gradients(clf, X, y)
    assert result.analytic.dtype == result.numeric.dtype == np.float64
    # float32 finite differences could not reach this.
    assert result.max_relative_error < 1e-6
    assert clf.coefs_[0].dtype == np.float32


def test_str_and_repr_table():
    rng = np.random.RandomState(5)
    net, theta, X, Y = _problem("binary-log_loss", ("tanh", "tanh"), rng)
    result = check_network_gradients(net, theta, X, Y)
    text = str(result)
    assert "weights" in text and "biases" in text
    for i in range(3):
        assert f"layer {i}" in text
    assert "max relative error" in text
    assert repr(result).startswith("GradientCheck(max_relative_error=")


def test_wrong_theta_size_and_features_raise(iris):
    net = Network((3, 2), (), "softmax", "log_loss")
    with pytest.raises(ValueError, match="theta has shape"):
        check_network_gradients(net, np.zeros(3), np.zeros((2, 3)), np.eye(2))
    X, y = iris
    clf = _fitted(X[::10], y[::10])
    with pytest.raises(ValueError, match="features"):
        check_gradients(clf, X[::10, :3], y[::10])
