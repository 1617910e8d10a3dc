"""The only module that imports private scikit-learn names.

If a scikit-learn release moves one of them, this is the one file to change.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import _check_sample_weight

try:  # scikit-learn >= 1.9; its fit hooks are the private _init_callback_context
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9 has no callback API
    CallbackSupportMixin = None

__all__ = [
    "CallbackSupportMixin",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
]
