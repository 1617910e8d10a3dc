"""Incremental training with ``partial_fit``, on both estimators.

One call is one epoch over the data given; n calls on the same data equal a
fit of n epochs, also across a pickle or joblib round trip. The classifier
needs ``classes`` on its first call; the regressor keeps the target statistics
of its first chunk. Weights set by hand before a ``partial_fit`` are tested in
``test_warm_start.py`` with those before a warm start.
"""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skbp import BPClassifier, BPRegressor

ESTIMATORS = [BPClassifier, BPRegressor]


def _classes(model, y):
    """The ``classes`` argument a first call needs (none for the regressor)."""
    return {"classes": np.unique(y)} if isinstance(model, BPClassifier) else {}


def _pickle(model):
    return pickle.loads(pickle.dumps(model))


def _joblib(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


# ------------------------------------------------ epochs, and what carries over


@pytest.mark.parametrize(
    "estimator_class, data",
    [(BPClassifier, "multiclass_data"), (BPRegressor, "friedman")],
    ids=["classifier", "regressor"],
)
def test_partial_fit_epochs_equal_fit_epochs(
    request, estimator_class, data, solver_params, no_convergence_warning, user_outputs
):
    """Three partial_fit calls are three epochs of one fit."""
    X, y = request.getfixturevalue(data)
    # tol=0 and a long patience: the fit does exactly max_iter epochs.
    params = dict(
        hidden_layer_sizes=(7,),
        batch_size=16,
        tol=0.0,
        n_iter_no_change=1000,
        random_state=0,
        **solver_params,
    )
    once = estimator_class(max_iter=3, **params).fit(X, y)
    stepwise = estimator_class(**params)
    for _ in range(3):
        stepwise.partial_fit(X, y, **_classes(stepwise, y))
    assert_allclose(stepwise.loss_curve_, once.loss_curve_, rtol=1e-12)
    assert_allclose(user_outputs(stepwise, X), user_outputs(once, X), rtol=1e-12)


@pytest.mark.parametrize("persist", [_pickle, _joblib], ids=["pickle", "joblib"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize(
    "estimator_class, data",
    [(BPClassifier, "scaled_iris"), (BPRegressor, "multi_output_data")],
    ids=["classifier", "regressor"],
)
def test_round_trip_then_partial_fit(
    request, estimator_class, data, solver, persist, dtype, seed, user_outputs
):
    X, y = request.getfixturevalue(data)
    X = X.astype(dtype)
    model = estimator_class(
        hidden_layer_sizes=(8,), solver=solver, learning_rate=0.01, random_state=seed
    )
    for _ in range(3):
        model.partial_fit(X, y, **_classes(model, y))
    restored = persist(model)
    assert_array_equal(user_outputs(restored, X), user_outputs(model, X))
    assert_array_equal(restored.predict(X), model.predict(X))

    # Both continue identically: parameters, optimiser state and RNG survive.
    model.partial_fit(X, y)
    restored.partial_fit(X, y)
    assert restored.t_ == model.t_ == 4 * len(y)
    assert restored.loss_curve_ == model.loss_curve_
    assert len(restored.loss_curve_) == 4
    for a, b in zip(
        restored.coefs_ + restored.intercepts_, model.coefs_ + model.intercepts_
    ):
        assert a.dtype == dtype
        assert_array_equal(a, b)


def test_partial_fit_after_fit_continues(scaled_iris, no_convergence_warning):
    X, y = scaled_iris
    clf = BPClassifier(
        hidden_layer_sizes=(8,),
        solver="adam",
        max_iter=5,
        learning_rate=0.01,
        random_state=0,
    ).fit(X, y)
    coefs = [c.copy() for c in clf.coefs_]
    clf.set_params(learning_rate=1e-12)
    clf.partial_fit(X, y)
    assert len(clf.loss_curve_) == 6
    for before, after in zip(coefs, clf.coefs_):
        assert_allclose(after, before, atol=1e-8)


def test_partial_fit_does_not_warn(scaled_iris):
    X, y = scaled_iris
    clf = BPClassifier(hidden_layer_sizes=(8,), max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.partial_fit(X, y, classes=[0, 1, 2])
        clf.partial_fit(X, y)


def test_partial_fit_chunks(friedman):
    X, y = friedman
    y = 40.0 * y + 300.0
    chunks = np.array_split(np.arange(len(y)), 3)
    reg = BPRegressor(hidden_layer_sizes=(8,), solver="adam", random_state=0)
    for i, chunk in enumerate(chunks, start=1):
        reg.partial_fit(X[chunk], y[chunk])
        assert reg.n_iter_ == 1
        assert reg.t_ == sum(len(c) for c in chunks[:i])
        assert len(reg.loss_curve_) == i
        # The target statistics are those of the first chunk, kept after it.
        scale, shift = reg._logit_affine()
        assert_allclose(shift, [y[chunks[0]].mean()], rtol=1e-12)
        assert_allclose(scale, [y[chunks[0]].std()], rtol=1e-12)
    assert reg.t_ == len(y)


def test_float32_partial_fit_with_a_large_target_offset():
    # In float32, unfolding an output bias near the target mean (1e6, ulp 0.0625)
    # would round it to steps of 0.0625 / std, larger than an Adam step: the
    # estimator resumes from its training-unit parameters instead.
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3).astype(np.float32)
    y = 1e6 + X @ np.array([1.0, -2.0, 0.5])
    params = dict(
        hidden_layer_sizes=(8,),
        solver="adam",
        batch_size=200,
        shuffle=False,
        tol=0.0,
        n_iter_no_change=1000,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once = BPRegressor(max_iter=30, **params).fit(X, y)
    stepwise = BPRegressor(**params)
    for _ in range(30):
        stepwise.partial_fit(X, y)
    # float32 rounding of the training itself is ~1e-6; the drift is ~10%.
    assert_allclose(stepwise.loss_curve_, once.loss_curve_, rtol=1e-3)


# ---------------------------------------------------------------- classes


def test_partial_fit_with_classes(multiclass_data):
    X, y = multiclass_data
    first = y != 2
    clf = BPClassifier(hidden_layer_sizes=(8,), solver="sgd", random_state=0)
    clf.partial_fit(X[first], y[first], classes=[0, 1, 2])
    assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (len(y), 3)
    assert clf.n_iter_ == 1
    assert clf.t_ == first.sum()
    # Repeating classes (in any order) on later calls is fine.
    for _ in range(20):
        clf.partial_fit(X, y, classes=np.array([2, 0, 1]))
        clf.partial_fit(X, y)
    assert len(clf.loss_curve_) == 41
    assert clf.t_ == first.sum() + 40 * len(y)
    assert clf.score(X, y) > 0.9


def test_partial_fit_needs_classes_on_first_call(multiclass_data, multilabel_data):
    # scikit-learn's rule for every incremental classifier: a chunk may miss
    # classes, so the first call must name them all.
    X, y = multiclass_data
    clf = BPClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "coefs_") and not hasattr(clf, "classes_")
    # Later calls may omit it.
    clf.partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y)
    assert clf.t_ == 2 * len(y)
    # Multilabel indicator targets name their classes by their columns.
    X, Y = multilabel_data
    clf = BPClassifier(hidden_layer_sizes=(8,), random_state=0).partial_fit(X, Y)
    assert_array_equal(clf.classes_, [0, 1, 2])


def test_partial_fit_unseen_label_raises(multiclass_data):
    X, y = multiclass_data
    first = y != 2
    clf = BPClassifier(hidden_layer_sizes=(8,), random_state=0)
    clf.partial_fit(X[first], y[first], classes=[0, 1])
    assert_array_equal(clf.classes_, [0, 1])
    with pytest.raises(ValueError, match="not seen before"):
        clf.partial_fit(X, y)

    clf = BPClassifier(hidden_layer_sizes=(8,), random_state=0)
    clf.partial_fit(X[first], y[first], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="3"):
        clf.partial_fit(X, np.where(y == 2, 3, y))


def test_partial_fit_first_call_labels_outside_classes_raise(multiclass_data):
    X, y = multiclass_data
    clf = BPClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y, classes=[0, 1])


def test_partial_fit_changing_classes_raises(multiclass_data):
    X, y = multiclass_data
    clf = BPClassifier(hidden_layer_sizes=(8,), random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1])


