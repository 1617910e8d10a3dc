"""The data of one ``fit`` / ``partial_fit`` call, as records.

``BaseBP._fit`` (``skbp._base``) validates and encodes its input once into a
``FitData`` record, which the solver set-up and the hold-out split
(``skbp._holdout``) then take whole, instead of the arrays and the kind of call
threaded one by one through long argument lists. A ``ValidationSet`` holds the
arrays a validation score is computed on.

Both records are plain containers: they import nothing, check nothing and are
never stored on the estimator.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ValidationSet:
    """The arrays of a validation set.

    Attributes
    ----------
    X : {array-like, sparse matrix} of shape (n_val, n_features)
        Inputs; once checked, in the network's array library and dtype.
    y : array-like of shape (n_val,) or (n_val, n_outputs)
        Targets as ``fit`` takes them (once checked, a NumPy array).
    sample_weight : array-like of shape (n_val,) or None, default=None
        None means every sample weighs 1.
    """

    X: Any
    y: Any
    sample_weight: Any = None


@dataclass(frozen=True)
class FitData:
    """The training data of one ``fit`` / ``partial_fit`` call, checked and encoded.

    Attributes
    ----------
    X : {ndarray, CSR matrix, array} of shape (n_samples, n_features)
        Validated inputs in the array library and dtype the network trains in
        (CSR when sparse: minibatches slice rows).
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        The validated targets, on the host (NumPy): what the stratified split
        and the default validation scores compare with.
    Y : array of shape (n_samples, n_outputs)
        The encoded targets that the loss compares the outputs with, in ``X``'s
        array library.
    sample_weight : array of shape (n_samples,) or None
        Validated weights (``class_weight`` multiplied in), in ``X``'s array
        library; None means every sample weighs 1.
    incremental : bool
        True for ``partial_fit``: one epoch, continuing the history.
    validation : ValidationSet or None, default=None
        The ``X_val`` / ``y_val`` / ``sample_weight_val`` given to ``fit``, not
        yet checked.
    """

    X: Any
    y: Any
    Y: Any
    sample_weight: Any
    incremental: bool
    validation: ValidationSet | None = None
