"""BPRegressor and MLPRegressor: from_mlp, to_mlp, and a one-step SGD oracle."""

import inspect
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor

import skbp._interop
from skbp import BPRegressor

# Most fits here under-train on purpose.
pytestmark = pytest.mark.usefixtures("no_convergence_warning")

MLP_ACTIVATIONS = ["relu", "tanh", "logistic", "identity"]
UNSUPPORTED = ["softsign", "leaky_relu", "elu", "softplus", "gelu"]

# MLPRegressor's loss parameter arrived with 'poisson' (scikit-learn 1.7), and
# sample_weight in the same release.
HAS_POISSON = "loss" in inspect.signature(MLPRegressor).parameters
needs_poisson = pytest.mark.skipif(
    not HAS_POISSON, reason="MLPRegressor has loss='poisson' from scikit-learn 1.7"
)
HAS_SAMPLE_WEIGHT = "sample_weight" in inspect.signature(MLPRegressor.fit).parameters


def _data(n_outputs=1, dtype=np.float64):
    """Standardised features; targets of a few units (MLPs train on them raw)."""
    X, y = make_regression(
        n_samples=60,
        n_features=4,
        n_informative=3,
        n_targets=n_outputs,
        noise=1.0,
        random_state=0,
    )
    return X.astype(dtype), y / 50.0


def _counts(n_outputs=1):
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(60, 4))
    coef = rng.uniform(-0.5, 0.5, size=(4, n_outputs))
    y = rng.poisson(np.exp(0.5 + X @ coef)).astype(float)
    return X, y[:, 0] if n_outputs == 1 else y


def _params(activation, params):
    return {
        "hidden_layer_sizes": (7, 4),
        "activation": activation,
        "solver": "lbfgs",
        "max_iter": 30,
        "random_state": 0,
        **params,
    }


def _mlp(activation="relu", **params):
    return MLPRegressor(**_params(activation, params))


def _bp(activation="relu", **params):
    return BPRegressor(**_params(activation, params))


# ------------------------------------------------------------------ from_mlp


@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("activation", MLP_ACTIVATIONS)
def test_from_mlp_predicts_like_the_mlp(activation, n_outputs):
    X, y = _data(n_outputs)
    mlp = _mlp(activation).fit(X, y)
    reg = BPRegressor.from_mlp(mlp)
    pred = reg.predict(X)
    assert pred.shape == mlp.predict(X).shape == y.shape
    assert_allclose(pred, mlp.predict(X), rtol=1e-12, atol=1e-12)
    assert reg.score(X, y) == pytest.approx(mlp.score(X, y), rel=1e-12)
    assert reg.out_activation_ == mlp.out_activation_ == "identity"
    assert (reg.n_layers_, reg.n_outputs_) == (mlp.n_layers_, mlp.n_outputs_)
    # The MLP trained on the raw targets: the conversion does not scale them.
    assert reg.normalize_y is False
    assert reg.loss == "squared_error"


@needs_poisson
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_from_mlp_poisson(n_outputs):
    X, y = _counts(n_outputs)
    mlp = _mlp("tanh", loss="poisson").fit(X, y)
    assert mlp.out_activation_ == "exp"
    reg = BPRegressor.from_mlp(mlp)
    assert reg.loss == "poisson" and reg.out_activation_ == "exp"
    assert_allclose(reg.predict(X), mlp.predict(X), rtol=1e-12)
    # And back again.
    assert_allclose(reg.to_mlp().predict(X), mlp.predict(X), rtol=1e-12)


def test_from_mlp_mirrors_params_and_fitted_attributes():
    X, y = _data()
    mlp = MLPRegressor(
        hidden_layer_sizes=(6,),
        activation="logistic",
        solver="sgd",
        learning_rate_init=0.02,
        learning_rate="invscaling",
        power_t=0.4,
        alpha=1e-3,
        batch_size=16,
        max_iter=7,
        momentum=0.8,
        nesterovs_momentum=False,
        tol=1e-3,
        n_iter_no_change=4,
        shuffle=False,
        random_state=3,
    ).fit(X, y)
    reg = BPRegressor.from_mlp(mlp)
    params = reg.get_params()
    assert params["activation"] == "sigmoid"
    assert params["init"] == "glorot_uniform"
    assert params["normalize_y"] is False
    assert params["learning_rate"] == 0.02
    assert params["learning_rate_schedule"] == "invscaling"
    for name in ["solver", "power_t", "alpha", "batch_size", "max_iter", "momentum"]:
        assert params[name] == mlp.get_params()[name], name
    assert (reg.n_iter_, reg.t_) == (mlp.n_iter_, mlp.t_)
    assert reg.loss_ == mlp.loss_
    assert reg.loss_curve_ == mlp.loss_curve_
    assert reg.best_loss_ == mlp.best_loss_
    for ours, theirs in zip(reg.coefs_ + reg.intercepts_, mlp.coefs_ + mlp.intercepts_):
        assert_array_equal(ours, theirs)
        assert not np.shares_memory(ours, theirs)


