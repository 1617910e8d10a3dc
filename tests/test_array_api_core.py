"""The numeric core in an array API namespace, held against NumPy's numbers.

Every activation, output function and (loss, output) pair, the network's loss and
gradient, the optimisers and both trainers run in array-api-strict (on its second
device, so that an array made on the default device fails) and give NumPy's
results: to rounding, since NumPy's fast paths take other routes to the same
numbers (scipy.special's expit and erf, BLAS's fused axpy, in-place buffers).
The estimators' array API tests are in ``test_array_api.py``.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import erf as scipy_erf

from skbp._core.activations import ACTIVATIONS, erf
from skbp._core.losses import (
    OUTPUT_FUNCTIONS,
    OUTPUT_FUNCTIONS_XP,
    OUTPUT_LOG_PROBA,
    OUTPUT_LOG_PROBA_XP,
    OUTPUT_LOSSES,
    OUTPUT_LOSSES_XP,
)
from skbp._core.namespace import NUMPY
from skbp._core.network import Network
from skbp._core.optimizers import SGD, Adam
from skbp._core.training import (
    SolverState,
    StoppingMonitor,
    TrainingData,
    TrainingOptions,
    fit_lbfgs,
    fit_stochastic,
)

#: Relative tolerance of one operation's worth of rounding differences.
RTOL = {np.float64: 1e-13, np.float32: 1e-5}


def _rtol(dtype):
    return RTOL[np.dtype(dtype).type]


def _on(ns, array):
    """A copy of the NumPy ``array`` on ``ns``'s device (never sharing memory)."""
    return ns.to_device(np.array(array, copy=True))


def _check_array(ns, result, dtype):
    """``result`` is an array of ``ns`` on its device, in ``dtype``; as NumPy."""
    assert isinstance(result, type(ns.zeros(1, ns.xp.float64)))
    assert result.device == ns.device
    host = ns.to_host(result)
    assert host.dtype == dtype
    return host


# ----------------------------------------------------------------------- erf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_matches_scipy(dtype):
    # NumPy as the namespace: it has no erf, so this is skbp's own series and
    # continued fraction, the code every namespace without an erf runs.
    x = np.concatenate([np.linspace(-8, 8, 20001), [0.0, -2.0, 2.0, 6.0, 1e-30]])
    x = x.astype(dtype)
    result = erf(np, x)
    assert result.dtype == dtype
    # float64: within a few units in the last place (SciPy's own erf is within
    # one); float32: rounding of the float32 arithmetic.
    atol = 1e-15 if dtype == np.float64 else 4e-7
    assert np.abs(result - scipy_erf(x)).max() <= atol
    assert result[x.size - 5] == 0.0  # erf(0)
    assert np.all(np.abs(result) <= 1.0)


def test_erf_in_strict_is_the_same_computation(strict_namespace):
    ns = strict_namespace
    x = np.linspace(-7, 7, 1001)
    assert_allclose(ns.to_host(erf(ns.xp, _on(ns, x))), erf(np, x), rtol=0, atol=0)


# ------------------------------------------------------------- activations


def _grid(dtype):
    z = np.concatenate([np.linspace(-6.0, 6.0, 121), [-40.0, -9.5, 9.5, 40.0]])
    z = z[np.abs(z) >= 1e-3]  # away from the kinks, where the forms may differ
    return z.reshape(-1, 1).repeat(3, axis=1).astype(dtype)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_matches_numpy(name, dtype, strict_namespace):
    ns, activation = strict_namespace, ACTIVATIONS[name]
    z = _grid(dtype)
    a = activation.forward(z.copy(), np.empty_like(z))
    slope = activation.derivative(z.copy(), a.copy(), np.empty_like(z))
    a_xp = activation.forward_xp(ns.xp, _on(ns, z))
    slope_xp = activation.derivative_xp(ns.xp, _on(ns, z), _on(ns, a))
    # float32: erf's series and SciPy's erf differ by a few float32 roundings,
    # which are large relative to the tiny GELU values of very negative z.
    atol = 1e-300 if dtype == np.float64 else 1e-6
    assert_allclose(_check_array(ns, a_xp, dtype), a, rtol=_rtol(dtype), atol=atol)
    assert_allclose(
        _check_array(ns, slope_xp, dtype), slope, rtol=_rtol(dtype), atol=atol
    )


# ---------------------------------------------------------- output layer


