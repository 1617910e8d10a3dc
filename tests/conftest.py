"""Shared fixtures: tiny datasets, dtypes, a seed that can sweep, a tiny network.

Set ``SKBP_TESTS_SEEDS=0-9`` (or ``all``) to run seed-dependent tests for several
seeds, like scikit-learn's ``global_random_seed``.

The datasets are fixtures (and factories returned by fixtures): the suite runs
with ``--import-mode=importlib``, so test files cannot import one another or a
helper module without changing ``sys.path``. ``tests/README.md`` lists them.

``SCIPY_ARRAY_API=1`` is set here, before SciPy is first imported: scikit-learn
runs its array API checks only with it (and otherwise skips them), and array
API dispatch (``test_array_api.py``) needs it.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_diabetes,
    load_iris,
    make_blobs,
    make_classification,
    make_friedman1,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def _seeds():
    spec = os.environ.get("SKBP_TESTS_SEEDS", "42")
    if spec == "all":
        return list(range(100))
    if "-" in spec:
        low, high = (int(part) for part in spec.split("-"))
        return list(range(low, high + 1))
    return [int(part) for part in spec.split(",")]


@pytest.fixture(params=_seeds())
def seed(request):
    """A random seed; one value by default, many with SKBP_TESTS_SEEDS."""
    return request.param


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


@pytest.fixture
def binary_data():
    X, y = make_classification(
        n_samples=80, n_features=5, n_informative=3, random_state=0
    )
    return X, y


@pytest.fixture
def multiclass_data():
    X, y = make_blobs(n_samples=90, n_features=4, centers=3, random_state=0)
    return X, y


@pytest.fixture
def multilabel_data():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] > 0.5])
    return X, Y.astype(int)


@pytest.fixture
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture
def scaled_iris(iris):
    X, y = iris
    return StandardScaler().fit_transform(X), y


@pytest.fixture
def noisy_classification():
    """Two overlapping classes with 10% flipped labels: a network overfits them,
    so early stopping has something to stop."""
    X, y = make_classification(
        n_samples=300, n_features=10, n_informative=5, flip_y=0.1, random_state=0
    )
    return X, y


@pytest.fixture
def regression_data():
    X, y = make_regression(
        n_samples=80, n_features=4, n_informative=3, noise=5.0, random_state=0
    )
    return X, y


@pytest.fixture
def multi_output_data():
    X, Y = make_regression(
        n_samples=80, n_features=4, n_targets=3, noise=2.0, random_state=0
    )
    return X, Y


@pytest.fixture
def friedman():
    """Friedman #1 with its U(0, 1) features standardised (as a user should)."""
    X, y = make_friedman1(n_samples=120, n_features=5, noise=0.3, random_state=0)
    return (X - 0.5) * np.sqrt(12.0), y


@pytest.fixture
def noisy_friedman():
    """Friedman #1 with much noise: a large network overfits it quickly."""
    X, y = make_friedman1(n_samples=300, n_features=6, noise=3.0, random_state=0)
    return X, y


