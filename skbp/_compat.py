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
    from sklearn.utils._array_api import move_estimator_to, move_to
except ImportError:  # scikit-learn < 1.8 (skbp then supports NumPy only)
    move_estimator_to = move_to = None

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
    "move_estimator_hint",
    "move_to",
    "set_mlp_private_state",
    "CALLBACKS_AVAILABLE",
    "CallbackSupport",
    "MIN_SKLEARN_FOR_CALLBACKS",
    "DocLinkMixin",
    "ParameterCheckMixin",
    "has_callbacks",
    "init_callback_context",
    "validate_params",
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
    """The losses this scikit-learn's MLPRegressor accepts (Poisson from 1.7).

    The one source of that list: read from the installed MLPRegressor's own
    parameter constraints.
    """
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


def move_estimator_hint(what="the model"):
    """Words telling a user how to move a fitted model between array libraries.

    scikit-learn's ``move_estimator_to`` is not public API; it is named here,
    with the module it lives in, so that a message never spells out a private
    path that a scikit-learn release may move.
    """
    if move_estimator_to is None:
        return f"refit {what} on arrays of the library you want to predict on"
    where = f"{move_estimator_to.__module__}.{move_estimator_to.__name__}"
    return f"move {what} with scikit-learn's {where}(model, numpy, 'cpu')"


def validate_params(estimator):
    """Check an estimator's parameters against its constraints, as fit does."""
    estimator._validate_params()


class ParameterCheckMixin:
    """Runs ``_check_params_first`` before scikit-learn's parameter validation.

    ``_fit_context`` validates the parameters before ``fit`` runs; a mixin's
    override of scikit-learn's private ``_validate_params`` is the only place
    to say something more helpful first. The estimator defines
    ``_check_params_first``.
    """

    def _validate_params(self):
        self._check_params_first()
        super()._validate_params()


class DocLinkMixin:
    """Point the HTML representation's ``?`` icon at skbp's own API pages.

    scikit-learn builds the link from ``_doc_link_module`` (estimators whose
    module starts with it get a link) and ``_doc_link_template`` (formatted with
    the estimator's ``estimator_name``). The URL is the estimator's class
    attribute or property ``_api_page_url`` (a template with
    ``{estimator_name}``).
    """

    _doc_link_module = "skbp"

    @property
    def _doc_link_template(self):
        return self._api_page_url


class _CallbacksNeedNewerSklearn:
    """Stand-in for ``CallbackSupportMixin`` on scikit-learn < 1.9."""

    def set_callbacks(self, *callbacks):
        """Set callbacks for the estimator (needs scikit-learn >= 1.9).

        Parameters
        ----------
        *callbacks : callback instances
            Callbacks of ``sklearn.callback``.

        Returns
        -------
        self : estimator instance
            Never returns here: this scikit-learn has no callback API.

        Raises
        ------
        ImportError
            Always, naming the scikit-learn version that is needed.
        """
        import sklearn

        raise ImportError(
            f"set_callbacks needs scikit-learn >= {MIN_SKLEARN_FOR_CALLBACKS} (its "
            f"sklearn.callback API); this environment has scikit-learn "
            f"{sklearn.__version__}. Upgrade with: "
            f'pip install "scikit-learn>={MIN_SKLEARN_FOR_CALLBACKS}"'
        )


#: The first scikit-learn release with ``sklearn.callback``.
MIN_SKLEARN_FOR_CALLBACKS = "1.9"

#: Whether this scikit-learn has the callback API.
CALLBACKS_AVAILABLE = CallbackSupportMixin is not None

#: The base class that gives both estimators ``set_callbacks``.
CallbackSupport = CallbackSupportMixin or _CallbacksNeedNewerSklearn


def init_callback_context(estimator, max_subtasks):
    """The root callback context of a fit, or None without the callback API."""
    if CallbackSupportMixin is None:
        return None
    return estimator._init_callback_context(max_subtasks=max_subtasks)


def has_callbacks(estimator):
    """Whether callbacks are set on ``estimator`` (directly or propagated)."""
    return bool(getattr(estimator, "_skl_callbacks", None))
