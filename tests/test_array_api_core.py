"""The numeric core in an array API namespace, held against NumPy's numbers.

Every numeric function of the core is written once, against ``ops``
(``skbp._core.namespace``): NumPy's functions (``NUMPY_OPS``) or the
``ArrayAPIOps`` shim over another library. What must hold is that the one
function computes the same on array-api-strict (on its second device, so that an
array made on the default device fails) and on PyTorch's CPU (where it is
installed) as on NumPy: every activation, output function, log-probability,
(loss, output) pair and classifier output kind, the shim itself, the standard
``erf``, the network's loss and gradient, the optimisers and both trainers. The
results agree to rounding: NumPy's ``ops`` take SciPy's ``expit`` and ``erf``
where the shim computes them with standard calls, PyTorch has its own
elementwise kernels, and the network's NumPy steps are BLAS specialisations.
The estimators' array API tests are in ``test_array_api.py``.
"""

import numpy as np
import pytest
import scipy.special
from numpy.testing import assert_allclose, assert_array_equal

from skbp._core.activations import ACTIVATIONS
from skbp._core.losses import OUTPUT_LOSSES
from skbp._core.namespace import (
    NUMPY,
    NUMPY_OPS,
    ArrayAPIOps,
    ArrayNamespace,
    _erf,
    into,
)
from skbp._core.network import Network
from skbp._core.optimizers import SGD, Adam
from skbp._core.outputs import (
    CLASSIFIER_OUTPUTS,
    OUTPUT_FUNCTIONS,
    class_indices,
    class_log_probabilities,
    class_probabilities,
    log_logistic,
    log_softmax,
)
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

#: Output function -> its log (the two a classifier takes logs of).
LOG_OUTPUT_FUNCTIONS = {"softmax": log_softmax, "logistic": log_logistic}


def _rtol(dtype):
    return RTOL[np.dtype(dtype).type]


# ------------------------------------------------------------- namespaces


def _torch_namespace():
    """The core's ``ArrayNamespace`` for PyTorch on the CPU (skips without it).

    PyTorch through array-api-compat's wrapper, as scikit-learn hands it to
    the estimators (its vendored copy when array-api-compat is not installed).
    """
    torch = pytest.importorskip("torch")
    try:
        from array_api_compat import torch as xp
    except ImportError:
        xp = pytest.importorskip("sklearn.externals.array_api_compat.torch")
    device = torch.device("cpu")

    def to_host(array):
        if isinstance(array, np.ndarray):
            return array
        return array.cpu().numpy()

    def to_device(array):
        if isinstance(array, torch.Tensor):
            return array.to(device)
        return torch.asarray(np.asarray(array), device=device)

    return ArrayNamespace(xp, device, to_host, to_device, name="torch")


@pytest.fixture(params=["array_api_strict", "torch"])
def namespace(request):
    """The core's ``ArrayNamespace`` of array-api-strict, then of PyTorch."""
    if request.param == "torch":
        return _torch_namespace()
    return request.getfixturevalue("strict_namespace")


def _xp_dtype(ns, dtype):
    return ns.xp.float32 if np.dtype(dtype) == np.float32 else ns.xp.float64


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


# ----------------------------------------------------------- the ops shim


def test_namespace_ops():
    # NumPy computes with NumPy's own functions (ufuncs, so out= works) and
    # SciPy's special functions; any other namespace through one cached shim.
    assert NUMPY.ops is NUMPY_OPS
    assert NUMPY_OPS.add is np.add
    assert NUMPY_OPS.expit is scipy.special.expit
    assert NUMPY_OPS.log_expit is scipy.special.log_expit
    assert NUMPY_OPS.erf is scipy.special.erf
    assert NUMPY_OPS.xlogy is scipy.special.xlogy
    x = np.ones(3, dtype=np.float32)
    assert NUMPY_OPS.astype(x, np.float32, copy=False) is x
    assert NUMPY_OPS.astype(x, np.float64).dtype == np.float64


def test_array_namespace_ops_is_one_cached_shim(namespace):
    ops = namespace.ops
    assert isinstance(ops, ArrayAPIOps)
    assert ops.xp is namespace.xp
    assert namespace.ops is ops
    assert ops.add is ops.add  # each name is looked up once


