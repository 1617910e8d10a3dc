"""The only module that touches private scikit-learn names.

It imports scikit-learn's private helpers and reads and writes the private
attributes of its fitted MLPs (for ``from_mlp`` / ``to_mlp``). If a scikit-learn
release moves or renames one of them, this is the one file to change.
"""

import inspect

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._array_api import (
    _is_numpy_namespace,
    get_namespace_and_device,
)
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.validation import _check_sample_weight

try:  # scikit-learn >= 1.8: arrays between namespaces and devices
    from sklearn.utils._array_api import move_to
except ImportError:  # scikit-learn < 1.8 (skbp then supports NumPy only)
    move_to = None

try:  # scikit-learn >= 1.9; its fit hooks are the private _init_callback_context
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9 has no callback API
    CallbackSupportMixin = None

__all__ = [
    "ARRAY_API_SUPPORTED",
    "CallbackSupportMixin",
    "check_sample_weight",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "get_namespace_and_device",
    "is_callback_state",
    "is_numpy_namespace",
    "mlp_label_binarizer",
    "mlp_no_improvement_count",
    "mlp_regression_losses",
    "move_to",
    "set_mlp_private_state",
]

#: Whether this scikit-learn has what skbp's array API support is built on: its
#: ``move_to`` and its vendored array-api-compat (scikit-learn >= 1.8).
ARRAY_API_SUPPORTED = move_to is not None


def is_numpy_namespace(xp):
    """Whether ``xp`` (from ``get_namespace_and_device``) is NumPy's."""
    return _is_numpy_namespace(xp)


def mlp_label_binarizer(mlp):
    """The fitted ``LabelBinarizer`` of an ``MLPClassifier``, or None."""
    return getattr(mlp, "_label_binarizer", None)


def mlp_regression_losses():
    """The losses this scikit-learn's MLPRegressor accepts (Poisson from 1.7)."""
    from sklearn.neural_network import MLPRegressor

    constraint = MLPRegressor._parameter_constraints.get("loss")
    if constraint is None:
        return ("squared_error",)
    return tuple(sorted(constraint[0].options))


def mlp_no_improvement_count(mlp):
    """How many epochs an MLP has gone without improvement (0 if unknown)."""
    return int(getattr(mlp, "_no_improvement_count", 0))


def set_mlp_private_state(mlp, *, no_improvement_count, label_binarizer=None):
    """Set the private attributes a fitted MLP reads when it trains on.

    ``_best_coefs`` / ``_best_intercepts`` (early stopping's snapshot, read at
    the end of the next fit) start as copies of the current weights, as
    scikit-learn's own first fit makes them.

    Parameters
    ----------
    mlp : MLPClassifier or MLPRegressor
        A model whose ``coefs_`` and ``intercepts_`` are set.
    no_improvement_count : int
        Epochs without improvement so far.
    label_binarizer : LabelBinarizer, optional
        The classifier's fitted binarizer.
    """
    mlp._best_coefs = [c.copy() for c in mlp.coefs_]
    mlp._best_intercepts = [b.copy() for b in mlp.intercepts_]
    mlp._no_improvement_count = int(no_improvement_count)
    if label_binarizer is not None:
        mlp._label_binarizer = label_binarizer


def is_callback_state(name):
    """Whether an estimator attribute is scikit-learn's callback bookkeeping.

    scikit-learn >= 1.9 stores a fit's callback context and the callbacks to
    tear down on the estimator itself (``_callback_fit_ctx``,
    ``_skl_callbacks_to_teardown``, ``_parent_callback_ctx``).
    """
    return name.startswith("_skl_") or "callback" in name


#: scikit-learn >= 1.8 rejects all-zero weights itself, with a message of its own.
_ZERO_WEIGHTS_FLAG = (
    "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
)


def check_sample_weight(sample_weight, n_samples, *, dtype):
    """Validated non-negative sample weights, a NumPy array of ``dtype``.

    All-zero weights are let through: skbp checks for them itself, after
    ``class_weight`` is multiplied in, so its message is the same on every
    scikit-learn version. The weights are validated on the host, for
    ``n_samples`` rows (scikit-learn reads only the length of the ``X`` it
    is given, here a zero-column stand-in), and a NumPy ``dtype``.
    """
    kwargs = {"allow_all_zero_weights": True} if _ZERO_WEIGHTS_FLAG else {}
    stand_in = np.empty((n_samples, 0), dtype=dtype)
    return _check_sample_weight(
        sample_weight, stand_in, dtype=dtype, ensure_non_negative=True, **kwargs
    )
