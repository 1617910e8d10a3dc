"""What BPClassifier and BPRegressor share: parameters, the fit skeleton, solvers,
validation and history, callbacks, and the prediction input path.

``BaseBP.fit`` and ``partial_fit`` run one skeleton (``_fit``) that validates the
input, encodes the targets, builds the ``Network``, initialises or restores the
flat parameters, hands them to a trainer of ``_training`` with one
``TrainingOptions`` record, and copies the trainer's ``History`` into the fitted
attributes. The subclasses fill a few hooks:

* ``_training_sample_weight`` -- validated sample weights (the classifier
  multiplies ``class_weight`` in);
* ``_fit_targets`` / ``_check_validation_targets`` -- learn or check the target
  encoding (labels; the regressor's target scaling);
* ``_encode_targets`` -- ``y`` as the 2-D array ``Y`` the loss compares to;
* ``_output_activation`` -- the output function for ``n_outputs`` columns;
* ``_logit_affine`` -- the regressor's target scaling, folded into the output
  layer (None for the classifier);
* ``_stratify`` -- labels for a stratified validation split, or None;
* ``_score_logits`` -- the default validation score (accuracy, R²).

Two parts of ``BaseBP`` live in modules of their own: the validation set of the
stochastic solvers (``skbp._holdout``: the early-stopping split, a user's
``X_val``, the per-epoch validator) and the fitted state (``skbp._fitted_state``:
plain data, stored after training and turned back into a training buffer and a
``Network`` on demand, never pickled).

Array API input (``skbp._array_api``): with scikit-learn's array API dispatch
on, ``X`` may be an array of any namespace. The network, the parameters and the
optimiser state then live in ``X``'s namespace and on its device; ``y`` and the
sample weights are checked and encoded on the host exactly as for NumPy input,
and the encoded targets and weights are moved to the device.

This module sits on top of the numeric core (``_network``, ``_training``, ...),
which must never import it.
"""

import math
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from skbp._array_api import (
    fitted_namespace,
    input_namespace,
    namespace_and_device,
    to_numpy,
)
from skbp._callbacks import CallbackHooks
from skbp._compat import (
    ARRAY_API_SUPPORTED,
    CallbackSupport,
    DocLinkMixin,
    Interval,
    InvalidParameterError,
    Options,
    ParameterCheckMixin,
    StrOptions,
    check_sample_weight,
    has_callbacks,
    init_callback_context,
    is_callback_state,
)
from skbp._core.activations import ACTIVATIONS, ALIASES, resolve_activation
from skbp._core.initializers import INITS, init_params, layer_schemes
from skbp._core.namespace import NUMPY
from skbp._core.network import Network
from skbp._core.optimizers import SCHEDULES, SGD, Adam
from skbp._core.training import (
    SolverState,
    StoppingMonitor,
    TrainingData,
    TrainingOptions,
    fit_lbfgs,
    fit_stochastic,
)
from skbp._exceptions import InconsistentVersionWarning
from skbp._fitted_state import FittedStateMixin
from skbp._holdout import ValidationSetMixin
from skbp._version import __version__

ACTIVATION_NAMES = set(ACTIVATIONS) | set(ALIASES)


def stochastic_solver(estimator):
    """``partial_fit`` exists only for the stochastic solvers (as in scikit-learn)."""
    if estimator.solver == "lbfgs":
        raise AttributeError(
            "partial_fit is only available for the stochastic solvers 'sgd' and "
            f"'adam', not for solver={estimator.solver!r}."
        )
    return True


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


