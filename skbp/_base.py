"""What BPClassifier and BPRegressor share: parameters, the fit skeleton and
the prediction input path.

``BaseBP.fit`` and ``partial_fit`` run one skeleton (``_fit``): validate the
input, encode the targets into a ``FitData`` record, build the ``Network``,
initialise or restore the flat parameters, run a trainer of
``skbp._core.training``, and store its ``History`` as the fitted attributes.
The subclasses fill the hooks listed in ``BaseBP``'s docstring. The steps that
need none of them are functions (or small objects) of their own modules, which
receive what they use and call nothing back:

* ``_parameters`` -- the parameter constraints, and the layer settings checked;
* ``_validation`` -- input validation for training and prediction;
* ``_holdout`` -- the early-stopping split, a user's ``X_val``, the validator;
* ``_solvers`` -- the optimiser and options of a trainer call, its warnings;
* ``_fitted_state`` -- the fitted state as plain data, and back;
* ``_callbacks`` -- the fit's task for scikit-learn's callbacks.

Array API input (``skbp._array_api``): with scikit-learn's array API dispatch
on, ``X`` may be an array of any namespace. The network, the parameters and the
optimiser state then live in ``X``'s namespace and on its device; ``y`` and the
sample weights are checked and encoded on the host exactly as for NumPy input,
and the encoded targets and weights are moved to the device.

This module sits on top of the numeric core (``skbp._core``), which must never
import it.
"""

import warnings
from functools import partial
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.metrics import check_scoring
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skbp._array_api import (
    input_namespace,
    namespace_and_device,
    namespace_of_fitted,
    to_numpy,
)
from skbp._callbacks import FitTask
from skbp._compat import (
    ARRAY_API_SUPPORTED,
    CallbackSupport,
    DocLinkMixin,
    InvalidParameterError,
    ParameterCheckMixin,
    check_sample_weight,
    is_callback_state,
)
from skbp._core.initializers import init_params, layer_schemes
from skbp._core.network import Network
from skbp._core.training import (
    SolverState,
    StoppingMonitor,
    TrainingData,
    fit_lbfgs,
    fit_stochastic,
)
from skbp._docstrings import api_page_url_template
from skbp._exceptions import InconsistentVersionWarning
from skbp._fit_data import FitData, ValidationSet
from skbp._fitted_state import (
    continued_history,
    fitted_parameters,
    initial_history,
    model_with,
    network_description,
    network_from,
    prediction_attributes,
    restored_rng,
    training_theta,
)
from skbp._holdout import (
    check_scoring_name,
    check_validation_set,
    make_validator,
    split_validation,
)
from skbp._parameters import (
    PARAMETER_CONSTRAINTS,
    dropout_rates,
    hidden_activations,
    hidden_sizes,
)
from skbp._solvers import (
    check_start,
    lbfgs_options,
    make_optimizer,
    stochastic_options,
    warn_if_unfinished,
)
from skbp._validation import validate_prediction_input, validate_training_input
from skbp._version import __version__


def stochastic_solver(estimator):
    """``partial_fit`` exists only for the stochastic solvers (as in scikit-learn)."""
    if estimator.solver == "lbfgs":
        raise AttributeError(
            "partial_fit is only available for the stochastic solvers 'sgd' and "
            f"'adam', not for solver={estimator.solver!r}."
        )
    return True


