"""Faults in the middle of ``fit`` / ``partial_fit`` (issue "Reliability", item 2).

An exception raised while an estimator trains must leave it as if the call had
never been made, and must reach the caller unchanged (the same object):

* a fitted estimator keeps every attribute, fitted and private (weights, history,
  optimiser, stopping and random state, the parameter digest), compared deeply;
* an unfitted estimator stays unfitted;
* the next call trains exactly as it would have without the failed one
  (continue-training equivalence): the estimator then equals one that never
  saw the fault.

Faults come from a callback (scikit-learn >= 1.9), a scorer, the numeric core
(patched to raise after N calls, once it has done its work: the parameters it
updates in place have then changed), the optimiser's construction, and the
moment the result is stored. Each is injected at several points of an epoch,
for every solver, in both estimators, during a first ``fit``, a warm-started
``fit``, a first ``partial_fit`` and a ``partial_fit`` on a fitted model.
"""

import builtins
import contextlib
import copy
import math

import numpy as np
import pytest
import scipy.optimize
import sklearn
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import skbp._core.training
import skbp._fitted_state
from skbp import BPClassifier, BPRegressor
from skbp._compat import CALLBACKS_AVAILABLE
from skbp._core.network import Network
from skbp._core.optimizers import SGD, Adam

# The fits here under-train on purpose.
pytestmark = pytest.mark.usefixtures("no_convergence_warning")

needs_callbacks = pytest.mark.skipif(
    not CALLBACKS_AVAILABLE,
    reason=f"sklearn.callback needs scikit-learn >= 1.9, not {sklearn.__version__}",
)

KINDS = ["classifier", "regressor"]
SOLVERS = ["sgd", "adam", "lbfgs"]
STOCHASTIC = ["sgd", "adam"]

#: scikit-learn's per-fit callback bookkeeping, which it keeps on the estimator.
CALLBACK_BOOKKEEPING = {
    "_skl_callbacks",
    "_callback_fit_ctx",
    "_skl_callbacks_to_teardown",
    "_parent_callback_ctx",
}

N_SAMPLES, BATCH_SIZE, MAX_ITER = 60, 20, 3  # 3 minibatches per epoch, 3 epochs
LBFGS_MAX_ITER = 5


def _data():
    X, y = make_classification(
        n_samples=N_SAMPLES,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    X_r, y_r = make_regression(
        n_samples=N_SAMPLES, n_features=4, noise=1.0, random_state=0
    )
    return {"classifier": (X, y), "regressor": (X_r, 100.0 + y_r)}


DATA = _data()


def make(kind, solver, **params):
    """A small, fast estimator; ``params`` override the defaults."""
    defaults = dict(
        hidden_layer_sizes=(5,),
        solver=solver,
        max_iter=LBFGS_MAX_ITER if solver == "lbfgs" else MAX_ITER,
        batch_size=BATCH_SIZE,
        learning_rate=0.01,
        random_state=0,
    )
    defaults.update(params)
    return (BPClassifier if kind == "classifier" else BPRegressor)(**defaults)


def _partial_fit(est, X, y):
    if isinstance(est, BPClassifier):
        return est.partial_fit(X, y, classes=[0, 1, 2])
    return est.partial_fit(X, y)


#: How the estimator is prepared, and which call then fails.
SCENARIOS = {
    "first_fit": "fit of an unfitted estimator",
    "warm_fit": "warm-started fit of a fitted estimator",
    "partial_fit": "partial_fit of an estimator fitted by partial_fit",
    "first_partial_fit": "partial_fit of an unfitted estimator",
}

#: The scenarios that run one epoch (partial_fit).
ONE_EPOCH = {"partial_fit", "first_partial_fit"}


def prepare(kind, solver, scenario, **params):
    """The estimator just before the call that will fail, and that call."""
    est = make(kind, solver, warm_start=scenario == "warm_fit", **params)
    X, y = DATA[kind]
    if scenario == "warm_fit":
        est.fit(X, y)
    elif scenario == "partial_fit":
        _partial_fit(est, X, y)
    if scenario in ONE_EPOCH:
        return est, lambda e: _partial_fit(e, X, y)
    return est, lambda e: e.fit(X, y)


# ------------------------------------------------------------ state comparison


def fitted_state(est):
    """A deep copy of everything but the parameters and the callback bookkeeping.

    The ``Network`` cache is rebuilt from plain attributes on demand; the
    predictions (checked separately) show whether it matches them.
    """
    params = est.get_params(deep=False)
    return copy.deepcopy(
        {
            name: value
            for name, value in vars(est).items()
            if name not in params
            and name not in CALLBACK_BOOKKEEPING
            and name != "_network_cache"
        }
    )


def assert_same(actual, expected, path="state"):
    """Deep equality: arrays by dtype, shape and values (NaN equals NaN)."""
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), path
        assert actual.dtype == expected.dtype, path
        assert actual.shape == expected.shape, path
        assert_array_equal(actual, expected, err_msg=path, strict=True)
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert sorted(actual) == sorted(expected), path
        for key in expected:
            assert_same(actual[key], expected[key], f"{path}[{key!r}]")
    elif isinstance(expected, list | tuple):
        assert type(actual) is type(expected), path
        assert len(actual) == len(expected), f"{path}: length"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{path}[{i}]")
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(actual, float) and math.isnan(actual), path
    elif hasattr(expected, "__dict__") and not isinstance(expected, type):
        assert type(actual) is type(expected), path
        assert_same(vars(actual), vars(expected), f"{path}.__dict__")
    else:
        assert type(actual) is type(expected), path
        assert actual == expected, path


