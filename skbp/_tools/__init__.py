"""Tools built on the estimators' public API: gradient check, training-curve
display, ONNX export, out-of-core training and the digits demo.

What a tool needs to know of a fitted estimator beyond its public attributes it
reads through ``skbp._introspect``; optional libraries are imported when a tool
is used, never when skbp is.
"""

import importlib


def import_optional(name, hint):
    """The module ``name``, or an ImportError that says how to install it.

    Parameters
    ----------
    name : str
        A module of an optional dependency (``"matplotlib.pyplot"``).
    hint : str
        What the user reads: which tool needs it and the install command.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(hint) from exc
