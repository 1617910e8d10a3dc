"""Training loops: minibatch epochs, the stopping monitor, and the L-BFGS driver.

The trainer knows nothing about scikit-learn: it receives plain arrays, a
``Network``, a ``TrainingOptions`` record (made once per fit), the solver state
(optimiser, stopping monitor, random generator) and, for a validation set, a
function that scores the current parameters on it. It updates ``theta`` in place
and returns a ``History`` record of everything it measured, which the estimator
copies into its fitted attributes.

The arrays may be NumPy's or those of any array API namespace (the network's
``namespace``, see ``skbp._core.namespace``); the loops are the same. What they draw
at random (sample orders, dropout masks) is drawn on the host from the same
generator either way, and SciPy's L-BFGS gets a host copy of the iterate and
the gradient per evaluation.

This module must not import scikit-learn or the estimator modules.
"""

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize

from skbp._core.fastpaths import online_sgd_step
from skbp._core.minibatches import Minibatches, batch_slices
from skbp._core.optimizers import SGD
from skbp._core.threads import training_threads

#: An epoch whose mean loss exceeds this multiple of the lowest loss of the call
#: so far (or of 1, whichever is larger) counts as diverged, and the parameters
#: with that lowest loss are kept (see ``_StochasticRun._note_lowest``). Chosen
#: by measurement (sgd with and without momentum and adam, learning rates from
#: 1e-3 to 10, on digits, iris, breast cancer, wine and friedman1). Runs that
#: rose less than 100x over their lowest loss all recovered (up to 99x: adam at
#: 1 on iris). Of the six that rose between 100x and 1,000x, five never gave a
#: useful model (sgd at 10 on digits / 16 hovered at 90-600 for 13 epochs, then
#: stopped on its plateau with accuracy 0.10) and one recovered (adam at 1 on
#: breast cancer: 0.755 to 136 in its first epoch, then 0.024); above 1,000x
#: none recovered. Since the lowest-loss parameters are kept, a run caught late
#: loses only time; 100x catches the useless plateaus, at the price of the rare
#: recovery. With the floor of 1 a loss must pass 100 to count: a mean
#: cross-entropy of 100 puts probability e^-100 on the truth.
DIVERGENCE_FACTOR = 100.0


@dataclass
class StoppingMonitor:
    """Decides after each epoch whether training has stopped improving.

    Without a validation score the monitored quantity is the training loss (lower
    is better), otherwise the validation score (higher is better). An epoch that
    fails to improve on the best value by more than ``tol`` counts towards a
    plateau; a plateau is reported once the count exceeds ``n_iter_no_change``
    (scikit-learn's rule, so both stop after the same epochs).

    Parameters
    ----------
    tol : float
    n_iter_no_change : int or float
        ``np.inf`` never reports a plateau.
    best_loss : float
    best_score : float
    no_improvement_count : int
    """

    tol: float
    n_iter_no_change: int
    best_loss: float = np.inf
    best_score: float = -np.inf
    no_improvement_count: int = 0

    def update(self, loss, score=None):
        """Record one epoch; return ``(plateau, is_best)``.

        ``is_best`` is True when ``score`` is the best validation score so far
        (always False without a score).
        """
        if score is None:
            improved = loss <= self.best_loss - self.tol
            self.best_loss = min(self.best_loss, loss)
            is_best = False
        else:
            improved = score >= self.best_score + self.tol
            is_best = score > self.best_score
            self.best_score = max(self.best_score, score)
            self.best_loss = min(self.best_loss, loss)
        self.no_improvement_count = 0 if improved else self.no_improvement_count + 1
        plateau = self.no_improvement_count > self.n_iter_no_change
        return plateau, is_best

    def state(self):
        """The monitor's progress as a plain dict (``tol`` and the count limit
        are settings, given again when a monitor is made from it)."""
        return {
            "best_loss": float(self.best_loss),
            "best_score": float(self.best_score),
            "no_improvement_count": int(self.no_improvement_count),
        }

    @staticmethod
    def initial_state():
        """``state()`` of a monitor that has seen no epoch."""
        return {"best_loss": np.inf, "best_score": -np.inf, "no_improvement_count": 0}


