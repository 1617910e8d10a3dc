"""Behaviour that users porting MLPClassifier / MLPRegressor code rely on.

Each test runs on both estimators where the behaviour applies to both.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skbp import BPClassifier, BPRegressor

ESTIMATORS = [BPClassifier, BPRegressor]


def _data(estimator_class, n_samples=60):
    if estimator_class is BPClassifier:
        return make_classification(
            n_samples=n_samples, n_features=5, n_informative=3, random_state=0
        )
    return make_regression(n_samples=n_samples, n_features=4, noise=1.0, random_state=0)


def _small(estimator_class, **params):
    return estimator_class(hidden_layer_sizes=(6,), random_state=0, **params)


# ------------------------------------ hand-set weights and the optimiser state


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("entry", ["warm_start", "partial_fit"])
@pytest.mark.parametrize(
    "solver_params",
    [dict(solver="sgd", momentum=0.9), dict(solver="adam")],
    ids=["sgd-momentum", "adam"],
)
def test_hand_set_weights_start_a_fresh_optimiser_state(
    estimator_class, entry, solver_params, no_convergence_warning
):
    # The measurement: from all-zero weights, one epoch at a learning
    # rate of 1e-9 moved weights by 0.04, because the momentum velocity of the
    # old weights was applied to the new ones.
    X, y = _data(estimator_class)
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
def test_in_place_edits_also_count_as_hand_set(estimator_class, no_convergence_warning):
    X, y = _data(estimator_class)
    model = _small(estimator_class, solver="sgd", max_iter=5, warm_start=True)
    model.fit(X, y)
    for coef in model.coefs_:
        coef[...] = 0.0
    for intercept in model.intercepts_:
        intercept[...] = 0.0
    model.set_params(learning_rate=1e-9, max_iter=1).fit(X, y)
    assert max(np.abs(c).max() for c in model.coefs_) < 1e-6


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_untouched_weights_keep_the_optimiser_state(
    estimator_class, no_convergence_warning
):
    # The velocity carries on: a warm start at a tiny rate still moves by the
    # momentum term (and equals one longer fit, see test_warm_start.py).
    X, y = _data(estimator_class)
    model = _small(estimator_class, solver="sgd", max_iter=5, warm_start=True)
    model.fit(X, y)
    before = [c.copy() for c in model.coefs_]
    model.set_params(learning_rate=1e-9, max_iter=1).fit(X, y)
    moved = max(np.abs(c - c0).max() for c, c0 in zip(model.coefs_, before))
    assert moved > 1e-4


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_wrongly_shaped_coefs_are_a_clear_error(
    estimator_class, no_convergence_warning
):
    X, y = _data(estimator_class)
    model = _small(estimator_class, max_iter=2, warm_start=True).fit(X, y)
    model.coefs_ = [c[:, :-1] for c in model.coefs_]
    with pytest.raises(ValueError, match="shape changed since the last fit"):
        model.fit(X, y)


# ----------------------------------------------------- MLP parameter semantics


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_n_iter_no_change_inf_switches_the_plateau_rule_off(estimator_class):
    X, y = _data(estimator_class)
    # A huge tol: no epoch counts as an improvement, so any finite patience
    # would stop after a few epochs.
    model = _small(estimator_class, tol=1e6, n_iter_no_change=np.inf, max_iter=12)
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        model.fit(X, y)
    assert model.n_iter_ == 12
    stopped = _small(estimator_class, tol=1e6, n_iter_no_change=2, max_iter=12)
    assert stopped.fit(X, y).n_iter_ == 4


def test_n_iter_no_change_inf_like_mlp_classifier():
    X, y = _data(BPClassifier)
    params = dict(hidden_layer_sizes=(6,), tol=1e6, max_iter=8, random_state=0)
    with pytest.warns(ConvergenceWarning):
        mlp = MLPClassifier(n_iter_no_change=np.inf, **params).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        ours = BPClassifier(n_iter_no_change=np.inf, **params).fit(X, y)
    assert ours.n_iter_ == mlp.n_iter_ == 8


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_best_loss_is_none_with_early_stopping(estimator_class, no_convergence_warning):
    X, y = _data(estimator_class, n_samples=100)
    model = _small(estimator_class, early_stopping=True, max_iter=5).fit(X, y)
    assert model.best_loss_ is None
    assert len(model.validation_scores_) == model.n_iter_
    plain = _small(estimator_class, max_iter=5).fit(X, y)
    assert plain.best_loss_ == pytest.approx(min(plain.loss_curve_))


def test_best_loss_convention_matches_mlp_classifier(no_convergence_warning):
    X, y = _data(BPClassifier, n_samples=100)
    params = dict(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
    for early_stopping in (False, True):
        mlp = MLPClassifier(early_stopping=early_stopping, **params).fit(X, y)
        ours = BPClassifier(early_stopping=early_stopping, **params).fit(X, y)
        assert (ours.best_loss_ is None) == (mlp.best_loss_ is None)


@pytest.mark.parametrize("change", ["fewer", "more", "other"])
def test_warm_start_with_other_classes_names_both_sets(change, no_convergence_warning):
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


def test_warm_start_with_the_same_classes_in_another_order(no_convergence_warning):
    X, y = make_classification(
        n_samples=90, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    model = _small(BPClassifier, max_iter=2, warm_start=True).fit(X, y)
    order = np.argsort(-y, kind="stable")
    model.fit(X[order], y[order])
    assert model.n_iter_ == 2
    assert len(model.loss_curve_) == 4


def test_partial_fit_classes_rules():
    X, y = _data(BPClassifier)
    with pytest.raises(ValueError, match="classes must be passed"):
        _small(BPClassifier).partial_fit(X, y)
    model = _small(BPClassifier).partial_fit(X, y, classes=[0, 1])
    model.partial_fit(X, y)  # later calls may omit it
    assert model.t_ == 2 * len(y)
