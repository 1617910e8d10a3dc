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

This module must not import scikit-learn or any other skbp module.
"""

import math
from typing import NamedTuple

import numpy as np
from scipy.special import erf, expit

#: Slope of ``leaky_relu`` for negative inputs.
LEAKY_RELU_SLOPE = 0.01
#: Scale ``alpha`` of ``elu`` for negative inputs.
ELU_ALPHA = 1.0

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Activation(NamedTuple):
    """A hidden-layer activation: its forward map and its derivative."""

    forward: object
    derivative: object
    formula: str


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
    erf(cdf, out=cdf)
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
    erf(out, out=out)
    out += 1.0
    out *= 0.5
    out += pdf
    return out


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