@pytest.mark.parametrize(
    "call",
    [
        lambda ops, x: ops.add(x, 1.5),
        lambda ops, x: ops.add(x, 2),
        lambda ops, x: ops.subtract(1.0, x),
        lambda ops, x: ops.multiply(x, 0.01),
        lambda ops, x: ops.maximum(x, 0.0),
        lambda ops, x: ops.minimum(x, 0.25),
        lambda ops, x: ops.logaddexp(0.0, x),
        lambda ops, x: ops.divide(1.0, ops.add(ops.abs(x), 1.0)),
        lambda ops, x: ops.clip(x, -0.5, 0.5),
    ],
    ids=[
        "add",
        "add-int",
        "subtract-first",
        "multiply",
        "maximum",
        "minimum",
        "logaddexp",
        "divide",
        "clip",
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_python_scalars_keep_the_array_dtype_and_device(call, dtype, namespace):
    # A Python float becomes a 0-d array of the other operand's dtype and
    # device: a float32 array stays float32, and array-api-strict's second
    # device would refuse an operand made on the default one.
    ns = namespace
    x = np.linspace(-2.0, 2.0, 9).astype(dtype)
    expected = call(NUMPY_OPS, x)
    assert expected.dtype == dtype  # NumPy 2 keeps it too
    result = _check_array(ns, call(ns.ops, _on(ns, x)), dtype)
    assert_allclose(result, expected, rtol=_rtol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_is_never_written_and_casts_a_comparison(dtype, namespace):
    # NumPy writes a comparison's booleans into a float buffer as 0 and 1; the
    # shim returns a new array in out's dtype and leaves out alone.
    ns, ops = namespace, namespace.ops
    x = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 1e-30]], dtype=dtype)
    expected = NUMPY_OPS.greater(x, 0.0, out=np.empty_like(x))
    out = _on(ns, np.full_like(x, 7.0))
    result = ops.greater(_on(ns, x), 0.0, out=out)
    assert result is not out
    assert_array_equal(_check_array(ns, result, dtype), expected)
    assert_array_equal(ns.to_host(out), np.full_like(x, 7.0))
    # Without out, the standard's boolean array.
    plain = ops.greater(_on(ns, x), 0.0)
    assert ns.to_host(plain).dtype == np.bool_
    # An out of the result's own dtype: no cast, still a new array.
    same = ops.add(_on(ns, x), 1.0, out=out)
    assert same is not out
    assert_allclose(_check_array(ns, same, dtype), x + 1.0)
    assert_array_equal(ns.to_host(out), np.full_like(x, 7.0))


def test_numpy_names_map_to_the_standard_ones(namespace):
    ns, ops = namespace, namespace.ops
    a = np.arange(6.0).reshape(2, 3)
    b = -np.arange(4.0).reshape(2, 2)
    joined = ops.concatenate([_on(ns, a), _on(ns, b)], axis=1)
    assert_array_equal(_check_array(ns, joined, np.float64), np.concatenate([a, b], 1))
    assert_array_equal(ns.to_host(ops.absolute(_on(ns, -a))), a)
    assert_array_equal(ns.to_host(ops.power(_on(ns, a), 2.0)), a**2)


def test_finfo_and_dtypes_pass_through(namespace):
    ops, xp = namespace.ops, namespace.xp
    assert ops.finfo is xp.finfo
    assert ops.float32 is xp.float32 and ops.int64 is xp.int64
    for dtype, host in ((ops.float32, np.float32), (ops.float64, np.float64)):
        info = ops.finfo(dtype)
        assert info.bits == np.finfo(host).bits
        assert float(info.eps) == float(np.finfo(host).eps)
        assert float(info.smallest_normal) == float(np.finfo(host).smallest_normal)


