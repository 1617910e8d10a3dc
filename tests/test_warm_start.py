"""Training continues where it stopped: ``warm_start``, on both estimators.

The optimiser state (velocity, Adam moments and step count), the stopping
monitor, the sample counter and the random generator all carry over, so k epochs
followed by k more equal 2k epochs in one call, also through a pickle or joblib
round trip. Weights set by hand start a fresh optimiser state; a changed
architecture, feature count, class set or output count is a clear error that
leaves the model as it was. ``partial_fit`` has its own file,
``test_partial_fit.py``.
"""

import io

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier, BPRegressor

# Most fits here under-train on purpose.
pytestmark = pytest.mark.usefixtures("no_convergence_warning")

ESTIMATORS = [BPClassifier, BPRegressor]


def _params(solver_params, max_iter, random_state=0):
    # tol=0 and a long patience: every run does exactly max_iter epochs.
    return dict(
        hidden_layer_sizes=(7,),
        batch_size=16,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=1000,
        random_state=random_state,
        **solver_params,
    )


def _small(estimator_class, **params):
    return estimator_class(hidden_layer_sizes=(6,), random_state=0, **params)


def _dump_load(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


# ------------------------------------------------------ k epochs + k = 2k


def _k_plus_k_data(request, case):
    if case == "classifier":
        return request.getfixturevalue("multiclass_data")
    X, y = request.getfixturevalue("friedman")
    y = 40.0 * y + 300.0  # far from standardised: the folding does something
    if case == "regressor-2-outputs":
        y = np.column_stack([y, -0.01 * y + 3.0])
    return X, y


@pytest.mark.parametrize("round_trip", [False, True])
@pytest.mark.parametrize(
    "estimator_class, case",
    [
        (BPClassifier, "classifier"),
        (BPRegressor, "regressor-1-output"),
        (BPRegressor, "regressor-2-outputs"),
    ],
    ids=["classifier", "regressor-1-output", "regressor-2-outputs"],
)
def test_warm_start_k_plus_k_equals_2k(
    request, estimator_class, case, solver_params, round_trip, seed, user_outputs
):
    """k epochs, then k more (after a joblib round trip or not), equal 2k epochs.

    The regressor's fitted coefs_ hold the output layer in the targets' units
    (W * std, b * std + mean) and a warm start unfolds them again, which is not
    bit-exact: each round trip moves an output weight by an ulp or two (~1e-16
    relative) and the following epochs carry that along without amplifying it
    much (1e-15 measured). rtol=1e-12 leaves three orders of margin and still
    catches any real difference in the optimiser state, RNG or scaling carried
    over.
    """
    X, y = _k_plus_k_data(request, case)
    k = 4
    once = estimator_class(**_params(solver_params, 2 * k, seed)).fit(X, y)
    twice = estimator_class(warm_start=True, **_params(solver_params, k, seed))
    twice.fit(X, y)
    if round_trip:
        twice = _dump_load(twice)
    twice.fit(X, y)
    assert twice.t_ == once.t_ == 2 * k * len(X)
    assert_allclose(twice.loss_curve_, once.loss_curve_, rtol=1e-12)
    atol = 1e-15 if estimator_class is BPClassifier else 1e-13
    for got, expected in zip(
        twice.coefs_ + twice.intercepts_, once.coefs_ + once.intercepts_
    ):
        assert_allclose(got, expected, rtol=1e-12, atol=atol)
    assert_allclose(user_outputs(twice, X), user_outputs(once, X), rtol=1e-12)


@pytest.mark.parametrize(
    "estimator_class, data",
    [(BPClassifier, "multiclass_data"), (BPRegressor, "friedman")],
    ids=["classifier", "regressor"],
)
def test_optimizer_state_is_plain_data(request, estimator_class, data):
    """No skbp class ends up in the pickled optimiser state."""
    X, y = request.getfixturevalue(data)
    model = estimator_class(**_params(dict(solver="adam"), 2)).fit(X, y)
    state = model._optimizer_state
    assert isinstance(state, dict)
    for value in state.values():
        assert isinstance(value, (np.ndarray, int, float, str))


@pytest.mark.parametrize(
    "estimator_class, data",
    [(BPClassifier, "multiclass_data"), (BPRegressor, "friedman")],
    ids=["classifier", "regressor"],
)
def test_round_trip_then_warm_start(
    request, estimator_class, data, tmp_path, user_outputs
):
    """A model loaded from a joblib file trains on exactly like the original."""
    X, y = request.getfixturevalue(data)
    if estimator_class is BPClassifier:
        X = StandardScaler().fit_transform(X)
    else:
        y = 40.0 * y + 300.0
    model = estimator_class(
        hidden_layer_sizes=(6,), max_iter=5, warm_start=True, random_state=0
    ).fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path, compress=3)
    loaded = joblib.load(path)
    assert_array_equal(user_outputs(loaded, X), user_outputs(model, X))
    model.fit(X, y)
    loaded.fit(X, y)
    assert loaded.loss_curve_ == model.loss_curve_
    assert_array_equal(user_outputs(loaded, X), user_outputs(model, X))


