"""Unit tests for skbp._core.initializers: bounds, spread, dtype and the "auto" rule."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skbp._core.activations import ACTIVATIONS
from skbp._core.initializers import (
    INITS,
    SIGMOID_SCHEME,
    init_bound,
    init_params,
    layer_schemes,
)
from skbp._core.network import Layout

SCHEMES = ["glorot_uniform", "he_uniform", "uniform"]

#: What init="auto" must pick for every layer of a network whose hidden layers
#: all have this activation: scikit-learn's MLP scheme. Parametrising over the
#: union with ACTIVATIONS makes a new activation without an entry fail.
EXPECTED_AUTO = {
    "sigmoid": SIGMOID_SCHEME,
    "tanh": "glorot_uniform",
    "softsign": "glorot_uniform",
    "identity": "glorot_uniform",
    "relu": "glorot_uniform",
    "leaky_relu": "glorot_uniform",
    "elu": "glorot_uniform",
    "softplus": "glorot_uniform",
    "gelu": "glorot_uniform",
}

# Large enough that the extreme draws come close to the bounds, small enough to be
# instant: 150*120 + 120*80 weights, 120 + 80 biases.
LAYER_SIZES = (150, 120, 80)


def _expected_bound(scheme, fan_in, fan_out):
    return {
        "glorot_uniform": math.sqrt(6.0 / (fan_in + fan_out)),
        "he_uniform": math.sqrt(6.0 / fan_in),
        "uniform": 1.0,
        SIGMOID_SCHEME: math.sqrt(2.0 / (fan_in + fan_out)),
    }[scheme]


def test_inits_tuple():
    assert set(INITS) == {"auto", *SCHEMES}


@pytest.mark.parametrize("scheme", [*SCHEMES, SIGMOID_SCHEME])
@pytest.mark.parametrize("fan_in, fan_out", [(1, 1), (4, 3), (100, 10)])
def test_init_bound_formulas(scheme, fan_in, fan_out):
    assert init_bound(scheme, fan_in, fan_out) == pytest.approx(
        _expected_bound(scheme, fan_in, fan_out), rel=1e-15
    )


@pytest.mark.parametrize("scheme", SCHEMES)
def test_init_params_bounds_and_spread(scheme, seed, dtype):
    layout = Layout(LAYER_SIZES)
    theta = np.full(layout.size, np.nan, dtype=dtype)
    init_params(theta, layout, [scheme] * layout.n_layers, np.random.RandomState(seed))
    assert theta.dtype == dtype
    assert np.isfinite(theta).all()

    W, b = layout.views(theta)
    for W_i, b_i in zip(W, b):
        fan_in, fan_out = W_i.shape
        bound = _expected_bound(scheme, fan_in, fan_out)
        # Rounding to the dtype is monotone, so |w| < b stays |w| <= dtype(b).
        assert np.abs(W_i).max() <= dtype(bound)
        assert np.abs(b_i).max() <= dtype(bound)
        # U(-b, b) with ~10^4 draws reaches close to both ends (a miss has
        # probability 0.95^9600); with 80 biases, 0.8^80 ~ 1e-8.
        assert W_i.max() > 0.9 * bound
        assert W_i.min() < -0.9 * bound
        assert np.abs(b_i).max() > 0.8 * bound
        # Variance of U(-b, b) is b^2 / 3; mean 0.
        assert_allclose(W_i.var(), bound**2 / 3, rtol=0.1)
        assert abs(float(W_i.mean())) < 0.05 * bound


def test_init_params_float32_equals_rounded_float64(seed):
    layout = Layout((5, 4, 3))
    schemes = ["he_uniform", SIGMOID_SCHEME]
    theta64 = np.empty(layout.size, dtype=np.float64)
    theta32 = np.empty(layout.size, dtype=np.float32)
    init_params(theta64, layout, schemes, np.random.RandomState(seed))
    init_params(theta32, layout, schemes, np.random.RandomState(seed))
    assert theta32.dtype == np.float32
    assert_array_equal(theta32, theta64.astype(np.float32))


def test_init_params_reproducible(seed):
    layout = Layout((4, 6, 5, 2))
    schemes = ["he_uniform", "glorot_uniform", "glorot_uniform"]
    first = np.empty(layout.size)
    second = np.empty(layout.size)
    other = np.empty(layout.size)
    init_params(first, layout, schemes, np.random.RandomState(seed))
    init_params(second, layout, schemes, np.random.RandomState(seed))
    init_params(other, layout, schemes, np.random.RandomState(seed + 1))
    assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_init_params_draw_order():
    # Documented order: each layer's weights, then its biases, layer by layer.
    layout = Layout((3, 4, 2))
    schemes = ["he_uniform", "glorot_uniform"]
    theta = np.empty(layout.size)
    init_params(theta, layout, schemes, np.random.RandomState(0))

    rng = np.random.RandomState(0)
    W, b = layout.views(theta)
    for W_i, b_i, scheme in zip(W, b, schemes):
        bound = _expected_bound(scheme, *W_i.shape)
        assert_array_equal(W_i, rng.uniform(-bound, bound, W_i.shape))
        assert_array_equal(b_i, rng.uniform(-bound, bound, b_i.shape))


@pytest.mark.parametrize("name", sorted(set(EXPECTED_AUTO) | set(ACTIVATIONS)))
def test_auto_rule(name):
    assert name in ACTIVATIONS
    # Two hidden layers with this activation, then the output layer: all alike.
    assert layer_schemes("auto", (name, name)) == [EXPECTED_AUTO[name]] * 3


def test_auto_rule_mixed_and_no_hidden_layer():
    # The narrow bound only for all-sigmoid networks, as scikit-learn's MLPs.
    assert layer_schemes("auto", ("sigmoid", "tanh")) == ["glorot_uniform"] * 3
    assert layer_schemes("auto", ("relu", "tanh")) == ["glorot_uniform"] * 3
    assert layer_schemes("auto", ()) == ["glorot_uniform"]


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_auto_starts_from_the_weights_of_scikit_learns_mlp(activation, kind):
    # Same random_state, same first weights: one full-batch SGD step without
    # momentum from them gives the same weights in both libraries.
    from sklearn.datasets import make_classification
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from skbp import BPClassifier, BPRegressor

    X, y = make_classification(n_samples=40, n_features=5, random_state=0)
    params = dict(
        hidden_layer_sizes=(6, 4),
        activation=activation,
        solver="sgd",
        momentum=0.0,
        batch_size=40,
        shuffle=False,
        max_iter=1,
        random_state=3,
    )
    if kind == "classifier":
        ours, theirs = BPClassifier(**params), MLPClassifier(**params)
    else:
        y = y + X[:, 0]
        ours = BPRegressor(normalize_y=False, **params)
        theirs = MLPRegressor(**params)
    theirs.set_params(learning_rate_init=1e-3)
    ours.set_params(learning_rate=1e-3)
    with pytest.warns(Warning):  # both stop at max_iter=1
        ours.fit(X, y)
    with pytest.warns(Warning):
        theirs.fit(X, y)
    for ours_W, theirs_W in zip(ours.coefs_, theirs.coefs_):
        assert_allclose(ours_W, theirs_W, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_explicit_scheme_applies_to_every_layer(scheme):
    assert layer_schemes(scheme, ("relu", "sigmoid")) == [scheme] * 3


def test_unknown_scheme_raises():
    with pytest.raises(ValueError, match="xavier") as excinfo:
        init_bound("xavier", 3, 4)
    for scheme in SCHEMES:
        assert scheme in str(excinfo.value)

    layout = Layout((3, 4, 2))
    theta = np.empty(layout.size)
    schemes = layer_schemes("xavier", ("relu",))
    with pytest.raises(ValueError, match="xavier"):
        init_params(theta, layout, schemes, np.random.RandomState(0))