def _outputs(est):
    X, _ = DATA["classifier" if isinstance(est, BPClassifier) else "regressor"]
    if isinstance(est, BPClassifier):
        return est.predict_proba(X)
    return est.predict(X)


def check_fault(est, call, reference, fault, exc):
    """Run ``call(est)`` with ``fault`` armed; check the failure left no trace.

    ``reference`` is an estimator prepared like ``est``, which then made the
    call without a fault.
    """
    fitted = est.__sklearn_is_fitted__()
    params = est.get_params(deep=False)
    before = fitted_state(est)
    outputs = _outputs(est) if fitted else None

    with fault:
        with pytest.raises(type(exc)) as excinfo:
            call(est)
    # The very exception raised, message and all.
    assert excinfo.value is exc
    assert excinfo.type is type(exc)
    assert fault.fired == 1

    # As it was.
    assert_same(fitted_state(est), before)
    for name, value in est.get_params(deep=False).items():
        assert value is params[name], name
    # scikit-learn has torn this fit's callback context down again.
    assert not hasattr(est, "_callback_fit_ctx")
    assert not hasattr(est, "_skl_callbacks_to_teardown")
    if fitted:
        assert_array_equal(_outputs(est), outputs, strict=True)
    else:
        with pytest.raises(NotFittedError):
            check_is_fitted(est)

    # The next call trains exactly as if the failed one had never happened.
    call(est)
    assert_same(fitted_state(est), fitted_state(reference))
    assert_array_equal(_outputs(est), _outputs(reference), strict=True)


def run_case(kind, solver, scenario, make_fault, exc, **params):
    """Prepare the estimator, inject ``make_fault(est)``, check, compare."""
    reference, reference_call = prepare(kind, solver, scenario, **params)
    reference_call(reference)
    est, call = prepare(kind, solver, scenario, **params)
    fault = make_fault(est)
    check_fault(est, call, reference, fault, exc)
    return fault


# -------------------------------------------------------------------- faults


class _Fault(contextlib.AbstractContextManager):
    """Armed inside its ``with`` block; raises ``exc`` once, at call ``nth``."""

    def __init__(self, nth, exc):
        self.nth = nth
        self.exc = exc
        self.calls = 0
        self.fired = 0
        self.armed = False
        self._patches = None

    def _count(self):
        """Count one call; raise ``exc`` if this is the armed ``nth`` one."""
        if not self.armed:
            return
        call, self.calls = self.calls, self.calls + 1
        if call == self.nth:
            self.fired += 1
            self.armed = False
            raise self.exc

    def patches(self):
        """Attributes to patch while armed: (owner, name, value) triples."""
        return []

    def __enter__(self):
        self.armed = True
        self._patches = pytest.MonkeyPatch()
        for owner, name, value in self.patches():
            self._patches.setattr(owner, name, value, raising=False)
        return self

    def __exit__(self, *exc_info):
        self.armed = False
        self._patches.undo()
        return False


