"""Hidden-layer activation functions and their derivatives.

Each activation is a pair of small functions kept side by side so that one can be
checked against the other:

* ``forward(z, out)`` writes ``f(z)`` into ``out`` and returns it;
* ``derivative(z, a, out)`` writes ``f'(z)`` into ``out`` and returns it, given
  both the pre-activation ``z`` and the activation ``a = f(z)`` so that each can
  use the cheaper of the two (tanh from ``a``, GELU from ``z``).

``out`` may be the same array as ``z`` in both functions (prediction computes
activations in place; the backward pass reuses the pre-activation buffer for the
derivative), so every function below reads ``z`` completely before it writes
``out``, or only reads ``a``.

Those are NumPy's fast versions. Each activation also has the same two functions
for any array API namespace ``xp`` (PyTorch, CuPy, array-api-strict, ...),
``forward_xp(xp, z)`` and ``derivative_xp(xp, z, a)``, written with standard
calls only; they return new arrays, since the standard has no ``out=``. They
compute the same formulas in the same order, and the tests hold each pair
against NumPy's.

This module must not import scikit-learn or any skbp module but ``_namespace``.
"""

import math
from typing import NamedTuple

import numpy as np
from scipy.special import erf as _erf_numpy
from scipy.special import expit

from skbp._core.namespace import constant

#: Slope of ``leaky_relu`` for negative inputs.
LEAKY_RELU_SLOPE = 0.01
#: Scale ``alpha`` of ``elu`` for negative inputs.
ELU_ALPHA = 1.0

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Activation(NamedTuple):
    """A hidden-layer activation: its forward map and its derivative.

    ``forward`` / ``derivative`` are NumPy's in-place versions,
    ``forward_xp`` / ``derivative_xp`` the array API ones.
    """

    forward: object
    derivative: object
    formula: str
    forward_xp: object
    derivative_xp: object


def _sigmoid(z, out):
    return expit(z, out=out)


def _sigmoid_derivative(z, a, out):
    # sigma'(z) = sigma(z) * (1 - sigma(z)), read from a alone.
    np.subtract(1.0, a, out=out)
    out *= a
    return out


def _tanh(z, out):
    return np.tanh(z, out=out)


def _tanh_derivative(z, a, out):
    # tanh'(z) = 1 - tanh(z)^2
    np.square(a, out=out)
    np.subtract(1.0, out, out=out)
    return out


#: Below this many elements relu keeps the scalar form: the zeros trick in
#: ``_relu`` adds a call that costs more than the slow loop saves.
RELU_ZEROS_MIN_SIZE = 4096


def _relu(z, out):
    if z.dtype != np.float32 or z.size < RELU_ZEROS_MIN_SIZE:
        return np.maximum(z, 0.0, out=out)
    # float32: NumPy's maximum against the scalar 0 runs a loop about 2.5x slower
    # than against a second array walked in step (measured with NumPy 2 on AVX2;
    # on float64 the scalar form is the faster one, so float64 keeps it). The
    # values are the same either way. The zeros: out itself, zeroed, when it is a
    # separate buffer (each zero is read before it is overwritten), else a zero
    # row broadcast over the rows of z.
    if np.may_share_memory(z, out):
        return np.maximum(z, np.zeros(z.shape[-1], dtype=z.dtype), out=out)
    out.fill(0.0)
    return np.maximum(z, out, out=out)


def _relu_derivative(z, a, out):
    # 1 where z > 0, 0 elsewhere (the sub-gradient 0 is taken at the kink).
    np.greater(a, 0.0, out=out)
    return out


def _softsign(z, out):
    denominator = np.abs(z)
    denominator += 1.0
    return np.divide(z, denominator, out=out)


def _softsign_derivative(z, a, out):
    # f(z) = z / (1 + |z|)  =>  f'(z) = 1 / (1 + |z|)^2 = (1 - |a|)^2
    np.abs(a, out=out)
    np.subtract(1.0, out, out=out)
    np.square(out, out=out)
    return out


def _identity(z, out):
    if out is not z:
        np.copyto(out, z)
    return out


def _identity_derivative(z, a, out):
    out.fill(1.0)
    return out


def _leaky_relu(z, out):
    # max(z, s*z) equals z for z > 0 and s*z otherwise because 0 < s < 1.
    return np.maximum(z, LEAKY_RELU_SLOPE * z, out=out)