@dataclass(frozen=True)
class TrainingOptions:
    """How one call of a trainer runs: the settings that stay fixed during it.

    The estimator makes one per ``fit`` / ``partial_fit`` call from its
    parameters, so the trainer's functions take this record instead of a long
    list of arguments.

    Attributes
    ----------
    alpha : float
        L2 penalty.
    max_iter : int
        Maximum number of epochs (L-BFGS: iterations).
    batch_size : int, default=200
        Minibatch size of the stochastic solvers; 1 is online training.
    shuffle : bool, default=True
        Draw a new sample order every epoch.
    dropout_rates : tuple of float or None, default=None
        Drop probability of each hidden layer; None when nothing is dropped.
    stop_on_validation : bool, default=False
        With a validation set: stop on its score's plateau (instead of the
        training loss's) and end with the parameters of the best-scoring epoch.
    tol : float, default=1e-4
        L-BFGS's gradient tolerance (the stochastic plateau rule lives in
        ``StoppingMonitor``).
    max_fun : int, default=15000
        Maximum number of L-BFGS loss evaluations.
    verbose : bool, default=False
        Print one line per epoch (iteration).
    """

    alpha: float
    max_iter: int
    batch_size: int = 200
    shuffle: bool = True
    dropout_rates: tuple | None = None
    stop_on_validation: bool = False
    tol: float = 1e-4
    max_fun: int = 15000
    verbose: bool = False

    def __post_init__(self):
        # No dropout at all is the plain forward pass, not masks of ones.
        if self.dropout_rates is not None and not any(self.dropout_rates):
            object.__setattr__(self, "dropout_rates", None)


@dataclass(frozen=True)
class TrainingData:
    """The arrays one call of a trainer learns from.

    Attributes
    ----------
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
        Inputs, in the network's array library.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets (0/1 for classifiers, scaled values for regressors).
    sample_weight : ndarray of shape (n_samples,) or None, default=None
        None means every sample weighs 1.
    """

    X: object
    Y: object
    sample_weight: object = None

    @property
    def n_samples(self) -> int:
        """Number of training samples."""
        return self.X.shape[0]


@dataclass
class SolverState:
    """What a stochastic solver carries from one epoch (and call) to the next.

    Attributes
    ----------
    optimizer : SGD or Adam
        Its velocity, moments and rate, updated in place.
    monitor : StoppingMonitor
        The plateau state, updated in place.
    rng : numpy.random.RandomState
        Draws the sample orders and dropout masks.
    samples_seen : int, default=0
        Samples processed by earlier calls (the ``invscaling`` schedule).
    threads : ThreadChooser or None, default=None
        Times the steps and sets NumPy's BLAS threads
        (``skbp._core.threads``); ``fit_stochastic`` sets it for its call.
    """

    optimizer: object
    monitor: StoppingMonitor
    rng: np.random.RandomState
    samples_seen: int = 0
    threads: object = None


@dataclass
class History:
    """What one call of a trainer did.

    Attributes
    ----------
    loss_curve : list of float
        Training loss of each epoch (each iteration for L-BFGS).
    validation_scores : list of float
        Validation score of each epoch, when a validation set is scored.
    validation_losses : list of float
        Validation loss (data term, no L2) of each epoch, next to the scores.
    n_iter : int
        Epochs (iterations for L-BFGS) run in this call.
    samples_seen : int
        Training samples processed in this call.
    converged : bool
        True when training stopped on its own before ``max_iter``.
    diverged : bool
        True when the loss became non-finite; ``theta`` then holds the last finite
        parameters.
    stopped_by_hook : bool
        True when a ``TrainingHooks.epoch_end`` asked to stop.
    start_loss : float
        The loss at the parameters the call started from (NaN before any
        evaluation); not finite when the data overflow the network from the
        start.
    message : str
        Why training stopped, in words.
    """

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    validation_losses: list = field(default_factory=list)
    n_iter: int = 0
    samples_seen: int = 0
    converged: bool = False
    diverged: bool = False
    stopped_by_hook: bool = False
    start_loss: float = math.nan
    message: str = ""