class FaultyCallback(_Fault):
    """A callback whose ``hook`` raises at its ``nth`` call for ``task_name``.

    The estimator keeps it after the failure, disarmed, for the next fit.
    """

    def __init__(self, hook, task_name, nth, exc):
        super().__init__(nth, exc)
        self.hook, self.task_name = hook, task_name
        self.log = []

    def setup(self, estimator, context):
        self.log.append("setup")

    def teardown(self, estimator, context):
        self.log.append("teardown")

    def _hook(self, hook, context):
        self.log.append((hook, context.task_name, context.task_id))
        if hook == self.hook and context.task_name == self.task_name:
            self._count()

    def on_fit_task_begin(self, estimator, context, **kwargs):
        self._hook("begin", context)

    def on_fit_task_end(self, estimator, context, **kwargs):
        self._hook("end", context)
        return False


class FailingCalls(_Fault):
    """``owner.name`` raises at its ``nth`` call, after doing its work."""

    def __init__(self, owner, name, nth, exc):
        super().__init__(nth, exc)
        self.owner, self.name = owner, name
        self.original = getattr(owner, name)

    def patches(self):
        original = self.original

        def failing(*args, **kwargs):
            result = original(*args, **kwargs)
            self._count()
            return result

        return [(self.owner, self.name, failing)]


class FailingConstruction(_Fault):
    """``owner.name`` raises at once: a constructor out of memory, say."""

    def __init__(self, owner, name, exc):
        super().__init__(0, exc)
        self.owner, self.name = owner, name

    def patches(self):
        def failing(*args, **kwargs):
            self._count()

        return [(self.owner, self.name, failing)]


class FailingOnlineStep(_Fault):
    """The fused online SGD step raises at its ``nth`` call, after updating."""

    def patches(self):
        build = skbp._core.training.online_sgd_step

        def online_sgd_step(*args, **kwargs):
            step = build(*args, **kwargs)

            def failing_step(x, y, weight):
                loss = step(x, y, weight)
                self._count()
                return loss

            return failing_step

        return [(skbp._core.training, "online_sgd_step", online_sgd_step)]


class FailingScorer(_Fault):
    """``scoring=``: the default score, but raising at its ``nth`` call."""

    def __call__(self, estimator, X, y, sample_weight=None):
        self._count()
        return estimator.score(X, y, sample_weight=sample_weight)


class NeverFailingScorer(FailingScorer):
    def __init__(self):
        super().__init__(None, None)


# ----------------------------------------------------------- callback faults


def _callback_points(solver, scenario):
    """(hook, task, nth) of the callback faults that this fit reaches."""
    epoch = "iteration" if solver == "lbfgs" else "epoch"
    n_epochs = 1 if scenario in ONE_EPOCH else MAX_ITER
    points = [
        ("begin", "fit", 0),
        ("end", "fit", 0),
        ("begin", epoch, 0),  # the first
        ("end", epoch, 0),
        ("begin", epoch, n_epochs - 1),  # the last (of the epochs asked for)
        ("end", epoch, 1 if n_epochs > 1 else 0),
    ]
    if solver != "lbfgs":
        n_batches = N_SAMPLES // BATCH_SIZE * n_epochs
        points += [
            ("begin", "batch", 0),  # the first minibatch
            ("end", "batch", 1),  # the middle of the first epoch
            ("end", "batch", 2),  # the end of the first epoch
            ("begin", "batch", n_batches - 2),  # a later epoch
        ]
    return sorted(set(points))


CALLBACK_CASES = [
    pytest.param(
        kind,
        solver,
        scenario,
        *point,
        id="-".join(map(str, (kind, solver, scenario, *point))),
    )
    for kind in KINDS
    for solver in SOLVERS
    for scenario in SCENARIOS
    if not (solver == "lbfgs" and scenario in ONE_EPOCH)
    for point in _callback_points(solver, scenario)
]


