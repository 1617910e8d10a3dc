"""Unit tests for skbp._core.activations: closed forms, derivatives, aliasing, dtype.

Every test is parametrised over the union of the registry and the closed forms
written below, so an activation added to (or dropped from) ``ACTIVATIONS`` without
a matching reference here fails loudly. The functions are called with NumPy's
``ops`` (``NUMPY_OPS``); ``test_array_api_core.py`` holds the same functions on
other array libraries against these results.
"""

import math
import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import erf, expit

from skbp._core.activations import (
    ACTIVATIONS,
    ALIASES,
    ELU_ALPHA,
    LEAKY_RELU_SLOPE,
    Activation,
    resolve_activation,
)
from skbp._core.namespace import NUMPY_OPS as OPS

# Independent closed forms, written from the definitions (not from skbp's code).
CLOSED_FORMS = {
    "sigmoid": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "softsign": lambda z: z / (1.0 + np.abs(z)),
    "identity": lambda z: z.copy(),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.exp(z) - 1.0),  # alpha = 1
    "softplus": lambda z: np.logaddexp(0.0, z),
    "gelu": lambda z: z * 0.5 * (1.0 + erf(z / math.sqrt(2.0))),  # exact GELU
}

EXPECTED_ALIASES = {"logistic": "sigmoid"}

#: Activations whose derivative jumps (or whose second derivative jumps) at 0:
#: central differences across the kink are wrong (relu, leaky_relu) or only
#: first-order accurate (elu, softsign), so points with |z| < 1e-3 are skipped.
KINKED = {"relu", "leaky_relu", "elu", "softsign"}

ALL_NAMES = sorted(set(CLOSED_FORMS) | set(ACTIVATIONS) | set(ALIASES))
CANONICAL_NAMES = sorted(set(CLOSED_FORMS) | set(ACTIVATIONS))


def _grid(name, dtype=np.float64):
    """Test points in [-6, 6] plus a few far ones, away from kinks if needed."""
    z = np.concatenate([np.linspace(-6.0, 6.0, 121), [-20.0, -9.5, 9.5, 20.0]])
    if name in KINKED:
        z = z[np.abs(z) >= 1e-3]
    # A 2-D shape, as in the network (n_samples, n_units).
    return z.reshape(-1, 1).repeat(2, axis=1).astype(dtype)


def test_registry_matches_closed_forms():
    assert set(ACTIVATIONS) == set(CLOSED_FORMS)
    assert ALIASES == EXPECTED_ALIASES
    # The constants the closed forms above assume.
    assert LEAKY_RELU_SLOPE == 0.01
    assert ELU_ALPHA == 1.0


@pytest.mark.parametrize("name", CANONICAL_NAMES)
def test_registry_entries_are_activations_with_a_formula(name):
    act = ACTIVATIONS[name]
    assert isinstance(act, Activation)
    assert act._fields == ("forward", "derivative", "formula")
    assert callable(act.forward) and callable(act.derivative)
    assert isinstance(act.formula, str) and "z" in act.formula


@pytest.mark.parametrize("name", ALL_NAMES)
def test_resolve_activation_known_names(name):
    canonical = resolve_activation(name)
    assert canonical in ACTIVATIONS
    assert canonical in CLOSED_FORMS
    assert canonical == EXPECTED_ALIASES.get(name, name)


@pytest.mark.parametrize("bad", ["relu6", "Sigmoid", "", "swish"])
def test_resolve_activation_unknown_name_lists_valid_ones(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))) as excinfo:
        resolve_activation(bad)
    message = str(excinfo.value)
    for valid in list(ACTIVATIONS) + list(ALIASES):
        assert repr(valid) in message


@pytest.mark.parametrize("name", ALL_NAMES)
def test_forward_matches_closed_form(name):
    canonical = resolve_activation(name)
    z = _grid(canonical)
    z_before = z.copy()
    out = np.empty_like(z)
    result = ACTIVATIONS[canonical].forward(OPS, z, out)
    # NumPy writes into out (the online step relies on it: it ignores the
    # returned array).
    assert result is out
    assert_allclose(out, CLOSED_FORMS[canonical](z_before), rtol=1e-12, atol=1e-15)
    # The input is read only.
    assert_array_equal(z, z_before)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_forward_without_out_returns_a_new_array(name):
    canonical = resolve_activation(name)
    forward = ACTIVATIONS[canonical].forward
    z = _grid(canonical)
    z_before = z.copy()
    result = forward(OPS, z)
    assert isinstance(result, np.ndarray)
    assert result is not z
    assert not np.shares_memory(result, z)
    assert result.shape == z.shape and result.dtype == z.dtype
    assert_array_equal(z, z_before)
    # The same numbers as with a buffer.
    assert_array_equal(result, forward(OPS, z, np.empty_like(z)))


