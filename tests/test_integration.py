"""BPClassifier inside scikit-learn's tooling: pipelines, search, CV, persistence."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier


def test_pipeline_with_scaler(iris):
    X, y = iris
    pipe = make_pipeline(
        StandardScaler(),
        BPClassifier(hidden_layer_sizes=(10,), learning_rate=0.05, random_state=0),
    )
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.9
    proba = pipe.predict_proba(X)
    assert proba.shape == (len(y), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(pipe.classes_, [0, 1, 2])
    # Parameters are reachable through the pipeline's naming scheme.
    pipe.set_params(bpclassifier__activation="tanh")
    assert pipe[-1].activation == "tanh"


def test_grid_search(iris):
    X, y = iris
    pipe = make_pipeline(
        StandardScaler(),
        BPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0),
    )
    grid = {
        "bpclassifier__learning_rate": [1e-3, 1e-2],
        "bpclassifier__activation": ["relu", "tanh"],
    }
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2)
    # 30 epochs under-train on purpose; with n_jobs=2 the ConvergenceWarnings are
    # raised in the worker processes, and this filter covers the final refit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert set(search.best_params_) == set(grid)
    assert search.best_params_["bpclassifier__learning_rate"] in (1e-3, 1e-2)
    assert search.best_params_["bpclassifier__activation"] in ("relu", "tanh")
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_[-1].n_iter_ > 0
    # The search cloned the estimator: the original stays unfitted.
    assert not hasattr(pipe[-1], "coefs_")


def test_grid_search_bare_estimator_tuple_params(iris):
    """Search directly over BPClassifier with tuple-valued parameters."""
    X, y = iris
    X = StandardScaler().fit_transform(X)
    search = GridSearchCV(
        BPClassifier(solver="lbfgs", random_state=0),
        [
            {"hidden_layer_sizes": [(5,)], "activation": ["tanh"]},
            {"hidden_layer_sizes": [(5, 4)], "activation": [("tanh", "relu")]},
        ],
        cv=3,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert search.best_params_["hidden_layer_sizes"] in ((5,), (5, 4))
    assert search.best_score_ > 0.9
    # The parameters are passed through untouched (no canonicalisation).
    assert search.cv_results_["params"][1]["activation"] == ("tanh", "relu")


def test_cross_val_score(iris):
    X, y = iris
    pipe = make_pipeline(
        StandardScaler(),
        BPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=5)
    assert scores.shape == (5,)
    assert scores.mean() > 0.9


@pytest.mark.parametrize(
    "estimator",
    [
        BPClassifier(),
        BPClassifier(
            hidden_layer_sizes=(7, 3),
            activation=("tanh", "gelu"),
            solver="sgd",
            class_weight={0: 2.0, 1: 1.0},
            random_state=np.random.RandomState(3),
        ),
    ],
)
def test_clone_unfitted_same_params(binary_data, estimator):
    X, y = binary_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.set_params(max_iter=5).fit(X, y)
    cloned = clone(estimator)
    assert cloned is not estimator
    assert not hasattr(cloned, "coefs_")
    assert not hasattr(cloned, "classes_")
    assert not hasattr(cloned, "n_features_in_")
    original_params = estimator.get_params()
    cloned_params = cloned.get_params()
    assert set(original_params) == set(cloned_params)
    for name, value in original_params.items():
        if name == "random_state" and isinstance(value, np.random.RandomState):
            continue  # clone deep-copies a RandomState instance
        assert cloned_params[name] == value, name


def _models():
    """(id, estimator) pairs covering every solver."""
    return [
        ("sgd", BPClassifier(solver="sgd", learning_rate=0.05, max_iter=20)),
        ("adam", BPClassifier(solver="adam", learning_rate=0.01, max_iter=20)),
        ("lbfgs", BPClassifier(solver="lbfgs", max_iter=50)),
    ]


def _dump_load_joblib(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _dump_load_pickle(model):
    return pickle.loads(pickle.dumps(model))


@pytest.mark.parametrize("persist", [_dump_load_joblib, _dump_load_pickle])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_persistence_round_trip(
    multiclass_data, persist, solver, dtype, no_convergence_warning
):
    X, y = multiclass_data
    X = StandardScaler().fit_transform(X).astype(dtype)
    model = dict(_models())[solver].set_params(hidden_layer_sizes=(6,), random_state=0)
    model.fit(X, y)
    loaded = persist(model)
    assert type(loaded) is BPClassifier
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert_array_equal(loaded.predict_log_proba(X), model.predict_log_proba(X))
    assert loaded.predict_proba(X).dtype == dtype
    for a, b in zip(
        loaded.coefs_ + loaded.intercepts_, model.coefs_ + model.intercepts_
    ):
        assert a.dtype == dtype
        assert_array_equal(a, b)
    assert loaded.get_params() == model.get_params()


def test_joblib_file_round_trip(multiclass_data, tmp_path):
    X, y = multiclass_data
    model = BPClassifier(hidden_layer_sizes=(6,), solver="lbfgs", random_state=0)
    model.fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path, compress=3)
    loaded = joblib.load(path)
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_warm_start_after_joblib_round_trip(multiclass_data, no_convergence_warning):
    X, y = multiclass_data
    X = StandardScaler().fit_transform(X)
    model = BPClassifier(
        hidden_layer_sizes=(6,), max_iter=5, warm_start=True, random_state=0
    ).fit(X, y)
    loaded = _dump_load_joblib(model)
    model.fit(X, y)
    loaded.fit(X, y)
    assert loaded.loss_curve_ == model.loss_curve_
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_pipeline_transforms_the_validation_set(estimator):
    """``Pipeline(transform_input=["X_val"])`` runs X_val through the fitted
    preprocessing: the per-epoch validation scores are those of the pipeline,
    and without it early stopping would watch raw features."""
    import sklearn
    from sklearn.datasets import load_iris, make_regression
    from sklearn.pipeline import Pipeline

    from skbp import BPRegressor

    if estimator == "classifier":
        X, y = load_iris(return_X_y=True)
        net = BPClassifier(max_iter=5, random_state=0)
    else:
        X, y = make_regression(200, 5, noise=1.0, random_state=0)
        net = BPRegressor(max_iter=5, random_state=0)
    X = 50.0 * X + 300.0  # far from standardised
    X_val, y_val = X[::3], y[::3]
    with sklearn.config_context(enable_metadata_routing=True):
        net.set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline(
            [("scale", StandardScaler()), ("net", net)], transform_input=["X_val"]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X, y, X_val=X_val, y_val=y_val)
    # The last epoch's validation score is the fitted pipeline's score on X_val.
    assert pipe[-1].validation_scores_[-1] == pytest.approx(pipe.score(X_val, y_val))
    # Scored on the raw X_val instead, the model would look different.
    assert pipe[-1].score(X_val, y_val) != pytest.approx(pipe.score(X_val, y_val))