# ---------------------------------------------- what a second fit continues


def _full_batch_loss(clf, X, y):
    """Training objective (log-loss + L2 term) of ``clf``'s current weights."""
    penalty = sum(float(np.sum(W**2)) for W in clf.coefs_)
    return log_loss(y, clf.predict_proba(X)) + 0.5 * clf.alpha * penalty / len(y)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_warm_start_continues(scaled_iris, solver):
    X, y = scaled_iris
    clf = BPClassifier(
        hidden_layer_sizes=(8,),
        solver=solver,
        warm_start=True,
        max_iter=5,
        learning_rate=0.01,
        random_state=0,
    )
    clf.fit(X, y)
    curve = list(clf.loss_curve_)
    t_first = clf.t_
    assert len(curve) == clf.n_iter_ == 5
    end_loss = _full_batch_loss(clf, X, y)

    clf.set_params(max_iter=3)
    clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == len(curve) + 3
    assert clf.loss_curve_[: len(curve)] == curve
    assert clf.t_ > t_first
    second = clf.loss_curve_[len(curve)]
    if solver != "lbfgs":
        assert clf.t_ == t_first + 3 * X.shape[0]
        # The first epoch of the second fit is one full batch (150 <= 200 samples)
        # whose loss is evaluated at the first fit's final weights: training
        # continued from them instead of drawing new ones.
        assert second == pytest.approx(end_loss, rel=1e-9)
    else:
        # L-BFGS records the loss after each iteration; the first one starts from
        # the previous solution, so it cannot be worse than where that fit ended.
        assert curve[-1] == pytest.approx(end_loss, rel=1e-9)
        assert second <= end_loss + 1e-12
    assert second < curve[0]


@pytest.mark.parametrize(
    "estimator_class, data",
    [(BPClassifier, "scaled_iris"), (BPRegressor, "friedman")],
    ids=["classifier", "regressor"],
)
def test_warm_start_false_restarts(request, estimator_class, data):
    X, y = request.getfixturevalue(data)
    model = estimator_class(
        hidden_layer_sizes=(8,),
        solver="sgd",
        max_iter=20,
        learning_rate=0.01,
        random_state=0,
    )
    model.fit(X, y)
    first = [c.copy() for c in model.coefs_]
    model.fit(X, y)
    assert len(model.loss_curve_) == model.n_iter_
    assert model.t_ == model.n_iter_ * X.shape[0]
    for a, b in zip(first, model.coefs_):
        assert_array_equal(a, b)


def test_warm_start_keeps_the_first_fits_statistics(friedman):
    X, y = friedman
    reg = BPRegressor(
        hidden_layer_sizes=(8,),
        solver="adam",
        warm_start=True,
        max_iter=5,
        random_state=0,
    ).fit(X, y)
    before = [a.copy() for a in reg._logit_affine()]
    reg.fit(X, 10.0 * y + 5.0)
    for got, expected in zip(reg._logit_affine(), before):
        assert_array_equal(got, expected)


