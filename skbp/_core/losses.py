"""The loss of each (loss, output) pair and its output delta, each written once.

For each supported (loss, output) pair there is one function in
``OUTPUT_LOSSES``, ``fn(ops, z, Y, out=None, **loss_params) -> (loss, delta)``:
the per-sample loss of logits ``z`` against targets ``Y`` and ``delta = dL/dz``,
the derivative of the *unweighted* per-sample loss with respect to the logits.
The caller applies the sample weights and the ``1 / sum(sample_weight)`` factor.
The output functions themselves live in ``skbp._core.outputs``.

Losses are computed from the logits (log-sum-exp, ``logaddexp``, ``z`` instead of
``log(exp(z))`` for the Poisson deviance) rather than from clipped probabilities
or means, so they stay finite for confident predictions.

``ops`` is the array library's functions with NumPy's signatures
(``skbp._core.namespace``): NumPy writes ``delta`` into ``out`` (which may be
``z`` itself: each function reads ``z`` completely, or element by element,
before it writes ``out``), any other array API namespace returns a new array.
NumPy targets may be boolean (0/1 labels); the standard does not mix booleans
into float arithmetic, so array API targets come in the logits' dtype.

The loss functions reduce over the last axis, so they also take the 1-D vectors
of a single sample (the online step of ``skbp._core.fastpaths``).

This module must not import scikit-learn or any skbp module.
"""


def softmax_log_loss(ops, z, Y, out=None):
    """Cross-entropy of a softmax output layer.

    ``L = sum_k Y_k * (logsumexp(z) - z_k)``. For targets whose rows sum to one
    (one-hot labels), ``dL/dz = softmax(z) - Y``: the canonical link of the
    multinomial cross-entropy cancels the softmax Jacobian.

    Parameters
    ----------
    ops : namespace
        NumPy's functions, or the array API shim (``skbp._core.namespace``).
    z : array of shape (n_samples, n_outputs)
        Logits.
    Y : array of shape (n_samples, n_outputs)
        One-hot targets.
    out : array of shape (n_samples, n_outputs), optional
        Where NumPy writes ``dL/dz``; may be ``z``.

    Returns
    -------
    loss : array of shape (n_samples,)
    delta : array of shape (n_samples, n_outputs)
    """
    # Y.z and the row max are read before out, which may alias z, is written.
    target_logit = ops.sum(ops.multiply(Y, z), axis=-1)
    z_max = ops.max(z, axis=-1, keepdims=True)
    delta = ops.subtract(z, z_max, out=out)
    delta = ops.exp(delta, out=delta)
    total = ops.sum(delta, axis=-1, keepdims=True)
    delta = ops.divide(delta, total, out=delta)  # softmax(z)
    # With one-hot rows, sum_k Y_k (logsumexp(z) - z_k) = logsumexp(z) - Y.z,
    # and logsumexp(z) = log(total) + z_max.
    log_total = ops.add(ops.log(total), z_max)
    loss = ops.subtract(log_total[..., 0], target_logit)
    return loss, ops.subtract(delta, Y, out=delta)


def logistic_log_loss(ops, z, Y, out=None):
    """Binary cross-entropy of independent logistic outputs, summed over outputs.

    ``L = sum_k log(1 + exp(z_k)) - Y_k z_k`` (the usual ``-Y log p - (1-Y) log(1-p)``
    written in terms of the logit), and ``dL/dz = sigmoid(z) - Y``: the logistic
    function is the canonical link of the Bernoulli likelihood.

    Parameters
    ----------
    ops : namespace
    z : array of shape (n_samples, n_outputs)
    Y : array of shape (n_samples, n_outputs)
        Targets in {0, 1}.
    out : array of shape (n_samples, n_outputs), optional
        Where NumPy writes ``dL/dz``; may be ``z``.

    Returns
    -------
    loss : array of shape (n_samples,)
    delta : array of shape (n_samples, n_outputs)
    """
    per_output = ops.logaddexp(0.0, z)
    per_output = ops.subtract(per_output, ops.multiply(Y, z), out=per_output)
    loss = ops.sum(per_output, axis=-1)
    delta = ops.expit(z, out=out)
    return loss, ops.subtract(delta, Y, out=delta)


def logistic_squared_error(ops, z, Y, out=None):
    """Half the squared error of logistic outputs, summed over outputs.

    ``L = 1/2 * sum_k (Y_k - a_k)^2`` with ``a = sigmoid(z)``. There is no
    canonical-link cancellation here: ``dL/dz = (a - Y) * a * (1 - a)``, the classic
    delta rule ``delta_out = (target - out) * f'(out)`` up to the sign convention
    (skbp descends the gradient, so ``-lr * dL/dz`` is the classic increment).

    Parameters
    ----------
    ops : namespace
    z : array of shape (n_samples, n_outputs)
    Y : array of shape (n_samples, n_outputs)
    out : array of shape (n_samples, n_outputs), optional
        Where NumPy writes ``dL/dz``; may be ``z``.

    Returns
    -------
    loss : array of shape (n_samples,)
    delta : array of shape (n_samples, n_outputs)
    """
    a = ops.expit(z)
    error = ops.subtract(a, Y)
    loss = ops.multiply(ops.sum(ops.square(error), axis=-1), 0.5)
    delta = ops.subtract(1.0, a, out=out)
    delta = ops.multiply(delta, a, out=delta)
    return loss, ops.multiply(delta, error, out=delta)


# Regression pairs. The Huber threshold is turned into a Python float: a NumPy
# float64 scalar would upcast float32 arrays.


