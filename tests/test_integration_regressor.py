"""BPRegressor inside scikit-learn's tooling: pipelines, search, CV, persistence."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPRegressor, TrainingCurveDisplay


@pytest.fixture
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[:150], y[:150]


@pytest.fixture
def friedman():
    """Friedman #1 with its U(0, 1) features standardised (as a user should)."""
    X, y = make_friedman1(n_samples=120, n_features=5, noise=0.3, random_state=0)
    return (X - 0.5) * np.sqrt(12.0), y


def test_pipeline_with_scaler(diabetes):
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


def test_grid_search(diabetes):
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


@pytest.mark.parametrize(
    "estimator",
    [
        BPRegressor(),
        BPRegressor(
            hidden_layer_sizes=(7, 3),
            activation=("tanh", "gelu"),
            loss="huber",
            huber_delta=0.5,
            normalize_y=False,
            solver="sgd",
            random_state=np.random.RandomState(3),
        ),
    ],
)
def test_clone_is_unfitted_with_the_same_params(friedman, estimator):
    X, y = friedman
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.set_params(max_iter=5).fit(X, y)
    cloned = clone(estimator)
    assert cloned is not estimator
    for name in ("coefs_", "n_features_in_", "loss_curve_", "n_outputs_"):
        assert not hasattr(cloned, name)
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


@pytest.mark.parametrize("persist", [_dump_load_joblib, _dump_load_pickle])
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_persistence_round_trip(
    friedman, persist, loss, solver, dtype, no_convergence_warning
):
    X, y = friedman
    X = X.astype(dtype)
    Y = np.column_stack([y, y**2])  # positive, two outputs
    model = BPRegressor(
        hidden_layer_sizes=(6,),
        loss=loss,
        solver=solver,
        learning_rate=0.01,
        max_iter=20,
        random_state=0,
    ).fit(X, Y)
    loaded = persist(model)
    assert type(loaded) is BPRegressor
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.predict(X).dtype == dtype
    assert loaded.score(X, Y) == model.score(X, Y)
    for a, b in zip(
        loaded.coefs_ + loaded.intercepts_, model.coefs_ + model.intercepts_
    ):
        assert a.dtype == dtype
        assert_array_equal(a, b)
    assert loaded.get_params() == model.get_params()
    for a, b in zip(loaded._logit_affine(), model._logit_affine()):
        assert_array_equal(a, b)


def test_joblib_file_round_trip_then_warm_start(friedman, tmp_path):
    X, y = friedman
    model = BPRegressor(
        hidden_layer_sizes=(6,), max_iter=5, warm_start=True, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, 40.0 * y + 300.0)
        path = tmp_path / "model.joblib"
        joblib.dump(model, path, compress=3)
        loaded = joblib.load(path)
        assert_array_equal(loaded.predict(X), model.predict(X))
        model.fit(X, 40.0 * y + 300.0)
        loaded.fit(X, 40.0 * y + 300.0)
    assert loaded.loss_curve_ == model.loss_curve_
    assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_training_curve_display(pyplot, friedman):
    X, y = friedman
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = BPRegressor(hidden_layer_sizes=(5,), max_iter=15, random_state=0).fit(
            X, y
        )
    display = TrainingCurveDisplay.from_estimator(reg)
    assert set(display.lines_) == {"training_loss"}
    x, loss = display.lines_["training_loss"].get_data()
    assert_array_equal(x, np.arange(1, 16))
    assert_allclose(loss, reg.loss_curve_)
    assert display.ax_score_ is None


def test_training_curve_display_with_early_stopping(
    pyplot, friedman, no_convergence_warning
):
    X, y = friedman
    reg = BPRegressor(
        hidden_layer_sizes=(5,),
        early_stopping=True,
        learning_rate=0.01,
        random_state=0,
    ).fit(X, y)
    display = TrainingCurveDisplay.from_estimator(reg, name="bp")
    assert set(display.lines_) == {
        "training_loss",
        "validation_loss",
        "validation_score",
    }
    assert_allclose(
        display.lines_["validation_score"].get_ydata(), reg.validation_scores_
    )
    assert_allclose(
        display.lines_["validation_loss"].get_ydata(), reg.validation_loss_curve_
    )
    assert display.ax_score_ is not None
