"""The output layer's functions, and the classifier's outputs decided in one table.

The network's last layer produces logits ``z`` of shape ``(n_samples,
n_outputs)``. An *output function* (``OUTPUT_FUNCTIONS``) turns them into what
``predict`` and ``predict_proba`` return: probabilities for a classifier
(``softmax`` for multiclass log-loss, ``logistic`` otherwise), the predicted
mean for a regressor (``identity``, or ``exp`` for the log link of the Poisson
loss).

A classifier's predictions come from its logits in one of four ways, its
*output kind*, decided once from the fitted model (``classifier_output_kind``)
and read from ``CLASSIFIER_OUTPUTS`` by ``predict``, ``predict_proba``,
``predict_log_proba`` and the ONNX converter alike:

* ``"multilabel"``: one independent logistic unit per label;
* ``"binary"``: one logistic unit for two classes, the scores ``[-z, z]``;
* ``"softmax"``: multiclass log-loss;
* ``"normalised_logistic"``: multiclass squared error, whose logistic outputs
  are normalised to sum to one, as ``softmax(log(sigmoid(z)))``.

Every function takes ``ops`` first (``skbp._core.namespace``) and is written
once for NumPy and every array API namespace. This module must not import
scikit-learn or any skbp module.
"""

from typing import NamedTuple

import numpy as np


def softmax(ops, z, out=None):
    """Row-wise softmax, stable for large logits.

    Parameters
    ----------
    ops : namespace
        NumPy's functions, or the array API shim (``skbp._core.namespace``).
    z : array of shape (n_samples, n_outputs)
        Logits.
    out : array of shape (n_samples, n_outputs), optional
        Where NumPy writes the result; may be ``z``.

    Returns
    -------
    array of shape (n_samples, n_outputs)
    """
    # Subtracting the row max changes nothing mathematically and keeps exp finite.
    out = ops.subtract(z, ops.max(z, axis=-1, keepdims=True), out=out)
    out = ops.exp(out, out=out)
    return ops.divide(out, ops.sum(out, axis=-1, keepdims=True), out=out)


def log_softmax(ops, z, out=None):
    """Row-wise log of the softmax, ``z - max - log(sum(exp(z - max)))``.

    The row max comes off first: ``z - logsumexp(z)`` would cancel the leading
    digits of large logits (float32 logits near 1e4 lose three of them).

    Parameters
    ----------
    ops : namespace
    z : array of shape (n_samples, n_outputs)
    out : array of shape (n_samples, n_outputs), optional

    Returns
    -------
    array of shape (n_samples, n_outputs)
    """
    shifted = ops.subtract(z, ops.max(z, axis=-1, keepdims=True), out=out)
    total = ops.sum(ops.exp(shifted), axis=-1, keepdims=True)
    return ops.subtract(shifted, ops.log(total), out=shifted)


def logistic(ops, z, out=None):
    """Element-wise logistic sigmoid ``1 / (1 + exp(-z))``."""
    return ops.expit(z, out=out)


def log_logistic(ops, z, out=None):
    """``log(sigmoid(z)) = -log(1 + exp(-z))``, finite where sigmoid is 0."""
    return ops.log_expit(z, out=out)


def identity(ops, z, out=None):
    """The identity output ``a = z`` of a regressor trained on real targets.

    ``z`` itself when ``out`` is ``z``; otherwise a copy (into ``out``).
    """
    if out is z:
        return z
    return ops.positive(z, out=out)


def _largest_log(ops, dtype):
    """The largest ``z`` whose ``exp(z)`` is finite in ``dtype``.

    float32's rounded ``log(max)`` lies just above the true one, hence the step
    down (computed on the host in the same precision).
    """
    host = np.float32 if ops.finfo(dtype).bits == 32 else np.float64
    return float(np.nextafter(np.log(np.finfo(host).max), host(0)))


def exp(ops, z, out=None):
    """The inverse of the log link, ``mu = exp(z)``, of a Poisson regressor.

    The logit is the log of the predicted mean, so the mean is positive whatever
    the weights. Beyond ``log(max)`` the mean would overflow to inf (with a
    RuntimeWarning): the largest finite mean is predicted instead.

    Examples
    --------
    >>> import numpy as np
    >>> from skbp._core.namespace import NUMPY_OPS
    >>> exp(NUMPY_OPS, np.array([[0.0, np.log(3.0)]]))
    array([[1., 3.]])
    """
    capped = ops.minimum(z, _largest_log(ops, z.dtype), out=out)
    return ops.exp(capped, out=capped)


