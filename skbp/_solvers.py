"""The solvers' side of a fit: the trainer's inputs made from the estimator's
parameters, and what the trainer's ``History`` means for the user.

* ``make_optimizer`` -- SGD or Adam, resuming the optimiser state of the last
  call when it is the same solver's;
* ``stochastic_options`` / ``lbfgs_options`` -- the ``TrainingOptions`` record
  of one call (``batch_size_for``: the minibatch size it uses);
* ``check_start`` -- the error for data that overflow the network before any
  step (a loss that is not finite where training starts);
* ``warn_if_unfinished`` -- the ``ConvergenceWarning`` of a solver that stopped
  short (diverged, or at ``max_iter``).

``params`` is the estimator, read for its hyper-parameters (the public
attributes ``__init__`` sets) and nothing else. This module imports
``_parameters`` and the numeric core, no estimator module.
"""

import math
import warnings

from sklearn.base import is_regressor
from sklearn.exceptions import ConvergenceWarning

from skbp._core.optimizers import SGD, Adam
from skbp._core.training import TrainingOptions
from skbp._parameters import dropout_rates


def make_optimizer(params, size, dtype, namespace, state):
    """SGD or Adam for ``params.solver``, resuming ``state`` if it is its own.

    Parameters
    ----------
    params : BPClassifier or BPRegressor
    size : int
        Number of parameters.
    dtype : dtype
        The training dtype, in ``namespace``.
    namespace : ArrayNamespace
    state : dict or None
        The optimiser state of the last call (``optimizer.state()`` and its
        ``"solver"``), or None to start afresh.
    """
    if params.solver == "sgd":
        optimizer = SGD(
            size,
            dtype,
            params.learning_rate,
            momentum=params.momentum,
            nesterov=params.nesterovs_momentum,
            schedule=params.learning_rate_schedule,
            power_t=params.power_t,
            namespace=namespace,
        )
    else:
        optimizer = Adam(
            size,
            dtype,
            params.learning_rate,
            beta_1=params.beta_1,
            beta_2=params.beta_2,
            epsilon=params.epsilon,
            namespace=namespace,
        )
    # Carry the state of an earlier call over when it is the same solver's (the
    # caller has checked the layout, and dropped the state if the weights were
    # changed from outside).
    if state is not None and state.get("solver") == params.solver:
        optimizer.load_state(state)
    return optimizer


def batch_size_for(batch_size, n_samples):
    """The minibatch size: ``batch_size`` ('auto': 200), at most ``n_samples``."""
    batch_size = min(200, n_samples) if batch_size == "auto" else batch_size
    if batch_size > n_samples:
        warnings.warn(
            f"batch_size={batch_size} is larger than the {n_samples} training "
            "samples; using full batches.",
            UserWarning,
        )
        batch_size = n_samples
    return batch_size


def stochastic_options(params, n_samples, n_hidden, incremental):
    """The ``TrainingOptions`` of one SGD or Adam call.

    Parameters
    ----------
    params : BPClassifier or BPRegressor
    n_samples : int
        Number of training samples (after an early-stopping split).
    n_hidden : int
        Number of hidden layers.
    incremental : bool
        ``partial_fit``: one epoch.
    """
    return TrainingOptions(
        alpha=float(params.alpha),
        max_iter=1 if incremental else params.max_iter,
        batch_size=batch_size_for(params.batch_size, n_samples),
        shuffle=params.shuffle,
        dropout_rates=dropout_rates(params.dropout, n_hidden),
        stop_on_validation=params.early_stopping,
        verbose=bool(params.verbose),
    )


def lbfgs_options(params):
    """The ``TrainingOptions`` of one L-BFGS call."""
    return TrainingOptions(
        alpha=float(params.alpha),
        max_iter=params.max_iter,
        tol=float(params.tol),
        max_fun=params.max_fun,
        verbose=bool(params.verbose),
    )


def check_start(history, params, dtype):
    """Raise when the loss is not finite where training started.

    The data then overflow the network's arithmetic before any step, and the
    fit would return a model that learnt nothing. The message begins with
    scikit-learn's MLP's for this case (its weights become non-finite; skbp's
    stay finite), then says what to do.

    Parameters
    ----------
    history : History
    params : BPClassifier or BPRegressor
    dtype : numpy.dtype
        The training dtype (on the host).
    """
    if math.isfinite(history.start_loss):
        return
    advice = ""
    if is_regressor(params) and not params.normalize_y:
        advice = "; with normalize_y=False, large targets overflow too"
    raise ValueError(
        "Solver produced non-finite parameter weights. The input data may "
        "contain large values and need to be preprocessed. Here the training "
        f"loss is {history.start_loss} already at the starting weights, before "
        f"any step of solver={params.solver!r}: the data overflow {dtype.name} "
        "arithmetic, and nothing can be learnt. Scale the features first, for "
        f"example with make_pipeline(StandardScaler(), {type(params).__name__}())"
        f"{advice}."
    )


def warn_if_unfinished(history, params, incremental):
    """``ConvergenceWarning`` for a run that diverged or reached ``max_iter``.

    Parameters
    ----------
    history : History
    params : BPClassifier or BPRegressor
    incremental : bool
        ``partial_fit``, which runs one epoch by design.
    """
    if history.diverged:
        message = history.message or (
            "L-BFGS ended on a non-finite loss; lower the learning rate, scale "
            "the inputs or increase alpha."
        )
        warnings.warn(message, ConvergenceWarning)
        return
    if incremental or history.converged or history.stopped_by_hook:
        return
    if params.solver == "lbfgs":
        warnings.warn(
            f"lbfgs failed to converge after {history.n_iter} iterations "
            f"({history.message}). Increase max_iter or max_fun, or scale the "
            "data.",
            ConvergenceWarning,
        )
    elif history.n_iter == params.max_iter:
        warnings.warn(
            f"Stochastic optimizer: maximum iterations ({params.max_iter}) reached "
            "and the optimization hasn't converged yet.",
            ConvergenceWarning,
        )