def test_from_mlp_keeps_float32():
    X, y = _data(dtype=np.float32)
    mlp = _mlp(solver="adam", max_iter=5).fit(X, y)  # lbfgs works in float64
    assert mlp.coefs_[0].dtype == np.float32
    reg = BPRegressor.from_mlp(mlp)
    pred = reg.predict(X)
    assert pred.dtype == np.float32
    assert_allclose(pred, mlp.predict(X), rtol=1e-5, atol=1e-6)
    reg.partial_fit(X, y)
    assert all(c.dtype == np.float32 for c in reg.coefs_ + reg.intercepts_)


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_from_mlp_model_continues_training(n_outputs):
    X, y = _data(n_outputs)
    mlp = _mlp(solver="adam", max_iter=5).fit(X, y)
    reg = BPRegressor.from_mlp(mlp)
    before = [c.copy() for c in reg.coefs_]
    n_curve, t = len(reg.loss_curve_), reg.t_
    reg.partial_fit(X, y)
    assert len(reg.loss_curve_) == n_curve + 1
    assert reg.t_ == t + len(X)
    assert any(not np.array_equal(a, b) for a, b in zip(before, reg.coefs_))
    # Training starts from the converted weights: its first full-batch loss
    # is the MLP's loss at them (alpha included; one output or the mean of them).
    assert reg.loss_curve_[-1] == pytest.approx(
        n_outputs * _objective(mlp, X, y) - (n_outputs - 1) * _penalty(mlp, len(X)),
        rel=1e-10,
    )
    assert reg.predict(X).shape == y.shape
    reg.set_params(warm_start=True, max_iter=3)
    reg.fit(X, y)
    assert reg.n_iter_ == 3


def test_from_mlp_with_early_stopping_continues_on_warm_start():
    """The MLP records validation scores but no validation loss; the converted
    model's history stays aligned and can grow on a warm start."""
    X, y = _data()
    mlp = _mlp(solver="adam", early_stopping=True, max_iter=8).fit(X, y)
    reg = BPRegressor.from_mlp(mlp)
    assert reg.validation_scores_ == mlp.validation_scores_
    assert reg.best_validation_score_ == mlp.best_validation_score_
    assert reg.best_loss_ is None is mlp.best_loss_
    assert len(reg.validation_loss_curve_) == len(reg.validation_scores_)
    assert np.all(np.isnan(reg.validation_loss_curve_))
    reg.set_params(warm_start=True, max_iter=3, n_iter_no_change=100)
    reg.fit(X, y)
    assert len(reg.validation_scores_) == len(mlp.validation_scores_) + 3
    assert len(reg.validation_loss_curve_) == len(reg.validation_scores_)
    assert np.all(np.isfinite(reg.validation_loss_curve_[-3:]))


def test_from_mlp_rejects_classifiers_and_unfitted_models():
    X, y = _data()
    with pytest.raises(TypeError, match="MLPRegressor.*MLPClassifier"):
        BPRegressor.from_mlp(_mlp_classifier(X, y))
    with pytest.raises(NotFittedError):
        BPRegressor.from_mlp(MLPRegressor())


def _mlp_classifier(X, y):
    return MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit(X, y > 0)


# -------------------------------------------------------------------- to_mlp


@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "identity"])
def test_to_mlp_predicts_like_the_regressor(activation, n_outputs):
    """With normalize_y=True the target scaling is folded into the output layer."""
    X, y = _data(n_outputs)
    y = 40.0 * y + 300.0  # far from standardised: the folding matters
    reg = _bp(activation).fit(X, y)
    assert reg.normalize_y
    mlp = reg.to_mlp()
    assert mlp.activation == ("logistic" if activation == "sigmoid" else activation)
    assert_allclose(mlp.predict(X), reg.predict(X), rtol=1e-12)
    assert mlp.score(X, y) == pytest.approx(reg.score(X, y), rel=1e-12)
    assert mlp.learning_rate_init == reg.learning_rate
    assert mlp.hidden_layer_sizes == (7, 4)
    assert (mlp.n_iter_, mlp.t_, mlp.loss_) == (reg.n_iter_, reg.t_, reg.loss_)
    # An independent forward pass with the MLP's weights gives the same numbers.
    f = {
        "relu": lambda z: np.maximum(z, 0),
        "tanh": np.tanh,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "identity": lambda z: z,
    }[activation]
    a = X
    for W, b in zip(mlp.coefs_[:-1], mlp.intercepts_[:-1]):
        a = f(a @ W + b)
    z = a @ mlp.coefs_[-1] + mlp.intercepts_[-1]
    assert_allclose(reg.predict(X), z.reshape(y.shape), rtol=1e-10)