class BaseBP(ParameterCheckMixin, DocLinkMixin, CallbackSupport, BaseEstimator):
    """Base class of the backpropagation estimators; not for direct use.

    Subclasses define ``__init__`` with their full parameter list (scikit-learn
    reads the parameters from its signature), ``fit`` / ``partial_fit`` /
    ``predict`` with their own docstrings, and these hooks (the defaults of
    five are in the section "the hooks' defaults" below):

    ``_training_sample_weight(n_samples, dtype, y, sample_weight, incremental)``
        The validated sample weights (NumPy, ``dtype``), or None for all ones;
        the classifier multiplies ``class_weight`` in.
    ``_fit_targets(y, sample_weight, *, first_call, incremental, classes)``
        None. Learns (first call) or checks (later calls) the target encoding:
        the labels, or the regressor's target scaling.
    ``_move_fitted_targets(namespace, y_space)``
        None. For array API input: moves what ``_fit_targets`` stored to the
        fit's array library (``y_space`` is ``(xp, device)`` of ``y``).
    ``_encode_targets(y, dtype)``
        ``Y``: the 2-D NumPy array (``dtype``) the loss compares the outputs with.
    ``_check_validation_targets(y_val)``
        None; raises for validation targets the fitted encoding lacks.
    ``_output_activation(n_outputs)``
        The name of the output function for ``n_outputs`` output units.
    ``_loss_params()``
        The loss function's keyword arguments (a dict).
    ``_logit_affine()``
        ``(scale, shift)``, the map ``z_fitted = z * scale + shift`` from the
        units the network trains in to the targets' units, folded into the
        fitted output layer; None when the two are the same.
    ``_stratify(y)``
        Labels to stratify the early-stopping split by, or None.
    ``_score_logits(logits, y, sample_weight)``
        The default validation score (a float) of NumPy logits in the fitted
        units: accuracy, R².

    Subclasses may also override ``_validate_input`` (the classifier makes a
    column-vector ``y`` 1-D) and set ``_y_numeric`` (True: ``y`` holds numbers).
    """

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS

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

    @property
    def _api_page_url(self):
        # Where the ``?`` icon of the HTML representation leads. Read when a
        # notebook draws the estimator, not at import: the package metadata
        # costs a couple of milliseconds to read.
        return api_page_url_template()

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
        # Fitted attributes of earlier versions: the layer sizes are now read
        # off the shapes of coefs_.
        state.pop("_layer_sizes", None)
        super().__setstate__(state)

    # ------------------------- the hooks' defaults (all hooks: the docstring)

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

    def _move_fitted_targets(self, namespace, y_space):
        """Move the fitted target encoding to the fit's array library."""

    def _loss_params(self):
        """Keyword arguments of the loss function."""
        return {}

    def _logit_affine(self):
        """``(scale, shift)`` from the training units to the fitted ones, or None."""
        return None

    def _stratify(self, y):
        """Labels to stratify the validation split by, or None."""
        return None

    #: Whether ``y`` must be numeric (the regressor's) rather than labels.
    _y_numeric = False

    def _validate_input(self, X, y, reset, xp=np):
        """``validate_training_input`` (subclasses adapt ``y``)."""
        return validate_training_input(
            self, X, y, reset=reset, xp=xp, y_numeric=self._y_numeric
        )

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
            validation = ValidationSet(X_val, y_val, sw_val)
        return self._fit(X, y, sample_weight, incremental=False, validation=validation)

    def _fit(self, X, y, sample_weight, *, incremental, classes=None, validation=None):
        """Train, or leave the estimator exactly as it was when anything fails.

        A failure anywhere in a fit (bad input, a callback's exception,
        KeyboardInterrupt) restores a shallow snapshot of the attributes: the
        fit assigns new values (the helpers of ``skbp._fitted_state`` return
        new lists and buffers) and never changes the old ones in place.
        """
        snapshot = dict(self.__dict__)
        try:
            history = self._fit_unguarded(
                X, y, sample_weight, incremental, classes, validation
            )
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
        warn_if_unfinished(history, self, incremental)
        return self

    def _fit_unguarded(self, X, y, sample_weight, incremental, classes, validation):
        """The fit skeleton: check, encode, build, start, train, store."""
        first_call = not self.__sklearn_is_fitted__() or not (
            incremental or self.warm_start
        )
        sizes, activations = self._architecture()
        check_scoring_name(self.scoring)
        ns = input_namespace(X)
        y_space = namespace_and_device(y) if not ns.is_numpy else None
        X, y = self._validate_input(X, y, reset=first_call, xp=ns.xp)
        # One callback task for this fit, with a subtask per epoch (iteration).
        task = FitTask(
            self,
            max_subtasks=1 if incremental else self.max_iter,
            X=X,
            y=y,
            sample_weight=sample_weight,
        )
        task.begin()
        # Targets and weights are checked and encoded on the host (``y`` is a
        # NumPy array from here on), then moved to X's namespace and device.
        Y, sample_weight = self._encode(
            y,
            sample_weight,
            ns.host_dtype(X.dtype),
            first_call=first_call,
            incremental=incremental,
            classes=classes,
        )
        if not ns.is_numpy:
            self._move_fitted_targets(ns, y_space)
            # The standard does not mix booleans into float arithmetic.
            Y = ns.as_dtype(Y, X.dtype)
            if sample_weight is not None:
                sample_weight = ns.to_device(sample_weight)
        net = self._build_network(X.shape[1], sizes, activations, Y.shape[1], ns)
        theta, rng = self._starting_point(net, X.dtype, first_call)
        hooks = task.hooks(
            partial(prediction_attributes, net, affine=self._logit_affine()),
            task_name="iteration" if self.solver == "lbfgs" else "epoch",
        )
        if sp.issparse(X):
            X = X.tocsr()  # row slicing for minibatches
        data = FitData(X, y, Y, sample_weight, incremental, validation)
        history = self._train(net, theta, data, rng, hooks)
        check_start(history, self, np.dtype(ns.host_dtype(X.dtype)))
        net.clear_caches()
        self._store(net, theta, history, rng)
        # Still inside the rollback of ``_fit``: a callback failing at the end
        # of the fit undoes it.
        task.end()
        return history

    def _encode(self, y, sample_weight, dtype, *, first_call, incremental, classes):
        """``(Y, sample_weight)`` on the host, in the NumPy ``dtype``.

        Checks the sample weights, learns or checks the target encoding
        (``_fit_targets``) and encodes ``y`` with it.
        """
        sample_weight = self._training_sample_weight(
            y.shape[0], dtype, y, to_numpy(sample_weight), incremental
        )
        self._fit_targets(
            y,
            sample_weight,
            first_call=first_call,
            incremental=incremental,
            classes=classes,
        )
        return self._encode_targets(y, dtype), sample_weight

    def _architecture(self):
        """Hidden layer sizes and activations, checked (dropout with them)."""
        sizes = hidden_sizes(self.hidden_layer_sizes)
        activations = hidden_activations(
            self.activation, len(sizes), self.hidden_layer_sizes
        )
        rates = dropout_rates(self.dropout, len(sizes))
        if self.solver == "lbfgs" and any(rates):
            raise ValueError(
                "dropout makes every loss evaluation random, and L-BFGS needs a "
                "deterministic loss; use solver='sgd' or 'adam' with dropout."
            )
        return sizes, activations

    def _build_network(self, n_features, sizes, activations, n_outputs, ns):
        """The ``Network`` to train, recorded in the fitted attributes."""
        output = self._output_activation(n_outputs)
        layer_sizes = (n_features, *sizes, n_outputs)
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
        self.__dict__.update(network_description(net))
        self._network_cache = net
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
            self.__dict__.update(initial_history(self.early_stopping))
            return ns.to_device(theta), rng
        theta, edited = training_theta(
            net,
            dtype,
            self.coefs_,
            self.intercepts_,
            digest=self._params_digest,
            # (None on models of older versions, which did not keep it.)
            saved=getattr(self, "_training_params", None),
            affine=self._logit_affine(),
        )
        if edited:
            # The optimiser state kept from the last fit (velocity, Adam
            # moments) belongs to the weights it was built on: they were
            # changed from outside since, so it starts afresh.
            self._optimizer_state = None
        return theta, restored_rng(self._rng_state)

    def _store(self, net, theta, history, rng):
        """Copy the trainer's result into the fitted attributes."""
        self.__dict__.update(fitted_parameters(net, theta, self._logit_affine()))
        self._rng_state = rng.get_state()
        self.__dict__.update(
            continued_history(
                vars(self),
                history,
                solver=self.solver,
                early_stopping=self.early_stopping,
                best_loss=self._stopping_state["best_loss"],
            )
        )

    # ------------------------------------------------------------- the solvers

    def _train(self, net, theta, data, rng, hooks):
        """Run the solver on ``theta`` in place; return its ``History``."""
        if self.solver == "lbfgs":
            self._optimizer_state = None
            training = TrainingData(data.X, data.Y, data.sample_weight)
            return fit_lbfgs(net, theta, training, lbfgs_options(self), hooks=hooks)
        data, validate = self._validation(net, data, rng)
        options = stochastic_options(
            self, data.X.shape[0], len(net.activations), data.incremental
        )
        optimizer = make_optimizer(
            self, net.layout.size, theta.dtype, net.namespace, self._optimizer_state
        )
        monitor = StoppingMonitor(
            float(self.tol), self.n_iter_no_change, **self._stopping_state
        )
        history = fit_stochastic(
            net,
            theta,
            TrainingData(data.X, data.Y, data.sample_weight),
            options,
            SolverState(optimizer, monitor, rng, samples_seen=self.t_),
            validate=validate,
            hooks=hooks,
        )
        self._optimizer_state = {**optimizer.state(), "solver": self.solver}
        self._stopping_state = monitor.state()
        return history

    def _validation(self, net, data, rng):
        """``(data, validate)``: the training data without a held-out part, and
        the trainer's validator (None without a validation set)."""
        if data.validation is not None:
            ns = net.namespace
            held_out = check_validation_set(
                data.validation,
                ns,
                data.X.dtype,
                validate_input=partial(self._validate_input, reset=False, xp=ns.xp),
                check_targets=self._check_validation_targets,
            )
        elif self.early_stopping:
            data, held_out = split_validation(
                data,
                fraction=self.validation_fraction,
                stratify=self._stratify(data.y),
                rng=rng,
            )
        else:
            return data, None
        scoring = self.scoring
        if scoring not in (None, "loss"):
            scoring = check_scoring(self, scoring=scoring)
        affine = self._logit_affine()
        validate = make_validator(
            net,
            held_out,
            encode=self._encode_targets,
            affine=affine,
            scoring=scoring,
            score_logits=self._score_logits,
            model_for=partial(model_with, self, net, affine=affine),
        )
        return data, validate

    # ------------------------------------------------------------- the network

    @property
    def _network(self):
        """The fitted model's ``Network``, in the array library of ``coefs_``."""
        return self._network_for(namespace_of_fitted(self.coefs_[0]))

    def _network_for(self, ns):
        """The fitted model's ``Network`` in namespace ``ns`` (where coefs_ are).

        The cached one unless it computes elsewhere: a model moved to another
        library or device (move_estimator_to) carries its old cache along.
        """
        net = self.__dict__.get("_network_cache")
        if (
            net is None
            or net.namespace.xp is not ns.xp
            or net.namespace.device != ns.device
        ):
            net = network_from(
                self.coefs_,
                self._layer_activations,
                self.out_activation_,
                self._fitted_loss,
                self._fitted_loss_params,
                ns,
            )
            self._network_cache = net
        return net

    # --------------------------------------------------------------- predicting

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coefs_")

    def _logits(self, X, method):
        """``(logits in fitted units, namespace)``, from the forward pass."""
        ns, X = validate_prediction_input(self, X, method)
        return self._network_for(ns).logits(self.coefs_, self.intercepts_, X), ns

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
        ns, X = validate_prediction_input(self, X, "hidden_activations")
        return self._network_for(ns).logits(
            self.coefs_, self.intercepts_, X, layer=int(layer) % n_hidden
        )