def _leaky_relu_derivative(z, a, out):
    # a > 0 exactly where z > 0, so the mask can be read from a.
    np.greater(a, 0.0, out=out)
    out *= 1.0 - LEAKY_RELU_SLOPE
    out += LEAKY_RELU_SLOPE
    return out


def _elu(z, out):
    negative = z < 0.0
    np.copyto(out, z)
    out[negative] = ELU_ALPHA * np.expm1(z[negative])
    return out


def _elu_derivative(z, a, out):
    # f'(z) = 1 for z > 0 and alpha * exp(z) = a + alpha for z <= 0.
    positive = a > 0.0
    np.add(a, ELU_ALPHA, out=out)
    out[positive] = 1.0
    return out


def _softplus(z, out):
    # log(1 + exp(z)) without overflow for large z.
    return np.logaddexp(0.0, z, out=out)


def _softplus_derivative(z, a, out):
    # f'(z) = sigmoid(z) = 1 - exp(-f(z)), read from a so z may share out.
    np.negative(a, out=out)
    np.expm1(out, out=out)
    np.negative(out, out=out)
    return out


def _gelu(z, out):
    # Exact GELU: z * Phi(z) with the Gaussian CDF Phi(z) = (1 + erf(z/sqrt 2)) / 2.
    cdf = np.multiply(z, _SQRT_HALF)
    _erf_numpy(cdf, out=cdf)
    cdf += 1.0
    cdf *= 0.5
    return np.multiply(z, cdf, out=out)


def _gelu_derivative(z, a, out):
    # f'(z) = Phi(z) + z * phi(z), phi the Gaussian density. Phi(z) = a / z is
    # unstable near 0, so it is recomputed from z; pdf is formed before out is
    # written because out may be z itself.
    pdf = np.square(z)
    pdf *= -0.5
    np.exp(pdf, out=pdf)
    pdf *= _INV_SQRT_2PI
    pdf *= z
    np.multiply(z, _SQRT_HALF, out=out)
    _erf_numpy(out, out=out)
    out += 1.0
    out *= 0.5
    out += pdf
    return out


# ------------------------------------------------ any array API namespace ``xp``
# The formulas above, in the same order, with standard calls. A scalar that is a
# function's argument (not an operator's operand) becomes a 0-d array of z's
# dtype and device (``constant``).


def _sigmoid_xp(xp, z):
    # exp(-z) overflows to inf for very negative z, and 1 / inf is the right 0.
    return 1.0 / (1.0 + xp.exp(-z))


def _sigmoid_derivative_xp(xp, z, a):
    return a * (1.0 - a)


def _tanh_xp(xp, z):
    return xp.tanh(z)


def _tanh_derivative_xp(xp, z, a):
    return 1.0 - a * a


def _relu_xp(xp, z):
    return xp.maximum(z, constant(xp, 0.0, z))


def _relu_derivative_xp(xp, z, a):
    return xp.astype(a > 0.0, a.dtype)


def _softsign_xp(xp, z):
    return z / (1.0 + xp.abs(z))


def _softsign_derivative_xp(xp, z, a):
    slope = 1.0 - xp.abs(a)
    return slope * slope


def _identity_xp(xp, z):
    return z


def _identity_derivative_xp(xp, z, a):
    return xp.ones_like(z)


def _leaky_relu_xp(xp, z):
    return xp.maximum(z, LEAKY_RELU_SLOPE * z)


def _leaky_relu_derivative_xp(xp, z, a):
    return xp.where(a > 0.0, constant(xp, 1.0, a), constant(xp, LEAKY_RELU_SLOPE, a))


def _elu_xp(xp, z):
    # expm1 of min(z, 0): the positive branch, discarded, would overflow.
    negative = ELU_ALPHA * xp.expm1(xp.minimum(z, constant(xp, 0.0, z)))
    return xp.where(z < 0.0, negative, z)


def _elu_derivative_xp(xp, z, a):
    return xp.where(a > 0.0, constant(xp, 1.0, a), a + ELU_ALPHA)


def _softplus_xp(xp, z):
    return xp.logaddexp(constant(xp, 0.0, z), z)


def _softplus_derivative_xp(xp, z, a):
    return -xp.expm1(-a)


def _gelu_xp(xp, z):
    cdf = (erf(xp, z * _SQRT_HALF) + 1.0) * 0.5
    return z * cdf


def _gelu_derivative_xp(xp, z, a):
    pdf = xp.exp(z * z * -0.5) * _INV_SQRT_2PI * z
    return (erf(xp, z * _SQRT_HALF) + 1.0) * 0.5 + pdf


