"""The parameters both estimators share: their constraints, and the checks of
the values that the constraints cannot express.

``PARAMETER_CONSTRAINTS`` is scikit-learn's parameter validation table of
``BaseBP`` (the subclasses add ``loss`` and their own parameters).
``hidden_layer_sizes``, ``activation`` and ``dropout`` also accept tuples whose
elements the table cannot check, and whose lengths must agree with each other:
``hidden_sizes``, ``hidden_activations`` and ``dropout_rates`` take the values
and return the per-layer settings of the numeric core (canonical activation
names, float rates), or raise with a message naming the parameter. The
parameters themselves are never rewritten (``clone`` and ``GridSearchCV``
depend on that).

It imports ``_compat`` and the numeric core, no estimator module.
"""

from numbers import Integral, Real

import numpy as np

from skbp._compat import Interval, Options, StrOptions
from skbp._core.activations import ACTIVATIONS, ALIASES, resolve_activation
from skbp._core.initializers import INITS
from skbp._core.optimizers import SCHEDULES

#: Every name ``activation`` accepts: canonical names and their aliases.
ACTIVATION_NAMES = set(ACTIVATIONS) | set(ALIASES)

#: scikit-learn's constraints on the shared parameters (``_parameter_constraints``).
PARAMETER_CONSTRAINTS = {
    "hidden_layer_sizes": [
        "array-like",
        Interval(Integral, 1, None, closed="left"),
    ],
    "activation": [StrOptions(ACTIVATION_NAMES), tuple, list],
    "solver": [StrOptions({"sgd", "adam", "lbfgs"})],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "learning_rate_schedule": [StrOptions(set(SCHEDULES))],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [
        StrOptions({"auto"}),
        Interval(Integral, 1, None, closed="left"),
    ],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    # np.inf switches the plateau rule off, as in scikit-learn's MLP.
    "n_iter_no_change": [
        Interval(Integral, 1, None, closed="left"),
        Options(Real, {np.inf}),
    ],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "init": [StrOptions(set(INITS))],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "scoring": [None, str, callable],
    "dropout": [Interval(Real, 0, 1, closed="left"), tuple, list],
}


def hidden_sizes(hidden_layer_sizes):
    """``hidden_layer_sizes`` as a tuple of positive ints, checked.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int
    """
    sizes = hidden_layer_sizes
    if isinstance(sizes, Integral):
        sizes = (sizes,)
    sizes = tuple(sizes)
    for n in sizes:
        if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(
                "hidden_layer_sizes must be a positive integer or a sequence of "
                f"positive integers, got {hidden_layer_sizes!r}."
            )
    return tuple(int(n) for n in sizes)


def hidden_activations(activation, n_hidden, hidden_layer_sizes):
    """The canonical activation name of each hidden layer, checked.

    Parameters
    ----------
    activation : str or sequence of str
        One name for every hidden layer, or one name per hidden layer.
    n_hidden : int
        Number of hidden layers.
    hidden_layer_sizes : int or sequence of int
        As given, for the message when the lengths disagree.
    """
    if isinstance(activation, str):
        return (resolve_activation(activation),) * n_hidden
    names = tuple(activation)
    if len(names) != n_hidden:
        raise ValueError(
            f"activation has {len(names)} entries but there are {n_hidden} "
            f"hidden layers (hidden_layer_sizes={hidden_layer_sizes!r}); "
            "give one activation per hidden layer or a single name."
        )
    for name in names:
        if not isinstance(name, str) or ALIASES.get(name, name) not in ACTIVATIONS:
            raise ValueError(
                f"Unknown activation {name!r} in activation={activation!r}; "
                f"choose from {sorted(ACTIVATION_NAMES)}."
            )
    return tuple(resolve_activation(name) for name in names)


def dropout_rates(dropout, n_hidden):
    """``dropout`` as one rate per hidden layer, checked.

    Parameters
    ----------
    dropout : float or sequence of float
        One rate for every hidden layer, or one rate per hidden layer.
    n_hidden : int
        Number of hidden layers.
    """
    if isinstance(dropout, Real):
        rates = (float(dropout),) * n_hidden
    else:
        rates = tuple(dropout)
        if len(rates) != n_hidden:
            raise ValueError(
                f"dropout has {len(rates)} entries but there are {n_hidden} "
                "hidden layers; give one rate per hidden layer or a single "
                "number."
            )
    for rate in rates:
        if not isinstance(rate, Real) or not 0.0 <= rate < 1.0:
            raise ValueError(
                f"dropout rates must be numbers in [0, 1), got {dropout!r}."
            )
    return tuple(float(rate) for rate in rates)
