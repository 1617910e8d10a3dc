"""Shared fixtures: tiny datasets, dtypes and a seed that can sweep.

Set ``SKBP_TESTS_SEEDS=0-9`` (or ``all``) to run seed-dependent tests for several
seeds, like scikit-learn's ``global_random_seed``.

``SCIPY_ARRAY_API=1`` is set here, before SciPy is first imported: scikit-learn
runs its array API checks only with it (and otherwise skips them), and array
API dispatch (``test_array_api.py``) needs it.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_iris, make_blobs, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402


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