#: Coefficients ``(-1)^n / (n! (2n + 1))`` of the Maclaurin series of
#: ``erf(x) * sqrt(pi) / (2 x)`` in powers of ``x^2``, ``n = 0, ..., 30``.
_ERF_SERIES = tuple((-1.0) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(31))
#: Terms of the continued fraction of ``erfc`` evaluated (see ``erf``).
_ERFC_FRACTION_TERMS = 40


def erf(xp, x):
    """The error function in any array API namespace (the standard has none).

    The namespace's own ``erf`` where it has one (PyTorch's). Otherwise, for
    ``|x| < 2``, the Maclaurin series ``erf(x) = 2 x / sqrt(pi) * sum_n
    (-x^2)^n / (n! (2n + 1))`` to ``n = 30`` (Horner's scheme); for
    ``2 <= |x| <= 6`` one minus the continued fraction ``erfc(x) = exp(-x^2) /
    sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...))))`` with 40 terms;
    beyond 6, ``erf(x) = sign(x)`` in float64 (``erfc(6) < 2.2e-17``). Measured
    against mpmath, both pieces are within 5e-16 of ``erf``: at most a few units
    in the last place of float64, as SciPy's ``erf``.

    Parameters
    ----------
    xp : module
        An array API namespace.
    x : array of a real floating dtype

    Returns
    -------
    array like ``x``
    """
    native = getattr(xp, "erf", None)
    if native is not None:
        return native(x)
    r = xp.abs(x)
    t = xp.minimum(r, constant(xp, 2.0, r))
    t = t * t
    series = _ERF_SERIES[-1] * t + _ERF_SERIES[-2]
    for c in _ERF_SERIES[-3::-1]:
        series = series * t + c
    small = (2.0 / math.sqrt(math.pi)) * xp.minimum(r, constant(xp, 2.0, r)) * series
    u = xp.clip(r, 2.0, 6.0)
    fraction = u
    for k in range(_ERFC_FRACTION_TERMS, 0, -1):
        fraction = u + (0.5 * k) / fraction
    large = 1.0 - xp.exp(-(u * u)) / (math.sqrt(math.pi) * fraction)
    return xp.sign(x) * xp.where(r < 2.0, small, large)


#: Canonical name -> activation. Every entry is covered by the unit tests.
ACTIVATIONS = {
    "sigmoid": Activation(
        _sigmoid,
        _sigmoid_derivative,
        "1 / (1 + exp(-z))",
        _sigmoid_xp,
        _sigmoid_derivative_xp,
    ),
    "tanh": Activation(
        _tanh, _tanh_derivative, "tanh(z)", _tanh_xp, _tanh_derivative_xp
    ),
    "relu": Activation(
        _relu, _relu_derivative, "max(0, z)", _relu_xp, _relu_derivative_xp
    ),
    "softsign": Activation(
        _softsign,
        _softsign_derivative,
        "z / (1 + |z|)",
        _softsign_xp,
        _softsign_derivative_xp,
    ),
    "identity": Activation(
        _identity, _identity_derivative, "z", _identity_xp, _identity_derivative_xp
    ),
    "leaky_relu": Activation(
        _leaky_relu,
        _leaky_relu_derivative,
        "z if z > 0 else 0.01 * z",
        _leaky_relu_xp,
        _leaky_relu_derivative_xp,
    ),
    "elu": Activation(
        _elu,
        _elu_derivative,
        "z if z > 0 else exp(z) - 1",
        _elu_xp,
        _elu_derivative_xp,
    ),
    "softplus": Activation(
        _softplus,
        _softplus_derivative,
        "log(1 + exp(z))",
        _softplus_xp,
        _softplus_derivative_xp,
    ),
    "gelu": Activation(
        _gelu,
        _gelu_derivative,
        "z * (1 + erf(z / sqrt(2))) / 2",
        _gelu_xp,
        _gelu_derivative_xp,
    ),
}

#: Alternative spellings accepted for ``activation``.
ALIASES = {"logistic": "sigmoid"}


def resolve_activation(name: str) -> str:
    """Return the canonical name for an activation name or alias.

    Parameters
    ----------
    name : str
        A key of ``ACTIVATIONS`` or ``ALIASES``.

    Returns
    -------
    str
        The canonical name.
    """
    name = ALIASES.get(name, name)
    if name not in ACTIVATIONS:
        valid = sorted(ACTIVATIONS) + sorted(ALIASES)
        raise ValueError(f"Unknown activation {name!r}; choose one of {valid}.")
    return name