class TrainingHooks:
    """Where the trainers report progress, and where they can be told to stop.

    The trainers call these methods when given a ``hooks`` object; this base class
    does nothing, and the estimator subclasses it to forward the reports to
    scikit-learn's callbacks (``skbp._callbacks``), which keeps this module free
    of scikit-learn. Every ``*_begin`` call is matched by one ``*_end`` call.

    The stochastic trainer calls, per epoch::

        epoch_begin(theta, n_batches)
            batch_begin(); batch_end()      # once per minibatch
        epoch_end(theta)

    ``fit_lbfgs`` calls ``epoch_begin(theta, 0)`` / ``epoch_end(theta)`` around
    each L-BFGS iteration (a leaf: no batches).
    """

    def epoch_begin(self, theta, n_batches):
        """An epoch (an L-BFGS iteration) starts from parameters ``theta``."""

    def epoch_end(self, theta):
        """An epoch ended with parameters ``theta``; return True to stop training.

        ``theta`` is None when the epoch did not produce parameters worth looking
        at (it diverged, or it is L-BFGS's unfinished last line search).
        """
        return False

    def batch_begin(self):
        """A minibatch step starts."""

    def batch_end(self):
        """A minibatch step ended; return True to end the epoch after it."""
        return False


def minibatches(net, data, batch_size):
    """The minibatch source of ``data`` for the network's array library."""
    return Minibatches(net.namespace, data, batch_size)


class _EpochLoss:
    """Weighted mean of an epoch's batch losses, and the first of them."""

    def __init__(self):
        self.total = 0.0
        self.weight = 0.0
        self.first = None

    def add(self, loss, weight):
        if self.first is None:
            self.first = loss
        self.total += loss * weight
        self.weight += weight

    def result(self):
        """``(mean_loss, first_loss)``, as ``run_epoch`` returns them.

        Array API losses are 0-d arrays on the device, summed there: they become
        floats here, once per epoch.
        """
        mean = float(self.total / self.weight) if self.weight else 0.0
        return mean, (mean if self.first is None else float(self.first))


def run_epoch(net, theta, grad, batches, options, solver, *, order, hooks):
    """One pass over the training data in minibatches; return the mean loss.

    Parameters
    ----------
    net : Network
    theta, grad : ndarray of shape (n_params,)
        Parameters (updated in place) and a gradient buffer.
    batches : Minibatches
        The training data (its ``data``, a ``TrainingData``) and the way to
        gather its minibatches.
    options : TrainingOptions
        ``alpha``, ``batch_size`` and ``dropout_rates`` are used.
    solver : SolverState
        Its optimizer takes the steps; its ``rng`` draws the dropout masks.
    order : ndarray of shape (n_samples,) or None
        Row order for this epoch, on the host (None: the stored order).
    hooks : TrainingHooks or None
        Told about every minibatch step; ``batch_end`` returning True ends the
        epoch early.

    Returns
    -------
    mean_loss : float
        Mean training loss over the epoch, weighted by the batch weights.
    first_loss : float
        Loss of the first batch before its update: the loss at the starting point.
    """
    alpha, batch_size = options.alpha, options.batch_size
    dropout_rates = options.dropout_rates
    data, optimizer, rng = batches.data, solver.optimizer, solver.rng
    if _is_classic_online(data, options, optimizer):
        return _run_online_epoch(
            net, theta, data, optimizer, alpha=alpha, order=order, hooks=hooks
        )
    n_samples = data.n_samples
    epoch_loss = _EpochLoss()
    threads = solver.threads
    if threads is not None:
        threads.start()
    for batch in batch_slices(n_samples, batch_size):
        X_b, Y_b, sw_b, batch_weight = batches.take(batch, order)
        if batch_weight == 0.0:
            # Every sample in this batch has zero weight: it carries no gradient.
            continue
        if hooks is not None:
            hooks.batch_begin()
        masks = None
        if dropout_rates is not None:
            masks = net.dropout_masks(dropout_rates, X_b.shape[0], theta.dtype, rng)
        loss = net.loss_and_grad(
            theta, X_b, Y_b, sw_b, alpha, grad, masks, weight_sum=batch_weight
        )
        optimizer.step(theta, grad)
        if threads is not None:
            threads.step_done(X_b.shape[0])
        epoch_loss.add(loss, batch_weight)
        if hooks is not None and hooks.batch_end():
            break
    return epoch_loss.result()