# ----------------------------------------------------- when it is refused


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_partial_fit_unavailable_for_lbfgs(estimator_class):
    assert not hasattr(estimator_class(solver="lbfgs"), "partial_fit")
    assert hasattr(estimator_class(solver="sgd"), "partial_fit")
    assert hasattr(estimator_class(solver="adam"), "partial_fit")


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_partial_fit_early_stopping_raises(data_for, estimator_class):
    X, y = data_for(estimator_class)
    model = estimator_class(early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping"):
        model.partial_fit(X, y, **_classes(model, y))


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_partial_fit_different_n_features_raises(data_for, estimator_class):
    X, y = data_for(estimator_class)
    model = estimator_class(hidden_layer_sizes=(4,))
    model.partial_fit(X, y, **_classes(model, y))
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :3], y)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_invalid_parameter_raises_in_partial_fit(data_for, estimator_class):
    X, y = data_for(estimator_class)
    model = estimator_class(solver="sgd", momentum=2.0)
    with pytest.raises(ValueError, match="momentum"):
        model.partial_fit(X, y, **_classes(model, y))


def test_class_weight_balanced_with_partial_fit_raises(binary_data):
    X, y = binary_data
    clf = BPClassifier(class_weight="balanced")
    with pytest.raises(ValueError, match="balanced"):
        clf.partial_fit(X, y, classes=[0, 1])
    # A dict is fine.
    BPClassifier(class_weight={0: 1.0, 1: 2.0}).partial_fit(X, y, classes=[0, 1])
