"""Training continues exactly where it stopped: warm_start, partial_fit, pickling.

The optimiser state (velocity, Adam moments and step count), the stopping
monitor, the sample counter and the random generator all carry over, so k epochs
followed by k more equal 2k epochs in one call.
"""

import io

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose

from skbp import BPClassifier

# Most fits here under-train on purpose.
pytestmark = pytest.mark.usefixtures("no_convergence_warning")

SOLVERS = [
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


def _params(solver_params, max_iter):
    # tol=0 and a long patience: both runs do exactly max_iter epochs.
    return dict(
        hidden_layer_sizes=(7,),
        batch_size=16,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=1000,
        random_state=0,
        **solver_params,
    )


@pytest.mark.parametrize("solver_params", SOLVERS)
@pytest.mark.parametrize("round_trip", [False, True])
def test_warm_start_k_plus_k_equals_2k(multiclass_data, solver_params, round_trip):
    X, y = multiclass_data
    k = 4
    once = BPClassifier(**_params(solver_params, 2 * k)).fit(X, y)
    twice = BPClassifier(warm_start=True, **_params(solver_params, k)).fit(X, y)
    if round_trip:
        buffer = io.BytesIO()
        joblib.dump(twice, buffer)
        buffer.seek(0)
        twice = joblib.load(buffer)
    twice.fit(X, y)
    assert twice.t_ == once.t_
    assert_allclose(twice.loss_curve_, once.loss_curve_, rtol=1e-12)
    for got, expected in zip(
        twice.coefs_ + twice.intercepts_, once.coefs_ + once.intercepts_
    ):
        assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert_allclose(twice.predict_proba(X), once.predict_proba(X), rtol=1e-12)


@pytest.mark.parametrize("solver_params", SOLVERS)
def test_partial_fit_epochs_equal_fit_epochs(multiclass_data, solver_params):
    """Three partial_fit calls are three epochs of one fit."""
    X, y = multiclass_data
    once = BPClassifier(**_params(solver_params, 3)).fit(X, y)
    stepwise = BPClassifier(**_params(solver_params, 3))
    for _ in range(3):
        stepwise.partial_fit(X, y, classes=np.unique(y))
    assert_allclose(stepwise.loss_curve_, once.loss_curve_, rtol=1e-12)
    assert_allclose(stepwise.predict_proba(X), once.predict_proba(X), rtol=1e-12)


def test_optimizer_state_is_plain_data(multiclass_data):
    """No skbp class ends up in the pickled optimiser state."""
    X, y = multiclass_data
    clf = BPClassifier(**_params(dict(solver="adam"), 2)).fit(X, y)
    state = clf._optimizer_state
    assert isinstance(state, dict)
    for value in state.values():
        assert isinstance(value, (np.ndarray, int, float, str))


def test_all_zero_weight_minibatch_is_skipped(multiclass_data):
    """MLPClassifier divides by a zero weight sum here; skbp skips the batch."""
    X, y = multiclass_data
    sample_weight = np.ones(len(y))
    sample_weight[:16] = 0.0  # the whole first minibatch when not shuffled
    clf = BPClassifier(
        hidden_layer_sizes=(7,),
        batch_size=16,
        max_iter=5,
        shuffle=False,
        random_state=0,
    )
    clf.fit(X, y, sample_weight=sample_weight)
    assert np.all(np.isfinite(clf.loss_curve_))
    assert np.all(np.isfinite(clf.predict_proba(X)))