def _run_online_epoch(net, theta, data, optimizer, *, alpha, order, hooks):
    """``run_epoch`` for plain online SGD (the classic rule) on dense NumPy data.

    One sample at a time through the fused step of ``fastpaths.online_sgd_step``,
    samples read as 1-D row views (no gathering copies).
    """
    # Row views of a plain ndarray are cheaper than those of subclasses (memmap).
    X, Y, sample_weight = data.X.view(np.ndarray), data.Y, data.sample_weight
    rows = range(X.shape[0]) if order is None else order.tolist()
    sgd_step = online_sgd_step(net, theta, alpha, optimizer.learning_rate)
    if sample_weight is None and hooks is None and len(rows):
        # Nothing to report: a bare loop, since the bookkeeping below costs 3% of
        # a step on the classic network. The sum runs in the same order as
        # _EpochLoss's, so the result is the same number.
        losses = [sgd_step(X[i], Y[i], 1.0) for i in rows]
        return sum(losses) / len(losses), losses[0]
    epoch_loss = _EpochLoss()
    for i in rows:
        weight = 1.0 if sample_weight is None else float(sample_weight[i])
        if weight == 0.0:
            continue
        if hooks is not None:
            hooks.batch_begin()
        epoch_loss.add(sgd_step(X[i], Y[i], weight), weight)
        if hooks is not None and hooks.batch_end():
            break
    return epoch_loss.result()


def _is_classic_online(data, options, optimizer):
    """Whether an epoch is plain online SGD on dense NumPy data (the fused step)."""
    return (
        options.batch_size == 1
        and options.dropout_rates is None
        and isinstance(data.X, np.ndarray)
        and isinstance(optimizer, SGD)
        and optimizer.momentum == 0.0
    )


def fit_stochastic(net, theta, data, options, solver, *, validate=None, hooks=None):
    """Train with minibatch SGD or Adam for up to ``options.max_iter`` epochs.

    Parameters
    ----------
    net : Network
    theta : ndarray of shape (n_params,)
        Initial parameters, updated in place.
    data : TrainingData
    options : TrainingOptions
    solver : SolverState
        The optimiser, stopping monitor, random generator and samples seen by
        earlier calls (``partial_fit``, ``warm_start``); updated in place.
    validate : callable, optional
        ``validate(theta) -> (score, loss)`` on a validation set, called after
        every epoch; both are recorded in the returned ``History``.
    hooks : TrainingHooks, optional
        Told about every epoch and minibatch; ``epoch_end`` returning True stops
        training after that epoch (a best-scoring ``theta`` is still restored).

    Returns
    -------
    History
    """
    run = _StochasticRun(net, theta, data, options, solver, hooks)
    batch_rows = min(options.batch_size, data.n_samples)
    with _blas_threads(net, theta, batch_rows) as solver.threads:
        for _ in range(options.max_iter):
            started = time.perf_counter()
            loss = run.train_one_epoch()
            if loss is None:  # diverged; theta holds the lowest-loss parameters
                break
            score = run.validate(validate)
            if run.stop_after_epoch(loss, score, time.perf_counter() - started):
                break
    solver.threads = None
    run.best.restore_into(theta)
    return run.history


def _blas_threads(net, theta, batch_rows):
    """The BLAS thread policy of a NumPy training run (``skbp._core.threads``);
    other array libraries run their own threads."""
    if not net.namespace.is_numpy:
        return nullcontext()
    key = (net.layout.layer_sizes, batch_rows, theta.dtype.str)
    return training_threads(key, online=batch_rows == 1)