def test_unknown_names_raise_attribute_error(namespace):
    ops = namespace.ops
    with pytest.raises(AttributeError, match="no 'not_a_function'"):
        ops.not_a_function  # noqa: B018
    # Dunder lookups (copy, pickle, NumPy's protocols) are not functions.
    assert not hasattr(ops, "__array_namespace__")
    assert not hasattr(ops, "__len__")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_functions_match_scipy(dtype, namespace):
    # The four functions the standard lacks: the namespace's own where it has
    # them (PyTorch's erf and xlogy), else the standard formulas of namespace.py.
    ns, ops = namespace, namespace.ops
    z = np.concatenate([np.linspace(-30.0, 30.0, 121), [-800.0, 800.0]]).astype(dtype)
    y = np.abs(z) + 0.5
    x = np.where(np.arange(z.size) % 3 == 0, 0.0, np.abs(z)).astype(dtype)
    z_xp = _on(ns, z)
    rtol = _rtol(dtype)
    info = np.finfo(dtype)
    assert_allclose(
        _check_array(ns, ops.expit(z_xp), dtype), scipy.special.expit(z), rtol=rtol
    )
    assert_allclose(
        _check_array(ns, ops.log_expit(z_xp), dtype),
        scipy.special.log_expit(z),
        rtol=rtol,
        atol=info.tiny,
    )
    xlogy = _check_array(ns, ops.xlogy(_on(ns, x), _on(ns, y.astype(dtype))), dtype)
    assert_allclose(xlogy, scipy.special.xlogy(x, y.astype(dtype)), rtol=rtol)
    assert (xlogy[x == 0] == 0.0).all()
    # xlogy(0, 0) is 0: the targets' 0 log 0 of the Poisson deviance.
    zeros = _on(ns, np.zeros(3, dtype=dtype))
    assert_array_equal(ns.to_host(ops.xlogy(zeros, zeros)), 0.0)
    erf = _check_array(ns, ops.erf(_on(ns, z / 10.0)), dtype)
    assert_allclose(erf, scipy.special.erf(z / 10.0), rtol=rtol, atol=4 * info.eps)


def test_into_fills_the_buffer(namespace):
    ns = namespace
    out = ns.zeros((2, 3), ns.xp.float64)
    value = _on(ns, np.arange(6.0).reshape(2, 3))
    assert into(out, value) is out
    assert_array_equal(ns.to_host(out), np.arange(6.0).reshape(2, 3))
    assert into(out, out) is out
    assert_array_equal(ns.to_host(out), np.arange(6.0).reshape(2, 3))
    buffer = np.zeros(4)
    assert into(buffer, np.arange(4.0)) is buffer
    assert_array_equal(buffer, np.arange(4.0))


# ----------------------------------------------------------------------- erf


def _erf_points(dtype):
    x = np.concatenate(
        [
            np.linspace(-8, 8, 20001),
            np.linspace(-10, -8, 201),
            np.linspace(8, 10, 201),
            [0.0, -2.0, 2.0, 6.0, -6.0, 1e-30, -1e-300],
            [np.nextafter(2.0, 0.0), np.nextafter(6.0, 7.0)],
        ]
    )
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_matches_scipy(dtype):
    # NumPy as the namespace: skbp's own series and continued fraction, the
    # code every namespace without an erf runs.
    x = _erf_points(dtype)
    result = _erf(np, x)
    assert result.dtype == dtype
    # float64: within a few units in the last place of erf (~1.1e-16 near 1);
    # float32: rounding of the float32 arithmetic.
    atol = 1e-15 if dtype == np.float64 else 4e-7
    assert np.abs(result - scipy.special.erf(x)).max() <= atol
    assert (result[x == 0.0] == 0.0).all()
    assert np.all(np.abs(result) <= 1.0)
    assert_array_equal(result[np.abs(x) >= 6.0], np.sign(x[np.abs(x) >= 6.0]))
    # Odd, exactly.
    assert_array_equal(_erf(np, -x), -result)
    special = _erf(np, np.array([np.inf, -np.inf, np.nan], dtype=dtype))
    assert_array_equal(special, [1.0, -1.0, np.nan])