@needs_callbacks
@pytest.mark.parametrize("kind, solver, scenario, hook, task_name, nth", CALLBACK_CASES)
def test_callback_fault(kind, solver, scenario, hook, task_name, nth):
    exc = RuntimeError(f"callback fault at {hook} of {task_name} #{nth}")

    def arm(est):
        callback = FaultyCallback(hook, task_name, nth, exc)
        est.set_callbacks(callback)
        return callback

    callback = run_case(kind, solver, scenario, arm, exc)
    # The failed fit's callbacks were torn down after the failure.
    first_failure = callback.log.index("teardown")
    assert callback.log[:first_failure].count("setup") == 1
    assert callback.log[first_failure - 1][0] == hook


@needs_callbacks
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "solver, task_name, hook, nth",
    [
        ("sgd", "batch", "end", 4),
        ("adam", "epoch", "begin", 1),
        ("lbfgs", "iteration", "end", 2),
    ],
)
@pytest.mark.parametrize("scenario", ["first_fit", "warm_fit"])
def test_keyboard_interrupt_in_a_callback(kind, solver, task_name, hook, nth, scenario):
    exc = KeyboardInterrupt()

    def arm(est):
        callback = FaultyCallback(hook, task_name, nth, exc)
        est.set_callbacks(callback)
        return callback

    callback = run_case(kind, solver, scenario, arm, exc)
    assert callback.log.count("teardown") == 2  # the failed fit's and the next


@needs_callbacks
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", KINDS)
def test_stop_iteration_from_a_callback_is_an_error(kind, solver):
    # A callback that raises StopIteration (say, next() on an exhausted iterator)
    # has failed; it did not ask to stop (that is returning True). SciPy's
    # L-BFGS-B reads a StopIteration from its own callback as a stop request.
    task_name = "iteration" if solver == "lbfgs" else "epoch"
    exc = StopIteration("an exhausted iterator in a callback")

    def arm(est):
        callback = FaultyCallback("end", task_name, 1, exc)
        est.set_callbacks(callback)
        return callback

    run_case(kind, solver, "warm_fit", arm, exc)


@needs_callbacks
@pytest.mark.parametrize("solver", SOLVERS)
def test_teardown_runs_after_every_kind_of_failure(solver):
    # Also when the failure is not the callback's: a core fault mid-epoch.
    X, y = DATA["classifier"]
    callback = FaultyCallback("never", "never", 0, None)
    est = make("classifier", solver).set_callbacks(callback)
    exc = RuntimeError("numeric core")
    with FailingCalls(Network, "loss_and_grad", 2, exc):
        with pytest.raises(RuntimeError) as excinfo:
            est.fit(X, y)
    assert excinfo.value is exc
    assert callback.log[0] == "setup"
    assert callback.log[-1] == "teardown"
    assert callback.log.count("teardown") == 1


# -------------------------------------------------------------- scorer faults


@pytest.mark.parametrize("nth", [0, 2])  # after the first epoch, the third
@pytest.mark.parametrize("validation", ["early_stopping", "X_val"])
@pytest.mark.parametrize("scenario", ["first_fit", "warm_fit"])
@pytest.mark.parametrize("solver", STOCHASTIC)
@pytest.mark.parametrize("kind", KINDS)
def test_scorer_fault(kind, solver, scenario, validation, nth):
    X, y = DATA[kind]
    exc = ValueError(f"scorer fault at call {nth}")
    scorer = FailingScorer(nth, exc)
    params = {"early_stopping": validation == "early_stopping"}

    def fit(est):
        if validation == "X_val":
            return est.fit(X, y, X_val=X[::3], y_val=y[::3])
        return est.fit(X, y)

    reference = make(kind, solver, scoring=NeverFailingScorer(), **params)
    est = make(kind, solver, scoring=scorer, **params)
    if scenario == "warm_fit":
        reference.set_params(warm_start=True)
        est.set_params(warm_start=True)
        fit(reference)
        fit(est)
    fit(reference)
    check_fault(est, fit, reference, scorer, exc)


