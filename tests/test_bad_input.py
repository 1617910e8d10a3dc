"""Clear errors for bad data and bad parameters, and safe behaviour on divergence.

Mostly on BPClassifier (its own rules for labels and class weights included);
data that overflow the network are tested on both estimators. Errors that only
``partial_fit``, a warm start or a validation set can meet are in
``test_partial_fit.py``, ``test_warm_start.py`` and ``test_early_stopping.py``.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier, BPRegressor


def _small(**params):
    defaults = dict(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0)
    defaults.update(params)
    return BPClassifier(**defaults)


@pytest.fixture
def fitted(binary_data):
    X, y = binary_data
    return _small().fit(X, y)


# --------------------------------------------------------------------- X


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_X_raises(binary_data, value):
    X, y = binary_data
    X = X.copy()
    X[3, 1] = value
    with pytest.raises(ValueError, match="NaN|infinity"):
        _small().fit(X, y)


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_non_finite_X_at_predict_raises(binary_data, fitted, value, method):
    X, _ = binary_data
    X = X.copy()
    X[0, 0] = value
    with pytest.raises(ValueError, match="NaN|infinity"):
        getattr(fitted, method)(X)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_wrong_feature_count_at_predict(binary_data, fitted, method):
    X, _ = binary_data
    with pytest.raises(ValueError, match="features"):
        getattr(fitted, method)(X[:, :-1])
    with pytest.raises(ValueError, match="features"):
        getattr(fitted, method)(np.hstack([X, X]))


def test_empty_X_raises(binary_data):
    with pytest.raises(ValueError, match="0 sample"):
        _small().fit(np.empty((0, 5)), np.empty(0))
    with pytest.raises(ValueError, match="0 feature"):
        _small().fit(np.empty((10, 0)), np.arange(10) % 2)


def test_empty_X_at_predict_raises(fitted):
    with pytest.raises(ValueError, match="0 sample"):
        fitted.predict(np.empty((0, 5)))


def test_X_wrong_ndim_raises(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="2D"):
        _small().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="dim 3"):
        _small().fit(X[:, :, None], y)


def test_complex_X_raises(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="Complex"):
        _small().fit(X + 1j, y)


def test_string_X_raises(binary_data):
    _, y = binary_data
    with pytest.raises(ValueError):
        _small().fit(np.full((80, 2), "a"), y)


# --------------------------------------------------------------------- y


def test_single_class_raises(binary_data):
    X, _ = binary_data
    with pytest.raises(ValueError, match="class"):
        _small().fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="class"):
        _small().fit(X, np.full(len(X), "only"))


def test_single_class_partial_fit_raises(binary_data):
    X, _ = binary_data
    y = np.zeros(len(X), dtype=int)
    with pytest.raises(ValueError, match="class"):
        BPClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match="class"):
        BPClassifier().partial_fit(X, y, classes=[0])


def test_continuous_y_raises(binary_data):
    X, _ = binary_data
    y = np.random.RandomState(0).randn(len(X))
    with pytest.raises(ValueError, match="Unknown label type"):
        _small().fit(X, y)


def test_nan_in_y_raises(binary_data):
    X, y = binary_data
    y = y.astype(float)
    y[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _small().fit(X, y)


def test_multioutput_multiclass_y_raises(multiclass_data):
    X, y = multiclass_data
    with pytest.raises(ValueError):
        _small().fit(X, np.column_stack([y, y]))


def test_mismatched_X_y_lengths(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _small().fit(X, y[:-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _small(solver="sgd").partial_fit(X[:-1], y, classes=[0, 1])


# -------------------------------------------------------------- weights


def test_mismatched_sample_weight_length(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="sample_weight"):
        _small().fit(X, y, sample_weight=np.ones(len(y) - 1))
    with pytest.raises(ValueError, match="sample_weight"):
        BPClassifier().partial_fit(X, y, classes=[0, 1], sample_weight=np.ones(3))


def test_negative_sample_weight_raises(binary_data):
    X, y = binary_data
    sw = np.ones(len(y))
    sw[5] = -0.5
    with pytest.raises(ValueError, match="[Nn]egative"):
        _small().fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_sample_weight_raises(binary_data, value):
    X, y = binary_data
    sw = np.ones(len(y))
    sw[0] = value
    with pytest.raises(ValueError, match="sample_weight"):
        _small().fit(X, y, sample_weight=sw)


def test_all_zero_sample_weight_raises(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="zero"):
        _small().fit(X, y, sample_weight=np.zeros(len(y)))


@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_only_one_weighted_class_raises(binary_data, multiclass_data, solver, kind):
    X, y = binary_data if kind == "binary" else multiclass_data
    sw = (y == 1).astype(float)
    with pytest.raises(ValueError, match="class"):
        _small(solver=solver).fit(X, y, sample_weight=sw)


def test_class_weight_zeroing_all_but_one_class_raises(multiclass_data):
    X, y = multiclass_data
    with pytest.raises(ValueError, match="class"):
        _small(class_weight={0: 0.0, 1: 0.0, 2: 1.0}).fit(X, y)


# ----------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "params",
    [
        {"hidden_layer_sizes": 0},
        {"hidden_layer_sizes": -3},
        {"hidden_layer_sizes": (10, 0)},
        {"hidden_layer_sizes": (10, "a")},
        {"hidden_layer_sizes": (10, 2.5)},
        {"hidden_layer_sizes": (10, True)},
        {"hidden_layer_sizes": 2.5},
        {"hidden_layer_sizes": "10"},
        {"activation": "nope"},
        {"activation": 3},
        {"activation": ("relu", "nope"), "hidden_layer_sizes": (5, 5)},
        {"activation": ("relu", 3), "hidden_layer_sizes": (5, 5)},
        {"solver": "x"},
        {"loss": "hinge"},
        {"learning_rate": 0},
        {"learning_rate": -1},
        {"learning_rate_schedule": "optimal"},
        {"power_t": -1},
        {"batch_size": 0},
        {"batch_size": "big"},
        {"max_iter": 0},
        {"momentum": 1.5},
        {"momentum": -0.1},
        {"beta_1": 1},
        {"beta_2": 1},
        {"epsilon": 0},
        {"validation_fraction": 1},
        {"validation_fraction": 0},
        {"class_weight": "x"},
        {"init": "zeros"},
        {"alpha": -1},
        {"tol": -1},
        {"n_iter_no_change": 0},
        {"max_fun": 0},
        {"early_stopping": "yes"},
        {"shuffle": 2},
        {"warm_start": None},
        {"nesterovs_momentum": 1.0},
        {"random_state": "a"},
        {"verbose": -1},
    ],
    ids=repr,
)
def test_invalid_parameter_raises_naming_it(binary_data, params):
    X, y = binary_data
    name = next(iter(params))
    with pytest.raises(ValueError, match=re.escape(name)):
        _small(**params).fit(X, y)


@pytest.mark.parametrize("schedule", ["adaptive", "invscaling", "constant"])
def test_string_learning_rate_points_to_schedule(binary_data, schedule):
    X, y = binary_data
    with pytest.raises(ValueError, match="learning_rate_schedule"):
        BPClassifier(learning_rate=schedule).fit(X, y)


def test_parameters_not_validated_in_init():
    # scikit-learn convention: __init__ stores, fit validates.
    clf = BPClassifier(hidden_layer_sizes=0, activation="nope", learning_rate=-1)
    assert clf.get_params()["activation"] == "nope"


# ------------------------------------------------------------ not fitted


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "predict_log_proba", "score"]
)
def test_not_fitted_raises(binary_data, method):
    X, y = binary_data
    clf = BPClassifier()
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError):
        getattr(clf, method)(*args)


# -------------------------------------------------------------- batch size


def test_batch_size_larger_than_data_warns(binary_data):
    X, y = binary_data
    clf = BPClassifier(hidden_layer_sizes=(4,), batch_size=500, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match="batch_size"):
            clf.fit(X, y)


# ------------------------------------------------------------- divergence


@pytest.fixture(scope="module")
def unscaled_digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]  # pixel values 0..16, left unscaled on purpose


def _diverging(**params):
    defaults = dict(
        solver="sgd",
        learning_rate=1e6,
        hidden_layer_sizes=(32,),
        batch_size=32,
        max_iter=30,
        random_state=0,
    )
    defaults.update(params)
    return BPClassifier(**defaults)


def _check_diverged_model(clf, X):
    assert all(np.isfinite(clf.loss_curve_))
    assert clf.n_iter_ == len(clf.loss_curve_)
    for array in clf.coefs_ + clf.intercepts_:
        assert np.all(np.isfinite(array))
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(np.isfinite(clf.predict_log_proba(X)))
    clf.predict(X)


@pytest.mark.parametrize("activation", ["relu", "tanh", "elu", "softplus", "gelu"])
@pytest.mark.parametrize("dtype_", [np.float64, np.float32], ids=["f64", "f32"])
def test_divergence_warns_and_keeps_a_finite_model(unscaled_digits, activation, dtype_):
    """The contract on divergence, independent of numpy's RuntimeWarnings."""
    X, y = unscaled_digits
    X = X.astype(dtype_)
    clf = _diverging(activation=activation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(ConvergenceWarning, match="diverged"):
            clf.fit(X, y)
        _check_diverged_model(clf, X)


@pytest.mark.parametrize("dtype_", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_divergence_emits_no_runtime_warning(unscaled_digits, activation, dtype_):
    """No numpy overflow/invalid-value RuntimeWarning escapes fit or predict."""
    X, y = unscaled_digits
    X = X.astype(dtype_)
    clf = _diverging(activation=activation)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(ConvergenceWarning, match="diverged"):
            clf.fit(X, y)
        _check_diverged_model(clf, X)


# ------------------------------------------------------- overflowing data

#: How scikit-learn's MLP says that the data overflow it; skbp's message starts so.
NONFINITE = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)


def _overflowing_data(estimator_class):
    """Inputs near float64's maximum: the loss is already inf at the initial
    weights, so nothing can be learnt."""
    rng = np.random.RandomState(0)
    if estimator_class is BPClassifier:
        # The logits overflow (with two features, as in scikit-learn's test,
        # the log-loss stays finite).
        X = np.finfo(np.float64).max * rng.uniform(size=(10, 200))
        return X, np.arange(10) % 2
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    return X, rng.standard_normal(size=10)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("estimator_class", [BPClassifier, BPRegressor])
def test_data_overflowing_from_the_start_raise(estimator_class, solver):
    # scikit-learn's test_nonfinite_params: a ValueError saying what to do, no
    # fitted model, and no RuntimeWarning.
    X, y = _overflowing_data(estimator_class)
    model = estimator_class(solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ValueError) as excinfo:
            model.fit(X, y)
    message = str(excinfo.value)
    assert message.startswith(NONFINITE)
    assert "StandardScaler" in message
    if estimator_class is BPClassifier:
        assert "normalize_y" not in message  # the regressor's advice only
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("call", ["warm_start", "partial_fit"])
@pytest.mark.parametrize("estimator_class", [BPClassifier, BPRegressor])
def test_overflowing_data_leave_a_fitted_model_as_it_was(
    request, estimator_class, solver, call
):
    if call == "partial_fit" and solver == "lbfgs":
        pytest.skip("L-BFGS has no partial_fit")
    if estimator_class is BPClassifier:
        huge, y = _overflowing_data(BPClassifier)
        X = huge / np.finfo(np.float64).max
    else:
        X, y = request.getfixturevalue("friedman")
        huge = np.abs(X) / np.abs(X).max() * np.finfo(np.float64).max
    model = estimator_class(
        hidden_layer_sizes=(8,),
        solver=solver,
        max_iter=5,
        warm_start=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    outputs = model.predict_proba if estimator_class is BPClassifier else model.predict
    before, expected = pickle.dumps(model), outputs(X)
    with pytest.raises(ValueError, match=re.escape(NONFINITE)):
        if call == "partial_fit":
            model.partial_fit(huge, y)
        else:
            model.fit(huge, y)
    assert pickle.dumps(model) == before
    assert_array_equal(outputs(X), expected)


def test_divergence_keeps_the_lowest_loss_parameters_seen():
    # sgd at 3 with momentum on iris: the loss falls to 0.63 after epoch 1,
    # then swings up; from epoch 5 it is over 100x that. The model kept is the
    # one after epoch 1 (not the one before the diverging epoch, loss 7.1).
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(solver="sgd", learning_rate=3.0, momentum=0.9, random_state=0)
    clf = BPClassifier(max_iter=100, **params)
    with pytest.warns(ConvergenceWarning, match="diverged") as record:
        clf.fit(X, y)
    message = str(record[0].message)
    assert "more than 100 times its lowest value so far" in message
    assert "The parameters after epoch 1 are kept" in message
    assert clf.n_iter_ > 1  # it ran on past the lowest epoch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        after_one = BPClassifier(max_iter=1, **params).fit(X, y)
    for kept, expected in zip(
        clf.coefs_ + clf.intercepts_, after_one.coefs_ + after_one.intercepts_
    ):
        assert_array_equal(kept, expected)
    lowest = float(message.split("so far (")[1].split(" ")[0])
    # The same loss (the message rounds it to three digits; L2 aside).
    assert log_loss(y, clf.predict_proba(X)) <= 1.005 * lowest