class _StochasticRun:
    """The state of one ``fit_stochastic`` call, and its steps for each epoch.

    Parameters
    ----------
    net, theta, data, options, solver, hooks
        As ``fit_stochastic`` takes them.
    """

    def __init__(self, net, theta, data, options, solver, hooks):
        self.net, self.theta, self.options = net, theta, options
        self.solver, self.hooks = solver, hooks
        self.history = History()
        ns = net.namespace
        self.grad = ns.xp.empty_like(theta)
        self.best = _BestParameters(ns)
        # What divergence falls back on: the parameters at the start of the
        # epoch whose first batch had the lowest loss of the call (that loss is
        # measured on those very parameters, before the batch's step), and the
        # parameters at the start of the current epoch, the next candidate.
        self.lowest = _BestParameters(ns)
        self.epoch_start = _BestParameters(ns)
        self.lowest_loss, self.lowest_epoch = math.inf, 0
        self.batches = minibatches(net, data, options.batch_size)
        self.n_batches = len(batch_slices(data.n_samples, options.batch_size))

    def train_one_epoch(self):
        """One pass over the data; its mean loss, or None when it diverged.

        A diverged epoch (see ``DIVERGENCE_FACTOR``) leaves ``theta`` at the
        parameters of the call's lowest-loss epoch (or its starting point) and
        records why in the history.
        """
        theta, history, hooks = self.theta, self.history, self.hooks
        n_samples = self.batches.data.n_samples
        if hooks is not None:
            hooks.epoch_begin(theta, self.n_batches)
        self.epoch_start.keep(theta)
        order = self.solver.rng.permutation(n_samples) if self.options.shuffle else None
        # Overflow is detected below and reported as divergence in plain words.
        with np.errstate(over="ignore", invalid="ignore"):
            loss, first_loss = run_epoch(
                self.net,
                theta,
                self.grad,
                self.batches,
                self.options,
                self.solver,
                order=order,
                hooks=hooks,
            )
        if history.n_iter == 0 and math.isnan(history.start_loss):
            history.start_loss = float(first_loss)  # at the starting point
        self._note_lowest(float(first_loss))
        limit = DIVERGENCE_FACTOR * max(self.lowest_loss, 1.0)
        if not (loss <= limit and _parameters_in_range(theta, self.net.namespace)):
            fallback = (
                self.lowest if self.lowest.theta is not None else self.epoch_start
            )
            fallback.restore_into(theta)
            _record_divergence(history, loss, self.lowest_loss, self.lowest_epoch)
            if hooks is not None:
                hooks.epoch_end(None)
            return None
        history.n_iter += 1
        history.samples_seen += n_samples
        history.loss_curve.append(loss)
        return loss

    def _note_lowest(self, start_loss):
        """Keep this epoch's starting parameters if ``start_loss``, their loss
        on its first batch, is the lowest of the call so far.

        The epoch's mean loss is no measure of any one set of parameters: with
        a learning rate large enough to diverge they can swing within an
        epoch (iris, sgd at 3 with momentum: an epoch's mean of 0.63, its last
        parameters' loss 7.1). The first batch's loss is taken on the epoch's
        starting parameters, before any step; the two buffers swap roles
        instead of copying.
        """
        if start_loss < self.lowest_loss:
            self.lowest_loss, self.lowest_epoch = start_loss, self.history.n_iter
            self.lowest, self.epoch_start = self.epoch_start, self.lowest

    def validate(self, validate):
        """The epoch's validation score (recorded with its loss), or None."""
        if validate is None:
            return None
        # Parameters fit for the training data can still overflow on the
        # validation data; an infinite loss just never counts as the best.
        with np.errstate(over="ignore", invalid="ignore"):
            score, validation_loss = validate(self.theta)
        self.history.validation_scores.append(float(score))
        self.history.validation_losses.append(float(validation_loss))
        return float(score)

    def stop_after_epoch(self, loss, score, seconds):
        """The stopping monitor's decision, the schedule, the hooks: True to stop."""
        history, options, solver = self.history, self.options, self.solver
        monitor, optimizer = solver.monitor, solver.optimizer
        plateau, is_best = monitor.update(
            loss, score if options.stop_on_validation else None
        )
        if is_best:
            self.best.keep(self.theta)
        optimizer.end_epoch(solver.samples_seen + history.samples_seen)
        if options.verbose:
            _print_epoch(history, loss, score, seconds)
        if self.hooks is not None and self.hooks.epoch_end(self.theta):
            history.stopped_by_hook = True
            history.message = (
                f"A callback stopped training after epoch {history.n_iter}."
            )
            return True
        if not plateau:
            return False
        what = "Training loss" if score is None else "Validation score"
        history.message = (
            f"{what} did not improve more than tol={monitor.tol} for "
            f"{monitor.n_iter_no_change} consecutive epochs."
        )
        if optimizer.on_plateau():
            history.converged = True
            return True
        monitor.no_improvement_count = 0
        return False


