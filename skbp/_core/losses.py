"""The output layer: output functions, per-sample losses and output deltas.

The network's last layer produces logits ``z`` of shape ``(n_samples, n_outputs)``.
An *output function* (``OUTPUT_FUNCTIONS``) turns them into what ``predict`` and
``predict_proba`` return: probabilities for a classifier (``softmax`` for
multiclass log-loss, ``logistic`` otherwise), the predicted mean for a regressor
(``identity``, or ``exp`` for the log link of the Poisson loss). For each
supported (loss, output) pair there is one function in ``OUTPUT_LOSSES`` that
returns the per-sample loss and writes ``delta = dL/dz`` — the derivative of the
*unweighted* per-sample loss with respect to the logits. The caller applies the
sample weights and the ``1 / sum(sample_weight)`` factor.

Losses are computed from the logits (log-sum-exp, ``logaddexp``, ``z`` instead of
``log(exp(z))`` for the Poisson deviance) rather than from clipped probabilities
or means, so they stay finite for confident predictions.

The loss functions reduce over the last axis, so they also take the 1-D vectors
of a single sample (the online path of ``Network``).

Those are NumPy's versions, which write into ``out`` / ``delta`` buffers. Every
output function and every pair also has a version for any array API namespace
``xp`` (``OUTPUT_FUNCTIONS_XP``, ``OUTPUT_LOG_PROBA_XP``, ``OUTPUT_LOSSES_XP``),
written with standard calls and returning new arrays (a loss function returns
``(loss, delta)``). They compute the same formulas in the same order, and the
tests hold them against NumPy's. Targets ``Y`` are then in the logits' dtype
(the standard does not mix booleans into float arithmetic).

This module must not import scikit-learn or any skbp module but
``_namespace``.
"""

import math

import numpy as np
from scipy.special import expit, log_expit, xlogy

from skbp._core.namespace import constant


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
    # The row max comes off first: z - logsumexp(z) would cancel the leading
    # digits of large logits (float32 logits near 1e4 lose three of them).
    shifted = z - z.max(axis=1, keepdims=True)
    total = np.exp(shifted).sum(axis=1, keepdims=True)
    return shifted - np.log(total)


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


def identity(z, out=None):
    """The identity output ``a = z`` of a regressor trained on real targets.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs)
        Logits.
    out : ndarray of shape (n_samples, n_outputs), optional
        Where to write the result; may be ``z``.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
        ``out`` if given, else a new array (as the other output functions return).
    """
    if out is None:
        return z.copy()
    if out is not z:
        np.copyto(out, z)
    return out


def exp(z, out=None):
    """The inverse of the log link, ``mu = exp(z)``, of a Poisson regressor.

    The logit is the log of the predicted mean, so the mean is positive whatever
    the weights.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs)
        Logits (log-means).
    out : ndarray of shape (n_samples, n_outputs), optional
        Where to write the result; may be ``z``.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)

    Examples
    --------
    >>> import numpy as np
    >>> exp(np.array([[0.0, np.log(3.0)]]))
    array([[1., 3.]])
    """
    # Beyond log(max) the mean would overflow to inf (with a RuntimeWarning):
    # predict the largest finite mean instead. float32's rounded log(max) lies
    # just above the true one, hence the step down.
    limit = np.nextafter(np.log(np.finfo(z.dtype).max), z.dtype.type(0))
    return np.exp(np.minimum(z, limit, out=out), out=out)


#: Output function name -> output function ``fn(z, out=None)``: what ``predict``
#: (regressors) and ``predict_proba`` (classifiers) apply to the logits.
OUTPUT_FUNCTIONS = {
    "softmax": softmax,
    "logistic": logistic,
    "identity": identity,
    "exp": exp,
}