def test_erf_within_5e16_of_scipy_everywhere():
    # 2,000,001 points: the old switch point at 2 was 1.2e-15 off near 1.96.
    x = np.linspace(-10.0, 10.0, 2000001)
    error = np.abs(_erf(np, x) - scipy.special.erf(x))
    assert error.max() <= 5e-16, f"{error.max():.3g} at x = {x[error.argmax()]}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_in_a_namespace_is_the_same_computation(dtype, namespace):
    ns = namespace
    x = _erf_points(dtype)
    result = _check_array(ns, _erf(ns.xp, _on(ns, x)), dtype)
    # array-api-strict runs NumPy's kernels: the same bits. PyTorch's exp may
    # round differently: a unit in the last place.
    exact = ns.name == "array_api_strict"
    atol = 0.0 if exact else float(np.finfo(dtype).eps)
    assert_allclose(result, _erf(np, x), rtol=0, atol=atol)


# ------------------------------------------------------------- activations


def _grid(dtype):
    z = np.concatenate([np.linspace(-6.0, 6.0, 121), [-40.0, -9.5, 9.5, 40.0]])
    z = z[np.abs(z) >= 1e-3]  # away from the kinks, where the forms may differ
    return z.reshape(-1, 1).repeat(3, axis=1).astype(dtype)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_matches_numpy(name, dtype, namespace):
    ns, activation, ops = namespace, ACTIVATIONS[name], namespace.ops
    z = _grid(dtype)
    a = activation.forward(NUMPY_OPS, z.copy(), np.empty_like(z))
    slope = activation.derivative(NUMPY_OPS, z.copy(), a.copy(), np.empty_like(z))
    z_xp, a_xp = _on(ns, z), _on(ns, a)
    buffer = ns.zeros(z.shape, _xp_dtype(ns, dtype))
    results = {
        "forward": activation.forward(ops, z_xp),
        "forward-out": activation.forward(ops, z_xp, buffer),
        "derivative-out": activation.derivative(ops, z_xp, a_xp, buffer),
    }
    z_alias = _on(ns, z)
    results["derivative-out-is-z"] = activation.derivative(ops, z_alias, a_xp, z_alias)
    z_alias = _on(ns, z)
    results["forward-out-is-z"] = activation.forward(ops, z_alias, z_alias)
    # float32: the standard erf and SciPy's differ by a few float32 roundings,
    # which are large relative to the tiny GELU values of very negative z.
    atol = 1e-300 if dtype == np.float64 else 1e-6
    for key, result in results.items():
        expected = slope if key.startswith("derivative") else a
        assert_allclose(
            _check_array(ns, result, dtype),
            expected,
            rtol=_rtol(dtype),
            atol=atol,
            err_msg=key,
        )
    # The inputs are read only, and out is not written.
    assert_array_equal(ns.to_host(z_xp), z)
    assert_array_equal(ns.to_host(a_xp), a)
    assert_array_equal(ns.to_host(buffer), 0.0)


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


@pytest.mark.parametrize("pair", PAIRS, ids="-".join)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_and_delta_match_numpy(pair, dtype, namespace):
    ns = namespace
    z, Y = _logits_and_targets(pair, dtype)
    params = {"threshold": 0.7} if pair[0] == "huber" else {}
    fn = OUTPUT_LOSSES[pair]
    loss, delta = fn(NUMPY_OPS, z.copy(), Y, np.empty_like(z), **params)
    z_xp, Y_xp = _on(ns, z), _on(ns, Y)
    results = [fn(ns.ops, z_xp, Y_xp, **params)]
    z_alias = _on(ns, z)
    results.append(fn(ns.ops, z_alias, Y_xp, z_alias, **params))  # out is z
    for loss_xp, delta_xp in results:
        assert_allclose(_check_array(ns, loss_xp, dtype), loss, rtol=_rtol(dtype))
        assert_allclose(
            _check_array(ns, delta_xp, dtype), delta, rtol=_rtol(dtype), atol=1e-7
        )
    assert_array_equal(ns.to_host(z_xp), z)  # read only


