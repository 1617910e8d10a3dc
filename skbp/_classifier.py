"""BPClassifier: the scikit-learn estimator around the numpy backprop core.

This module owns everything scikit-learn specific: parameter validation, input
validation, label binarisation, sample and class weights, the early-stopping split
and the fitted attributes. The learning itself is in ``_network`` and
``_training``, which know nothing about scikit-learn.
"""

import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, check_scoring
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d, compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from skbp._activations import ACTIVATIONS, ALIASES, resolve_activation
from skbp._callbacks import CallbackHooks, CallbackSupport, has_callbacks
from skbp._compat import (
    Interval,
    InvalidParameterError,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)
from skbp._initializers import INITS, init_params, layer_schemes
from skbp._losses import LOSSES, log_softmax, output_function_for, softmax
from skbp._network import Network
from skbp._optimizers import SCHEDULES, SGD, Adam
from skbp._training import StoppingMonitor, fit_lbfgs, fit_stochastic

_ACTIVATION_NAMES = set(ACTIVATIONS) | set(ALIASES)


def _stochastic_solver(estimator):
    """``partial_fit`` exists only for the stochastic solvers (as in scikit-learn)."""
    if estimator.solver == "lbfgs":
        raise AttributeError(
            "partial_fit is only available for the stochastic solvers 'sgd' and "
            f"'adam', not for solver={estimator.solver!r}."
        )
    return True


#: Parameters with the same meaning in BPClassifier (key) and MLPClassifier (value);
#: ``activation`` is translated separately and ``init`` has no MLP counterpart.
_MLP_PARAMS = {
    "solver": "solver",
    "learning_rate": "learning_rate_init",
    "learning_rate_schedule": "learning_rate",
    "power_t": "power_t",
    "alpha": "alpha",
    "batch_size": "batch_size",
    "max_iter": "max_iter",
    "momentum": "momentum",
    "nesterovs_momentum": "nesterovs_momentum",
    "beta_1": "beta_1",
    "beta_2": "beta_2",
    "epsilon": "epsilon",
    "tol": "tol",
    "n_iter_no_change": "n_iter_no_change",
    "early_stopping": "early_stopping",
    "validation_fraction": "validation_fraction",
    "shuffle": "shuffle",
    "random_state": "random_state",
    "verbose": "verbose",
    "warm_start": "warm_start",
    "max_fun": "max_fun",
}

#: Canonical skbp activation name -> MLPClassifier's name, for those it has.
_TO_MLP_ACTIVATION = {
    "sigmoid": "logistic",
    "tanh": "tanh",
    "relu": "relu",
    "identity": "identity",
}
_FROM_MLP_ACTIVATION = {mlp: ours for ours, mlp in _TO_MLP_ACTIVATION.items()}


def _binarizer_for(classes, multilabel):
    """A fitted LabelBinarizer for ``classes`` (label indices when multilabel)."""
    binarizer = LabelBinarizer()
    if multilabel:
        # An indicator matrix with one column per label (and 2 rows, so that a
        # single label is still read as multilabel).
        binarizer.fit(np.vstack([np.eye(len(classes), dtype=int)] * 2))
    else:
        binarizer.fit(classes)
    return binarizer