@needs_poisson
def test_to_mlp_poisson_with_normalize_y():
    X, y = _counts()
    reg = _bp("tanh", loss="poisson").fit(X, 1000.0 * y)
    mlp = reg.to_mlp()
    assert mlp.loss == "poisson" and mlp.out_activation_ == "exp"
    assert_allclose(mlp.predict(X), reg.predict(X), rtol=1e-12)


def test_to_mlp_of_a_column_vector_target():
    """MLPRegressor ravels one output; skbp keeps (n, 1). Same numbers."""
    X, y = _data()
    reg = _bp().fit(X, y[:, None])
    assert reg.predict(X).shape == (60, 1)
    mlp = reg.to_mlp()
    assert mlp.predict(X).shape == (60,)
    assert_allclose(mlp.predict(X), reg.predict(X)[:, 0], rtol=1e-12)


@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_skbp_mlp_skbp_is_exact(n_outputs, dtype):
    X, y = _data(n_outputs, dtype)
    reg = _bp("tanh", solver="adam", max_iter=5).fit(X, 40.0 * y + 300.0)
    back = BPRegressor.from_mlp(reg.to_mlp())
    for ours, theirs in zip(
        back.coefs_ + back.intercepts_, reg.coefs_ + reg.intercepts_
    ):
        assert ours.dtype == theirs.dtype == dtype
        assert_array_equal(ours, theirs)
    assert_array_equal(back.predict(X), reg.predict(X))
    assert back.activation == "tanh"
    assert (back.loss_curve_, back.t_, back.n_iter_) == (
        reg.loss_curve_,
        reg.t_,
        reg.n_iter_,
    )


def test_to_mlp_model_can_keep_training():
    X, y = _data()
    reg = _bp(solver="adam", max_iter=5).fit(X, y)
    mlp = reg.to_mlp()
    n_curve = len(mlp.loss_curve_)
    mlp.partial_fit(X, y)
    assert len(mlp.loss_curve_) == n_curve + 1
    assert np.isfinite(mlp.loss_curve_[-1])


@pytest.mark.parametrize("loss", ["huber", "absolute_error"])
def test_to_mlp_rejects_losses_mlp_lacks(loss):
    X, y = _data()
    reg = _bp(loss=loss).fit(X, y)
    with pytest.raises(ValueError, match=f"loss='{loss}'.*MLPRegressor does not have"):
        reg.to_mlp()


def test_to_mlp_rejects_poisson_on_old_scikit_learn(monkeypatch):
    X, y = _counts()
    reg = _bp(loss="poisson").fit(X, y)
    monkeypatch.setattr(
        skbp._interop, "mlp_regression_losses", lambda: ("squared_error",)
    )
    with pytest.raises(ValueError, match="scikit-learn 1.7"):
        reg.to_mlp()


@pytest.mark.parametrize("activation", UNSUPPORTED)
def test_to_mlp_rejects_activations_mlp_lacks(activation):
    X, y = _data()
    reg = _bp(activation).fit(X, y)
    with pytest.raises(ValueError, match="no MLPRegressor equivalent"):
        reg.to_mlp()


def test_to_mlp_rejects_mixed_activations_and_works_without_hidden_layers():
    X, y = _data()
    with pytest.raises(ValueError, match="single activation"):
        _bp(("relu", "tanh")).fit(X, y).to_mlp()
    reg = _bp("gelu", hidden_layer_sizes=()).fit(X, y)
    # No hidden layer: the activation is never applied.
    assert_allclose(reg.to_mlp().predict(X), reg.predict(X), rtol=1e-12)


def test_to_mlp_before_fit():
    with pytest.raises(NotFittedError):
        BPRegressor().to_mlp()


# --------------------------------------------------------------- the oracle


