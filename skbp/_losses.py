"""The output layer: output functions, per-sample losses and output deltas.

The network's last layer produces logits ``z`` of shape ``(n_samples, n_outputs)``.
An *output function* turns them into probabilities (``softmax`` for multiclass
log-loss, ``logistic`` otherwise). For each supported (loss, output) pair there is
one function that returns the per-sample loss and writes ``delta = dL/dz`` — the
derivative of the *unweighted* per-sample loss with respect to the logits. The
caller applies the sample weights and the ``1 / sum(sample_weight)`` factor.

Losses are computed from the logits (log-sum-exp, ``logaddexp``) rather than from
clipped probabilities, so they stay finite for confident predictions.

The loss functions reduce over the last axis, so they also take the 1-D vectors
of a single sample (the online path of ``Network``).

This module must not import scikit-learn or any other skbp module.
"""

import math

import numpy as np
from scipy.special import expit, log_expit


def softmax(z, out=None):
    """Row-wise softmax, stable for large logits.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs)
        Logits.
    out : ndarray of shape (n_samples, n_outputs), optional
        Where to write the result; may be ``z``.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    if out is None:
        out = np.empty_like(z)
    # Subtracting the row max changes nothing mathematically and keeps exp finite.
    np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def logsumexp_rows(z):
    """``log(sum(exp(z), axis=1))`` with the row max factored out.

    A plain-numpy version of ``scipy.special.logsumexp(z, axis=1)``: on the tiny
    arrays of online training, SciPy's array-API dispatch costs more than the maths.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs)

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    z_max = z.max(axis=1)
    shifted = z - z_max[:, None]
    np.exp(shifted, out=shifted)
    total = shifted.sum(axis=1)
    np.log(total, out=total)
    total += z_max
    return total


def log_softmax(z):
    """Row-wise log of the softmax, computed as ``z - logsumexp(z)``.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs)

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    return z - logsumexp_rows(z)[:, None]


def logistic(z, out=None):
    """Element-wise logistic sigmoid ``1 / (1 + exp(-z))``.

    Parameters
    ----------
    z : ndarray
    out : ndarray, optional

    Returns
    -------
    ndarray
    """
    return expit(z, out=out)


#: Output function name -> (probabilities from logits, log-probabilities).
OUTPUTS = {
    "softmax": (softmax, log_softmax),
    "logistic": (logistic, log_expit),
}


def softmax_log_loss(z, Y, delta):
    """Cross-entropy of a softmax output layer.

    ``L = sum_k Y_k * (logsumexp(z) - z_k)``. For targets whose rows sum to one
    (one-hot labels), ``dL/dz = softmax(z) - Y``: the canonical link of the
    multinomial cross-entropy cancels the softmax Jacobian.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs)
        Logits.
    Y : ndarray of shape (n_samples, n_outputs)
        One-hot targets.
    delta : ndarray of shape (n_samples, n_outputs)
        Written with ``dL/dz``; may be ``z``.

    Returns
    -------
    loss : ndarray of shape (n_samples,)
    """
    if z.ndim == 1:
        return _softmax_log_loss_one(z, Y, delta)
    # Y.z is read before delta, which may alias z, is written. NumPy reduces
    # along a short last axis (the few output columns) one row at a time, several
    # times slower than these equivalents: row sums as a product with a ones
    # column, and the row maximum as a column-wise maximum of the transposed copy
    # (an elementwise maximum of a few long rows).
    ones = np.ones((z.shape[-1], 1), dtype=delta.dtype)
    target_logit = np.matmul(Y * z, ones)[:, 0]
    z_max = np.ascontiguousarray(z.T).max(axis=0)[:, None]  # (n_samples, 1)
    np.subtract(z, z_max, out=delta)
    np.exp(delta, out=delta)
    total = np.matmul(delta, ones)
    delta /= total  # softmax(z)
    # With one-hot rows, sum_k Y_k (logsumexp(z) - z_k) = logsumexp(z) - Y.z, and
    # logsumexp(z) = log(total) + z_max.
    np.log(total, out=total)
    total += z_max
    loss = total[..., 0] - target_logit
    delta -= Y
    return loss


def _softmax_log_loss_one(z, y, delta):
    """``softmax_log_loss`` for one sample's 1-D logits, with scalar reductions.

    Same formulas; plain reductions avoid the axis bookkeeping that dominates the
    cost on ten logits in online training.
    """
    target_logit = float(np.dot(y, z))
    z_max = float(np.maximum.reduce(z))
    np.subtract(z, z_max, out=delta)
    np.exp(delta, out=delta)
    total = float(np.add.reduce(delta))
    delta *= 1.0 / total
    delta -= y
    return math.log(total) + z_max - target_logit


def logistic_log_loss(z, Y, delta):
    """Binary cross-entropy of independent logistic outputs, summed over outputs.

    ``L = sum_k log(1 + exp(z_k)) - Y_k z_k`` (the usual ``-Y log p - (1-Y) log(1-p)``
    written in terms of the logit), and ``dL/dz = sigmoid(z) - Y``: the logistic
    function is the canonical link of the Bernoulli likelihood.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets in {0, 1}.
    delta : ndarray of shape (n_samples, n_outputs)
        Written with ``dL/dz``; may be ``z``.

    Returns
    -------
    loss : ndarray of shape (n_samples,)
    """
    per_output = np.logaddexp(0.0, z)
    per_output -= Y * z
    loss = per_output.sum(axis=-1)
    expit(z, out=delta)
    delta -= Y
    return loss


def logistic_squared_error(z, Y, delta):
    """Half the squared error of logistic outputs, summed over outputs.

    ``L = 1/2 * sum_k (Y_k - a_k)^2`` with ``a = sigmoid(z)``. There is no
    canonical-link cancellation here: ``dL/dz = (a - Y) * a * (1 - a)``, the classic
    delta rule ``delta_out = (target - out) * f'(out)`` up to the sign convention
    (skbp descends the gradient, so ``-lr * dL/dz`` is the classic increment).

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs)
    Y : ndarray of shape (n_samples, n_outputs)
    delta : ndarray of shape (n_samples, n_outputs)
        Written with ``dL/dz``; may be ``z``.

    Returns
    -------
    loss : ndarray of shape (n_samples,)
    """
    a = expit(z)
    error = a - Y
    loss = 0.5 * np.square(error).sum(axis=-1)
    np.subtract(1.0, a, out=delta)
    delta *= a
    delta *= error
    return loss


#: (loss name, output function name) -> loss-and-delta function.
OUTPUT_LOSSES = {
    ("log_loss", "softmax"): softmax_log_loss,
    ("log_loss", "logistic"): logistic_log_loss,
    ("squared_error", "logistic"): logistic_squared_error,
}

LOSSES = ("log_loss", "squared_error")


def output_function_for(loss: str, n_outputs: int, multilabel: bool) -> str:
    """Choose the output function for a loss and a target layout.

    Multiclass log-loss uses softmax; binary (one output), multilabel and every
    squared-error network use independent logistic outputs (the classic network
    had one sigmoid unit per class).

    Parameters
    ----------
    loss : {"log_loss", "squared_error"}
    n_outputs : int
    multilabel : bool

    Returns
    -------
    {"softmax", "logistic"}
    """
    if loss == "log_loss" and n_outputs > 1 and not multilabel:
        return "softmax"
    return "logistic"