class BaseBP(
    ParameterCheckMixin,
    DocLinkMixin,
    ValidationSetMixin,
    FittedStateMixin,
    CallbackSupport,
    BaseEstimator,
):
    """Base class of the backpropagation estimators; not for direct use.

    Subclasses define ``__init__`` with their full parameter list (scikit-learn
    reads the parameters from its signature), ``fit`` / ``partial_fit`` /
    ``predict`` with their own docstrings, and the hooks listed in the module
    docstring.
    """

    _parameter_constraints: dict = {
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

    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        *,
        loss,
        solver,
        learning_rate,
        learning_rate_schedule,
        power_t,
        momentum,
        nesterovs_momentum,
        beta_1,
        beta_2,
        epsilon,
        alpha,
        batch_size,
        max_iter,
        tol,
        n_iter_no_change,
        early_stopping,
        validation_fraction,
        shuffle,
        random_state,
        verbose,
        warm_start,
        init,
        max_fun,
        scoring,
        dropout,
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
        self.init = init
        self.max_fun = max_fun
        self.scoring = scoring
        self.dropout = dropout

    #: Where the ``?`` icon of the HTML representation leads.
    _api_page_url = (
        "https://skbp.readthedocs.io/en/latest/generated/skbp.{estimator_name}.html"
    )

    def _check_params_first(self):
        # A string here is almost always scikit-learn's schedule name; say where
        # it belongs instead of only listing the valid range.
        if isinstance(self.learning_rate, str):
            name = type(self).__name__
            raise InvalidParameterError(
                f"The 'learning_rate' parameter of {name} is the step size, a "
                f"float > 0; got {self.learning_rate!r}. To choose a schedule, use "
                f"learning_rate_schedule={self.learning_rate!r} (scikit-learn's MLP "
                "calls the schedule 'learning_rate' and the step size "
                "'learning_rate_init')."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # Every solver, loss and option trains in any array API namespace.
        tags.array_api_support = ARRAY_API_SUPPORTED
        return tags

    def __getstate__(self):
        state = super().__getstate__()
        # The Network is a cache rebuilt from plain attributes: never pickled.
        state.pop("_network_cache", None)
        state["_skbp_version"] = __version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved_by = state.pop("_skbp_version", "unknown")
        if saved_by != __version__:
            warnings.warn(
                InconsistentVersionWarning(type(self).__name__, __version__, saved_by),
                stacklevel=2,
            )
        super().__setstate__(state)

    # ------------------------------------------------------ hooks (subclasses)

    def _training_sample_weight(self, n_samples, dtype, y, sample_weight, incremental):
        """Validated sample weights (NumPy, ``dtype``), or None for all ones."""
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, n_samples, dtype=dtype)
            if not float(sample_weight.sum()) > 0:
                raise ValueError(
                    "The sample weights sum to zero; at least one sample needs a "
                    "positive weight."
                )
        return sample_weight

    def _fit_targets(self, y, sample_weight, *, first_call, incremental, classes):
        """Learn (first call) or check (later calls) the target encoding."""
        raise NotImplementedError

    def _check_validation_targets(self, y_val):
        """Check a validation set's targets against the fitted encoding."""
        raise NotImplementedError

    def _encode_targets(self, y, dtype):
        """``y`` as the 2-D NumPy array ``Y`` that the loss compares the outputs
        with (``dtype``: a NumPy floating dtype)."""
        raise NotImplementedError

    def _move_fitted_targets(self, namespace, y_space):
        """Move the fitted target encoding to the namespace of the fit.

        ``y_space`` is ``(xp, device)`` of ``y`` as given. Called after
        ``_fit_targets`` (whose attributes are NumPy arrays) for array API input.
        """

    def _output_activation(self, n_outputs):
        """Name of the output function for ``n_outputs`` output units."""
        raise NotImplementedError

    def _loss_params(self):
        """Keyword arguments of the loss function."""
        return {}

    def _logit_affine(self):
        """``(scale, shift)`` of the output logits' map to the targets' units.

        The network trains on encoded targets; the fitted ``coefs_`` /
        ``intercepts_`` hold the model in the targets' own units, with
        ``z_fitted = z_trained * scale + shift`` folded into the output layer.
        None when training and fitted units are the same.
        """
        return None

    def _stratify(self, y):
        """Labels to stratify the validation split by, or None."""
        return None

    def _score_logits(self, logits, y, sample_weight):
        """The default validation score of output logits (fitted units)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ fitting

    def _fit_with_validation_set(self, X, y, sample_weight, X_val, y_val, sw_val):
        """``fit``'s body: check the optional validation set, then train."""
        validation = None
        if X_val is not None or y_val is not None:
            if X_val is None or y_val is None:
                raise ValueError("X_val and y_val must be given together.")
            if self.solver == "lbfgs":
                raise ValueError(
                    "X_val is scored after every epoch of the stochastic solvers; "
                    "solver='lbfgs' has no epochs. Use solver='sgd' or 'adam'."
                )
            validation = (X_val, y_val, sw_val)
        return self._fit(X, y, sample_weight, incremental=False, validation=validation)

    def _fit(self, X, y, sample_weight, *, incremental, classes=None, validation=None):
        # A failure anywhere in a fit (bad input, a callback's exception,
        # KeyboardInterrupt) leaves the estimator as it was. Training works on
        # new buffers and rebuilds its state objects from plain copies, so a
        # shallow snapshot of the attributes is enough to restore it.
        snapshot = dict(self.__dict__)
        try:
            history, callback_end = self._fit_unguarded(
                X, y, sample_weight, incremental, classes, validation
            )
            # The fit task's end is still part of the fit: a callback failing
            # there undoes it like any other failure.
            callback_end()
        except BaseException:
            # scikit-learn's callback machinery keeps its per-fit state on the
            # estimator and reads it to tear the callbacks down after this
            # exception leaves fit: that state stays.
            callback_state = {
                name: value
                for name, value in self.__dict__.items()
                if is_callback_state(name)
            }
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            self.__dict__.update(callback_state)
            raise
        self._warn_if_unfinished(history, incremental)
        return self

    def _fit_unguarded(self, X, y, sample_weight, incremental, classes, validation):
        """The fit skeleton: check, encode, build, start, train, store."""
        first_call = not self.__sklearn_is_fitted__() or not (
            incremental or self.warm_start
        )
        hidden_sizes, activations = self._architecture()
        self._check_scoring_name()
        ns = input_namespace(X)
        y_space = namespace_and_device(y) if not ns.is_numpy else None
        X, y = self._validate_input(X, y, reset=first_call, xp=ns.xp)
        # One task for this fit, with a subtask per epoch (L-BFGS iteration).
        callback_context = init_callback_context(
            self, max_subtasks=1 if incremental else self.max_iter
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
        # Targets and weights are checked and encoded on the host (``y`` is a
        # NumPy array from here on), then moved to X's namespace and device.
        host_dtype = ns.host_dtype(X.dtype)
        sample_weight = self._training_sample_weight(
            X.shape[0], host_dtype, y, to_numpy(sample_weight), incremental
        )
        self._fit_targets(
            y,
            sample_weight,
            first_call=first_call,
            incremental=incremental,
            classes=classes,
        )
        Y = self._encode_targets(y, host_dtype)
        if not ns.is_numpy:
            self._move_fitted_targets(ns, y_space)
            # The standard does not mix booleans into float arithmetic.
            Y = ns.as_dtype(Y, X.dtype)
            if sample_weight is not None:
                sample_weight = ns.to_device(sample_weight)
        net = self._build_network(X.shape[1], hidden_sizes, activations, Y.shape[1], ns)
        theta, rng = self._starting_point(net, X.dtype, first_call)

        hooks = None
        if callback_context is not None and has_callbacks(self):
            hooks = CallbackHooks(
                self,
                callback_context,
                **callback_data,
                fitted_attributes=partial(self._fitted_attributes, net=net),
                task_name="iteration" if self.solver == "lbfgs" else "epoch",
            )
        if sp.issparse(X):
            X = X.tocsr()  # row slicing for minibatches
        history = self._train(
            net, theta, X, y, Y, sample_weight, incremental, validation, rng, hooks
        )
        net.clear_caches()
        self._store(net, theta, history, rng)

        def callback_end():
            if callback_context is not None:
                # An empty dict: the fitted estimator is this one, as it now stands.
                callback_context.call_on_fit_task_end(
                    estimator=self, reconstruction_attributes={}, **callback_data
                )

        return history, callback_end

    def _architecture(self):
        """Hidden layer sizes and activations, checked (dropout with them)."""
        hidden_sizes = self._hidden_sizes()
        activations = self._resolve_activations(len(hidden_sizes))
        dropout_rates = self._dropout_rates(len(hidden_sizes))
        if self.solver == "lbfgs" and any(dropout_rates):
            raise ValueError(
                "dropout makes every loss evaluation random, and L-BFGS needs a "
                "deterministic loss; use solver='sgd' or 'adam' with dropout."
            )
        return hidden_sizes, activations

    def _build_network(self, n_features, hidden_sizes, activations, n_outputs, ns):
        """The ``Network`` to train, recorded in the fitted attributes."""
        output = self._output_activation(n_outputs)
        layer_sizes = (n_features, *hidden_sizes, n_outputs)
        net = Network(
            layer_sizes,
            activations,
            output,
            self.loss,
            self._loss_params(),
            namespace=ns,
        )
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(layer_sizes)
        self.out_activation_ = output
        self._set_network(net)
        return net

    def _starting_point(self, net, dtype, first_call):
        """``(theta, rng)``: fresh weights, or the fitted ones to continue from."""
        if first_call:
            rng = check_random_state(self.random_state)
            # Drawn on the host: the same weights in every array library.
            ns = net.namespace
            theta = np.empty(net.layout.size, dtype=ns.host_dtype(dtype))
            schemes = layer_schemes(self.init, net.activations)
            init_params(theta, net.layout.host, schemes, rng)
            self._reset_history()
            return ns.to_device(theta), rng
        return self._training_theta(net, dtype), self._restored_rng()

    def _train(
        self, net, theta, X, y, Y, sample_weight, incremental, validation, rng, hooks
    ):
        """Run the solver on ``theta`` in place; return its ``History``."""
        if self.solver != "lbfgs":
            return self._fit_stochastic(
                net, theta, X, y, Y, sample_weight, incremental, validation, rng, hooks
            )
        options = TrainingOptions(
            alpha=float(self.alpha),
            max_iter=self.max_iter,
            tol=float(self.tol),
            max_fun=self.max_fun,
            verbose=bool(self.verbose),
        )
        self._optimizer_state = None
        data = TrainingData(X, Y, sample_weight)
        return fit_lbfgs(net, theta, data, options, hooks=hooks)

    def _fit_stochastic(
        self, net, theta, X, y, Y, sample_weight, incremental, validation, rng, hooks
    ):
        validate = None
        if validation is not None:
            validate = self._validator(
                net, *self._validate_validation_set(*validation, X.dtype, net.namespace)
            )
        elif self.early_stopping:
            X, Y, sample_weight, held_out = self._split_validation(
                X, y, Y, sample_weight, rng
            )
            validate = self._validator(net, *held_out)
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
        options = TrainingOptions(
            alpha=float(self.alpha),
            max_iter=1 if incremental else self.max_iter,
            batch_size=batch_size,
            shuffle=self.shuffle,
            dropout_rates=self._dropout_rates(net.layout.n_layers - 1),
            stop_on_validation=self.early_stopping,
            verbose=bool(self.verbose),
        )
        optimizer = self._optimizer(net.layout.size, theta.dtype, net.namespace)
        monitor = StoppingMonitor(
            float(self.tol), self.n_iter_no_change, **self._stopping_state
        )
        history = fit_stochastic(
            net,
            theta,
            TrainingData(X, Y, sample_weight),
            options,
            SolverState(optimizer, monitor, rng, samples_seen=self.t_),
            validate=validate,
            hooks=hooks,
        )
        self._optimizer_state = {**optimizer.state(), "solver": self.solver}
        self._stopping_state = monitor.state()
        return history

    def _optimizer(self, size, dtype, namespace):
        if self.solver == "sgd":
            optimizer = SGD(
                size,
                dtype,
                self.learning_rate,
                momentum=self.momentum,
                nesterov=self.nesterovs_momentum,
                schedule=self.learning_rate_schedule,
                power_t=self.power_t,
                namespace=namespace,
            )
        else:
            optimizer = Adam(
                size,
                dtype,
                self.learning_rate,
                beta_1=self.beta_1,
                beta_2=self.beta_2,
                epsilon=self.epsilon,
                namespace=namespace,
            )
        # Carry the state of an earlier call over when it is the same solver's
        # (``_training_theta`` has checked the layout, and dropped the state if
        # the weights were changed from outside).
        state = self._optimizer_state
        if state is not None and state.get("solver") == self.solver:
            optimizer.load_state(state)
        return optimizer

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
                    f"choose from {sorted(ACTIVATION_NAMES)}."
                )
        return tuple(resolve_activation(name) for name in names)

    #: Whether ``y`` must be numeric (the regressor's) rather than labels.
    _y_numeric = False

    def _validate_input(self, X, y, reset, xp=np):
        """Validate ``X`` and ``y`` for training (subclasses adapt ``y``).

        ``X`` stays in its namespace ``xp``; ``y`` comes back as a NumPy array.
        """
        X, y = validate_data(
            self,
            native_byte_order(X),
            native_byte_order(to_numpy(y)),
            accept_sparse=["csr", "csc"],
            dtype=(xp.float64, xp.float32),
            multi_output=True,
            y_numeric=self._y_numeric,
            reset=reset,
        )
        return X, to_numpy(y)

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

    def _logits(self, X, method):
        """``(logits in fitted units, namespace)``, from the forward pass."""
        ns, X = self._predict_input(X, method)
        return self._network_for(ns).logits(self.coefs_, self.intercepts_, X), ns

    def _predict_input(self, X, method):
        """Check the model is fitted and validate ``X`` as every predictor does.

        Returns ``(namespace, X)``: the model's ``ArrayNamespace``, which must be
        ``X``'s (a ``ValueError`` otherwise), and ``X`` validated.
        """
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)  # raises NotFittedError with sklearn's message
        if self._is_plain_valid_input(X):
            return NUMPY, X
        ns = fitted_namespace(self, X, method)
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(ns.xp.float64, ns.xp.float32),
            reset=False,
        )
        dtype = self.coefs_[0].dtype
        if X.dtype != dtype:
            X = ns.astype(X, dtype)
        return ns, X

    def _is_plain_valid_input(self, X):
        """True for input that ``validate_data`` would pass through unchanged.

        A 2-D, non-empty, finite ndarray in the model's dtype with the right
        number of columns, for a model fitted without feature names: full
        validation would only confirm it, at ~100 us per call, which dominates
        predicting one row. Anything else takes the full path and its errors.
        """
        return (
            type(X) is np.ndarray
            and type(self.coefs_[0]) is np.ndarray
            and X.ndim == 2
            and X.dtype == self.coefs_[0].dtype
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
            # The sum is finite only if every entry is (as in scikit-learn's own
            # check); an overflowing sum just falls back to the full path.
            and math.isfinite(np.add.reduce(X, axis=None))
        )

    def hidden_activations(self, X, layer=-1):
        """Output of a hidden layer, after its activation function.

        Useful as learned features (e.g. for a linear model or a 2-D plot).
        Deliberately not called ``transform``: that name would make scikit-learn
        treat the estimator as a transformer too.

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
        ns, X = self._predict_input(X, "hidden_activations")
        return self._network_for(ns).logits(
            self.coefs_, self.intercepts_, X, layer=int(layer) % n_hidden
        )