@pytest.mark.parametrize("name", ALL_NAMES)
def test_derivative_matches_central_differences(name):
    canonical = resolve_activation(name)
    act = ACTIVATIONS[canonical]
    z = _grid(canonical)
    a = act.forward(OPS, z, np.empty_like(z))
    z_before, a_before = z.copy(), a.copy()
    deriv = act.derivative(OPS, z, a, np.empty_like(z))
    assert deriv.shape == z.shape and deriv.dtype == z.dtype
    # z and a are read only when out is a third buffer.
    assert_array_equal(z, z_before)
    assert_array_equal(a, a_before)

    h = 1e-6
    f = CLOSED_FORMS[canonical]
    numerical = (f(z + h) - f(z - h)) / (2.0 * h)
    assert_allclose(deriv, numerical, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_derivative_with_out_aliasing_z(name):
    # The backward pass writes f'(z) into the z buffer: derivative(z, a, out=z).
    canonical = resolve_activation(name)
    act = ACTIVATIONS[canonical]
    z = _grid(canonical)
    a = act.forward(OPS, z, np.empty_like(z))
    expected = act.derivative(OPS, z, a, np.empty_like(z))

    z_alias = z.copy()
    result = act.derivative(OPS, z_alias, a, z_alias)
    # Callers use the returned array: identity's and elu's derivatives return
    # a new one instead of filling out.
    assert_array_equal(result, expected)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_forward_with_out_aliasing_z(name):
    # forward(z, out=z) must give the same values as a separate output buffer.
    canonical = resolve_activation(name)
    act = ACTIVATIONS[canonical]
    z = _grid(canonical)
    expected = act.forward(OPS, z, np.empty_like(z))

    z_alias = z.copy()
    result = act.forward(OPS, z_alias, z_alias)
    assert result is z_alias
    assert_allclose(z_alias, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_float32_preserved(name):
    canonical = resolve_activation(name)
    act = ACTIVATIONS[canonical]
    z64 = _grid(canonical)
    z32 = z64.astype(np.float32)

    a32 = act.forward(OPS, z32, np.empty_like(z32))
    d32 = act.derivative(OPS, z32, a32, np.empty_like(z32))
    assert a32.dtype == np.float32
    assert d32.dtype == np.float32
    # Without out too: no float64 constant may promote the result.
    assert act.forward(OPS, z32).dtype == np.float32

    a64 = act.forward(OPS, z64, np.empty_like(z64))
    d64 = act.derivative(OPS, z64, a64, np.empty_like(z64))
    assert_allclose(a32, a64, rtol=1e-5, atol=1e-6)
    assert_allclose(d32, d64, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "tanh"])
def test_stable_at_extreme_inputs(name):
    act = ACTIVATIONS[name]
    z = np.array([[-1000.0, 1000.0], [-50.0, 50.0]])
    # Overflow, division by zero and invalid operations are errors. Underflow is
    # not: exp(-1000) == 0 is the correctly rounded result inside expit/logaddexp.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            a = act.forward(OPS, z, np.empty_like(z))
            d = act.derivative(OPS, z, a, np.empty_like(z))
    assert np.isfinite(a).all()
    assert np.isfinite(d).all()
    assert_allclose(a, CLOSED_FORMS[name](z), rtol=1e-12)
    # f'(-1000) is 0 for all three; f'(1000) is 1 for softplus and 0 otherwise.
    assert_allclose(d[0, 0], 0.0, atol=1e-300)
    assert_allclose(d[0, 1], 1.0 if name == "softplus" else 0.0, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("in_place", [False, True], ids=["buffer", "in_place"])
def test_relu_special_values(dtype, in_place):
    # NaN propagates, infinities map to inf and 0, whatever out held before.
    z = np.array([[np.nan, np.inf, -np.inf, 0.0], [-0.0, 1e-40, -1e-40, -3.5]])
    z = z.astype(dtype)
    expected = np.array([[np.nan, np.inf, 0.0, 0.0], [0.0, 1e-40, 0.0, 0.0]])
    out = z if in_place else np.full_like(z, 7.0)
    result = ACTIVATIONS["relu"].forward(OPS, z, out)
    assert result is out
    assert result.dtype == dtype
    assert_array_equal(result, expected.astype(dtype))