class _BestParameters:
    """A copy of the parameters of the best-scoring epoch (early stopping)."""

    def __init__(self, namespace):
        self.namespace = namespace
        self.theta = None

    def keep(self, theta):
        if self.theta is None:
            self.theta = self.namespace.copy(theta)
        else:
            self.theta[...] = theta

    def restore_into(self, theta):
        if self.theta is not None:
            theta[...] = self.theta


def _parameters_in_range(theta, ns):
    """Whether every parameter is finite and below the square root of the
    dtype's maximum. The epoch loss is measured before each step, so it misses
    a last step that throws the weights to 1e36; products of weights that large
    with the inputs overflow."""
    xp = ns.xp
    limit = float(np.sqrt(np.finfo(ns.host_dtype(theta.dtype)).max))
    return bool(xp.max(xp.abs(theta)) < limit)


def _record_divergence(history, loss, lowest_loss, lowest_epoch):
    """Say why training stopped and which parameters were kept."""
    history.diverged = True
    if lowest_epoch == 0:
        lowest, kept = "at the start", "the call started from"
    else:
        lowest = f"after epoch {lowest_epoch}; {history.start_loss:.3g} at the start"
        kept = f"after epoch {lowest_epoch}"
    if loss <= DIVERGENCE_FACTOR * max(lowest_loss, 1.0):
        what = f"the parameters grew out of range (the mean loss was {loss:.3g})"
    else:
        what = (
            f"the mean loss became {loss:.3g}, more than {DIVERGENCE_FACTOR:g} "
            f"times its lowest value so far ({lowest_loss:.3g} {lowest})"
        )
    history.message = (
        f"Training diverged in epoch {history.n_iter + 1}: {what}. The "
        f"parameters {kept} are kept; lower the learning rate or scale the "
        "inputs."
    )


def _print_epoch(history, loss, score, seconds):
    # MLPClassifier's line first, so logs of either estimator read alike.
    line = f"Iteration {history.n_iter}, loss = {loss:.8f}"
    if score is not None:
        line += f", validation score = {score:.6f}"
    print(f"{line}, time = {seconds:.3f}s", flush=True)