def _logits_and_targets(pair, dtype, n_samples=7, n_outputs=3, seed=0):
    rng = np.random.RandomState(seed)
    z = 3.0 * rng.randn(n_samples, n_outputs)
    loss, output = pair
    if output == "softmax":
        Y = np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    elif output == "logistic":
        Y = rng.randint(2, size=z.shape).astype(float)
    elif output == "exp":
        Y = rng.poisson(np.exp(z / 3.0)).astype(float)
    else:
        Y = z - rng.uniform(0.1, 2.0, z.shape) * rng.choice([-1, 1], z.shape)
    return z.astype(dtype), Y.astype(dtype)


PAIRS = sorted(OUTPUT_LOSSES)


def test_array_api_registries_cover_numpy_ones():
    assert set(OUTPUT_LOSSES_XP) == set(OUTPUT_LOSSES)
    assert set(OUTPUT_FUNCTIONS_XP) == set(OUTPUT_FUNCTIONS)
    assert set(OUTPUT_LOG_PROBA_XP) == set(OUTPUT_LOG_PROBA)


@pytest.mark.parametrize("pair", PAIRS, ids="-".join)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_and_delta_match_numpy(pair, dtype, strict_namespace):
    ns = strict_namespace
    z, Y = _logits_and_targets(pair, dtype)
    params = {"threshold": 0.7} if pair[0] == "huber" else {}
    delta = np.empty_like(z)
    loss = OUTPUT_LOSSES[pair](z.copy(), Y, delta, **params)
    loss_xp, delta_xp = OUTPUT_LOSSES_XP[pair](ns.xp, _on(ns, z), _on(ns, Y), **params)
    assert_allclose(_check_array(ns, loss_xp, dtype), loss, rtol=_rtol(dtype))
    assert_allclose(
        _check_array(ns, delta_xp, dtype), delta, rtol=_rtol(dtype), atol=1e-7
    )


@pytest.mark.parametrize("output", sorted(OUTPUT_FUNCTIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_function_matches_numpy(output, dtype, strict_namespace):
    ns = strict_namespace
    z, _ = _logits_and_targets(("squared_error", output), dtype)
    expected = OUTPUT_FUNCTIONS[output](z.copy())
    result = OUTPUT_FUNCTIONS_XP[output](ns.xp, _on(ns, z))
    assert_allclose(_check_array(ns, result, dtype), expected, rtol=_rtol(dtype))


@pytest.mark.parametrize("output", sorted(OUTPUT_LOG_PROBA))
def test_log_probabilities_match_numpy_where_probabilities_underflow(
    output, strict_namespace
):
    ns = strict_namespace
    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, -800.0], [2.0, -1.0, 0.5]])
    expected = OUTPUT_LOG_PROBA[output](z)
    result = ns.to_host(OUTPUT_LOG_PROBA_XP[output](ns.xp, _on(ns, z)))
    assert np.isfinite(result).all()
    assert_allclose(result, expected, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_match_numpy(dtype, strict_namespace):
    """The edge cases of NumPy's versions hold here too: the Poisson mean is
    capped at the largest finite one, and log-softmax keeps the digits of large
    float32 logits (the row max comes off before the sum)."""
    ns = strict_namespace
    z = np.array([[1e4, 1e4 + 1.0, -3.0], [800.0, 0.0, 90.0]], dtype=dtype)
    mean = ns.to_host(OUTPUT_FUNCTIONS_XP["exp"](ns.xp, _on(ns, z)))
    assert np.isfinite(mean).all()
    assert_allclose(mean, OUTPUT_FUNCTIONS["exp"](z.copy()), rtol=_rtol(dtype))
    log_proba = ns.to_host(OUTPUT_LOG_PROBA_XP["softmax"](ns.xp, _on(ns, z)))
    assert_allclose(log_proba, OUTPUT_LOG_PROBA["softmax"](z), rtol=_rtol(dtype))
    assert_allclose(
        log_proba[0, :2], np.log([1 / (1 + np.e), np.e / (1 + np.e)]), rtol=1e-6
    )


# --------------------------------------------------------------- network

#: Output kind -> (n_outputs, output function, loss).
KINDS = {
    "binary": (1, "logistic", "log_loss"),
    "multiclass": (3, "softmax", "log_loss"),
    "multilabel-squared_error": (3, "logistic", "squared_error"),
    "regression": (2, "identity", "squared_error"),
    "poisson": (2, "exp", "poisson"),
    "huber": (2, "identity", "huber"),
    "absolute_error": (2, "identity", "absolute_error"),
}


def _pair_of_networks(kind, activations, ns, hidden=(4, 3)):
    n_outputs, output, loss = KINDS[kind]
    params = {"threshold": 0.5} if loss == "huber" else None
    sizes = (5, *hidden, n_outputs)
    return (
        Network(sizes, activations, output, loss, params),
        Network(sizes, activations, output, loss, params, namespace=ns),
    )


def _data(kind, n_samples, dtype, seed=0):
    n_outputs, output, _ = KINDS[kind]
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, 5)
    if output == "softmax":
        Y = np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    elif output == "logistic":
        Y = rng.randint(2, size=(n_samples, n_outputs)).astype(float)
    elif output == "exp":
        Y = rng.poisson(1.5, size=(n_samples, n_outputs)).astype(float)
    else:
        Y = rng.randn(n_samples, n_outputs)
    sw = rng.uniform(0.2, 2.0, n_samples)
    return X.astype(dtype), Y.astype(dtype), sw.astype(dtype)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("options", ["plain", "weighted-l2", "dropout"])
