"""Input validation of both estimators, for training and for prediction.

"Validation" in scikit-learn's sense: checking the input (the hold-out set of
early stopping is ``skbp._holdout``). ``validate_training_input`` runs
scikit-learn's ``validate_data`` with the estimators' rules (float64 or float32,
CSR or CSC, multi-output targets); ``validate_prediction_input`` checks that a
model is fitted and validates what its predictors are given, with a lean path
for a clean NumPy array. Both take the estimator, as ``validate_data`` does,
for the number of features and the feature names it records and checks.

It imports ``_array_api`` and the numeric core, no estimator module.
"""

import math

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from skbp._array_api import fitted_namespace, to_numpy
from skbp._core.namespace import NUMPY


def native_byte_order(X):
    """``X`` in native byte order when it is an ndarray stored otherwise.

    ``validate_data`` recognises float32 only in native byte order: it would
    turn big-endian float32 data into float64, and train a float64 model.
    scikit-learn 1.6 also takes a big-endian integer indicator matrix for a
    multiclass-multioutput target rather than a multilabel one.
    """
    if isinstance(X, np.ndarray) and not X.dtype.isnative:
        return X.astype(X.dtype.newbyteorder("="))
    return X


def validate_training_input(estimator, X, y, *, reset, xp, y_numeric):
    """Validate ``X`` and ``y`` for training.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    reset : bool
        Record the number of features and their names (a first fit) instead
        of checking them.
    xp : module
        The array namespace of ``X``, which it stays in.
    y_numeric : bool
        Whether ``y`` must hold numbers (the regressor's targets).

    Returns
    -------
    X : validated, float64 or float32, in ``xp``
    y : ndarray
        On the host (NumPy).
    """
    X, y = validate_data(
        estimator,
        native_byte_order(X),
        native_byte_order(to_numpy(y)),
        accept_sparse=["csr", "csc"],
        dtype=(xp.float64, xp.float32),
        multi_output=True,
        y_numeric=y_numeric,
        reset=reset,
    )
    return X, to_numpy(y)


def validate_prediction_input(estimator, X, method):
    """Check that ``estimator`` is fitted and validate ``X`` as every predictor does.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    method : str
        The predictor's name, for the messages.

    Returns
    -------
    namespace : ArrayNamespace
        The model's, which must be ``X``'s (a ``ValueError`` otherwise).
    X : validated, in the model's dtype
    """
    if not estimator.__sklearn_is_fitted__():
        check_is_fitted(estimator)  # raises NotFittedError with sklearn's message
    coef = estimator.coefs_[0]
    values = _plain_frame_values(X, coef, estimator)
    if values is not None and _is_plain_valid_input(values, coef, estimator, True):
        return NUMPY, values
    if _is_plain_valid_input(X, coef, estimator):
        return NUMPY, X
    ns = fitted_namespace(estimator, X, method)
    X = validate_data(
        estimator,
        X,
        accept_sparse=["csr", "csc"],
        dtype=(ns.xp.float64, ns.xp.float32),
        reset=False,
    )
    if X.dtype != coef.dtype:
        X = ns.astype(X, coef.dtype)
    return ns, X


def _is_plain_valid_input(X, coef, estimator, named=False):
    """True for input that ``validate_data`` would pass through unchanged.

    A 2-D, non-empty, finite ndarray in the model's dtype (that of ``coef``,
    its first weight matrix) with the right number of columns, for a model
    fitted without feature names (``named``: the values of a DataFrame whose
    names ``_plain_frame_values`` checked): full validation would only confirm
    it, at ~100 us per call, which dominates predicting one row. Anything else
    takes the full path and its errors.
    """
    return (
        type(X) is np.ndarray
        and type(coef) is np.ndarray
        and X.ndim == 2
        and X.dtype == coef.dtype
        and X.shape[0] > 0
        and X.shape[1] == estimator.n_features_in_
        and (named or not hasattr(estimator, "feature_names_in_"))
        # Every entry is finite exactly when the largest and the smallest are
        # (NaN propagates through both). Unlike a sum (scikit-learn's check),
        # they cannot overflow: no RuntimeWarning for huge inputs.
        and math.isfinite(np.maximum.reduce(X, axis=None))
        and math.isfinite(np.minimum.reduce(X, axis=None))
    )


def _plain_frame_values(X, coef, estimator):
    """The values of a pandas DataFrame that full validation would only convert.

    A DataFrame with exactly the fitted feature names, in order, and only NumPy
    float or integer columns: ``validate_data`` would check the names, then
    inspect every column's dtype through pandas (about 7 ms for 784 columns,
    most of a one-row prediction) and convert. Here the names are compared at
    once and the dtypes read in one pass (about 0.15 ms); the values, in the
    model's dtype, then take the ndarray checks. None for anything else, which
    takes the full path, its warnings and its errors.
    """
    names = getattr(estimator, "feature_names_in_", None)
    kind = type(X)
    if (
        names is None
        or kind.__name__ != "DataFrame"
        or not kind.__module__.startswith("pandas")
        or type(coef) is not np.ndarray
        or X.shape[1] != len(names)
        or not np.array_equal(X.columns.to_numpy(), names)
    ):
        return None
    for dtype in set(X.dtypes):
        if not isinstance(dtype, np.dtype) or dtype.kind not in "fiu":
            return None
    return X.to_numpy(dtype=coef.dtype)
