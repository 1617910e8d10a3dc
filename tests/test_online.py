"""skbp._core.fastpaths: each single-sample variant equals the readable batch code.

``loss_and_grad_one`` must return what ``Network.loss_and_grad`` returns on a batch
of one row, and the fused ``online_sgd_step`` must move ``theta`` where
``theta - lr * grad`` with that gradient would, over several steps in a row: for
every activation, every (loss, output) pair of ``OUTPUT_LOSSES``, one and several
outputs, with and without L2, with sample weights 1 and not 1, in both dtypes.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skbp._core.activations import ACTIVATIONS
from skbp._core.fastpaths import loss_and_grad_one, online_sgd_step
from skbp._core.losses import OUTPUT_LOSSES
from skbp._core.network import Network

ACTIVATION_NAMES = sorted(ACTIVATIONS)
#: Keyword arguments a loss needs (the same values as the estimators' defaults
#: are not required: any valid value exercises the code).
LOSS_PARAMS = {"huber": {"threshold": 0.5}}
#: (loss, output) pair and number of outputs; softmax needs more than one.
CASES = [
    (pair, n_outputs)
    for pair in sorted(OUTPUT_LOSSES)
    for n_outputs in ((3,) if pair[1] == "softmax" else (1, 3))
]
CASE_IDS = [f"{loss}-{output}-{n}" for (loss, output), n in CASES]
#: (sample weight, alpha): a single sample's weight cancels in the data term and
#: divides the L2 term. A loop inside each test rather than two more parametrize
#: axes keeps the grid at a few hundred tests.
WEIGHTS_ALPHAS = [(1.0, 0.0), (2.5, 0.0), (1.0, 0.3), (2.5, 0.3)]


def _targets(output, n_samples, n_outputs, rng):
    if output == "softmax":
        return np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    if output == "logistic":
        return rng.randint(2, size=(n_samples, n_outputs)).astype(float)
    # Real targets, non-negative as the Poisson loss requires.
    return rng.uniform(0.0, 2.0, (n_samples, n_outputs))


def _problem(pair, n_outputs, activation, dtype, hidden=(5, 4), n_samples=4):
    loss, output = pair
    rng = np.random.RandomState(3)
    net = Network(
        (6, *hidden, n_outputs),
        (activation,) * len(hidden),
        output,
        loss,
        loss_params=LOSS_PARAMS.get(loss),
    )
    theta = (0.4 * rng.randn(net.layout.size)).astype(dtype)
    X = rng.randn(n_samples, 6).astype(dtype)
    Y = _targets(output, n_samples, n_outputs, rng).astype(dtype)
    return net, theta, X, Y


def _tolerance(dtype):
    return 1e-5 if dtype == np.float32 else 1e-12


def _assert_one_equals_batch(net, theta, x, y, weight, alpha):
    """loss_and_grad_one(x) against Network.loss_and_grad on the batch [x]."""
    dtype = theta.dtype.type
    grad_batch = np.empty_like(theta)
    loss_batch = net.loss_and_grad(
        theta, x[None], y[None], np.array([weight], dtype=dtype), alpha, grad_batch
    )
    before = theta.copy()
    grad_one = np.full_like(theta, np.nan)  # every entry must be written
    loss_one = loss_and_grad_one(net, theta, x, y, weight, alpha, grad_one)
    assert_array_equal(theta, before)  # theta is read only
    assert isinstance(loss_one, float)
    assert grad_one.dtype == dtype
    rtol = _tolerance(dtype)
    what = f"weight={weight}, alpha={alpha}"
    assert loss_one == pytest.approx(loss_batch, rel=rtol), what
    atol = 10 * np.finfo(dtype).eps * np.abs(grad_batch).max()
    assert_allclose(grad_one, grad_batch, rtol=100 * rtol, atol=atol, err_msg=what)


def _assert_fused_steps_equal_gradient_steps(net, theta, X, Y, weight, alpha):
    """Fused steps over the rows of X against loss_and_grad then a plain step."""
    dtype = theta.dtype.type
    what = f"weight={weight}, alpha={alpha}"
    lr = 0.1
    expected = theta.copy()
    grad = np.empty_like(theta)
    fused = theta.copy()
    step = online_sgd_step(net, fused, alpha, lr)
    sw = np.array([weight], dtype=dtype)
    for x, y in zip(X, Y):
        expected_loss = net.loss_and_grad(expected, x[None], y[None], sw, alpha, grad)
        expected -= dtype(lr) * grad
        fused_loss = step(x, y, weight)
        assert isinstance(fused_loss, float)
        assert fused_loss == pytest.approx(expected_loss, rel=_tolerance(dtype)), what
    assert fused.dtype == dtype
    assert not np.array_equal(fused, theta)  # the steps moved it
    rtol = 10 * _tolerance(dtype)
    atol = 10 * np.finfo(dtype).eps
    assert_allclose(fused, expected, rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("pair, n_outputs", CASES, ids=CASE_IDS)
def test_loss_and_grad_one_equals_batch_of_one(pair, n_outputs, activation, dtype):
    net, theta, X, Y = _problem(pair, n_outputs, activation, dtype)
    for weight, alpha in WEIGHTS_ALPHAS:
        for x, y in zip(X, Y):
            _assert_one_equals_batch(net, theta, x, y, weight, alpha)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("pair, n_outputs", CASES, ids=CASE_IDS)
def test_sgd_step_equals_gradient_step(pair, n_outputs, activation, dtype):
    """Each fused step is Network.loss_and_grad then theta -= lr * grad; one step
    function serves several samples in a row (its views and buffers stay valid)."""
    net, theta, X, Y = _problem(pair, n_outputs, activation, dtype)
    for weight, alpha in WEIGHTS_ALPHAS:
        _assert_fused_steps_equal_gradient_steps(net, theta, X, Y, weight, alpha)


@pytest.mark.parametrize("hidden", [(), (5,), (5, 4, 3)], ids=["0", "1", "3"])
@pytest.mark.parametrize("pair, n_outputs", CASES, ids=CASE_IDS)
def test_variants_for_any_number_of_hidden_layers(pair, n_outputs, hidden):
    net, theta, X, Y = _problem(pair, n_outputs, "tanh", np.float64, hidden=hidden)
    _assert_one_equals_batch(net, theta, X[0], Y[0], 2.5, 0.3)
    grad = np.empty_like(theta)
    net.loss_and_grad(theta, X[:1], Y[:1], np.array([2.5]), 0.3, grad)
    fused = theta.copy()
    online_sgd_step(net, fused, 0.3, 0.1)(X[0], Y[0], 2.5)
    assert_allclose(fused, theta - 0.1 * grad, rtol=1e-11, atol=1e-15)


def test_row_views_of_a_larger_array():
    """The trainer passes row views of X and Y; results must not depend on it."""
    pair, n_outputs = CASES[0]
    net, theta, X, Y = _problem(pair, n_outputs, "relu", np.float64)
    X_wide = np.asfortranarray(X)  # non-contiguous rows
    grad_c, grad_f = np.empty_like(theta), np.empty_like(theta)
    loss_c = loss_and_grad_one(net, theta, X[1], Y[1], 1.0, 0.1, grad_c)
    loss_f = loss_and_grad_one(net, theta, X_wide[1], Y[1], 1.0, 0.1, grad_f)
    assert loss_f == pytest.approx(loss_c, rel=1e-14)
    assert_allclose(grad_f, grad_c, rtol=1e-13, atol=1e-16)
