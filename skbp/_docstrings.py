"""Parameter documentation shared by BPClassifier and BPRegressor, written once.

A docstring marks a shared entry with a line holding only ``%(name)s`` (indented
as the entry should be); ``fill_doc`` replaces that line with the entry below,
indented to match. Whole-line markers keep the rest of the docstring free of
``%`` formatting, so math and set literals in it need no escaping.

This module imports nothing from scikit-learn or skbp. It also knows where the
API pages are published (``api_page_url_template``).
"""

import re
import textwrap
from importlib import metadata

_MARKER = re.compile(r"^(?P<indent>[ \t]*)%\((?P<name>\w+)\)s[ \t]*$", re.MULTILINE)

PARAMETERS = {
    "hidden_layer_sizes": """\
hidden_layer_sizes : int or tuple of int, default=(100,)
    Number of units in each hidden layer; ``()`` gives a model without hidden
    layers (a generalised linear model).
""",
    "activation": """\
activation : {'relu', 'sigmoid', 'logistic', 'tanh', 'softsign', 'identity', \
'leaky_relu', 'elu', 'softplus', 'gelu'} or tuple of str, default='relu'
    Hidden-layer activation, or one name per hidden layer:

    - ``'sigmoid'`` (alias ``'logistic'``): :math:`f(z) = 1 / (1 + e^{-z})`;
    - ``'tanh'``: :math:`f(z) = \\tanh z`;
    - ``'relu'``: :math:`f(z) = \\max(0, z)`;
    - ``'softsign'``: :math:`f(z) = z / (1 + |z|)`;
    - ``'identity'``: :math:`f(z) = z`;
    - ``'leaky_relu'``: :math:`f(z) = z` if :math:`z > 0` else :math:`0.01 z`;
    - ``'elu'``: :math:`f(z) = z` if :math:`z > 0` else :math:`e^z - 1`;
    - ``'softplus'``: :math:`f(z) = \\log(1 + e^z)`;
    - ``'gelu'`` (exact, not the tanh approximation):
      :math:`f(z) = z \\, \\Phi(z) = \\frac{z}{2}(1 + \\mathrm{erf}(z/\\sqrt{2}))`.
""",
    "solver": """\
solver : {'adam', 'sgd', 'lbfgs'}, default='adam'
    ``'sgd'``: minibatch gradient descent with ``momentum`` and
    ``nesterovs_momentum``; ``'adam'``: Adam; ``'lbfgs'``: SciPy's L-BFGS-B on
    the full batch.
""",
    "learning_rate": """\
learning_rate : float, default=0.001
    Step size of ``'sgd'`` and ``'adam'`` (``learning_rate_init`` in
    scikit-learn's MLP, with the same default: 0.003 fitted faster but lost
    accuracy on wider networks, see ``benchmarks/bench_defaults.py``).
""",
    "learning_rate_schedule": """\
learning_rate_schedule : {'constant', 'invscaling', 'adaptive'}, \
default='constant'
    How ``'sgd'`` changes the step size between epochs (``learning_rate`` in
    scikit-learn's MLP): ``'invscaling'`` uses
    ``learning_rate / (t + 1) ** power_t`` with ``t`` the samples seen;
    ``'adaptive'`` divides it by 5 each time training stops improving.
""",
    "power_t": """\
power_t : float, default=0.5
    Exponent of the ``'invscaling'`` schedule.
""",
    "momentum": """\
momentum : float, default=0.9
    Momentum of ``'sgd'``, in [0, 1].
""",
    "nesterovs_momentum": """\
nesterovs_momentum : bool, default=True
    Use Nesterov's momentum with ``'sgd'``.
""",
    "beta_1": """\
beta_1, beta_2 : float, default=0.9, 0.999
    Decay rates of Adam's first and second moment estimates, in [0, 1).
""",
    "epsilon": """\
epsilon : float, default=1e-8
    Adam's numerical-stability constant.
""",
    "alpha": """\
alpha : float, default=1e-4
    L2 penalty on the weights (not the biases), divided by the sum of the
    sample weights of each batch.
""",
    "batch_size": """\
batch_size : int or 'auto', default='auto'
    Minibatch size; ``'auto'`` uses ``min(200, n_samples)``; 1 is online
    backpropagation. Ignored by ``'lbfgs'``.
""",
    "max_iter": """\
max_iter : int, default=200
    Maximum number of epochs (``'sgd'``, ``'adam'``) or L-BFGS iterations.
""",
    "tol": """\
tol : float, default=1e-4
    An epoch improves when the loss drops (or the validation score rises) by
    more than ``tol``; with ``'lbfgs'``, the gradient tolerance.
""",
    "n_iter_no_change": """\
n_iter_no_change : int or np.inf, default=10
    Training stops (or ``'adaptive'`` lowers the rate) after more than this
    many epochs without improvement; ``np.inf`` switches this rule off, as in
    scikit-learn's MLP.
""",
    "validation_fraction": """\
validation_fraction : float, default=0.1
    Share of the training data held out for early stopping, in (0, 1).
""",
    "shuffle": """\
shuffle : bool, default=True
    Shuffle the samples every epoch.
""",
    "random_state": """\
random_state : int, RandomState instance or None, default=None
    Controls weight initialisation, shuffling, dropout masks and the
    validation split.
""",
    "verbose": """\
verbose : int, default=0
    ``>= 1`` prints one line per epoch, beginning as scikit-learn's MLP does
    (``Iteration N, loss = ...``), then the validation score if any and the
    seconds.
""",
    "warm_start": """\
warm_start : bool, default=False
    Continue from the previous solution, optimiser state included. If
    ``coefs_`` or ``intercepts_`` were changed since the last fit, the kept
    optimiser state (momentum velocity, Adam moments) no longer belongs to
    the weights and is started afresh.
""",
    "init": """\
init : {'auto', 'glorot_uniform', 'he_uniform', 'uniform'}, default='auto'
    Weight initialisation: ``'auto'`` is scikit-learn's MLP scheme,
    Glorot-uniform :math:`U(-b, b)` with :math:`b = \\sqrt{6 / (n_{in} +
    n_{out})}` (:math:`\\sqrt{2 / (n_{in} + n_{out})}` in all-sigmoid
    networks), so the same ``random_state`` starts from the same weights as
    MLPClassifier / MLPRegressor; ``'he_uniform'`` uses
    :math:`b = \\sqrt{6 / n_{in}}`; ``'uniform'`` is U(-1, 1), the classic
    write-up's choice.
""",
    "max_fun": """\
max_fun : int, default=15000
    Maximum number of loss evaluations of ``'lbfgs'``.
""",
    "dropout": """\
dropout : float or tuple of float, default=0.0
    Inverted dropout: during training, each hidden unit's output is set to 0
    with this probability (one value, or one per hidden layer) and the kept
    ones are scaled by ``1 / (1 - p)``; prediction uses every unit. Masks
    are drawn from ``random_state``. Stochastic solvers only.
""",
}