def test_loss_and_grad_match_numpy(kind, activation, options, strict_namespace):
    ns = strict_namespace
    net, net_xp = _pair_of_networks(kind, (activation, "tanh"), ns)
    X, Y, sw = _data(kind, 9, np.float64)
    rng = np.random.RandomState(1)
    theta = 0.5 * rng.randn(net.layout.size)
    sw, alpha = (sw, 0.3) if options == "weighted-l2" else (None, 0.0)
    masks = masks_xp = None
    if options == "dropout":
        masks = net.dropout_masks((0.3, 0.5), 9, np.float64, np.random.RandomState(2))
        masks_xp = net_xp.dropout_masks(
            (0.3, 0.5), 9, ns.xp.float64, np.random.RandomState(2)
        )
    grad = np.empty_like(theta)
    loss = net.loss_and_grad(theta, X, Y, sw, alpha, grad, masks)
    theta_xp, grad_xp = _on(ns, theta), ns.zeros(theta.size, ns.xp.float64)
    sw_xp = None if sw is None else _on(ns, sw)
    loss_xp = net_xp.loss_and_grad(
        theta_xp, _on(ns, X), _on(ns, Y), sw_xp, alpha, grad_xp, masks_xp
    )
    assert float(loss_xp) == pytest.approx(loss, rel=1e-13)
    assert_allclose(_check_array(ns, grad_xp, np.float64), grad, rtol=1e-12, atol=1e-15)
    assert_allclose(ns.to_host(theta_xp), theta, rtol=0, atol=0)  # theta read only


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_and_hidden_activations_match_numpy(dtype, strict_namespace):
    ns = strict_namespace
    net, net_xp = _pair_of_networks("multiclass", ("relu", "gelu"), ns)
    X, _, _ = _data("multiclass", 11, dtype)
    theta = np.random.RandomState(0).randn(net.layout.size).astype(dtype)
    W, b = net.layout.views(theta)
    W_xp, b_xp = net_xp.layout.views(_on(ns, theta))
    for layer in (None, 0, 1):
        expected = net.logits(W, b, X, layer=layer)
        result = net_xp.logits(W_xp, b_xp, _on(ns, X), layer=layer)
        assert_allclose(
            _check_array(ns, result, dtype), expected, rtol=_rtol(dtype), atol=1e-6
        )


def test_layout_views_write_through_to_theta(strict_namespace):
    ns = strict_namespace
    _, net = _pair_of_networks("binary", ("relu", "relu"), ns)
    theta = ns.zeros(net.layout.size, ns.xp.float64)
    W, b = net.layout.views(theta)
    W[1][...] = ns.xp.ones(W[1].shape, dtype=ns.xp.float64, device=ns.device)
    b[0] += 2.0
    host = ns.to_host(theta)
    assert host[net.layout.weight_slices[1]].tolist() == [1.0] * (4 * 3)
    assert host[net.layout.bias_slices[0]].tolist() == [2.0] * 4
    assert host.sum() == 12 + 8
    packed = net.layout.pack(W, b, ns.xp.float32)
    assert_allclose(ns.to_host(packed), host)


# ------------------------------------------------------------ optimisers


