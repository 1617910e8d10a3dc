"""Numerical edge cases that the property-based tests found, one test each.

Each failed before its fix: Poisson means beyond the float range, target
scales outside float32's range, huge targets, overflow on the validation set,
precision of large log-probabilities, and weights thrown to 1e36 by one step.
(B1, an early-stopping split that leaves no training weight, is tested in
``test_early_stopping.py``.)
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skbp import BPClassifier, BPRegressor
from skbp._core.namespace import NUMPY_OPS
from skbp._core.outputs import log_softmax, softmax


@pytest.fixture(autouse=True)
def numpy_warnings_as_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        yield


# B2: the Poisson mean exp(z) overflows.


def test_poisson_predictions_stay_finite():
    X = np.array([[521.0], [0.0]], dtype=np.float32)  # float32 exp overflows at 88.7
    # Trained where the mean stays in range (on X itself the loss is inf at the
    # start: fit raises, see test_data_overflowing_from_the_start_raise), then
    # given a weight that sends exp(z) beyond float32 on X.
    reg = BPRegressor((), loss="poisson", solver="sgd", max_iter=1, random_state=0)
    reg.fit(X / 521.0, [0.0, 0.0])
    reg.coefs_[0][...] = 1.0
    predicted = reg.predict(X)  # RuntimeWarning: overflow encountered in exp
    assert np.isfinite(predicted).all()


def test_poisson_overflow_at_the_start_raises():
    # The same data as a training set: exp(z) overflows at the initial weights.
    X = np.array([[521.0], [0.0]], dtype=np.float32)
    reg = BPRegressor((), loss="poisson", solver="sgd", max_iter=1, random_state=0)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        reg.fit(X, [0.0, 0.0])
    assert not hasattr(reg, "coefs_")


# B3: target scaling outside float32's range.


@pytest.mark.parametrize(
    "loss, y",
    [
        ("poisson", [1e-300, 1e-300]),  # mean 1e-300 -> 0 in float32: 0 / 0
        ("squared_error", [0.0, 1e-60]),  # std 5e-61 -> 0 in float32: 0 / 0
        ("huber", [0.0, 1e-300, 2e-300]),  # MAD 1.5e-300 -> 0 in float32
    ],
)
def test_float32_regressor_with_tiny_target_scale(loss, y):
    X = np.zeros((len(y), 1), dtype=np.float32)
    reg = BPRegressor((), loss=loss, solver="lbfgs", max_iter=2).fit(X, y)
    assert np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize("normalize_y", [True, False])
def test_float32_regressor_with_targets_beyond_float32(normalize_y):
    # |y| > 3.4e38: overflow in the cast to float32 (or inf coefs_ when the
    # scale is folded into the output layer). Expected: a ValueError saying so.
    rng = np.random.RandomState(0)
    X = rng.randn(20, 2).astype(np.float32)
    y = np.abs(rng.randn(20)) * 1e40
    reg = BPRegressor((3,), solver="lbfgs", max_iter=5, normalize_y=normalize_y)
    with pytest.raises(ValueError, match="float32"):
        reg.fit(X, y)


# B4: the target standard deviation overflows beyond 1e154.


def test_target_std_of_huge_targets():
    rng = np.random.RandomState(0)
    X = rng.randn(20, 2)
    y = np.abs(rng.randn(20)) * 1e200  # RuntimeWarning: overflow in square
    reg = BPRegressor((3,), solver="lbfgs", max_iter=5, random_state=0).fit(X, y)
    assert np.isfinite(reg.predict(X)).all()


# B5: the early-stopping validation pass runs without the trainer's errstate.


def test_validation_overflow_is_not_a_runtime_warning():
    X = np.zeros((8, 2), dtype=np.float32)
    y = np.array([43992.0, 0, 0, 0, 0, 0, 0, 0])
    reg = BPRegressor(
        (),
        "sigmoid",
        loss="poisson",
        solver="sgd",
        learning_rate=0.01,
        momentum=0.0,
        max_iter=1,
        early_stopping=True,
        validation_fraction=0.3,
        shuffle=False,
        normalize_y=False,
        random_state=0,
    )
    reg.fit(X, y)  # RuntimeWarning: overflow encountered in reduce


# B6: predict_log_proba cancels the digits of large logits.


def test_log_softmax_is_log_of_softmax_for_large_logits():
    z = np.array([[10000.0, 10000.5, 9990.0]], dtype=np.float32)
    expected = np.log(softmax(NUMPY_OPS, z.copy()))  # [-0.974094, -0.474094, ...]
    assert_allclose(log_softmax(NUMPY_OPS, z), expected, rtol=1e-6)  # off by 4.6e-4


def test_predict_log_proba_is_log_of_predict_proba_for_large_inputs():
    # The example Hypothesis found: float32, logits in the hundreds.
    X = np.array(
        [-127.00711, 49188.023, 6.3664108e-17, -0.031776156, 1.0970265e-11,
         2.8158156e-10, 2096.4233, 3.6082623e-28, 1.3697925e-27, 5.3439489e-30,
         0.94257182, -0.010319129, -20.914011, 169926.19],
        dtype=np.float32,
    ).reshape(-1, 1)  # fmt: skip
    y = np.array([0, 1] + [-7] * 12)
    clf = BPClassifier(
        (), solver="lbfgs", max_iter=3, alpha=0.0, tol=0.0, random_state=0
    ).fit(X, y)
    proba, log_proba = clf.predict_proba(X), clf.predict_log_proba(X)
    normal = proba > np.finfo(np.float32).tiny
    assert_allclose(log_proba[normal], np.log(proba[normal]), rtol=1e-5, atol=1e-5)


# B7: a last SGD step that throws the weights to 1e36 is not seen as divergence.


def test_exploded_weights_count_as_divergence():
    X = np.full((2, 4), 86.0, dtype=np.float32)
    reg = BPRegressor(
        (),
        "sigmoid",
        loss="poisson",
        solver="sgd",
        learning_rate=0.01,
        momentum=0.0,
        max_iter=1,
        shuffle=False,
        normalize_y=False,
        random_state=262,
    ).fit(X, [1e-299, 3e-300])
    assert np.abs(reg.coefs_[0]).max() < 1e19  # 1.49e36 after the step
    reg.predict(X)  # RuntimeWarning: overflow encountered in matmul
