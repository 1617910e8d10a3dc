"""Hidden-layer activation functions and their derivatives, each written once.

Each activation is a pair of small functions kept side by side so that one can be
checked against the other:

* ``forward(ops, z, out=None)`` returns ``f(z)``;
* ``derivative(ops, z, a, out)`` returns ``f'(z)``, given both the
  pre-activation ``z`` and the activation ``a = f(z)`` so that each can use the
  cheaper of the two (tanh from ``a``, GELU from ``z``).

``ops`` is the array library's functions with NumPy's signatures
(``skbp._core.namespace``): for NumPy the result is written into ``out`` (a
preallocated buffer, no allocation; the derivatives of identity and ELU, rarely
used, return a new array), for any other array API namespace it is a new array.
Callers always use the returned array.

``out`` may be the same array as ``z`` in both functions (prediction computes
activations in place; the backward pass reuses the pre-activation buffer for the
derivative), so every function below reads ``z`` completely before it writes
``out``, or only reads ``a``.

This module must not import scikit-learn or any skbp module.
"""

import math
from typing import NamedTuple

#: Slope of ``leaky_relu`` for negative inputs.
LEAKY_RELU_SLOPE = 0.01
#: Scale ``alpha`` of ``elu`` for negative inputs.
ELU_ALPHA = 1.0

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Activation(NamedTuple):
    """A hidden-layer activation: its forward map, its derivative, its formula."""

    forward: object
    derivative: object
    formula: str


def _sigmoid(ops, z, out=None):
    return ops.expit(z, out=out)


def _sigmoid_derivative(ops, z, a, out):
    # sigma'(z) = sigma(z) * (1 - sigma(z)), read from a alone.
    out = ops.subtract(1.0, a, out=out)
    return ops.multiply(out, a, out=out)


def _tanh(ops, z, out=None):
    return ops.tanh(z, out=out)


def _tanh_derivative(ops, z, a, out):
    # tanh'(z) = 1 - tanh(z)^2
    out = ops.square(a, out=out)
    return ops.subtract(1.0, out, out=out)


def _relu(ops, z, out=None):
    return ops.maximum(z, 0.0, out=out)


def _relu_derivative(ops, z, a, out):
    # 1 where z > 0, 0 elsewhere (the sub-gradient 0 is taken at the kink).
    return ops.greater(a, 0.0, out=out)


def _softsign(ops, z, out=None):
    denominator = ops.abs(z)
    denominator = ops.add(denominator, 1.0, out=denominator)
    return ops.divide(z, denominator, out=out)


def _softsign_derivative(ops, z, a, out):
    # f(z) = z / (1 + |z|)  =>  f'(z) = 1 / (1 + |z|)^2 = (1 - |a|)^2
    out = ops.abs(a, out=out)
    out = ops.subtract(1.0, out, out=out)
    return ops.square(out, out=out)


def _identity(ops, z, out=None):
    if out is z:  # in place: nothing to compute
        return z
    return ops.positive(z, out=out)  # a copy into out


def _identity_derivative(ops, z, a, out):
    return ops.ones_like(z)


def _leaky_relu(ops, z, out=None):
    # max(z, s*z) equals z for z > 0 and s*z otherwise because 0 < s < 1.
    return ops.maximum(z, ops.multiply(z, LEAKY_RELU_SLOPE), out=out)


def _leaky_relu_derivative(ops, z, a, out):
    # s + (1 - s) [z > 0]; a > 0 exactly where z > 0, so the mask is read from a.
    out = ops.greater(a, 0.0, out=out)
    out = ops.multiply(out, 1.0 - LEAKY_RELU_SLOPE, out=out)
    return ops.add(out, LEAKY_RELU_SLOPE, out=out)


def _elu(ops, z, out=None):
    # max(z, 0) + alpha * expm1(min(z, 0)): z where z > 0 (expm1(0) = 0 is
    # added), alpha * (exp(z) - 1) elsewhere; expm1 never sees the positive
    # branch, which could overflow.
    negative = ops.minimum(z, 0.0)
    negative = ops.expm1(negative, out=negative)
    negative = ops.multiply(negative, ELU_ALPHA, out=negative)
    out = ops.maximum(z, 0.0, out=out)
    return ops.add(out, negative, out=out)


def _elu_derivative(ops, z, a, out):
    # f'(z) = 1 for z > 0 and alpha * exp(z) = a + alpha for z <= 0, where
    # a <= 0: min(a, 0) + alpha, with the positive side set to 1.
    slope = ops.add(ops.minimum(a, 0.0), ELU_ALPHA)
    return ops.where(ops.greater(a, 0.0), ops.ones_like(a), slope)


def _softplus(ops, z, out=None):
    # log(1 + exp(z)) without overflow for large z.
    return ops.logaddexp(0.0, z, out=out)


def _softplus_derivative(ops, z, a, out):
    # f'(z) = sigmoid(z) = 1 - exp(-f(z)), read from a so z may share out.
    out = ops.negative(a, out=out)
    out = ops.expm1(out, out=out)
    return ops.negative(out, out=out)


def _gelu(ops, z, out=None):
    # Exact GELU: z * Phi(z) with the Gaussian CDF Phi(z) = (1 + erf(z/sqrt 2)) / 2.
    cdf = ops.multiply(z, _SQRT_HALF)
    cdf = ops.erf(cdf, out=cdf)
    cdf = ops.add(cdf, 1.0, out=cdf)
    cdf = ops.multiply(cdf, 0.5, out=cdf)
    return ops.multiply(z, cdf, out=out)


def _gelu_derivative(ops, z, a, out):
    # f'(z) = Phi(z) + z * phi(z), phi the Gaussian density. Phi(z) = a / z is
    # unstable near 0, so it is recomputed from z; pdf is formed before out is
    # written because out may be z itself.
    pdf = ops.square(z)
    pdf = ops.multiply(pdf, -0.5, out=pdf)
    pdf = ops.exp(pdf, out=pdf)
    pdf = ops.multiply(pdf, _INV_SQRT_2PI, out=pdf)
    pdf = ops.multiply(pdf, z, out=pdf)
    out = ops.multiply(z, _SQRT_HALF, out=out)
    out = ops.erf(out, out=out)
    out = ops.add(out, 1.0, out=out)
    out = ops.multiply(out, 0.5, out=out)
    return ops.add(out, pdf, out=out)


#: Canonical name -> activation. Every entry is covered by the unit tests.
ACTIVATIONS = {
    "sigmoid": Activation(_sigmoid, _sigmoid_derivative, "1 / (1 + exp(-z))"),
    "tanh": Activation(_tanh, _tanh_derivative, "tanh(z)"),
    "relu": Activation(_relu, _relu_derivative, "max(0, z)"),
    "softsign": Activation(_softsign, _softsign_derivative, "z / (1 + |z|)"),
    "identity": Activation(_identity, _identity_derivative, "z"),
    "leaky_relu": Activation(
        _leaky_relu, _leaky_relu_derivative, "z if z > 0 else 0.01 * z"
    ),
    "elu": Activation(_elu, _elu_derivative, "z if z > 0 else exp(z) - 1"),
    "softplus": Activation(_softplus, _softplus_derivative, "log(1 + exp(z))"),
    "gelu": Activation(_gelu, _gelu_derivative, "z * (1 + erf(z / sqrt(2))) / 2"),
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