# ------------------------------------------------------ numeric-core faults

#: Calls of ``Network.loss_and_grad`` (one per minibatch) after which it fails:
#: the first minibatch, the middle and the end of the first epoch, a later one.
STOCHASTIC_CALLS = [0, 1, 2, 7]
#: L-BFGS: the first loss evaluation, and later ones.
LBFGS_CALLS = [0, 2, 5]  # 5: the last evaluation of the shortest run


def cases(solvers, scenarios, calls):
    """Parameters ``(kind, solver, scenario, nth)`` of the faults a fit reaches.

    ``calls(solver, scenario)`` lists the calls after which the fault strikes.
    """
    return [
        pytest.param(
            kind, solver, scenario, nth, id=f"{kind}-{solver}-{scenario}-{nth}"
        )
        for kind in KINDS
        for solver in solvers
        for scenario in scenarios
        if not (solver == "lbfgs" and scenario in ONE_EPOCH)
        for nth in calls(solver, scenario)
    ]


def _minibatch_calls(solver, scenario):
    if solver == "lbfgs":
        return LBFGS_CALLS
    if scenario in ONE_EPOCH:  # one epoch of three minibatches
        return [0, 1, 2]
    return STOCHASTIC_CALLS


@pytest.mark.parametrize(
    "kind, solver, scenario, nth", cases(SOLVERS, SCENARIOS, _minibatch_calls)
)
def test_loss_and_grad_fault(kind, solver, scenario, nth):
    exc = RuntimeError(f"loss_and_grad fault at call {nth}")
    run_case(
        kind,
        solver,
        scenario,
        lambda est: FailingCalls(Network, "loss_and_grad", nth, exc),
        exc,
    )


@pytest.mark.parametrize(
    "kind, solver, scenario, nth",
    cases(
        STOCHASTIC,
        SCENARIOS,
        lambda solver, scenario: [0, 2] if scenario in ONE_EPOCH else [0, 4, 8],
    ),
)
def test_optimizer_step_fault(kind, solver, scenario, nth):
    # The step has updated theta (and its velocity or moments) in place when it
    # raises: none of it may reach the estimator.
    optimizer = SGD if solver == "sgd" else Adam
    exc = ArithmeticError(f"optimizer step fault at call {nth}")
    run_case(
        kind,
        solver,
        scenario,
        lambda est: FailingCalls(optimizer, "step", nth, exc),
        exc,
    )


@pytest.mark.parametrize(
    "kind, solver, scenario, nth",
    cases(SOLVERS, ["first_fit", "warm_fit", "partial_fit"], lambda *_: [1]),
)
def test_keyboard_interrupt_in_the_numeric_core(kind, solver, scenario, nth):
    exc = KeyboardInterrupt()
    run_case(
        kind,
        solver,
        scenario,
        lambda est: FailingCalls(Network, "loss_and_grad", nth, exc),
        exc,
    )


#: Online training (batch_size=1) on 30 samples: one step per sample and epoch.
N_ONLINE = 30


def _online_calls(solver, scenario):
    # The first, a middle and the last sample of the first epoch; the second epoch.
    calls = [0, 15, N_ONLINE - 1]
    return calls if scenario in ONE_EPOCH else [*calls, N_ONLINE + 20]


@pytest.fixture
def online_data(monkeypatch):
    for kind in KINDS:
        monkeypatch.setitem(DATA, kind, tuple(a[:N_ONLINE] for a in DATA[kind]))


@pytest.mark.parametrize(
    "kind, solver, scenario, nth", cases(["sgd"], SCENARIOS, _online_calls)
)
def test_online_fused_step_fault(kind, solver, scenario, nth, online_data):
    # Plain SGD with batch_size=1: the fused step of skbp._core.fastpaths.
    exc = RuntimeError(f"online step fault at sample {nth}")
    run_case(
        kind,
        solver,
        scenario,
        lambda est: FailingOnlineStep(nth, exc),
        exc,
        momentum=0.0,
        batch_size=1,
    )