@pytest.fixture
def counts():
    """Poisson counts whose log-mean is linear in the features."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(120, 3))
    y = rng.poisson(np.exp(0.5 + X @ [1.0, -0.5, 0.25])).astype(float)
    return X, y


@pytest.fixture
def diabetes():
    """The first 150 rows of the diabetes data: targets in the hundreds, raw."""
    X, y = load_diabetes(return_X_y=True)
    return X[:150], y[:150]


def _data_for(estimator_class, n_samples=60):
    from skbp import BPClassifier

    if estimator_class is BPClassifier:
        return make_classification(
            n_samples=n_samples, n_features=5, n_informative=3, random_state=0
        )
    return make_regression(n_samples=n_samples, n_features=4, noise=1.0, random_state=0)


@pytest.fixture
def data_for():
    """``data_for(estimator_class, n_samples=60) -> (X, y)``: a small binary
    problem for ``BPClassifier``, a small regression for ``BPRegressor``.

    For tests parametrised over both estimators.
    """
    return _data_for


# ------------------------------------------------- a tiny network and its data

#: Keyword arguments of the losses that need them (any valid value will do).
LOSS_PARAMS = {"huber": {"threshold": 0.5}}
#: Hidden activations with a kink (a jump of the derivative) at 0.
KINKED = {"relu", "leaky_relu"}
#: Distance of every kink from where the finite differences look.
MARGIN = 1e-3


def _pre_activations(net, theta, X):
    """Hidden pre-activations ``z[i]`` and the output logits, in plain numpy."""
    from skbp._core.activations import ACTIVATIONS
    from skbp._core.namespace import NUMPY_OPS

    W, b = net.layout.views(theta)
    a, zs = X, []
    for i, name in enumerate(net.activations):
        z = a @ W[i] + b[i]
        zs.append(z)
        a = ACTIVATIONS[name].forward(NUMPY_OPS, z)
    return zs, a @ W[-1] + b[-1]


def _away_from_kinks(values, kinks):
    return all(np.abs(np.abs(values) - kink).min() > MARGIN for kink in kinks)


def _targets(kind, logits, rng, threshold):
    """Targets of one kind for the given logits (only ``real`` and ``counts``
    read them)."""
    n_samples, n_outputs = logits.shape
    if kind == "onehot":
        return np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    if kind == "indicator":  # binary (one output) or multilabel
        return rng.randint(2, size=(n_samples, n_outputs)).astype(float)
    if kind == "counts":
        return rng.poisson(np.exp(logits) + 0.5).astype(float)  # some 0
    if kind == "real":
        # The logits minus residuals drawn away from the kinks of the absolute
        # error (residual 0) and of the Huber loss's second derivative
        # (|residual| = threshold), alternately inside and outside the threshold.
        magnitude = np.where(
            np.arange(logits.size).reshape(logits.shape) % 2 == 0,
            rng.uniform(0.05, threshold - 0.05, logits.shape),
            rng.uniform(threshold + 0.05, 3.0, logits.shape),
        )
        residual = rng.choice([-1.0, 1.0], logits.shape) * magnitude
        assert _away_from_kinks(residual, [0.0, threshold])
        return logits - residual
    raise ValueError(f"unknown kind of targets {kind!r}")


def _network_problem(
    pair, n_outputs, targets, activation, seed=0, *, hidden=(4, 3), n_samples=5
):
    from skbp._core.network import Network

    loss, output = pair
    rng = np.random.RandomState(seed)
    net = Network(
        (3, *hidden, n_outputs),
        (activation,) * len(hidden),
        output,
        loss,
        loss_params=LOSS_PARAMS.get(loss),
    )
    X = rng.randn(n_samples, 3)
    # relu and leaky_relu have a kink at 0; a finite difference straddling it
    # is not a derivative, so draws that put a hidden pre-activation within
    # MARGIN of 0 are rejected (rare, but the seed fixture can sweep many seeds).
    while True:
        theta = 0.5 * rng.randn(net.layout.size)
        hidden_z, logits = _pre_activations(net, theta, X)
        if activation not in KINKED or all(
            _away_from_kinks(z, [0.0]) for z in hidden_z
        ):
            break
    threshold = LOSS_PARAMS["huber"]["threshold"]
    Y = _targets(targets, logits, rng, threshold)
    sample_weight = rng.uniform(0.2, 2.0, n_samples)
    return net, theta, X, Y, sample_weight


@pytest.fixture
def network_problem():
    """``network_problem(pair, n_outputs, targets, activation, seed=0, *,
    hidden=(4, 3), n_samples=5) -> (net, theta, X, Y, sample_weight)``.

    A tiny ``Network`` of the (loss, output) ``pair`` (3 features, two hidden
    layers of ``activation``), float64 data, parameters whose hidden
    pre-activations keep ``MARGIN`` away from a relu kink, and targets of the
    kind ``"onehot"``, ``"indicator"`` (0/1 per output), ``"real"`` (residuals
    away from the kinks of the absolute error and Huber loss, threshold 0.5) or
    ``"counts"`` (Poisson). ``n_samples`` is odd by default: the unweighted
    absolute error's output-bias gradient is a mean of signs, exactly 0 for as
    many positive as negative residuals, and the relative error of an exactly
    zero block measures only rounding noise.
    """
    return _network_problem


@pytest.fixture
def strict_namespace():
    """The core's ``ArrayNamespace`` for array-api-strict on its second device.

    Built from array-api-strict alone (no scikit-learn), for tests of the
    numeric core; its non-default device catches an array made on the wrong one.
    """
    xps = pytest.importorskip("array_api_strict")
    from skbp._core.namespace import ArrayNamespace

    device, cpu = xps.Device("device1"), xps.Device("CPU_DEVICE")

    def to_host(array):
        if isinstance(array, np.ndarray):
            return array
        return np.asarray(array.to_device(cpu))

    def to_device(array):
        if not isinstance(array, np.ndarray) and hasattr(array, "to_device"):
            return array.to_device(device)
        return xps.asarray(np.asarray(array), device=device)

    return ArrayNamespace(xps, device, to_host, to_device, name="array_api_strict")


@pytest.fixture
def no_convergence_warning():
    """Silence ConvergenceWarning in tests that under-train on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(autouse=True, scope="session")
def one_blas_thread():
    """Run the suite with one BLAS thread.

    On a shared two-core machine, multi-threaded OpenBLAS stalls for milliseconds
    per small matrix product whenever the other core is busy, making fits ten
    times slower; the results are the same either way.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


#: Stochastic solver settings that continued training (warm starts,
#: ``partial_fit``) must resume exactly: Adam's moments, Nesterov momentum, a
#: plain momentum with the invscaling schedule.
CONTINUED_SOLVERS = [
    dict(solver="adam"),
    dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
    dict(
        solver="sgd",
        momentum=0.5,
        nesterovs_momentum=False,
        learning_rate_schedule="invscaling",
        learning_rate=0.05,
    ),
]


@pytest.fixture(params=CONTINUED_SOLVERS, ids=["adam", "nesterov", "invscaling"])
def solver_params(request):
    """One of ``CONTINUED_SOLVERS`` (the tests of resumed training)."""
    return dict(request.param)


def _user_outputs(model, X):
    """What a user reads: probabilities (classifier) or predictions."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    return model.predict(X)


@pytest.fixture
def user_outputs():
    """``user_outputs(model, X)``: ``predict_proba`` of a classifier, else
    ``predict``."""
    return _user_outputs