@pytest.mark.parametrize("output", sorted(OUTPUT_FUNCTIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_function_matches_numpy(output, dtype, namespace):
    ns = namespace
    fn = OUTPUT_FUNCTIONS[output]
    z, _ = _logits_and_targets(("squared_error", output), dtype)
    expected = fn(NUMPY_OPS, z.copy())
    z_xp = _on(ns, z)
    buffer = ns.zeros(z.shape, _xp_dtype(ns, dtype))
    for result in (fn(ns.ops, z_xp), fn(ns.ops, z_xp, out=buffer)):
        assert_allclose(_check_array(ns, result, dtype), expected, rtol=_rtol(dtype))
    z_alias = _on(ns, z)
    result = fn(ns.ops, z_alias, out=z_alias)
    assert_allclose(_check_array(ns, result, dtype), expected, rtol=_rtol(dtype))
    assert_array_equal(ns.to_host(z_xp), z)


@pytest.mark.parametrize("output", sorted(LOG_OUTPUT_FUNCTIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_probabilities_match_numpy_where_probabilities_underflow(
    output, dtype, namespace
):
    ns = namespace
    log_fn = LOG_OUTPUT_FUNCTIONS[output]
    z = np.array(
        [[1000.0, 0.0, -1000.0], [0.0, 0.0, -800.0], [2.0, -1.0, 0.5]], dtype=dtype
    )
    expected = log_fn(NUMPY_OPS, z)
    result = _check_array(ns, log_fn(ns.ops, _on(ns, z)), dtype)
    assert np.isfinite(result).all()
    assert_allclose(result, expected, rtol=1e-14 if dtype == np.float64 else 1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_match_numpy(dtype, namespace):
    """The edge cases hold in every namespace: the Poisson mean is capped at
    the largest finite one, and log-softmax keeps the digits of large float32
    logits (the row max comes off before the sum)."""
    ns = namespace
    z = np.array([[1e4, 1e4 + 1.0, -3.0], [800.0, 0.0, 90.0]], dtype=dtype)
    mean = _check_array(ns, OUTPUT_FUNCTIONS["exp"](ns.ops, _on(ns, z)), dtype)
    assert np.isfinite(mean).all()
    assert_allclose(mean, OUTPUT_FUNCTIONS["exp"](NUMPY_OPS, z), rtol=_rtol(dtype))
    log_proba = ns.to_host(log_softmax(ns.ops, _on(ns, z)))
    assert_allclose(log_proba, log_softmax(NUMPY_OPS, z), rtol=_rtol(dtype))
    assert_allclose(
        log_proba[0, :2], np.log([1 / (1 + np.e), np.e / (1 + np.e)]), rtol=1e-6
    )


def _kind_logits(kind, dtype):
    """Moderate logits, ties, zeros and huge logits for a classifier kind."""
    rng = np.random.RandomState(0)
    moderate = 3.0 * rng.randn(6, 3)
    special = np.array(
        [
            [1.0, 1.0, 0.0],
            [0.0, -0.0, 0.0],
            [1000.0, 0.0, -1000.0],
            [-1000.0, -1001.0, -1003.0],
            [40.0, 38.0, -40.0],
        ]
    )
    z = np.vstack([moderate, special])
    return (z[:, :1] if kind == "binary" else z).astype(dtype)


@pytest.mark.parametrize("kind", sorted(CLASSIFIER_OUTPUTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_classifier_outputs_match_numpy(kind, dtype, namespace):
    ns = namespace
    z = _kind_logits(kind, dtype)
    proba = class_probabilities(NUMPY_OPS, kind, z.copy())
    log_proba = class_log_probabilities(NUMPY_OPS, kind, z.copy())
    indices = class_indices(NUMPY_OPS, kind, z.copy())
    z_xp = _on(ns, z)
    proba_xp = _check_array(ns, class_probabilities(ns.ops, kind, z_xp), dtype)
    # float32: the standard expit rounds the tiny probabilities of the huge
    # logits differently; they are below 1e-17.
    atol = 0.0 if dtype == np.float64 else 1e-30
    assert_allclose(proba_xp, proba, rtol=_rtol(dtype), atol=atol)
    overwritten = class_probabilities(ns.ops, kind, _on(ns, z), overwrite_z=True)
    assert_allclose(ns.to_host(overwritten), proba, rtol=_rtol(dtype), atol=atol)
    log_proba_xp = _check_array(ns, class_log_probabilities(ns.ops, kind, z_xp), dtype)
    assert np.isfinite(log_proba_xp).all()
    assert_allclose(log_proba_xp, log_proba, rtol=_rtol(dtype), atol=1e-300)
    indices_xp = ns.to_host(class_indices(ns.ops, kind, z_xp))
    assert np.issubdtype(indices_xp.dtype, np.integer)
    if kind == "multilabel":
        assert indices_xp.dtype == np.int64
    assert_array_equal(indices_xp, indices)
    assert_array_equal(ns.to_host(z_xp), z)  # read only


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


def test_network_ops_follow_the_namespace(namespace):
    net, net_xp = _pair_of_networks("binary", ("relu", "relu"), namespace)
    assert net.ops is NUMPY_OPS
    assert net_xp.ops is namespace.ops


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("options", ["plain", "weighted-l2", "dropout"])
def test_loss_and_grad_match_numpy(kind, activation, options, namespace):
    ns = namespace
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


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_and_delta_and_data_loss_match_numpy(kind, dtype, namespace):
    # The network's (loss, output) pair: NumPy's may be a fast path, the
    # namespace's is the one function of OUTPUT_LOSSES.
    ns = namespace
    net, net_xp = _pair_of_networks(kind, ("tanh", "tanh"), ns)
    n_outputs = KINDS[kind][0]
    _, Y, sw = _data(kind, 8, dtype)
    logits = (2.0 * np.random.RandomState(4).randn(8, n_outputs)).astype(dtype)
    per_sample, delta = net.loss_and_delta(logits.copy(), Y)
    per_sample_xp, delta_xp = net_xp.loss_and_delta(_on(ns, logits), _on(ns, Y))
    rtol = _rtol(dtype)
    assert_allclose(_check_array(ns, per_sample_xp, dtype), per_sample, rtol=rtol)
    assert_allclose(_check_array(ns, delta_xp, dtype), delta, rtol=rtol, atol=1e-7)
    for weights in (None, sw):
        expected = net.data_loss(logits, Y, weights)
        result = net_xp.data_loss(
            _on(ns, logits), _on(ns, Y), None if weights is None else _on(ns, weights)
        )
        assert isinstance(result, float)
        assert result == pytest.approx(expected, rel=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_and_hidden_activations_match_numpy(dtype, namespace):
    ns = namespace
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


def test_layout_views_write_through_to_theta(namespace):
    ns = namespace
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
    assert_allclose(_check_array(ns, packed, np.float32), host)


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
def test_optimizer_steps_and_state_match_numpy(make, namespace):
    ns, rng = namespace, np.random.RandomState(0)
    theta = rng.randn(20)
    opt, opt_xp = make(20, NUMPY), make(20, ns)
    theta_xp = _on(ns, theta)
    for _ in range(4):
        grad = rng.randn(20)
        opt.step(theta, grad.copy())
        opt_xp.step(theta_xp, _on(ns, grad))
    assert_allclose(_check_array(ns, theta_xp, np.float64), theta, rtol=1e-14)
    # The state lives on the device and survives a round trip.
    state = opt_xp.state()
    fresh = make(20, ns)
    fresh.load_state(state)
    n_arrays = 0
    for key, value in state.items():
        if hasattr(value, "device"):
            n_arrays += 1
            assert value.device == ns.device
            assert_allclose(ns.to_host(fresh.state()[key]), ns.to_host(value))
    assert n_arrays >= 1


# -------------------------------------------------------------- trainers


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("variant", ["plain", "weighted-shuffled", "dropout"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_stochastic_matches_numpy(kind, optimizer, variant, dtype, namespace):
    ns = namespace
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
    history_xp = run(net_xp, theta_xp, data_xp, ns, _xp_dtype(ns, dtype))
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    assert_allclose(history_xp.loss_curve, history.loss_curve, rtol=rtol)
    assert_allclose(_check_array(ns, theta_xp, dtype), theta, rtol=rtol, atol=rtol)
    assert history_xp.n_iter == history.n_iter == 4


@pytest.mark.parametrize("kind", ["binary", "poisson"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_lbfgs_matches_numpy(kind, dtype, namespace):
    ns = namespace
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