@pytest.mark.parametrize(
    "kind, solver, scenario, nth", cases(STOCHASTIC, SCENARIOS, _online_calls)
)
def test_online_momentum_gradient_fault(kind, solver, scenario, nth, online_data):
    # Adam, or SGD with momentum, with batch_size=1: one-row batches through
    # Network.loss_and_grad (only plain SGD takes the fused online step).
    exc = RuntimeError(f"online gradient fault at sample {nth}")
    run_case(
        kind,
        solver,
        scenario,
        lambda est: FailingCalls(Network, "loss_and_grad", nth, exc),
        exc,
        momentum=0.9,
        batch_size=1,
    )


# ------------------------------------------- out of memory while setting up


@pytest.mark.parametrize(
    "kind, solver, scenario, nth", cases(SOLVERS, SCENARIOS, lambda *_: [0])
)
def test_memory_error_building_the_optimizer(kind, solver, scenario, nth):
    exc = MemoryError("stand-in: no memory for the optimiser state")
    if solver == "lbfgs":
        # L-BFGS has no optimiser object: SciPy's driver allocates its state.
        owner, name = scipy.optimize, "minimize"
    else:
        owner, name = (SGD if solver == "sgd" else Adam), "__init__"
    run_case(
        kind,
        solver,
        scenario,
        lambda est: FailingConstruction(owner, name, exc),
        exc,
    )


# ------------------------------------------- interrupted storing the result


class _InterruptOnList(_Fault):
    """``skbp._fitted_state.<builtin>`` raises when applied to a list (a history list).

    Stands in for a KeyboardInterrupt (a signal) arriving while ``fit`` copies
    the trainer's history into the estimator: ``_store`` takes ``min`` of the
    loss curve (L-BFGS) and ``max`` of the validation scores (early stopping)
    after extending them.
    """

    def __init__(self, builtin, exc):
        super().__init__(0, exc)
        self.builtin = builtin

    def patches(self):
        original = getattr(builtins, self.builtin)

        def interrupted(*args, **kwargs):
            if args and isinstance(args[0], list):
                self._count()
            return original(*args, **kwargs)

        return [(skbp._fitted_state, self.builtin, interrupted)]


@pytest.mark.parametrize("scenario", ["first_fit", "warm_fit"])
@pytest.mark.parametrize(
    "solver, builtin, params",
    [
        ("lbfgs", "min", {}),
        ("adam", "max", {"early_stopping": True}),
        ("sgd", "max", {"early_stopping": True}),
    ],
    ids=["lbfgs", "adam-early_stopping", "sgd-early_stopping"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_interrupt_while_storing_the_result(kind, solver, builtin, params, scenario):
    exc = KeyboardInterrupt()
    run_case(
        kind,
        solver,
        scenario,
        lambda est: _InterruptOnList(builtin, exc),
        exc,
        **params,
    )


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_storing_the_result_changes_nothing_in_place(solver, early_stopping):
    # The rollback restores a shallow snapshot of the attributes, so storing a
    # trainer's result must assign new values, never change the old ones.
    if early_stopping and solver == "lbfgs":
        pytest.skip("L-BFGS holds nothing out")
    est = make("regressor", solver, early_stopping=early_stopping, warm_start=True)
    X, y = DATA["regressor"]
    est.fit(X, y)
    previous = dict(vars(est))
    before = copy.deepcopy(fitted_state(est))
    history = skbp._core.training.History(
        loss_curve=[1.0, 0.5],
        validation_scores=[0.1, 0.2] if early_stopping else [],
        validation_losses=[2.0, 1.0] if early_stopping else [],
        n_iter=2,
        samples_seen=10,
    )
    new = skbp._fitted_state.continued_history(
        previous,
        history,
        solver=solver,
        early_stopping=early_stopping,
        best_loss=0.5,
    )
    assert_same(fitted_state(est), before)
    for name, value in new.items():
        if isinstance(value, list):
            assert value is not previous.get(name), name
    assert new["loss_curve_"] == [*before["loss_curve_"], 1.0, 0.5]
    assert new["t_"] == before["t_"] + 10