#: Classifier output name -> log of the output function (``predict_log_proba``),
#: computed from the logits. Only classification outputs are probabilities.
OUTPUT_LOG_PROBA = {
    "softmax": log_softmax,
    "logistic": log_expit,
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
    cost on ten logits in online training. The row maximum is subtracted only
    when it must be: ``exp(z)`` is used as it is unless its sum overflows or
    underflows, which saves two of the nine array calls (5.4 -> 3.8 us per
    sample on ten logits, a tenth of the classic digits network's online step)
    and changes the result only by rounding.
    """
    target_logit = float(np.dot(y, z))
    if delta is not z:  # z must survive the attempt for the fallback below
        np.exp(z, out=delta)
        total = float(np.add.reduce(delta))
        if 0.0 < total < math.inf:
            delta *= 1.0 / total
            delta -= y
            return math.log(total) - target_logit
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


# Regression pairs. delta may alias z: each function either works element by
# element (delta = z - Y) or reads z completely (into r = z - Y, or exp(z)) before
# it writes delta. The Huber threshold is turned into a Python float: a NumPy
# float64 scalar would upcast float32 arrays.


def identity_squared_error(z, Y, delta):
    """Half the squared error of identity outputs, summed over outputs.

    The pair (``"squared_error"``, ``"identity"``): ``L = 1/2 * sum_k (z_k - Y_k)^2``
    and ``dL/dz = z - Y``, because the identity is the canonical link of the
    Gaussian likelihood (nothing to chain through).

    Summing over the outputs (not averaging) keeps the loss and its gradient the
    same function for multi-output targets by construction. scikit-learn's
    ``MLPRegressor`` reports ``1/2 * mean_k`` (its ``squared_loss``) but
    backpropagates ``z - Y``, the gradient of the sum: for one output both agree,
    for ``n_outputs > 1`` its L-BFGS receives a loss and a gradient that differ by
    the factor ``n_outputs``.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs) or (n_outputs,)
        Logits, which are the predictions.
    Y : ndarray of the same shape as ``z``
        Real targets.
    delta : ndarray of the same shape as ``z``
        Written with ``dL/dz``; may be ``z``.

    Returns
    -------
    loss : ndarray of shape (n_samples,), or 0-d for 1-D input
    """
    np.subtract(z, Y, out=delta)  # the residual, element by element
    return 0.5 * np.square(delta).sum(axis=-1)


def exp_poisson(z, Y, delta):
    """Half the Poisson deviance of a log-link output, summed over outputs.

    The pair (``"poisson"``, ``"exp"``), with the mean ``mu = exp(z)``:
    ``L = sum_k Y_k log(Y_k / mu_k) - Y_k + mu_k``, per sample exactly the terms of
    scikit-learn's ``poisson_loss``. It is computed from the logit as
    ``xlogy(Y, Y) - Y z - Y + exp(z)``: no ``log(mu)`` to underflow, and
    ``0 log 0 = 0`` for ``Y = 0``. ``dL/dz = exp(z) - Y = mu - Y``, because the
    log is the canonical link of the Poisson likelihood (``d mu / dz = mu``
    cancels the ``1 / mu`` of the deviance). Targets must be non-negative; the
    estimator checks them.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs) or (n_outputs,)
        Logits, the log of the predicted means.
    Y : ndarray of the same shape as ``z``
        Non-negative targets (counts or rates).
    delta : ndarray of the same shape as ``z``
        Written with ``dL/dz``; may be ``z``.

    Returns
    -------
    loss : ndarray of shape (n_samples,), or 0-d for 1-D input
    """
    mu = np.exp(z)
    per_output = xlogy(Y, Y)
    per_output -= Y * (z + 1.0)  # - Y z - Y
    per_output += mu
    np.subtract(mu, Y, out=delta)
    return per_output.sum(axis=-1)


def identity_huber(z, Y, delta, *, threshold):
    """Huber loss of identity outputs, summed over outputs.

    The pair (``"huber"``, ``"identity"``). With the residual ``r = z - Y`` and
    the threshold ``t``, each output contributes ``r^2 / 2`` where ``|r| <= t``
    and ``t (|r| - t / 2)`` beyond: quadratic near the target, linear (robust to
    outliers) far from it. Its derivative is ``r`` inside and ``t sign(r)``
    outside, so ``dL/dz = clip(r, -t, t)``; both pieces meet with equal value and
    slope at ``|r| = t``, so the loss is once differentiable everywhere.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs) or (n_outputs,)
        Logits, which are the predictions.
    Y : ndarray of the same shape as ``z``
        Real targets.
    delta : ndarray of the same shape as ``z``
        Written with ``dL/dz``; may be ``z``.
    threshold : float
        ``t > 0``, where the loss turns from quadratic to linear.

    Returns
    -------
    loss : ndarray of shape (n_samples,), or 0-d for 1-D input

    Examples
    --------
    >>> import numpy as np
    >>> z, Y = np.array([[0.5, 3.0]]), np.zeros((1, 2))
    >>> delta = np.empty_like(z)
    >>> identity_huber(z, Y, delta, threshold=1.0)  # 0.5**2 / 2 + (3 - 1/2)
    array([2.625])
    >>> delta
    array([[0.5, 1. ]])
    """
    t = float(threshold)
    r = z - Y
    np.clip(r, -t, t, out=delta)
    # With c = clip(r, -t, t), c (r - c / 2) is r^2 / 2 where |r| <= t and
    # t (|r| - t / 2) beyond (c = t sign(r)): both pieces in one expression.
    r -= 0.5 * delta
    r *= delta
    return r.sum(axis=-1)


def identity_absolute_error(z, Y, delta):
    """Absolute error of identity outputs, summed over outputs.

    The pair (``"absolute_error"``, ``"identity"``): ``L = sum_k |z_k - Y_k|`` and
    ``dL/dz = sign(z - Y)``. The loss has a kink at ``z = Y``, where it has no
    derivative; there ``delta`` is 0, a subgradient (any value in ``[-1, 1]``
    is one), which is what subgradient descent needs. L-BFGS assumes a smooth
    loss and may stop early on it.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_outputs) or (n_outputs,)
        Logits, which are the predictions.
    Y : ndarray of the same shape as ``z``
        Real targets.
    delta : ndarray of the same shape as ``z``
        Written with ``dL/dz`` (a subgradient); may be ``z``.

    Returns
    -------
    loss : ndarray of shape (n_samples,), or 0-d for 1-D input
    """
    r = z - Y
    np.sign(r, out=delta)
    np.abs(r, out=r)
    return r.sum(axis=-1)


#: (loss name, output function name) -> loss-and-delta function
#: ``fn(z, Y, delta, **loss_params) -> per-sample loss``.
OUTPUT_LOSSES = {
    ("log_loss", "softmax"): softmax_log_loss,
    ("log_loss", "logistic"): logistic_log_loss,
    ("squared_error", "logistic"): logistic_squared_error,
    ("squared_error", "identity"): identity_squared_error,
    ("poisson", "exp"): exp_poisson,
    ("huber", "identity"): identity_huber,
    ("absolute_error", "identity"): identity_absolute_error,
}

# ------------------------------------------------ any array API namespace ``xp``
# The functions above, formula for formula, with standard calls only. A Python
# scalar that is a function's argument becomes a 0-d array (``constant``).


def softmax_xp(xp, z):
    """``softmax`` in namespace ``xp``."""
    e = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


def log_softmax_xp(xp, z):
    """``log_softmax`` in namespace ``xp`` (the row max off first, as there)."""
    shifted = z - xp.max(z, axis=-1, keepdims=True)
    total = xp.sum(xp.exp(shifted), axis=-1, keepdims=True)
    return shifted - xp.log(total)


def logistic_xp(xp, z):
    """``logistic`` in namespace ``xp``: exp(-z) = inf gives the right 0."""
    return 1.0 / (1.0 + xp.exp(-z))


def log_logistic_xp(xp, z):
    """``log(logistic(z)) = -log(1 + exp(-z))``, finite where logistic is 0."""
    return -xp.logaddexp(constant(xp, 0.0, z), -z)


def identity_xp(xp, z):
    """``identity`` in namespace ``xp`` (``z`` itself: nothing writes to it)."""
    return z


def exp_xp(xp, z):
    """``exp`` in namespace ``xp``, capped at the largest finite mean as there."""
    host_dtype = np.float32 if z.dtype == xp.float32 else np.float64
    limit = np.nextafter(np.log(np.finfo(host_dtype).max), host_dtype(0))
    return xp.exp(xp.minimum(z, constant(xp, float(limit), z)))


def _xlogy_xp(xp, x, y):
    """``x * log(y)``, 0 where ``x == 0`` (``y`` is then 0 as well here)."""
    return x * xp.log(xp.where(x > 0.0, y, constant(xp, 1.0, y)))


def softmax_log_loss_xp(xp, z, Y):
    """``softmax_log_loss`` in namespace ``xp``: returns ``(loss, delta)``."""
    target_logit = xp.sum(Y * z, axis=-1)
    z_max = xp.max(z, axis=-1, keepdims=True)
    e = xp.exp(z - z_max)
    total = xp.sum(e, axis=-1, keepdims=True)
    loss = (xp.log(total) + z_max)[..., 0] - target_logit
    return loss, e / total - Y


def logistic_log_loss_xp(xp, z, Y):
    """``logistic_log_loss`` in namespace ``xp``: returns ``(loss, delta)``."""
    per_output = xp.logaddexp(constant(xp, 0.0, z), z) - Y * z
    return xp.sum(per_output, axis=-1), logistic_xp(xp, z) - Y


def logistic_squared_error_xp(xp, z, Y):
    """``logistic_squared_error`` in namespace ``xp``: returns ``(loss, delta)``."""
    a = logistic_xp(xp, z)
    error = a - Y
    loss = 0.5 * xp.sum(error * error, axis=-1)
    return loss, (1.0 - a) * a * error


def identity_squared_error_xp(xp, z, Y):
    """``identity_squared_error`` in namespace ``xp``: returns ``(loss, delta)``."""
    delta = z - Y
    return 0.5 * xp.sum(delta * delta, axis=-1), delta


def exp_poisson_xp(xp, z, Y):
    """``exp_poisson`` in namespace ``xp``: returns ``(loss, delta)``."""
    mu = xp.exp(z)
    per_output = _xlogy_xp(xp, Y, Y) - Y * (z + 1.0) + mu
    return xp.sum(per_output, axis=-1), mu - Y


def identity_huber_xp(xp, z, Y, *, threshold):
    """``identity_huber`` in namespace ``xp``: returns ``(loss, delta)``."""
    t = float(threshold)
    r = z - Y
    delta = xp.clip(r, -t, t)
    return xp.sum((r - 0.5 * delta) * delta, axis=-1), delta


def identity_absolute_error_xp(xp, z, Y):
    """``identity_absolute_error`` in namespace ``xp``: returns ``(loss, delta)``."""
    r = z - Y
    return xp.sum(xp.abs(r), axis=-1), xp.sign(r)


#: ``OUTPUT_FUNCTIONS`` for any array API namespace: ``fn(xp, z)``.
OUTPUT_FUNCTIONS_XP = {
    "softmax": softmax_xp,
    "logistic": logistic_xp,
    "identity": identity_xp,
    "exp": exp_xp,
}

#: ``OUTPUT_LOG_PROBA`` for any array API namespace: ``fn(xp, z)``.
OUTPUT_LOG_PROBA_XP = {
    "softmax": log_softmax_xp,
    "logistic": log_logistic_xp,
}

#: ``OUTPUT_LOSSES`` for any array API namespace:
#: ``fn(xp, z, Y, **loss_params) -> (per-sample loss, delta)``.
OUTPUT_LOSSES_XP = {
    ("log_loss", "softmax"): softmax_log_loss_xp,
    ("log_loss", "logistic"): logistic_log_loss_xp,
    ("squared_error", "logistic"): logistic_squared_error_xp,
    ("squared_error", "identity"): identity_squared_error_xp,
    ("poisson", "exp"): exp_poisson_xp,
    ("huber", "identity"): identity_huber_xp,
    ("absolute_error", "identity"): identity_absolute_error_xp,
}

CLASSIFICATION_LOSSES = ("log_loss", "squared_error")
REGRESSION_LOSSES = ("squared_error", "poisson", "huber", "absolute_error")


def output_function_for(loss: str, n_outputs: int, multilabel: bool) -> str:
    """Choose the output function of a classifier for a loss and a target layout.

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


def regression_output_for(loss: str) -> str:
    """Choose the output function of a regressor for a loss.

    The Poisson deviance is paired with its canonical log link, so the predicted
    mean ``exp(z)`` is positive; every other regression loss uses the identity.

    Parameters
    ----------
    loss : {"squared_error", "poisson", "huber", "absolute_error"}

    Returns
    -------
    {"identity", "exp"}

    Examples
    --------
    >>> regression_output_for("poisson"), regression_output_for("huber")
    ('exp', 'identity')
    """
    return "exp" if loss == "poisson" else "identity"
