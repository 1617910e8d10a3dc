"""The estimators inside scikit-learn's tooling: pipelines, search, CV, clone,
persistence.

Clone and pickle/joblib round trips are tested on both estimators; pipelines,
grid search and cross-validation with what each estimator's scores mean.
"""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier, BPRegressor

# ----------------------------------------------------------- classifier


def test_classifier_pipeline_with_scaler(iris):
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


def test_classifier_grid_search(iris):
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


def test_classifier_cross_val_score(iris):
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


# ------------------------------------------------------------ regressor


def test_regressor_pipeline_with_scaler(diabetes):
    X, y = diabetes
    pipe = make_pipeline(
        StandardScaler(),
        BPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", alpha=1.0, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
    assert pipe.score(X, y) > 0.4
    # The pipeline is the scaler followed by the regressor, nothing else.
    inner = pipe[-1]
    assert_allclose(pipe.predict(X), inner.predict(pipe[0].transform(X)))
    pipe.set_params(bpregressor__activation="tanh")
    assert pipe[-1].activation == "tanh"


def test_regressor_grid_search(diabetes):
    X, y = diabetes
    pipe = make_pipeline(
        StandardScaler(),
        BPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0),
    )
    grid = {
        "bpregressor__learning_rate": [1e-3, 1e-2],
        "bpregressor__activation": ["relu", "tanh"],
    }
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2, error_score="raise")
    # 30 epochs under-train on purpose; with n_jobs=2 the ConvergenceWarnings are
    # raised in the worker processes, and this filter covers the final refit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_["bpregressor__learning_rate"] in (1e-3, 1e-2)
    # Ten times the step in as many epochs fits better: the search saw that.
    assert search.best_params_["bpregressor__learning_rate"] == 1e-2
    assert search.best_estimator_[-1].n_iter_ == 30
    # The search cloned the estimator: the original stays unfitted.
    assert not hasattr(pipe[-1], "coefs_")


def test_cross_val_score_is_r2_per_fold(friedman):
    X, y = friedman
    reg = BPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    cv = KFold(4, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(reg, X, y, cv=cv)
        # The same folds by hand.
        expected = [
            r2_score(y[test], clone(reg).fit(X[train], y[train]).predict(X[test]))
            for train, test in cv.split(X)
        ]
    assert_allclose(scores, expected, rtol=1e-12)
    assert scores.mean() > 0.8


def test_transformed_target_regressor_log(friedman):
    X, y = friedman
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        wrapped = TransformedTargetRegressor(
            regressor=BPRegressor(**params), func=np.log, inverse_func=np.exp
        ).fit(X, y)
        inner = BPRegressor(**params).fit(X, np.log(y))
    assert_allclose(wrapped.predict(X), np.exp(inner.predict(X)), rtol=1e-12)


@pytest.mark.parametrize("multi_output", [False, True])
def test_standard_scaler_on_the_target_is_normalize_y(friedman, multi_output):
    """normalize_y=True standardises y as StandardScaler would (ddof=0)."""
    X, y = friedman
    y = 40.0 * y + 300.0
    if multi_output:
        y = np.column_stack([y, -0.01 * y + 3.0])
    params = dict(hidden_layer_sizes=(8,), solver="adam", max_iter=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        wrapped = TransformedTargetRegressor(
            regressor=BPRegressor(normalize_y=False, **params),
            transformer=StandardScaler(),
        ).fit(X, y)
        scaled = BPRegressor(**params).fit(X, y)
    assert_allclose(wrapped.predict(X), scaled.predict(X), rtol=1e-10)
    assert_allclose(wrapped.regressor_.loss_curve_, scaled.loss_curve_, rtol=1e-10)


# ------------------------------------------------------- both estimators


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


@pytest.mark.parametrize(
    "estimator, data",
    [
        (BPClassifier(), "binary_data"),
        (
            BPClassifier(
                hidden_layer_sizes=(7, 3),
                activation=("tanh", "gelu"),
                solver="sgd",
                class_weight={0: 2.0, 1: 1.0},
                random_state=np.random.RandomState(3),
            ),
            "binary_data",
        ),
        (BPRegressor(), "friedman"),
        (
            BPRegressor(
                hidden_layer_sizes=(7, 3),
                activation=("tanh", "gelu"),
                loss="huber",
                huber_delta=0.5,
                normalize_y=False,
                solver="sgd",
                random_state=np.random.RandomState(3),
            ),
            "friedman",
        ),
    ],
    ids=["classifier", "classifier-configured", "regressor", "regressor-configured"],
)
def test_clone_is_unfitted_with_the_same_params(request, estimator, data):
    X, y = request.getfixturevalue(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.set_params(max_iter=5).fit(X, y)
    cloned = clone(estimator)
    assert cloned is not estimator
    for name in ("coefs_", "classes_", "n_features_in_", "loss_curve_", "n_outputs_"):
        assert not hasattr(cloned, name)
    if isinstance(estimator, BPRegressor):
        assert cloned._logit_affine() is None
    original_params = estimator.get_params()
    cloned_params = cloned.get_params()
    assert set(original_params) == set(cloned_params)
    for name, value in original_params.items():
        if name == "random_state" and isinstance(value, np.random.RandomState):
            continue  # clone deep-copies a RandomState instance
        assert cloned_params[name] == value, name


def _dump_load_joblib(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _dump_load_pickle(model):
    return pickle.loads(pickle.dumps(model))


#: Per solver, settings that train something in a few epochs.
_SOLVER_PARAMS = {
    "classifier": {
        "sgd": dict(learning_rate=0.05, max_iter=20),
        "adam": dict(learning_rate=0.01, max_iter=20),
        "lbfgs": dict(max_iter=50),
    },
    "regressor": {
        solver: dict(learning_rate=0.01, max_iter=20)
        for solver in ("sgd", "adam", "lbfgs")
    },
}


def _persistence_case(request, case, solver, dtype):
    """A fitted model of the case, and the data to compare its copies on."""
    if case == "classifier":
        X, y = request.getfixturevalue("multiclass_data")
        X = StandardScaler().fit_transform(X).astype(dtype)
        model = BPClassifier(
            hidden_layer_sizes=(6,),
            solver=solver,
            random_state=0,
            **_SOLVER_PARAMS["classifier"][solver],
        )
    else:
        X, y = request.getfixturevalue("friedman")
        X = X.astype(dtype)
        y = np.column_stack([y, y**2])  # positive, two outputs
        model = BPRegressor(
            hidden_layer_sizes=(6,),
            loss=case.removeprefix("regressor-"),
            solver=solver,
            random_state=0,
            **_SOLVER_PARAMS["regressor"][solver],
        )
    return model.fit(X, y), X, y


@pytest.mark.parametrize("persist", [_dump_load_joblib, _dump_load_pickle])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize(
    "case", ["classifier", "regressor-squared_error", "regressor-poisson"]
)
def test_persistence_round_trip(
    request, case, persist, solver, dtype, no_convergence_warning
):
    model, X, y = _persistence_case(request, case, solver, dtype)
    loaded = persist(model)
    assert type(loaded) is type(model)
    assert_array_equal(loaded.predict(X), model.predict(X))
    if isinstance(model, BPClassifier):
        assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
        assert_array_equal(loaded.predict_log_proba(X), model.predict_log_proba(X))
        assert loaded.predict_proba(X).dtype == dtype
    else:
        assert loaded.predict(X).dtype == dtype
        assert loaded.score(X, y) == model.score(X, y)
        for a, b in zip(loaded._logit_affine(), model._logit_affine()):
            assert_array_equal(a, b)
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