def fit_lbfgs(net, theta, data, options, *, hooks=None):
    """Full-batch training with SciPy's L-BFGS-B on ``Network.loss_and_grad``.

    L-BFGS-B works in float64; for a float32 network each evaluation copies the
    iterate into the float32 ``theta`` and computes loss and gradient in float32.
    For an array API namespace the loss and gradient are computed on the
    device, and SciPy gets a host copy of them (and hands back a host iterate,
    cast on the host and copied to the device) per evaluation: the line search
    runs on the host, as scikit-learn's LogisticRegression does it.

    Parameters
    ----------
    net : Network
    theta : ndarray of shape (n_params,)
        Initial parameters, overwritten with the solution.
    data : TrainingData
    options : TrainingOptions
        ``alpha``, ``max_iter`` (iterations), ``max_fun`` (loss evaluations),
        ``tol`` (L-BFGS-B's ``gtol``) and ``verbose`` are used.
    hooks : TrainingHooks, optional
        Told about every iteration (``epoch_begin(theta, 0)`` / ``epoch_end``);
        ``epoch_end`` returning True stops L-BFGS at that iterate.

    Returns
    -------
    History
    """
    objective = _LbfgsObjective(net, theta, data, options, hooks)
    # Overflow in a trial step only makes the line search back off.
    threads = _blas_threads(net, theta, data.n_samples)
    with np.errstate(over="ignore", invalid="ignore"), threads as objective.threads:
        result = scipy.optimize.minimize(
            objective.loss_and_grad,
            np.array(net.namespace.to_host(theta), dtype=np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=objective.record,
            options={
                "maxiter": options.max_iter,
                "maxfun": options.max_fun,
                "gtol": options.tol,
            },
        )
    return objective.finish(result)


class _LbfgsObjective:
    """What SciPy's L-BFGS-B calls: the loss and gradient, and the iteration end.

    SciPy reports only the end of an iteration, so the next one is opened
    lazily, by its first loss evaluation; ``theta`` then still holds the iterate
    the previous one ended on. SciPy reads a StopIteration from ``record`` as a
    request to stop; one raised by a hook is an error, kept and re-raised by
    ``finish``.

    Parameters
    ----------
    net, theta, data, options, hooks
        As ``fit_lbfgs`` takes them.
    """

    def __init__(self, net, theta, data, options, hooks):
        self.net, self.theta, self.data = net, theta, data
        self.options, self.hooks = options, hooks
        self.grad = net.namespace.xp.empty_like(theta)
        self.history = History()
        self.iteration_open = False
        self.hook_error = None
        self.evaluations = 0
        self.threads = None  # set by fit_lbfgs: skbp._core.threads

    def set_theta(self, x):
        """``theta`` from a float64 host vector of SciPy's."""
        ns = self.net.namespace
        self.theta[...] = x if ns.is_numpy else ns.as_dtype(x, self.theta.dtype)

    def loss_and_grad(self, x):
        """``(loss, gradient)`` at ``x``, both on the host in float64."""
        if self.hooks is not None and not self.iteration_open:
            self.hooks.epoch_begin(self.theta, 0)
            self.iteration_open = True
        self.set_theta(x)
        data, threads = self.data, self.threads
        if threads is not None:
            threads.start()
        loss = self.net.loss_and_grad(
            self.theta,
            data.X,
            data.Y,
            data.sample_weight,
            self.options.alpha,
            self.grad,
        )
        if threads is not None:
            threads.step_done(data.n_samples)
        if self.evaluations == 0:  # at the starting point
            self.history.start_loss = float(loss)
        self.evaluations += 1
        # A copy: SciPy keeps the gradient it is given, and grad is reused.
        host_grad = self.net.namespace.to_host(self.grad)
        return float(loss), np.array(host_grad, dtype=np.float64)

    def record(self, intermediate_result):
        """The end of an iteration: its loss, the verbose line, the hooks."""
        history = self.history
        history.loss_curve.append(float(intermediate_result.fun))
        if self.options.verbose:
            print(
                f"Iteration {len(history.loss_curve)}, "
                f"loss = {history.loss_curve[-1]:.8f}",
                flush=True,
            )
        if self.hooks is None:
            return
        self.set_theta(intermediate_result.x)
        self.iteration_open = False
        try:
            stop = self.hooks.epoch_end(self.theta)
        except StopIteration as error:
            self.hook_error = error
            raise
        if stop:
            history.stopped_by_hook = True
            raise StopIteration  # SciPy's way to end minimize from a callback

    def finish(self, result):
        """The solution into ``theta`` and the ``History`` of the call."""
        if self.hook_error is not None:
            raise self.hook_error
        if self.iteration_open:  # evaluations after the last finished iteration
            self.hooks.epoch_end(None)
        self.set_theta(result.x)
        history = self.history
        history.n_iter = int(result.nit)
        history.samples_seen = int(result.nfev) * self.data.n_samples
        history.converged = result.status == 0
        history.message = str(result.message)
        if history.stopped_by_hook:
            history.message = (
                f"A callback stopped training after iteration {history.n_iter}."
            )
        if not np.isfinite(result.fun):
            history.diverged = True
        return history