def test_warm_start_with_the_same_classes_in_another_order():
    X, y = make_classification(
        n_samples=90, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    model = _small(BPClassifier, max_iter=2, warm_start=True).fit(X, y)
    order = np.argsort(-y, kind="stable")
    model.fit(X[order], y[order])
    assert model.n_iter_ == 2
    assert len(model.loss_curve_) == 4


# --------------------------------------------- hand-set weights and the state


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("entry", ["warm_start", "partial_fit"])
@pytest.mark.parametrize(
    "solver_params",
    [dict(solver="sgd", momentum=0.9), dict(solver="adam")],
    ids=["sgd-momentum", "adam"],
)
def test_hand_set_weights_start_a_fresh_optimiser_state(
    data_for, estimator_class, entry, solver_params
):
    # The measurement: from all-zero weights, one epoch at a learning
    # rate of 1e-9 moved weights by 0.04, because the momentum velocity of the
    # old weights was applied to the new ones.
    X, y = data_for(estimator_class)
    model = _small(estimator_class, max_iter=5, warm_start=True, **solver_params)
    model.fit(X, y)
    model.coefs_ = [np.zeros_like(c) for c in model.coefs_]
    model.intercepts_ = [np.zeros_like(b) for b in model.intercepts_]
    model.set_params(learning_rate=1e-9, max_iter=1)
    if entry == "warm_start":
        model.fit(X, y)
    else:
        model.partial_fit(X, y)
    # A fresh optimiser moves each weight by at most a few learning rates.
    moved = max(np.abs(c).max() for c in model.coefs_)
    assert moved < 1e-6


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_in_place_edits_also_count_as_hand_set(data_for, estimator_class):
    X, y = data_for(estimator_class)
    model = _small(estimator_class, solver="sgd", max_iter=5, warm_start=True)
    model.fit(X, y)
    for coef in model.coefs_:
        coef[...] = 0.0
    for intercept in model.intercepts_:
        intercept[...] = 0.0
    model.set_params(learning_rate=1e-9, max_iter=1).fit(X, y)
    assert max(np.abs(c).max() for c in model.coefs_) < 1e-6


def test_edited_coefs_are_used(scaled_iris):
    X, y = scaled_iris
    clf = BPClassifier(hidden_layer_sizes=(8,), random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    clf.coefs_[1] = np.zeros_like(clf.coefs_[1])
    clf.intercepts_[1][...] = 0.0
    assert_allclose(clf.predict_proba(X), 1 / 3)
    # The next training call starts from the edited parameters (Adam takes the
    # new step size; SGD would keep its carried-over step size by design).
    clf.set_params(learning_rate=1e-12)
    clf.partial_fit(X, y)
    assert_allclose(clf.coefs_[1], 0.0, atol=1e-9)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_untouched_weights_keep_the_optimiser_state(data_for, estimator_class):
    # The velocity carries on: a warm start at a tiny rate still moves by the
    # momentum term (and equals one longer fit, see the k + k = 2k test).
    X, y = data_for(estimator_class)
    model = _small(estimator_class, solver="sgd", max_iter=5, warm_start=True)
    model.fit(X, y)
    before = [c.copy() for c in model.coefs_]
    model.set_params(learning_rate=1e-9, max_iter=1).fit(X, y)
    moved = max(np.abs(c - c0).max() for c, c0 in zip(model.coefs_, before))
    assert moved > 1e-4


# ------------------------------------- what a warm start cannot change


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_wrongly_shaped_coefs_are_a_clear_error(data_for, estimator_class):
    X, y = data_for(estimator_class)
    model = _small(estimator_class, max_iter=2, warm_start=True).fit(X, y)
    model.coefs_ = [c[:, :-1] for c in model.coefs_]
    with pytest.raises(ValueError, match="shape changed since the last fit"):
        model.fit(X, y)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_warm_start_different_n_features_raises(data_for, estimator_class):
    X, y = data_for(estimator_class)
    model = estimator_class(
        hidden_layer_sizes=(4,), solver="lbfgs", random_state=0, warm_start=True
    ).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.fit(X[:, :3], y)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("new_sizes", [(5,), (4, 4), ()])
def test_warm_start_changed_hidden_layer_sizes_raises(
    data_for, estimator_class, new_sizes
):
    X, y = data_for(estimator_class)
    model = estimator_class(
        hidden_layer_sizes=(4,), solver="lbfgs", random_state=0, warm_start=True
    ).fit(X, y)
    model.set_params(hidden_layer_sizes=new_sizes)
    with pytest.raises(ValueError, match="hidden_layer_sizes") as excinfo:
        model.fit(X, y)
    assert "warm_start" in str(excinfo.value)


def test_warm_start_new_class_raises(multiclass_data):
    X, y = multiclass_data
    clf = BPClassifier(
        hidden_layer_sizes=(4,), solver="lbfgs", random_state=0, warm_start=True
    ).fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match="classes"):
        clf.fit(X, y)


@pytest.mark.parametrize("change", ["fewer", "more", "other"])
def test_warm_start_with_other_classes_names_both_sets(change):
    X, y = make_classification(
        n_samples=90, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    model = _small(BPClassifier, max_iter=2, warm_start=True).fit(X, y)
    if change == "fewer":
        X2, y2, expected = X[y < 2], y[y < 2], r"\[0, 1, 2\].*\[0, 1\]"
    elif change == "more":
        X2, y2 = np.vstack([X, X[:1]]), np.append(y, 3)
        expected = r"\[0, 1, 2\].*\[0, 1, 2, 3\]"
    else:
        X2, y2, expected = X, y + 5, r"\[0, 1, 2\].*\[5, 6, 7\]"
    coefs = [c.copy() for c in model.coefs_]
    with pytest.raises(ValueError, match=expected):
        model.fit(X2, y2)
    # The failed fit left the model as it was.
    assert_array_equal(model.classes_, [0, 1, 2])
    for c, c0 in zip(model.coefs_, coefs):
        assert_array_equal(c, c0)


def test_warm_start_multilabel_to_multiclass_raises(multilabel_data):
    X, Y = multilabel_data
    clf = BPClassifier(
        hidden_layer_sizes=(4,), solver="lbfgs", random_state=0, warm_start=True
    ).fit(X, Y)
    with pytest.raises(ValueError, match="indicator"):
        clf.fit(X, np.arange(len(X)) % 3)


def test_changing_the_number_of_outputs_raises(multi_output_data):
    X, Y = multi_output_data
    reg = BPRegressor(
        hidden_layer_sizes=(8,),
        solver="adam",
        warm_start=True,
        max_iter=2,
        random_state=0,
    )
    reg.fit(X, Y)
    coefs = [c.copy() for c in reg.coefs_]
    with pytest.raises(ValueError, match="2 output.*fitted with 3"):
        reg.fit(X, Y[:, :2])
    with pytest.raises(ValueError, match="1 output.*fitted with 3"):
        reg.partial_fit(X, Y[:, 0])
    # The failed calls left the model as it was.
    for a, b in zip(reg.coefs_, coefs):
        assert_array_equal(a, b)
    assert reg.predict(X).shape == Y.shape
    # Without warm_start a refit may change the outputs.
    reg.set_params(warm_start=False)
    assert reg.fit(X, Y[:, 0]).predict(X).shape == (len(Y),)


@pytest.mark.parametrize(
    "first, second", [("poisson", "squared_error"), ("squared_error", "poisson")]
)
def test_switching_poisson_on_warm_start_raises(counts, first, second):
    X, y = counts
    reg = BPRegressor(
        hidden_layer_sizes=(8,),
        loss=first,
        solver="adam",
        warm_start=True,
        max_iter=2,
        random_state=0,
    )
    reg.fit(X, y)
    reg.set_params(loss=second)
    with pytest.raises(ValueError, match="warm_start=False"):
        reg.fit(X, y)
    with pytest.raises(ValueError, match="poisson|exp"):
        reg.partial_fit(X, y)
    assert reg.out_activation_ == ("exp" if first == "poisson" else "identity")
