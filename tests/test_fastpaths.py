"""skbp._core.fastpaths: each NumPy specialisation equals the readable version.

* ``network.NumpySteps`` (BLAS bias update, column sums by a ones product, axpy L2)
  against ``network.Steps``, and a whole ``Network.loss_and_grad`` with each
  against the readable steps;
* the NumPy softmax log-loss (batch and single-sample) against
  ``losses.softmax_log_loss``;
* the fused ``online_sgd_step`` against ``theta - lr * grad`` with the gradient
  of ``Network.loss_and_grad`` on a batch of one row, over several steps in a
  row: for every activation, every (loss, output) pair of ``OUTPUT_LOSSES``, one
  and several outputs, with and without L2, with sample weights 1 and not 1, in
  both dtypes.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skbp._core import fastpaths
from skbp._core.activations import ACTIVATIONS
from skbp._core.fastpaths import online_sgd_step
from skbp._core.losses import OUTPUT_LOSSES, softmax_log_loss
from skbp._core.namespace import NUMPY_OPS
from skbp._core.network import Network, NumpySteps, Steps

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
        # A float32 loss near zero is a small difference of O(1) numbers
        # (0.5 * (z - y)^2 with z close to y): its rounding is absolute, about
        # eps * |z| / |z - y| relative. BLAS's matrix-vector kernel (the fused
        # step) and NumPy's product round differently in float32: seen 3e-5
        # relative on a loss of 3e-5.
        floor = 10 * float(np.finfo(dtype).eps) if dtype == np.float32 else 0.0
        assert fused_loss == pytest.approx(
            expected_loss, rel=_tolerance(dtype), abs=floor
        ), what
    assert fused.dtype == dtype
    assert not np.array_equal(fused, theta)  # the steps moved it
    rtol = 10 * _tolerance(dtype)
    atol = 10 * np.finfo(dtype).eps
    assert_allclose(fused, expected, rtol=rtol, atol=atol, err_msg=what)


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
    grad = np.empty_like(theta)
    net.loss_and_grad(theta, X[:1], Y[:1], np.array([2.5]), 0.3, grad)
    fused = theta.copy()
    online_sgd_step(net, fused, 0.3, 0.1)(X[0], Y[0], 2.5)
    assert_allclose(fused, theta - 0.1 * grad, rtol=1e-11, atol=1e-15)


def test_row_views_of_a_larger_array():
    """The trainer passes row views of X; the fused step must not depend on it."""
    pair, n_outputs = CASES[0]
    net, theta, X, Y = _problem(pair, n_outputs, "relu", np.float64)
    X_wide = np.asfortranarray(X)  # non-contiguous rows
    theta_c, theta_f = theta.copy(), theta.copy()
    loss_c = online_sgd_step(net, theta_c, 0.1, 0.1)(X[1], Y[1], 1.0)
    loss_f = online_sgd_step(net, theta_f, 0.1, 0.1)(X_wide[1], Y[1], 1.0)
    assert loss_f == pytest.approx(loss_c, rel=1e-14)
    assert_allclose(theta_f, theta_c, rtol=1e-13, atol=1e-16)


# ------------------------------------------------ the network's NumPy steps


@pytest.mark.parametrize("order", ["C", "F", "1-D", "1 row", "sparse"])
def test_affine_equals_readable(order, dtype):
    # C-ordered batches take the BLAS rank-1 update (ones b^T), the rest NumPy's
    # broadcast addition; both must give a @ W + b bit for bit.
    rng = np.random.RandomState(0)
    a = rng.randn(6, 4).astype(dtype)
    if order == "1-D":
        a = a[0].copy()
    elif order == "1 row":
        a = a[:1].copy()
    W = rng.randn(4, 5).astype(dtype)
    b = rng.randn(5).astype(dtype)
    n_rows = 1 if a.ndim == 1 else a.shape[0]
    shape = (5,) if a.ndim == 1 else (n_rows, 5)
    readable = Steps.affine(NUMPY_OPS, a, W, b, np.empty(shape, dtype), None)
    out = np.empty(shape, dtype, order="F" if order == "F" else "C")
    if order == "sparse":
        a = sp.csr_matrix(a)
    ones = np.ones(n_rows, dtype=dtype) if n_rows > 1 else None
    fast = NumpySteps.affine(NUMPY_OPS, a, W, b, out, ones)
    assert fast is out
    assert fast.dtype == dtype
    if order == "sparse":  # SciPy's product sums in its own order
        assert_allclose(fast, readable, rtol=_tolerance(dtype))
    else:
        assert_array_equal(fast, readable)


@pytest.mark.parametrize("shape", [(6, 5), (200, 100), (1, 3)])
def test_column_sums_equal_readable(shape, dtype):
    rng = np.random.RandomState(1)
    delta = rng.randn(*shape).astype(dtype)
    readable = Steps.column_sums(NUMPY_OPS, delta, None, np.empty(shape[1], dtype))
    out = np.empty(shape[1], dtype)
    fast = NumpySteps.column_sums(NUMPY_OPS, delta, np.ones(shape[0], dtype), out)
    assert fast is out
    # A BLAS product sums in another order than NumPy's pairwise reduction.
    assert_allclose(fast, readable, rtol=_tolerance(dtype), atol=_tolerance(dtype))


@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
def test_add_l2_gradient_equals_readable(strided, dtype):
    rng = np.random.RandomState(2)
    weights = rng.randn(50).astype(dtype)
    grad = rng.randn(100 if strided else 50).astype(dtype)
    grad = grad[::2] if strided else grad
    readable = Steps.add_l2_gradient(NUMPY_OPS, grad.copy(), weights, 0.3)
    fast = NumpySteps.add_l2_gradient(NUMPY_OPS, grad, weights, 0.3)
    assert fast is grad  # in place, also into a strided view
    assert_allclose(fast, readable, rtol=_tolerance(dtype), atol=0)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("pair, n_outputs", CASES, ids=CASE_IDS)
def test_network_with_numpy_steps_equals_readable_steps(pair, n_outputs, sparse):
    """The whole loss and gradient, with the fast steps and loss against the
    readable ones (what every other array library runs)."""
    net, theta, X, Y = _problem(pair, n_outputs, "tanh", np.float64, n_samples=7)
    readable = Network(
        net.layout.layer_sizes,
        net.activations,
        net.output,
        net.loss_name,
        net.loss_params,
    )
    readable._steps = Steps
    readable._loss = OUTPUT_LOSSES[pair]
    assert net._steps is NumpySteps
    sw = np.linspace(0.5, 2.0, len(X))
    data = sp.csr_matrix(X) if sparse else X
    grad_fast, grad_readable = np.empty_like(theta), np.empty_like(theta)
    loss_fast = net.loss_and_grad(theta, data, Y, sw, 0.3, grad_fast)
    loss_readable = readable.loss_and_grad(theta, data, Y, sw, 0.3, grad_readable)
    assert loss_fast == pytest.approx(loss_readable, rel=1e-13)
    assert_allclose(grad_fast, grad_readable, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------- the softmax log-loss


@pytest.mark.parametrize("shape", [(7, 3), (256, 10), (5,)], ids=str)
@pytest.mark.parametrize("alias", [False, True], ids=["out", "out-is-z"])
def test_softmax_log_loss_equals_readable(shape, alias, dtype):
    rng = np.random.RandomState(4)
    z = (3 * rng.randn(*shape)).astype(dtype)
    n_outputs = shape[-1]
    Y = np.eye(n_outputs, dtype=bool)[rng.randint(n_outputs, size=shape[:-1])]
    loss, delta = softmax_log_loss(NUMPY_OPS, z, Y)
    work = z.copy()
    out = work if alias else np.empty_like(z)
    fast_loss, fast_delta = fastpaths.softmax_log_loss(NUMPY_OPS, work, Y, out)
    assert fast_delta is out
    assert fast_delta.dtype == dtype
    rtol = _tolerance(dtype)
    assert_allclose(fast_loss, loss, rtol=rtol, atol=rtol)
    assert_allclose(fast_delta, delta, rtol=rtol, atol=rtol)


@pytest.mark.parametrize(
    "scale", [1e3, -1e3, 1e-3], ids=["overflow", "underflow", "small"]
)
def test_single_sample_softmax_falls_back_when_exp_does_not_fit(scale):
    # exp(z) overflows (or all underflow): the row max must come off first.
    z = scale * np.array([1.0, 2.0, 0.5])
    y = np.array([0.0, 1.0, 0.0])
    loss, delta = softmax_log_loss(NUMPY_OPS, z, y)
    # The first attempt's exp may overflow: the trainer runs under errstate.
    with np.errstate(over="ignore"):
        fast_loss, fast_delta = fastpaths.softmax_log_loss(NUMPY_OPS, z, y, np.empty(3))
    assert np.isfinite(fast_loss)
    assert fast_loss == pytest.approx(float(loss), rel=1e-12, abs=1e-12)
    assert_allclose(fast_delta, delta, rtol=1e-12, atol=1e-15)


def test_numpy_loss_picks_the_specialisation():
    assert fastpaths.numpy_loss("log_loss", "softmax") is fastpaths.softmax_log_loss
    for pair, function in OUTPUT_LOSSES.items():
        if pair != ("log_loss", "softmax"):
            assert fastpaths.numpy_loss(*pair) is function