#: Output function name -> ``fn(ops, z, out=None)``: what ``predict``
#: (regressors) and ``predict_proba`` (classifiers) apply to the logits.
OUTPUT_FUNCTIONS = {
    "softmax": softmax,
    "logistic": logistic,
    "identity": identity,
    "exp": exp,
}


class ClassifierOutput(NamedTuple):
    """How a classifier's labels and probabilities follow from its logits.

    Attributes
    ----------
    indicator : bool
        Labels are the indicator matrix ``z > 0`` (multilabel); otherwise each
        row's label is the class of its largest score.
    mirror : bool
        One logit ``z`` stands for two classes: the scores are ``[-z, z]``
        (``sigmoid(-z) = 1 - sigmoid(z)``, both computed directly for precision
        near 0 and 1).
    log_logistic_first : bool
        The scores are ``log(sigmoid(z))`` before they are normalised:
        ``sigmoid(z) / sum(sigmoid(z))`` written as a softmax, which survives
        rows whose sigmoids all underflow to 0.
    normalise : bool
        Probabilities by a softmax over the scores (rows sum to 1); otherwise
        the sigmoid of each score.
    clip : bool
        Keep each probability strictly inside (0, 1): sigmoid rounds to exactly
        1.0 from ``z > 37``, which would claim certainty.
    """

    indicator: bool
    mirror: bool
    log_logistic_first: bool
    normalise: bool
    clip: bool


#: Output kind -> how its predictions are computed (see the module docstring).
CLASSIFIER_OUTPUTS = {
    "multilabel": ClassifierOutput(True, False, False, False, True),
    "binary": ClassifierOutput(False, True, False, False, False),
    "softmax": ClassifierOutput(False, False, False, True, False),
    "normalised_logistic": ClassifierOutput(False, False, True, True, False),
}


def classifier_output_kind(output: str, n_outputs: int, multilabel: bool) -> str:
    """The output kind of a classifier (a key of ``CLASSIFIER_OUTPUTS``).

    Parameters
    ----------
    output : {"softmax", "logistic"}
        The output function the network was trained with.
    n_outputs : int
        Number of output units.
    multilabel : bool
        Whether the targets are an indicator matrix.

    Returns
    -------
    str

    Examples
    --------
    >>> classifier_output_kind("logistic", 1, False)
    'binary'
    >>> classifier_output_kind("logistic", 3, False)
    'normalised_logistic'
    """
    if multilabel:
        return "multilabel"
    if n_outputs == 1:
        return "binary"
    return "softmax" if output == "softmax" else "normalised_logistic"


def _scores(ops, kind, z):
    """The logits as one score per class (mirrored for the binary kind)."""
    if CLASSIFIER_OUTPUTS[kind].mirror:
        return ops.concatenate([ops.negative(z), z], axis=1)  # (n_samples, 2)
    return z


def class_indices(ops, kind, z):
    """Predicted class indices (or the indicator matrix) of logits ``z``.

    Softmax and normalised logistic probabilities are both monotone in the
    logits, so the largest logit's class is the most probable one.
    """
    spec = CLASSIFIER_OUTPUTS[kind]
    if spec.indicator:
        return ops.astype(ops.greater(z, 0.0), ops.int64)
    # The first of tied maxima, as NumPy's argmax (and ONNX's ArgMax) take it.
    return ops.argmax(_scores(ops, kind, z), axis=1)


def class_probabilities(ops, kind, z, overwrite_z=False):
    """``predict_proba`` of logits ``z``: shape (n_samples, n_classes).

    With ``overwrite_z``, NumPy may compute in the buffer of ``z``.
    """
    spec = CLASSIFIER_OUTPUTS[kind]
    scores = _scores(ops, kind, z)
    if spec.log_logistic_first:
        scores = log_logistic(ops, scores)
    # Every step after the first new array computes in place.
    work = scores if (scores is not z or overwrite_z) else None
    if spec.normalise:
        return softmax(ops, scores, out=work)
    proba = logistic(ops, scores, out=work)
    if spec.clip:
        info = ops.finfo(proba.dtype)
        # The gap below 1 is half of eps in binary floating point.
        proba = ops.clip(proba, info.smallest_normal, 1.0 - info.eps / 2, out=proba)
    return proba


def class_log_probabilities(ops, kind, z):
    """``predict_log_proba`` of logits ``z``, finite where a probability is 0."""
    spec = CLASSIFIER_OUTPUTS[kind]
    scores = _scores(ops, kind, z)
    if spec.log_logistic_first:
        scores = log_logistic(ops, scores)
    if spec.normalise:
        return log_softmax(ops, scores)
    return log_logistic(ops, scores)