class BPClassifier(CallbackSupport, ClassifierMixin, BaseEstimator):
    # ClassifierMixin goes on the left so that its tags and score take precedence.
    """Multilayer perceptron classifier trained by backpropagation written in numpy.

    The network computes ``a[i + 1] = f(a[i] @ W[i] + b[i])`` through its hidden
    layers and a softmax (multiclass log-loss) or logistic output layer. Gradients
    come from the backpropagation recurrence
    ``delta[i - 1] = (delta[i] @ W[i].T) * f'(z[i - 1])``, written out in numpy.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Number of units in each hidden layer; ``()`` gives a model without hidden
        layers (logistic or softmax regression).

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

    loss : {'log_loss', 'squared_error'}, default='log_loss'
        ``'log_loss'``: cross-entropy with a softmax output for multiclass targets
        and logistic outputs for binary and multilabel targets. ``'squared_error'``:
        logistic outputs with :math:`\\frac12 \\sum_k (y_k - a_k)^2` per sample,
        the classic delta rule.

    solver : {'adam', 'sgd', 'lbfgs'}, default='adam'
        ``'sgd'``: minibatch gradient descent with ``momentum`` and
        ``nesterovs_momentum``; ``'adam'``: Adam; ``'lbfgs'``: SciPy's L-BFGS-B on
        the full batch.

    learning_rate : float, default=0.003
        Step size of ``'sgd'`` and ``'adam'`` (``learning_rate_init`` in
        MLPClassifier, whose default is 0.001; on scikit-learn's toy datasets
        0.003 gives the same cross-validated accuracy within noise in about a
        third of the fit time, see ``benchmarks/bench_defaults.py``).

    learning_rate_schedule : {'constant', 'invscaling', 'adaptive'}, \
default='constant'
        How ``'sgd'`` changes the step size between epochs (``learning_rate`` in
        MLPClassifier): ``'invscaling'`` uses
        ``learning_rate / (t + 1) ** power_t`` with ``t`` the samples seen;
        ``'adaptive'`` divides it by 5 each time training stops improving.

    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule.

    momentum : float, default=0.9
        Momentum of ``'sgd'``, in [0, 1].

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``'sgd'``.

    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's first and second moment estimates, in [0, 1).

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    alpha : float, default=1e-4
        L2 penalty on the weights (not the biases), divided by the sum of the
        sample weights of each batch.

    batch_size : int or 'auto', default='auto'
        Minibatch size; ``'auto'`` uses ``min(200, n_samples)``; 1 is online
        backpropagation. Ignored by ``'lbfgs'``.

    max_iter : int, default=200
        Maximum number of epochs (``'sgd'``, ``'adam'``) or L-BFGS iterations.

    tol : float, default=1e-4
        An epoch improves when the loss drops (or the validation score rises) by
        more than ``tol``; with ``'lbfgs'``, the gradient tolerance.

    n_iter_no_change : int, default=10
        Training stops (or ``'adaptive'`` lowers the rate) after more than this
        many epochs without improvement.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified), stop
        when its accuracy stops improving, and keep the best weights.

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping, in (0, 1).

    shuffle : bool, default=True
        Shuffle the samples every epoch.

    random_state : int, RandomState instance or None, default=None
        Controls weight initialisation, shuffling and the validation split.

    verbose : int, default=0
        ``>= 1`` prints one line per epoch: epoch, loss, validation score if any,
        seconds.

    warm_start : bool, default=False
        Continue from the previous solution, optimiser state included.

    class_weight : dict, 'balanced' or None, default=None
        Per-class weights, multiplied into ``sample_weight``.

    init : {'auto', 'glorot_uniform', 'he_uniform', 'uniform'}, default='auto'
        Weight initialisation: ``'auto'`` uses He-uniform before ReLU-family
        activations and Glorot-uniform elsewhere; ``'uniform'`` is U(-1, 1).

    max_fun : int, default=15000
        Maximum number of loss evaluations of ``'lbfgs'``.

    scoring : str, callable or None, default=None
        What the validation set is scored by after each epoch, and so what
        early stopping monitors: None for accuracy, ``'loss'`` for the validation
        loss (its negative, so that higher is better), or any scikit-learn
        scorer name or callable ``scorer(estimator, X, y)``.

    dropout : float or tuple of float, default=0.0
        Inverted dropout: during training, each hidden unit's output is set to 0
        with this probability (one value, or one per hidden layer) and the kept
        ones are scaled by ``1 / (1 - p)``; prediction uses every unit. Masks
        are drawn from ``random_state``. Stochastic solvers only.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_labels)`` for multilabel targets).
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
    out_activation_ : {'softmax', 'logistic'}
        Output function.
    loss_ : float
        Training loss of the last epoch (L-BFGS: at the solution).
    best_loss_ : float
        Lowest training loss seen.
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

    See Also
    --------
    sklearn.neural_network.MLPClassifier : scikit-learn's multilayer perceptron.

    Notes
    -----
    The training loss is the weighted mean over samples of the per-sample loss,
    :math:`L = \\frac{\\sum_i s_i \\ell_i}{\\sum_i s_i} +
    \\frac{\\alpha}{2 \\sum_i s_i} \\sum_l \\lVert W_l \\rVert^2`, with
    :math:`\\ell_i` the cross-entropy summed over outputs (``'log_loss'``) or
    :math:`\\frac12 \\sum_k (y_{ik} - a_{ik})^2` (``'squared_error'``). With
    ``'squared_error'``, ``predict_proba`` normalises the logistic outputs so each
    row sums to 1.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbp import BPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> net = BPClassifier(max_iter=300, random_state=0)
    >>> clf = make_pipeline(StandardScaler(), net)
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf.predict_proba(X[:1]).round(2)
    array([[1., 0., 0.]])
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(_ACTIVATION_NAMES), tuple, list],
        "loss": [StrOptions(set(LOSSES))],
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
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "init": [StrOptions(set(INITS))],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "scoring": [None, str, callable],
        "dropout": [Interval(Real, 0, 1, closed="left"), tuple, list],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss="log_loss",
        solver="adam",
        learning_rate=0.003,
        learning_rate_schedule="constant",
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        verbose=0,
        warm_start=False,
        class_weight=None,
        init="auto",
        max_fun=15000,
        scoring=None,
        dropout=0.0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.power_t = power_t
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.class_weight = class_weight
        self.init = init
        self.max_fun = max_fun
        self.scoring = scoring
        self.dropout = dropout

    def _validate_params(self):
        # A string here is almost always MLPClassifier's schedule name; say where it
        # belongs instead of only listing the valid range.
        if isinstance(self.learning_rate, str):
            raise InvalidParameterError(
                "The 'learning_rate' parameter of BPClassifier is the step size, a "
                f"float > 0; got {self.learning_rate!r}. To choose a schedule, use "
                f"learning_rate_schedule={self.learning_rate!r} (MLPClassifier calls "
                "the schedule 'learning_rate' and the step size 'learning_rate_init')."
            )
        super()._validate_params()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags

    # ------------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 input keeps the whole model in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a binary indicator matrix for multilabel targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
            A validation set of your own (the convention of scikit-learn's
            HistGradientBoosting). It is scored after every epoch
            (``validation_scores_``, ``validation_loss_curve_``); with
            ``early_stopping=True`` it replaces the ``validation_fraction``
            split. Stochastic solvers only.
        y_val : array-like of shape (n_val,) or (n_val, n_labels), default=None
            Labels of ``X_val``; required with it.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : BPClassifier
            The fitted estimator.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> X = (X - X.mean(axis=0)) / X.std(axis=0)
        >>> X_val, y_val = X[::5], y[::5]
        >>> clf = BPClassifier(max_iter=300, random_state=0)
        >>> clf = clf.fit(X, y, X_val=X_val, y_val=y_val)
        >>> len(clf.validation_scores_) == clf.n_iter_
        True
        """
        validation = None
        if X_val is not None or y_val is not None:
            if X_val is None or y_val is None:
                raise ValueError("X_val and y_val must be given together.")
            if self.solver == "lbfgs":
                raise ValueError(
                    "X_val is scored after every epoch of the stochastic solvers; "
                    "solver='lbfgs' has no epochs. Use solver='sgd' or 'adam'."
                )
            validation = (X_val, y_val, sample_weight_val)
        return self._fit(X, y, sample_weight, incremental=False, validation=validation)

    @available_if(_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``X`` and ``y``, continuing from the current state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        classes : array-like of shape (n_classes,), default=None
            Every label that will ever appear. Needed on the first call when this
            chunk misses some classes; may be repeated (it must not change) later.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : BPClassifier

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = BPClassifier(random_state=0)
        >>> for chunk in np.array_split(np.random.RandomState(0).permutation(150), 3):
        ...     clf = clf.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
        >>> clf.n_iter_, clf.t_
        (1, 150)
        """
        if self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: it trains one "
                "epoch per call on the chunk it is given. Set early_stopping=False."
            )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _fit(self, X, y, sample_weight, *, incremental, classes=None, validation=None):
        first_call = not hasattr(self, "coefs_") or not (incremental or self.warm_start)
        hidden_sizes = self._hidden_sizes()
        activations = self._resolve_activations(len(hidden_sizes))
        dropout_rates = self._dropout_rates(len(hidden_sizes))
        if self.solver == "lbfgs" and any(dropout_rates):
            raise ValueError(
                "dropout makes every loss evaluation random, and L-BFGS needs a "
                "deterministic loss; use solver='sgd' or 'adam' with dropout."
            )
        X, y = self._validate_input(X, y, reset=first_call)
        # One task for this fit, with a subtask per epoch (L-BFGS iteration).
        callback_context = self._init_callback_context(
            max_subtasks=1 if incremental else self.max_iter
        )
        callback_data = {
            "X": X,
            "y": y,
            "metadata": None
            if sample_weight is None
            else {"sample_weight": sample_weight},
        }
        if callback_context is not None:
            callback_context.call_on_fit_task_begin(estimator=self, **callback_data)
        if first_call:
            self._fit_labels(y, classes if incremental else None)
        else:
            self._check_labels(y, classes, incremental)
        # 0/1 targets as bool: an eighth of float64's memory, and every loss
        # computes with them as numbers.
        Y = self._label_binarizer.transform(y).astype(bool)
        sample_weight = self._sample_weight(X, y, sample_weight, incremental)

        multilabel = self._label_binarizer.y_type_.startswith("multilabel")
        output = output_function_for(self.loss, Y.shape[1], multilabel)
        layer_sizes = (X.shape[1], *hidden_sizes, Y.shape[1])
        net = Network(layer_sizes, activations, output, self.loss)
        if first_call:
            self._rng = check_random_state(self.random_state)
            theta = np.empty(net.layout.size, dtype=X.dtype)
            init_params(
                theta, net.layout, layer_schemes(self.init, activations), self._rng
            )
            self._reset_history()
        else:
            theta = self._current_theta(net, X.dtype)
            if not hasattr(self, "_rng"):
                self._rng = check_random_state(self.random_state)
        self._network = net
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(layer_sizes)
        self.out_activation_ = output

        hooks = None
        if callback_context is not None and has_callbacks(self):
            hooks = CallbackHooks(
                self,
                callback_context,
                **callback_data,
                fitted_attributes=self._fitted_attributes,
                task_name="iteration" if self.solver == "lbfgs" else "epoch",
            )
        if sp.issparse(X):
            X = X.tocsr()  # row slicing for minibatches
        if self.solver == "lbfgs":
            history = fit_lbfgs(
                net,
                theta,
                X,
                Y,
                sample_weight,
                alpha=float(self.alpha),
                max_iter=self.max_iter,
                max_fun=self.max_fun,
                tol=float(self.tol),
                verbose=bool(self.verbose),
                hooks=hooks,
            )
        else:
            history = self._fit_stochastic(
                net,
                theta,
                X,
                y,
                Y,
                sample_weight,
                incremental,
                validation,
                dropout_rates,
                hooks,
            )
        net.clear_caches()
        self._store(net, theta, history)
        self._warn_if_unfinished(history, incremental)
        if callback_context is not None:
            # An empty dict: the fitted estimator is this one, as it now stands.
            callback_context.call_on_fit_task_end(
                estimator=self, reconstruction_attributes={}, **callback_data
            )
        return self

    def _fitted_attributes(self, theta):
        """What a copy of this estimator needs to predict with ``theta``."""
        coefs, intercepts = self._network.layout.views(theta)
        return {"coefs_": coefs, "intercepts_": intercepts}

    def _fit_stochastic(
        self,
        net,
        theta,
        X,
        y,
        Y,
        sample_weight,
        incremental,
        validation,
        dropout_rates,
        hooks,
    ):
        validation_score = None
        self._validation_losses = []
        if validation is not None:
            validation_score = self._validation_scorer(
                net, *self._validate_validation_set(*validation, X.dtype)
            )
        elif self.early_stopping:
            X, Y, sample_weight, held_out = self._split_validation(
                X, y, Y, sample_weight
            )
            validation_score = self._validation_scorer(net, *held_out)
        n_samples = X.shape[0]
        batch_size = (
            min(200, n_samples) if self.batch_size == "auto" else self.batch_size
        )
        if batch_size > n_samples:
            warnings.warn(
                f"batch_size={batch_size} is larger than the {n_samples} training "
                "samples; using full batches.",
                UserWarning,
            )
            batch_size = n_samples
        optimizer = self._optimizer(net.layout.size, theta.dtype)
        history = fit_stochastic(
            net,
            theta,
            X,
            Y,
            sample_weight,
            optimizer=optimizer,
            alpha=float(self.alpha),
            batch_size=batch_size,
            max_iter=1 if incremental else self.max_iter,
            shuffle=self.shuffle,
            rng=self._rng,
            monitor=self._monitor,
            validation_score=validation_score,
            stop_on_validation=self.early_stopping,
            verbose=bool(self.verbose),
            samples_seen=self.t_,
            dropout_rates=dropout_rates,
            hooks=hooks,
        )
        self._optimizer_state = optimizer.state()
        return history

    def _optimizer(self, size, dtype):
        if self.solver == "sgd":
            optimizer = SGD(
                size,
                dtype,
                self.learning_rate,
                momentum=self.momentum,
                nesterov=self.nesterovs_momentum,
                schedule=self.learning_rate_schedule,
                power_t=self.power_t,
            )
        else:
            optimizer = Adam(
                size,
                dtype,
                self.learning_rate,
                beta_1=self.beta_1,
                beta_2=self.beta_2,
                epsilon=self.epsilon,
            )
        # Carry the optimiser state over from an earlier call when it fits.
        state = getattr(self, "_optimizer_state", None)
        if state is not None and state.get("solver") == self.solver:
            try:
                optimizer.load_state(state)
            except ValueError:  # layout changed (e.g. new hidden_layer_sizes)
                pass
        return optimizer

    def _split_validation(self, X, y, Y, sample_weight):
        """Hold out ``validation_fraction`` of the data for early stopping."""
        multilabel = self._label_binarizer.y_type_.startswith("multilabel")
        stratify = None if multilabel else y
        arrays = [X, y, Y] if sample_weight is None else [X, y, Y, sample_weight]
        parts = train_test_split(
            *arrays,
            test_size=self.validation_fraction,
            random_state=self._rng,
            stratify=stratify,
        )
        X_train, X_val, _, y_val, Y_train, _ = parts[:6]
        sw_train, sw_val = (None, None) if sample_weight is None else parts[6:]
        if X_val.shape[0] < 2:
            raise ValueError(
                f"The validation set has {X_val.shape[0]} sample(s); increase "
                "validation_fraction or use more data for early_stopping=True."
            )
        return X_train, Y_train, sw_train, (X_val, y_val, sw_val)

    def _validate_validation_set(self, X_val, y_val, sample_weight_val, dtype):
        """Check a user's validation set like the training data."""
        X_val, y_val = self._validate_input(X_val, y_val, reset=False)
        self._check_labels(y_val, None, incremental=False)
        if sample_weight_val is not None:
            sample_weight_val = _check_sample_weight(
                sample_weight_val, X_val, dtype=dtype, ensure_non_negative=True
            )
        return X_val.astype(dtype, copy=False), y_val, sample_weight_val

    def _validation_scorer(self, net, X_val, y_val, sw_val):
        """``score(theta)`` for the trainer; records the validation loss too."""
        Y_val = self._label_binarizer.transform(y_val).astype(bool)
        scorer = None
        if self.scoring not in (None, "loss"):
            scorer = check_scoring(self, scoring=self.scoring)

        def score(theta):
            W, b = net.layout.views(theta)
            logits = net.logits(W, b, X_val)
            loss = net.data_loss(logits, Y_val, sw_val)
            self._validation_losses.append(loss)
            if self.scoring is None:
                labels = self._labels_from_logits(logits)
                return accuracy_score(y_val, labels, sample_weight=sw_val)
            if self.scoring == "loss":
                return -loss
            # A scikit-learn scorer calls predict/predict_proba: point the
            # fitted attributes at the weights being trained.
            self.coefs_, self.intercepts_ = W, b
            kwargs = {} if sw_val is None else {"sample_weight": sw_val}
            return scorer(self, X_val, y_val, **kwargs)

        return score

    # --------------------------------------------------------- fit: components

    def _dropout_rates(self, n_hidden):
        """``dropout`` as one rate per hidden layer, checked."""
        if isinstance(self.dropout, Real):
            rates = (float(self.dropout),) * n_hidden
        else:
            rates = tuple(self.dropout)
            if len(rates) != n_hidden:
                raise ValueError(
                    f"dropout has {len(rates)} entries but there are {n_hidden} "
                    "hidden layers; give one rate per hidden layer or a single "
                    "number."
                )
        for rate in rates:
            if not isinstance(rate, Real) or not 0.0 <= rate < 1.0:
                raise ValueError(
                    f"dropout rates must be numbers in [0, 1), got {self.dropout!r}."
                )
        return tuple(float(rate) for rate in rates)

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, Integral):
            sizes = (sizes,)
        sizes = tuple(sizes)
        for n in sizes:
            if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
                raise ValueError(
                    "hidden_layer_sizes must be a positive integer or a sequence of "
                    f"positive integers, got {self.hidden_layer_sizes!r}."
                )
        return tuple(int(n) for n in sizes)

    def _resolve_activations(self, n_hidden):
        if isinstance(self.activation, str):
            return (resolve_activation(self.activation),) * n_hidden
        names = tuple(self.activation)
        if len(names) != n_hidden:
            raise ValueError(
                f"activation has {len(names)} entries but there are {n_hidden} "
                f"hidden layers (hidden_layer_sizes={self.hidden_layer_sizes!r}); "
                "give one activation per hidden layer or a single name."
            )
        for name in names:
            if not isinstance(name, str) or ALIASES.get(name, name) not in ACTIVATIONS:
                raise ValueError(
                    f"Unknown activation {name!r} in activation={self.activation!r}; "
                    f"choose from {sorted(_ACTIVATION_NAMES)}."
                )
        return tuple(resolve_activation(name) for name in names)

    def _validate_input(self, X, y, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            multi_output=True,
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _fit_labels(self, y, classes):
        check_classification_targets(y)
        binarizer = LabelBinarizer()
        is_multilabel = type_of_target(y).startswith("multilabel")
        if classes is None or is_multilabel:
            binarizer.fit(y)
        else:
            binarizer.fit(classes)
            unseen = np.setdiff1d(np.unique(y), binarizer.classes_)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} that are not in "
                    f"classes={binarizer.classes_.tolist()}."
                )
        if not is_multilabel and len(binarizer.classes_) < 2:
            raise ValueError(
                "BPClassifier needs samples of at least 2 classes, but the data "
                f"contains only one class: {binarizer.classes_[0]!r}."
            )
        self._label_binarizer = binarizer
        self.classes_ = binarizer.classes_

    def _check_labels(self, y, classes, incremental):
        if classes is not None and not np.array_equal(
            np.unique(classes), self.classes_
        ):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} differs from the classes of "
                f"the first partial_fit call, {self.classes_.tolist()}."
            )
        if self._label_binarizer.y_type_.startswith("multilabel"):
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"y must be an indicator matrix with {len(self.classes_)} "
                    "columns, as in the first call."
                )
            return
        check_classification_targets(y)
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            how = (
                "pass every label with classes= on the first partial_fit call"
                if incremental
                else "warm_start needs the same classes as the previous fit"
            )
            raise ValueError(
                f"y contains labels {unseen.tolist()} not seen before "
                f"(classes_={self.classes_.tolist()}); {how}."
            )

    def _sample_weight(self, X, y, sample_weight, incremental):
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
        if self.class_weight is not None:
            if incremental and self.class_weight == "balanced":
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit, "
                    "which sees one chunk at a time; compute the weights once with "
                    "sklearn.utils.class_weight.compute_class_weight and pass them "
                    "as a dict."
                )
            class_sw = compute_sample_weight(self.class_weight, y).astype(X.dtype)
            if (class_sw < 0).any():
                raise ValueError(
                    f"class_weight={self.class_weight!r} has negative weights; "
                    "class weights must be >= 0."
                )
            sample_weight = (
                class_sw if sample_weight is None else sample_weight * class_sw
            )
        if sample_weight is None:
            return None
        if not float(sample_weight.sum()) > 0:
            raise ValueError(
                "The sample weights (times class_weight) sum to zero; at least one "
                "sample needs a positive weight."
            )
        if y.ndim == 1 and not incremental:
            weighted_classes = np.unique(y[sample_weight > 0])
            if weighted_classes.size < 2:
                raise ValueError(
                    "Only one class has samples with non-zero weight "
                    f"({weighted_classes.tolist()}); BPClassifier needs at least 2 "
                    "classes."
                )
        return sample_weight

    def _reset_history(self):
        self.loss_curve_ = []
        self.validation_scores_ = [] if self.early_stopping else None
        self.validation_loss_curve_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self.t_ = 0
        self._monitor = StoppingMonitor(float(self.tol), int(self.n_iter_no_change))
        self._optimizer_state = None

    def _current_theta(self, net, dtype):
        """Rebuild the flat buffer from ``coefs_``/``intercepts_``.

        After unpickling, or after a user edited ``coefs_[i]`` in place or by
        assignment, the attributes are the truth; the buffer follows them.
        """
        shapes = [c.shape for c in self.coefs_]
        if shapes != net.layout.weight_shapes:
            raise ValueError(
                f"The network's shape changed since the last fit (weights {shapes}, "
                f"now {net.layout.weight_shapes}). Set warm_start=False or restore "
                "hidden_layer_sizes."
            )
        self._monitor.tol = float(self.tol)
        self._monitor.n_iter_no_change = int(self.n_iter_no_change)
        return net.layout.pack(self.coefs_, self.intercepts_, dtype)

    def _store(self, net, theta, history):
        self.coefs_, self.intercepts_ = net.layout.views(theta)
        self.n_iter_ = history.n_iter
        self.t_ += history.samples_seen
        self.loss_curve_.extend(history.loss_curve)
        if history.loss_curve:
            self.loss_ = history.loss_curve[-1]
        elif not hasattr(self, "loss_"):
            self.loss_ = np.inf
        if self.solver == "lbfgs":
            self.best_loss_ = min(self.loss_curve_, default=self.loss_)
        else:
            self.best_loss_ = self._monitor.best_loss
        if history.validation_scores:
            if self.validation_scores_ is None:  # a first X_val on a warm start
                self.validation_scores_, self.validation_loss_curve_ = [], []
            self.validation_scores_.extend(history.validation_scores)
            self.validation_loss_curve_.extend(self._validation_losses)
            self.best_validation_score_ = max(self.validation_scores_)
        if self._optimizer_state is not None:
            self._optimizer_state["solver"] = self.solver
        self._diverged = history.diverged

    def _warn_if_unfinished(self, history, incremental):
        if history.diverged:
            message = history.message or (
                "L-BFGS ended on a non-finite loss; lower the learning rate, scale "
                "the inputs or increase alpha."
            )
            warnings.warn(message, ConvergenceWarning)
            return
        if incremental or history.converged or history.stopped_by_hook:
            return
        if self.solver == "lbfgs":
            warnings.warn(
                f"lbfgs failed to converge after {history.n_iter} iterations "
                f"({history.message}). Increase max_iter or max_fun, or scale the "
                "data.",
                ConvergenceWarning,
            )
        elif history.n_iter == self.max_iter:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )

    # --------------------------------------------------------------- predicting

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coefs_")

    def _logits(self, X):
        X = self._predict_input(X)
        return self._network.logits(self.coefs_, self.intercepts_, X)

    def _predict_input(self, X):
        """Check the model is fitted and validate ``X`` as every predictor does."""
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)  # raises NotFittedError with sklearn's message
        if not self._is_plain_valid_input(X):
            X = validate_data(
                self,
                X,
                accept_sparse=["csr", "csc"],
                dtype=(np.float64, np.float32),
                reset=False,
            )
            dtype = self.coefs_[0].dtype
            if X.dtype != dtype:
                X = X.astype(dtype)
        return X

    def _is_plain_valid_input(self, X):
        """True for input that ``validate_data`` would pass through unchanged.

        A 2-D, non-empty, finite ndarray in the model's dtype with the right
        number of columns, for a model fitted without feature names: full
        validation would only confirm it, at ~100 us per call, which dominates
        predicting one row. Anything else takes the full path and its errors.
        """
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype == self.coefs_[0].dtype
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
            # The sum is finite only if every entry is (as in scikit-learn's own
            # check); an overflowing sum just falls back to the full path.
            and math.isfinite(np.add.reduce(X, axis=None))
        )

    def _labels_from_logits(self, logits):
        if self._label_binarizer.y_type_.startswith("multilabel"):
            return (logits > 0).astype(int)
        if logits.shape[1] == 1:
            # sigmoid(z) > 0.5 exactly when z > 0.
            return self.classes_[(logits[:, 0] > 0).astype(int)]
        # softmax and normalised logistic outputs are both monotone in the logits.
        return self.classes_[np.argmax(logits, axis=1)]

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels (an indicator matrix for multilabel targets).

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = BPClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> clf.predict(X[[0, 50, 100]])
        array([0, 1, 2])
        """
        return self._labels_from_logits(self._logits(X))

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class (each label for multilabel targets), in the
            order of ``classes_``; rows sum to 1 except for multilabel targets.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = BPClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> clf.predict_proba(X[:2]).sum(axis=1)
        array([1., 1.])
        """
        logits = self._logits(X)
        if self._label_binarizer.y_type_.startswith("multilabel"):
            # Each label's probability stays strictly inside (0, 1): sigmoid rounds
            # to exactly 1.0 from z > 37, which would claim certainty.
            proba = expit(logits)
            info = np.finfo(proba.dtype)
            return np.clip(proba, info.tiny, 1.0 - info.epsneg, out=proba)
        if logits.shape[1] == 1:
            # [1 - p, p] with both computed directly for precision near 0 and 1.
            return np.hstack([expit(-logits), expit(logits)])
        if self.out_activation_ == "softmax":
            return softmax(logits, out=logits)
        # sigmoid(z) / sum(sigmoid(z)) is the softmax of log(sigmoid(z)); written
        # so, it survives rows whose sigmoid outputs all underflow to 0.
        return softmax(log_expit(logits))

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities, computed from the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Finite even where ``predict_proba`` rounds to 0.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = BPClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> import numpy as np
        >>> bool(np.isfinite(clf.predict_log_proba(X)).all())
        True
        """
        logits = self._logits(X)
        if self._label_binarizer.y_type_.startswith("multilabel"):
            return log_expit(logits)
        if logits.shape[1] == 1:
            return np.hstack([log_expit(-logits), log_expit(logits)])
        if self.out_activation_ == "softmax":
            return log_softmax(logits)
        return log_softmax(log_expit(logits))

    # ------------------------------------------------------ beyond MLPClassifier

    def hidden_activations(self, X, layer=-1):
        """Output of a hidden layer, after its activation function.

        Useful as learned features (e.g. for a linear model or a 2-D plot).
        Deliberately not called ``transform``: that name would make scikit-learn
        treat the classifier as a transformer too.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data, validated as in ``predict``.
        layer : int, default=-1
            Hidden layer to read, 0-based; negative values count from the last
            hidden layer (``-1`` is the one just before the output layer).

        Returns
        -------
        activations : ndarray of shape (n_samples, hidden_layer_sizes[layer])
            ``f(a @ W + b)`` of that layer, in the model's dtype.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ValueError
            If the network has no hidden layer or ``layer`` is out of range.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = BPClassifier(
        ...     (8, 2), activation="tanh", solver="lbfgs", max_iter=1000, random_state=0
        ... )
        >>> clf = clf.fit(X, y)
        >>> H = clf.hidden_activations(X)  # the last hidden layer
        >>> H.shape, bool(abs(H).max() <= 1)  # tanh values
        ((150, 2), True)
        >>> clf.hidden_activations(X, layer=0).shape
        (150, 8)
        """
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)
        n_hidden = len(self.coefs_) - 1
        if n_hidden == 0:
            raise ValueError(
                "This model has no hidden layers (hidden_layer_sizes=() at fit "
                "time), so there are no hidden activations to return."
            )
        if not isinstance(layer, Integral) or isinstance(layer, bool):
            raise TypeError(f"layer must be an integer, got {layer!r}.")
        if not -n_hidden <= layer < n_hidden:
            raise ValueError(
                f"layer={layer} is out of range for a network with {n_hidden} "
                f"hidden layer(s); use 0 to {n_hidden - 1}, or -{n_hidden} to -1 "
                "counting from the last hidden layer."
            )
        X = self._predict_input(X)
        return self._network.logits(
            self.coefs_, self.intercepts_, X, layer=int(layer) % n_hidden
        )

    @classmethod
    def from_mlp(cls, mlp):
        """Build a fitted BPClassifier from a fitted ``MLPClassifier``.

        The parameters mirror the MLP's (``learning_rate_init`` becomes
        ``learning_rate``, ``learning_rate`` becomes ``learning_rate_schedule``,
        ``'logistic'`` becomes ``'sigmoid'``; ``init`` is ``'glorot_uniform'``,
        MLPClassifier's scheme). ``hidden_layer_sizes`` is read off the fitted
        weights. The weights are copied in their dtype, so ``predict_proba`` agrees
        with the MLP's to rounding, and the model can continue training with
        ``partial_fit`` or ``warm_start`` (with a fresh optimiser state: the MLP's
        momentum or Adam moments are not carried over).

        Parameters
        ----------
        mlp : sklearn.neural_network.MLPClassifier
            A fitted classifier.

        Returns
        -------
        clf : BPClassifier
            A new, fitted estimator.

        Raises
        ------
        NotFittedError
            If ``mlp`` is not fitted.
        TypeError
            If ``mlp`` is not an ``MLPClassifier``.

        Examples
        --------
        >>> from sklearn.neural_network import MLPClassifier
        >>> mlp = MLPClassifier((5,), solver="lbfgs", random_state=0)
        >>> mlp = mlp.fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        >>> clf = BPClassifier.from_mlp(mlp)
        >>> clf.activation, clf.hidden_layer_sizes, clf.predict([[0.0], [3.0]])
        ('relu', (5,), array([0, 1]))
        """
        if not isinstance(mlp, MLPClassifier):
            raise TypeError(
                "from_mlp expects a fitted sklearn.neural_network.MLPClassifier, "
                f"got {type(mlp).__name__}."
            )
        check_is_fitted(mlp)
        coefs = [np.array(c) for c in mlp.coefs_]  # copies, dtype kept
        intercepts = [np.array(b) for b in mlp.intercepts_]
        hidden_sizes = tuple(int(c.shape[1]) for c in coefs[:-1])
        params = {ours: getattr(mlp, theirs) for ours, theirs in _MLP_PARAMS.items()}
        clf = cls(
            hidden_layer_sizes=hidden_sizes,
            activation=_FROM_MLP_ACTIVATION[mlp.activation],
            init="glorot_uniform",
            **params,
        )
        clf._validate_params()

        if hasattr(mlp, "_label_binarizer"):
            clf._label_binarizer = copy.deepcopy(mlp._label_binarizer)
        else:
            multilabel = mlp.out_activation_ == "logistic" and mlp.n_outputs_ > 1
            clf._label_binarizer = _binarizer_for(mlp.classes_, multilabel)
        clf.classes_ = np.array(mlp.classes_, copy=True)
        clf.n_features_in_ = int(mlp.n_features_in_)
        if hasattr(mlp, "feature_names_in_"):
            clf.feature_names_in_ = np.array(mlp.feature_names_in_, copy=True)

        layer_sizes = (clf.n_features_in_, *hidden_sizes, coefs[-1].shape[1])
        activations = (_FROM_MLP_ACTIVATION[mlp.activation],) * len(hidden_sizes)
        net = Network(layer_sizes, activations, mlp.out_activation_, "log_loss")
        theta = net.layout.pack(coefs, intercepts, coefs[0].dtype)
        clf._network = net
        clf.coefs_, clf.intercepts_ = net.layout.views(theta)
        net.clear_caches()
        clf.n_layers_ = int(mlp.n_layers_)
        clf.n_outputs_ = int(mlp.n_outputs_)
        clf.out_activation_ = mlp.out_activation_

        # Training history, in skbp's conventions (MLPClassifier leaves some of
        # these None or unset depending on solver and early_stopping).
        clf.loss_curve_ = [float(v) for v in getattr(mlp, "loss_curve_", None) or []]
        if hasattr(mlp, "loss_"):
            clf.loss_ = float(mlp.loss_)
        best_loss = getattr(mlp, "best_loss_", None)
        if best_loss is None:
            best_loss = min(clf.loss_curve_, default=getattr(clf, "loss_", np.inf))
        clf.best_loss_ = float(best_loss)
        if clf.early_stopping:
            clf.validation_scores_ = [
                float(v) for v in getattr(mlp, "validation_scores_", None) or []
            ]
            best_score = getattr(mlp, "best_validation_score_", None)
            clf.best_validation_score_ = float(
                -np.inf if best_score is None else best_score
            )
        else:
            clf.validation_scores_ = None
            clf.best_validation_score_ = None
        clf.n_iter_ = int(mlp.n_iter_)
        clf.t_ = int(getattr(mlp, "t_", 0))

        clf._monitor = StoppingMonitor(
            float(clf.tol),
            int(clf.n_iter_no_change),
            best_loss=clf.best_loss_,
            best_score=(clf.best_validation_score_ if clf.early_stopping else -np.inf),
            no_improvement_count=int(getattr(mlp, "_no_improvement_count", 0)),
        )
        clf._optimizer_state = None
        clf._rng = check_random_state(clf.random_state)
        clf._diverged = False
        return clf

    def to_mlp(self):
        """Build a fitted ``MLPClassifier`` with this model's weights.

        The parameters are mirrored (the reverse of :meth:`from_mlp`) and the
        fitted attributes are set so that the MLP's ``predict``,
        ``predict_proba`` and ``score`` agree with this model's. ``init`` and
        ``class_weight`` have no MLPClassifier counterpart and are dropped; the
        optimiser state is not carried over.

        Returns
        -------
        mlp : sklearn.neural_network.MLPClassifier
            A new, fitted estimator; the weights are copies.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ValueError
            If the model was fitted with ``loss='squared_error'`` or with an
            activation MLPClassifier lacks.

        Examples
        --------
        >>> clf = BPClassifier((5,), solver="lbfgs", random_state=0)
        >>> clf = clf.fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        >>> mlp = clf.to_mlp()
        >>> mlp.activation, mlp.predict([[0.0], [3.0]])
        ('relu', array([0, 1]))
        """
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)
        net = self._network
        if net.loss_name != "log_loss":
            raise ValueError(
                f"This model was trained with loss={net.loss_name!r}; "
                "MLPClassifier only has the log-loss (its outputs are softmax or "
                "logistic probabilities trained by cross-entropy), so the converted "
                "model would not be the same model. Refit with loss='log_loss'."
            )
        names = set(net.activations)
        if len(names) > 1:
            raise ValueError(
                f"This model uses different activations per hidden layer "
                f"{net.activations}; MLPClassifier has a single activation for "
                "all hidden layers."
            )
        if names:
            (name,) = names
            if name not in _TO_MLP_ACTIVATION:
                raise ValueError(
                    f"Activation {name!r} has no MLPClassifier equivalent; "
                    "MLPClassifier supports only 'logistic' (skbp's 'sigmoid'), "
                    "'tanh', 'relu' and 'identity'."
                )
            activation = _TO_MLP_ACTIVATION[name]
        else:  # no hidden layer: the activation is never used
            activation = "relu"

        params = {theirs: getattr(self, ours) for ours, theirs in _MLP_PARAMS.items()}
        hidden_sizes = tuple(int(c.shape[1]) for c in self.coefs_[:-1])
        mlp = MLPClassifier(
            hidden_layer_sizes=hidden_sizes, activation=activation, **params
        )
        mlp.coefs_ = [np.array(c) for c in self.coefs_]
        mlp.intercepts_ = [np.array(b) for b in self.intercepts_]
        mlp._best_coefs = [c.copy() for c in mlp.coefs_]
        mlp._best_intercepts = [b.copy() for b in mlp.intercepts_]
        mlp._label_binarizer = copy.deepcopy(self._label_binarizer)
        mlp.classes_ = np.array(self.classes_, copy=True)
        mlp.n_features_in_ = self.n_features_in_
        if hasattr(self, "feature_names_in_"):
            mlp.feature_names_in_ = np.array(self.feature_names_in_, copy=True)
        mlp.n_layers_ = self.n_layers_
        mlp.n_outputs_ = self.n_outputs_
        mlp.out_activation_ = self.out_activation_
        mlp.n_iter_ = self.n_iter_
        mlp.t_ = self.t_
        mlp.loss_ = float(self.loss_)
        mlp.loss_curve_ = [float(v) for v in self.loss_curve_]
        mlp._no_improvement_count = int(self._monitor.no_improvement_count)
        if self.early_stopping:
            # MLPClassifier's convention: best_loss_ is None with early stopping.
            mlp.best_loss_ = None
            mlp.validation_scores_ = list(self.validation_scores_ or [])
            mlp.best_validation_score_ = self.best_validation_score_
        else:
            mlp.best_loss_ = float(self.best_loss_)
            mlp.validation_scores_ = None
            mlp.best_validation_score_ = None
        return mlp
