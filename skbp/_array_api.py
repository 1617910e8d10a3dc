"""The estimators' side of array API support: which library an input is in.

With ``sklearn.set_config(array_api_dispatch=True)``, ``fit`` takes arrays of any
array API namespace (PyTorch, CuPy, array-api-strict, ...) and trains in it, on
the input's device; the fitted ``coefs_`` and ``intercepts_`` stay there. This
module turns scikit-learn's view of an input (its namespace and device, found
with scikit-learn's own helpers through ``_compat``) into the core's
``ArrayNamespace``, moves the small things that are prepared on the host (the
encoded targets, the sample weights) to the device, and checks that a fitted
model is called with arrays of the namespace and device it was fitted on, with
scikit-learn's message.

What stays on the host, in NumPy: the labels and their encoding (``classes_``
follows scikit-learn's rule for array API classifiers: the namespace and device
of ``y``), the sample-weight checks, the regressor's target statistics, the
random draws, and SciPy's L-BFGS line search.
"""

from functools import partial

import numpy as np
from sklearn import get_config

from skbp._compat import (
    ARRAY_API_SUPPORTED,
    get_namespace_and_device,
    is_numpy_namespace,
    move_estimator_hint,
    move_to,
)
from skbp._core.namespace import NUMPY, ArrayNamespace

#: The oldest scikit-learn whose array API helpers skbp uses.
MIN_SKLEARN_FOR_ARRAY_API = "1.8"


def dispatch_enabled():
    """Whether ``sklearn.set_config(array_api_dispatch=True)`` is in effect."""
    return bool(get_config()["array_api_dispatch"])


def _library_name(xp):
    """``torch`` for ``sklearn.externals.array_api_compat.torch``, and so on."""
    return xp.__name__.rsplit(".", 1)[-1]


def input_namespace(X):
    """The ``ArrayNamespace`` to train or predict in for the input ``X``.

    NumPy (with the core's fast paths) unless array API dispatch is on and ``X``
    is an array of another library: then that library's namespace and ``X``'s
    device, with scikit-learn's ``move_to`` as the way to the host and back.
    Sparse matrices, lists and DataFrames are NumPy input.
    """
    if not dispatch_enabled():
        return NUMPY
    xp, is_array_api, device = get_namespace_and_device(X)
    if not is_array_api or is_numpy_namespace(xp):
        return NUMPY
    if not ARRAY_API_SUPPORTED:
        import sklearn

        raise ImportError(
            f"Training skbp's estimators on {_library_name(xp)} arrays needs "
            f"scikit-learn >= {MIN_SKLEARN_FOR_ARRAY_API} (its array API helpers); "
            f"this environment has scikit-learn {sklearn.__version__}. Upgrade, "
            "or pass NumPy arrays."
        )
    return ArrayNamespace(
        xp,
        device,
        to_host=partial(move_to, xp=np, device="cpu"),
        to_device=partial(move_to, xp=xp, device=device),
        name=_library_name(xp),
    )


def to_numpy(array):
    """A NumPy array of ``array`` when it is an array of any library.

    Anything else (None, lists, scalars, sparse matrices, DataFrames) is
    returned as it is, for scikit-learn's own validation to handle.
    """
    if array is None or isinstance(array, np.ndarray):
        return array
    is_array = hasattr(array, "__array_namespace__") or hasattr(array, "__dlpack__")
    if is_array and ARRAY_API_SUPPORTED and dispatch_enabled():
        xp, is_array_api, _ = get_namespace_and_device(array)
        if is_array_api and not is_numpy_namespace(xp):
            return move_to(array, xp=np, device="cpu")
    return array


def namespace_and_device(array):
    """``(xp, device)`` of an array (NumPy's for anything that is not one)."""
    xp, _, device = get_namespace_and_device(array)
    return xp, device


def namespace_of_fitted(array):
    """The ``ArrayNamespace`` a fitted attribute lives in (NumPy's for ndarrays)."""
    if isinstance(array, np.ndarray):
        return NUMPY
    return input_namespace(array)


def check_same_namespace(namespace, X, name):
    """Raise unless ``X`` is in ``namespace`` and on its device.

    For a second input of ``fit`` (the validation set ``X_val``), which must be
    where ``X`` is.
    """
    other = input_namespace(X)
    if other.xp is namespace.xp and other.device == namespace.device:
        return
    raise ValueError(
        f"{name} must be in the array namespace and on the device of X "
        f"({_describe(namespace)}); got {_describe(other)}. Move {name} there "
        "(e.g. torch.asarray(X_val, device=X.device))."
    )


def _describe(namespace):
    """``numpy arrays`` or ``torch arrays on device cuda:0``, for messages."""
    if namespace.is_numpy:
        return "numpy arrays"
    return f"{namespace.name} arrays on device {namespace.device}"


def _fitted_description(estimator):
    array = estimator.coefs_[0]
    if isinstance(array, np.ndarray):
        return "numpy", None
    return type(array).__module__.split(".")[0], getattr(array, "device", None)


def fitted_namespace(estimator, X, method):
    """The ``ArrayNamespace`` of a fitted model, checked against ``X``'s.

    A model predicts on arrays of the namespace and device it was fitted on
    (scikit-learn's rule): anything else is a ``ValueError`` with scikit-learn's
    message, as is a model fitted on another library called with array API
    dispatch off.
    """
    coef = estimator.coefs_[0]
    name = type(estimator).__name__
    if not dispatch_enabled():
        if isinstance(coef, np.ndarray):
            return NUMPY
        library, device = _fitted_description(estimator)
        raise ValueError(
            f"Inputs passed to {name}.{method}() must use the same namespace and "
            "the same device as those passed to fit(). This model was fitted on "
            f"{library} arrays (device {device}) with array API dispatch on: "
            "call sklearn.set_config(array_api_dispatch=True) and pass arrays of "
            f"that library and device, or {move_estimator_hint('the model to NumPy')}."
        )
    model_ns = namespace_of_fitted(coef)
    X_xp, _, X_device = get_namespace_and_device(X)
    if model_ns.is_numpy and is_numpy_namespace(X_xp):
        return model_ns  # lists, sparse matrices and ndarrays alike
    if not model_ns.is_numpy and X_xp == model_ns.xp and X_device == model_ns.device:
        return model_ns
    if X_device is None:
        what = "the array-like input"
    else:
        what = f"{_library_name(X_xp)} arrays on device {X_device}"
    raise ValueError(
        f"Inputs passed to {name}.{method}() must use the same namespace and the "
        "same device as those passed to fit(). This model was fitted on "
        f"{model_ns.name} arrays (device {model_ns.device}), and {method} was "
        f"given {what}. Move the inputs to the model's namespace and device, or "
        f"{move_estimator_hint()}."
    )