def identity_squared_error(ops, z, Y, out=None):
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
    ops : namespace
    z : array of shape (n_samples, n_outputs) or (n_outputs,)
        Logits, which are the predictions.
    Y : array of the same shape as ``z``
        Real targets.
    out : array of the same shape as ``z``, optional
        Where NumPy writes ``dL/dz``; may be ``z``.

    Returns
    -------
    loss : array of shape (n_samples,), or 0-d for 1-D input
    delta : array of the same shape as ``z``
    """
    delta = ops.subtract(z, Y, out=out)  # the residual, element by element
    return ops.multiply(ops.sum(ops.square(delta), axis=-1), 0.5), delta


def exp_poisson(ops, z, Y, out=None):
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
    ops : namespace
    z : array of shape (n_samples, n_outputs) or (n_outputs,)
        Logits, the log of the predicted means.
    Y : array of the same shape as ``z``
        Non-negative targets (counts or rates).
    out : array of the same shape as ``z``, optional
        Where NumPy writes ``dL/dz``; may be ``z``.

    Returns
    -------
    loss : array of shape (n_samples,), or 0-d for 1-D input
    delta : array of the same shape as ``z``
    """
    mu = ops.exp(z)
    per_output = ops.xlogy(Y, Y)
    # - Y z - Y
    per_output = ops.subtract(
        per_output, ops.multiply(Y, ops.add(z, 1.0)), out=per_output
    )
    per_output = ops.add(per_output, mu, out=per_output)
    delta = ops.subtract(mu, Y, out=out)
    return ops.sum(per_output, axis=-1), delta


def identity_huber(ops, z, Y, out=None, *, threshold):
    """Huber loss of identity outputs, summed over outputs.

    The pair (``"huber"``, ``"identity"``). With the residual ``r = z - Y`` and
    the threshold ``t``, each output contributes ``r^2 / 2`` where ``|r| <= t``
    and ``t (|r| - t / 2)`` beyond: quadratic near the target, linear (robust to
    outliers) far from it. Its derivative is ``r`` inside and ``t sign(r)``
    outside, so ``dL/dz = clip(r, -t, t)``; both pieces meet with equal value and
    slope at ``|r| = t``, so the loss is once differentiable everywhere.

    Parameters
    ----------
    ops : namespace
    z : array of shape (n_samples, n_outputs) or (n_outputs,)
        Logits, which are the predictions.
    Y : array of the same shape as ``z``
        Real targets.
    out : array of the same shape as ``z``, optional
        Where NumPy writes ``dL/dz``; may be ``z``.
    threshold : float
        ``t > 0``, where the loss turns from quadratic to linear.

    Returns
    -------
    loss : array of shape (n_samples,), or 0-d for 1-D input
    delta : array of the same shape as ``z``

    Examples
    --------
    >>> import numpy as np
    >>> from skbp._core.namespace import NUMPY_OPS
    >>> z, Y = np.array([[0.5, 3.0]]), np.zeros((1, 2))
    >>> loss, delta = identity_huber(NUMPY_OPS, z, Y, threshold=1.0)
    >>> loss  # 0.5**2 / 2 + (3 - 1/2)
    array([2.625])
    >>> delta
    array([[0.5, 1. ]])
    """
    t = float(threshold)
    r = ops.subtract(z, Y)
    delta = ops.clip(r, -t, t, out=out)
    # With c = clip(r, -t, t), c (r - c / 2) is r^2 / 2 where |r| <= t and
    # t (|r| - t / 2) beyond (c = t sign(r)): both pieces in one expression.
    r = ops.subtract(r, ops.multiply(delta, 0.5), out=r)
    r = ops.multiply(r, delta, out=r)
    return ops.sum(r, axis=-1), delta


def identity_absolute_error(ops, z, Y, out=None):
    """Absolute error of identity outputs, summed over outputs.

    The pair (``"absolute_error"``, ``"identity"``): ``L = sum_k |z_k - Y_k|`` and
    ``dL/dz = sign(z - Y)``. The loss has a kink at ``z = Y``, where it has no
    derivative; there ``delta`` is 0, a subgradient (any value in ``[-1, 1]``
    is one), which is what subgradient descent needs. L-BFGS assumes a smooth
    loss and may stop early on it.

    Parameters
    ----------
    ops : namespace
    z : array of shape (n_samples, n_outputs) or (n_outputs,)
        Logits, which are the predictions.
    Y : array of the same shape as ``z``
        Real targets.
    out : array of the same shape as ``z``, optional
        Where NumPy writes ``dL/dz`` (a subgradient); may be ``z``.

    Returns
    -------
    loss : array of shape (n_samples,), or 0-d for 1-D input
    delta : array of the same shape as ``z``
    """
    r = ops.subtract(z, Y)
    delta = ops.sign(r, out=out)
    r = ops.abs(r, out=r)
    return ops.sum(r, axis=-1), delta


#: (loss name, output function name) -> loss-and-delta function
#: ``fn(ops, z, Y, out=None, **loss_params) -> (per-sample loss, delta)``.
OUTPUT_LOSSES = {
    ("log_loss", "softmax"): softmax_log_loss,
    ("log_loss", "logistic"): logistic_log_loss,
    ("squared_error", "logistic"): logistic_squared_error,
    ("squared_error", "identity"): identity_squared_error,
    ("poisson", "exp"): exp_poisson,
    ("huber", "identity"): identity_huber,
    ("absolute_error", "identity"): identity_absolute_error,
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