ATTRIBUTES = {
    "weights": """\
n_features_in_ : int
    Number of features seen during fit.
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Feature names, when ``X`` had string column names.
coefs_ : list of ndarray
    Weight matrices, ``coefs_[i]`` of shape ``(n_in, n_out)``.
intercepts_ : list of ndarray
    Bias vectors, ``intercepts_[i]`` of shape ``(n_out,)``.
n_layers_ : int
    Number of layers, input and output included.
n_outputs_ : int
    Number of output units.
""",
    "history": """\
loss_ : float
    Training loss of the last epoch (L-BFGS: at the solution).
best_loss_ : float or None
    Lowest training loss seen; None with ``early_stopping=True``, where the
    validation score decides (as in scikit-learn's MLP).
loss_curve_ : list of float
    Training loss of every epoch (L-BFGS: every iteration).
validation_scores_ : list of float or None
    Validation score (see ``scoring``) of every epoch, with
    ``early_stopping`` or an ``X_val``; else None.
validation_loss_curve_ : list of float or None
    Validation loss (the training loss's data term, without L2) of every
    epoch, with ``early_stopping`` or an ``X_val``; else None.
best_validation_score_ : float or None
    Best of ``validation_scores_``, or None.
n_iter_ : int
    Epochs (L-BFGS: iterations) run by the last call.
t_ : int
    Training samples processed by the solver over all calls.
""",
}

FIT_VALIDATION = {
    "fit_validation": """\
X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
    A validation set of your own (the convention of scikit-learn's
    HistGradientBoosting). It is scored after every epoch
    (``validation_scores_``, ``validation_loss_curve_``); with
    ``early_stopping=True`` it replaces the ``validation_fraction``
    split. Stochastic solvers only.
y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
    Targets of ``X_val``; required with it.
sample_weight_val : array-like of shape (n_val,), default=None
    Weights of the validation samples.
""",
}

DOCS = {**PARAMETERS, **ATTRIBUTES, **FIT_VALIDATION}


def fill_doc(obj):
    """Replace every ``%(name)s`` marker line in ``obj.__doc__`` with ``DOCS[name]``.

    Parameters
    ----------
    obj : class or function
        Its docstring is rewritten in place.

    Returns
    -------
    obj
        The same object, so this works as a decorator.

    Raises
    ------
    KeyError
        If a marker names no entry of ``DOCS``.

    Examples
    --------
    >>> def f():
    ...     '''Summary.
    ...
    ...     Parameters
    ...     ----------
    ...     %(shuffle)s
    ...     '''
    >>> print(fill_doc(f).__doc__.splitlines()[4])
        shuffle : bool, default=True
    """

    def entry(match):
        text = DOCS[match["name"]].rstrip("\n")
        return textwrap.indent(text, match["indent"], lambda line: line.strip())

    if obj.__doc__:
        obj.__doc__ = _MARKER.sub(entry, obj.__doc__)
    return obj


def api_page_url_template():
    """The URL template of an estimator's API page, ``{estimator_name}`` open.

    Built from the ``Documentation`` URL of the package's metadata
    (``[project.urls]`` in ``pyproject.toml``, the one place to change when the
    docs move); an empty string, which scikit-learn shows as no link, where
    skbp runs without installed metadata.
    """
    try:
        urls = metadata.metadata("skbp").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return ""
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip() == "Documentation":
            return url.strip().rstrip("/") + "/generated/skbp.{estimator_name}.html"
    return ""