@pytest.mark.parametrize(
    "make",
    [
        lambda size, ns: SGD(size, np.float64 if ns.is_numpy else ns.xp.float64,
                             0.1, momentum=0.0, namespace=ns),
        lambda size, ns: SGD(size, np.float64 if ns.is_numpy else ns.xp.float64,
                             0.1, momentum=0.9, nesterov=False, namespace=ns),
        lambda size, ns: SGD(size, np.float64 if ns.is_numpy else ns.xp.float64,
                             0.1, momentum=0.9, nesterov=True, namespace=ns),
        lambda size, ns: Adam(size, np.float64 if ns.is_numpy else ns.xp.float64,
                              0.01, namespace=ns),
    ],
    ids=["sgd", "momentum", "nesterov", "adam"],
)  # fmt: skip
def test_optimizer_steps_and_state_match_numpy(make, strict_namespace):
    ns, rng = strict_namespace, np.random.RandomState(0)
    theta = rng.randn(20)
    opt, opt_xp = make(20, NUMPY), make(20, ns)
    theta_xp = _on(ns, theta)
    for _ in range(4):
        grad = rng.randn(20)
        opt.step(theta, grad.copy())
        opt_xp.step(theta_xp, _on(ns, grad))
    assert_allclose(ns.to_host(theta_xp), theta, rtol=1e-14)
    # The state lives on the device and survives a round trip.
    state = opt_xp.state()
    fresh = make(20, ns)
    fresh.load_state(state)
    for key, value in state.items():
        if hasattr(value, "device"):
            assert value.device == ns.device
            assert_allclose(ns.to_host(fresh.state()[key]), ns.to_host(value))


# -------------------------------------------------------------- trainers


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("variant", ["plain", "weighted-shuffled", "dropout"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_stochastic_matches_numpy(
    kind, optimizer, variant, dtype, strict_namespace
):
    ns = strict_namespace
    net, net_xp = _pair_of_networks(kind, ("relu", "tanh"), ns, hidden=(8, 6))
    X, Y, sw = _data(kind, 50, dtype)
    if variant != "weighted-shuffled":
        sw = None
    options = TrainingOptions(
        alpha=1e-3,
        max_iter=4,
        batch_size=16,
        shuffle=variant != "plain",
        dropout_rates=(0.2, 0.1) if variant == "dropout" else None,
    )
    theta = (0.3 * np.random.RandomState(3).randn(net.layout.size)).astype(dtype)
    theta_xp = _on(ns, theta)
    xp_dtype = ns.xp.float32 if dtype == np.float32 else ns.xp.float64

    def run(network, parameters, data, namespace, solver_dtype):
        make = SGD if optimizer == "sgd" else Adam
        step_rule = make(network.layout.size, solver_dtype, 0.01, namespace=namespace)
        return fit_stochastic(
            network,
            parameters,
            TrainingData(*data),
            options,
            SolverState(
                step_rule,
                StoppingMonitor(tol=0.0, n_iter_no_change=100),
                np.random.RandomState(7),
            ),
        )

    history = run(net, theta, (X, Y, sw), NUMPY, dtype)
    data_xp = (_on(ns, X), _on(ns, Y), None if sw is None else _on(ns, sw))
    history_xp = run(net_xp, theta_xp, data_xp, ns, xp_dtype)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    assert_allclose(history_xp.loss_curve, history.loss_curve, rtol=rtol)
    assert_allclose(_check_array(ns, theta_xp, dtype), theta, rtol=rtol, atol=rtol)
    assert history_xp.n_iter == history.n_iter == 4


@pytest.mark.parametrize("kind", ["binary", "poisson"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_lbfgs_matches_numpy(kind, dtype, strict_namespace):
    ns = strict_namespace
    net, net_xp = _pair_of_networks(kind, ("tanh", "softplus"), ns)
    X, Y, sw = _data(kind, 40, dtype)
    options = TrainingOptions(alpha=1e-2, max_iter=15)
    theta = (0.3 * np.random.RandomState(3).randn(net.layout.size)).astype(dtype)
    theta_xp = _on(ns, theta)
    history = fit_lbfgs(net, theta, TrainingData(X, Y, sw), options)
    history_xp = fit_lbfgs(
        net_xp, theta_xp, TrainingData(_on(ns, X), _on(ns, Y), _on(ns, sw)), options
    )
    rtol = 1e-8 if dtype == np.float64 else 1e-3
    assert history_xp.n_iter == history.n_iter
    assert_allclose(history_xp.loss_curve, history.loss_curve, rtol=rtol)
    assert_allclose(_check_array(ns, theta_xp, dtype), theta, rtol=rtol, atol=rtol)
