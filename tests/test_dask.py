"""skbp on a real dask cluster: a joblib-dask grid search, fit_stream, Incremental.

One ``distributed.LocalCluster`` of two single-threaded worker processes serves
the whole module. Its workers import skbp from the environment, as a user's
cluster would.
"""

import importlib
import time
import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

from joblib import parallel_config  # noqa: E402
from numpy.testing import assert_array_equal  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skbp import BPClassifier, fit_stream  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # Import scikit-learn and skbp in the workers now (2-4 s on fresh
        # workers), so that the tests time the work rather than the imports.
        for module in ("sklearn.model_selection", "skbp"):
            client.run(importlib.import_module, module)
        yield client


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=400, n_features=10, n_informative=6, n_classes=3, random_state=0
    )
    return X, y


def _search():
    pipe = make_pipeline(
        StandardScaler(),
        BPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0),
    )
    grid = {
        "bpclassifier__learning_rate": [1e-3, 1e-2],
        "bpclassifier__activation": ["relu", "tanh"],
    }
    return GridSearchCV(pipe, grid, cv=3)


def _assert_same_model(a, b):
    for left, right in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_array_equal(left, right)
    assert a.t_ == b.t_


def test_grid_search_on_the_cluster_equals_serial(client, data):
    X, y = data
    # 20 epochs under-train on purpose (in the workers too: their warnings are
    # not raised here).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        serial = _search().fit(X, y)
        serial_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with (
            distributed.get_task_stream(client) as tasks,
            parallel_config(backend="dask", n_jobs=-1),
        ):
            on_dask = _search().fit(X, y)
        dask_seconds = time.perf_counter() - started
    print(f"\ngrid search: serial {serial_seconds:.2f} s, dask {dask_seconds:.2f} s")
    # The fits ran on the workers (joblib batches several into one task; the
    # refit runs here).
    assert tasks.data
    assert {task["worker"] for task in tasks.data} <= set(
        client.scheduler_info()["workers"]
    )
    for key in serial.cv_results_:
        if key.startswith(("split", "mean_test", "std_test", "rank")):
            assert_array_equal(on_dask.cv_results_[key], serial.cv_results_[key])
    assert on_dask.best_params_ == serial.best_params_


def test_fit_stream_over_a_dask_array_on_the_cluster(client, data):
    X, y = data
    # The labels are computed from a graph the workers run; chunks of 100 rows
    # match the array's blocks, so no block is computed twice per epoch.
    X_dask = da.from_array(X, chunks=(100, 10))
    y_dask = da.from_array(y, chunks=100) + 0
    with distributed.get_task_stream(client) as tasks:
        model = fit_stream(
            BPClassifier((8,), learning_rate=0.01, random_state=0),
            X_dask,
            y_dask,
            epochs=3,
            chunk_size=100,
            random_state=0,
        )
    assert len(tasks.data) > 0
    reference = fit_stream(
        BPClassifier((8,), learning_rate=0.01, random_state=0),
        X,
        y,
        epochs=3,
        chunk_size=100,
        random_state=0,
    )
    _assert_same_model(model, reference)
    assert_array_equal(model.classes_, [0, 1, 2])


def test_dask_ml_incremental(client, data):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = data
    # Sorted by class: blocks of 50 rows each miss one or two classes.
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    X_dask, y_dask = da.from_array(X, chunks=(50, 10)), da.from_array(y, chunks=50)
    incremental = wrappers.Incremental(
        BPClassifier((8,), learning_rate=0.01, random_state=0), shuffle_blocks=False
    )
    incremental.fit(X_dask, y_dask, classes=[0, 1, 2])
    model = incremental.estimator_
    assert_array_equal(model.classes_, [0, 1, 2])
    assert model.t_ == len(y)
    # The same as partial_fit block after block, classes passed every time.
    reference = BPClassifier((8,), learning_rate=0.01, random_state=0)
    for start in range(0, len(y), 50):
        block = slice(start, start + 50)
        reference.partial_fit(X[block], y[block], classes=[0, 1, 2])
    _assert_same_model(model, reference)
    assert_array_equal(incremental.predict(X_dask).compute(), reference.predict(X))