def _penalty(model, n_samples):
    return 0.5 * model.alpha * sum(np.sum(W**2) for W in model.coefs_) / n_samples


def _objective(mlp, X, y):
    """MLPRegressor's reported loss at its current weights, written out."""
    residual = (mlp.predict(X) - y).reshape(len(y), -1)
    return 0.5 * np.mean(residual**2) + _penalty(mlp, len(y))


def _one_sgd_epoch(X, y, loss, activation, alpha, sample_weight=None):
    """skbp and MLPRegressor after one full-batch SGD step from the same weights.

    Both take a first partial_fit (which builds their state), get the same
    starting weights, then take the step that is compared: momentum 0, no
    shuffling, one batch of all samples, raw targets (normalize_y=False).
    """
    n_samples = len(y)
    n_outputs = 1 if y.ndim == 1 else y.shape[1]
    common = dict(
        hidden_layer_sizes=(5, 4),
        solver="sgd",
        momentum=0.0,
        batch_size=n_samples,
        shuffle=False,
        alpha=alpha,
        random_state=0,
    )
    mlp_params = dict(activation=activation, learning_rate_init=0.1, **common)
    if loss != "squared_error":
        mlp_params["loss"] = loss
    mlp = MLPRegressor(**mlp_params)
    ours = "sigmoid" if activation == "logistic" else activation
    reg = BPRegressor(
        activation=ours, loss=loss, learning_rate=0.1, normalize_y=False, **common
    )
    kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.partial_fit(X, y, **kwargs)
        reg.partial_fit(X, y, **kwargs)
    rng = np.random.RandomState(1)
    sizes = [X.shape[1], 5, 4, n_outputs]
    start_W = [rng.uniform(-0.5, 0.5, (a, b)) for a, b in zip(sizes, sizes[1:])]
    start_b = [rng.uniform(-0.5, 0.5, b) for b in sizes[1:]]
    for model in (mlp, reg):
        model.coefs_ = [W.copy() for W in start_W]
        model.intercepts_ = [b.copy() for b in start_b]
    start_objective = _objective(mlp, X, y)
    mlp.partial_fit(X, y, **kwargs)
    reg.partial_fit(X, y, **kwargs)
    return mlp, reg, start_W + start_b, start_objective


@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_one_sgd_step_matches_mlpregressor(activation, n_outputs, alpha):
    X, y = _data(n_outputs)
    mlp, reg, start, start_objective = _one_sgd_epoch(
        X, y, "squared_error", activation, alpha
    )
    for ours, theirs, before in zip(
        reg.coefs_ + reg.intercepts_, mlp.coefs_ + mlp.intercepts_, start
    ):
        assert_allclose(ours, theirs, rtol=0, atol=1e-12)
        assert np.max(np.abs(ours - before)) > 1e-4  # the step moved them
    # Both report the loss at the starting weights (one batch, before the step).
    # The MLP's is half the mean over outputs (its gradient is the sum's);
    # skbp's is half the sum over outputs, with the same L2 term.
    assert mlp.loss_curve_[-1] == pytest.approx(start_objective, rel=1e-12)
    penalty = 0.5 * alpha * sum(np.sum(W**2) for W in start[:3]) / len(y)
    expected = n_outputs * (mlp.loss_curve_[-1] - penalty) + penalty
    assert reg.loss_curve_[-1] == pytest.approx(expected, rel=1e-12)


@needs_poisson
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_one_sgd_step_matches_mlpregressor_poisson(n_outputs):
    X, y = _counts(n_outputs)
    mlp, reg, start, _ = _one_sgd_epoch(X, y, "poisson", "tanh", 0.1)
    for ours, theirs in zip(reg.coefs_ + reg.intercepts_, mlp.coefs_ + mlp.intercepts_):
        assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert reg.loss_curve_[-1] == pytest.approx(mlp.loss_curve_[-1], rel=1e-12)


@pytest.mark.skipif(
    not HAS_SAMPLE_WEIGHT, reason="MLPRegressor has sample_weight from 1.7"
)
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_one_weighted_sgd_step_matches_mlpregressor(n_outputs):
    X, y = _data(n_outputs)
    sw = np.random.RandomState(2).uniform(0.0, 2.0, size=len(y))
    mlp, reg, _, _ = _one_sgd_epoch(X, y, "squared_error", "tanh", 0.1, sw)
    for ours, theirs in zip(reg.coefs_ + reg.intercepts_, mlp.coefs_ + mlp.intercepts_):
        assert_allclose(ours, theirs, rtol=0, atol=1e-12)
