"""The BLAS thread policy (``skbp._core.threads``).

The chooser's rules run against a simulated clock and pool, so that what they
decide is tested without timing anything; the rest checks, on the real pools,
that fits and predictions leave every count as they found it, pin SciPy's pool,
and never exceed a limit set from outside.
"""

import concurrent.futures
import threading

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from threadpoolctl import threadpool_limits

from skbp import BPClassifier, BPRegressor
from skbp._core import fastpaths, threads


class SimulatedPools:
    """A NumPy pool whose steps take ``cost(n_threads)`` simulated seconds."""

    def __init__(self, cost, cap=2):
        self.cost, self.cap = cost, cap
        self.n_threads = cap
        self.history = []

    def numpy_threads(self):
        return self.n_threads

    def set_numpy(self, n_threads):
        self.n_threads = n_threads
        self.history.append(n_threads)


@pytest.fixture
def clock(monkeypatch):
    """A simulated ``perf_counter``: ``clock.advance(seconds)``."""

    class Clock:
        now = 1000.0

        def advance(self, seconds):
            self.now += seconds

    simulated = Clock()
    monkeypatch.setattr(threads.time, "perf_counter", lambda: simulated.now)
    monkeypatch.setattr(threads, "_REMEMBERED", {})
    return simulated


def run_steps(chooser, pools, clock, n_steps, rows=256):
    """Train ``n_steps`` simulated steps; return the threads each one used."""
    used = []
    for _ in range(n_steps):
        used.append(pools.n_threads)
        clock.advance(pools.cost(pools.n_threads))
        chooser.step_done(rows)
    return used


def test_more_threads_are_chosen_when_they_pay(clock):
    pools = SimulatedPools(lambda n: {1: 4e-3, 2: 2.5e-3}[n])
    chooser = threads.ThreadChooser(pools, 2, key="k")
    used = run_steps(chooser, pools, clock, 200)
    # The probe: one untimed and three timed steps at each count.
    assert used[:8] == [1] * 4 + [2] * 4
    assert chooser.threads == 2
    assert used.count(1) <= 3 * 4  # the first probe and at most two more


def test_threads_that_do_not_pay_enough_are_not_chosen(clock):
    # 5% faster is within the noise of a shared machine: not worth the threads.
    pools = SimulatedPools(lambda n: {1: 4e-3, 2: 3.8e-3}[n])
    chooser = threads.ThreadChooser(pools, 2, key="k")
    run_steps(chooser, pools, clock, 50)
    assert chooser.threads == 1


def test_small_steps_never_try_more_threads(clock):
    # A digits step: 0.3 ms. Trying two threads on a busy machine would cost
    # a scheduler time slice per product; the gain could only be tiny.
    pools = SimulatedPools(lambda n: {1: 3e-4, 2: 5e-2}[n])
    chooser = threads.ThreadChooser(pools, 2, key="k")
    used = run_steps(chooser, pools, clock, 2000)
    assert set(used) == {1}


def test_a_collapsing_count_is_abandoned_at_once_and_probes_stay_cheap(clock):
    # One busy core: two threads take 50x longer per step.
    pools = SimulatedPools(lambda n: {1: 4e-3, 2: 2e-1}[n])
    chooser = threads.ThreadChooser(pools, 2, key="k")
    used = run_steps(chooser, pools, clock, 5000)
    assert used[:5] == [1, 1, 1, 1, 2]  # one step at two threads, then back
    total = sum(pools.cost(n) for n in used)
    lost = used.count(2) * (pools.cost(2) - pools.cost(1))
    assert lost <= total / threads.PROBE_BUDGET * 1.5


def test_a_machine_that_becomes_busy_is_noticed(clock):
    busy = {"now": False}
    pools = SimulatedPools(lambda n: 2e-1 if busy["now"] and n > 1 else 4e-3 / n)
    chooser = threads.ThreadChooser(pools, 2, key="k")
    run_steps(chooser, pools, clock, 100)
    assert chooser.threads == 2
    busy["now"] = True
    used = run_steps(chooser, pools, clock, threads.MAX_PERIOD + 100)
    assert chooser.threads == 1
    # It left two threads at the first re-probe, at most a period later.
    assert used[threads.MAX_PERIOD :].count(2) <= 1


def test_the_choice_is_remembered_per_shape(clock):
    pools = SimulatedPools(lambda n: 4e-3 / n)
    run_steps(threads.ThreadChooser(pools, 2, key="a"), pools, clock, 20)
    pools.history.clear()
    chooser = threads.ThreadChooser(pools, 2, key="a")
    assert pools.history == [2]  # no probe: it starts where the last one ended
    assert run_steps(chooser, pools, clock, 20) == [2] * 20
    other = threads.ThreadChooser(pools, 2, key="b")
    assert other.threads == 1  # a new shape is probed


def test_a_remembered_count_above_the_limit_is_not_used(clock):
    pools = SimulatedPools(lambda n: 4e-3 / n, cap=4)
    run_steps(threads.ThreadChooser(pools, 4, key="a"), pools, clock, 30)
    assert pools.n_threads == 4
    chooser = threads.ThreadChooser(pools, 2, key="a")
    assert max(run_steps(chooser, pools, clock, 30)) == 2


def test_the_ladder_doubles_up_to_the_limit(clock):
    pools = SimulatedPools(lambda n: 4e-3 / n, cap=6)
    chooser = threads.ThreadChooser(pools, 6, key="a")
    assert chooser.ladder == [1, 2, 4, 6]
    run_steps(chooser, pools, clock, 40)
    assert chooser.threads == 6


# ------------------------------------------------------------- the real pools


def pool_counts():
    pools = threads._pools()
    return [lib.num_threads for lib in pools.numpy + pools.scipy]


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((600, 20))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("limit", [None, 1, 2])
@pytest.mark.parametrize("solver", ["adam", "lbfgs", "sgd"])
def test_fit_and_predict_put_every_count_back(data, limit, solver):
    X, y = data
    with threadpool_limits(limits=limit):
        before = pool_counts()
        model = BPClassifier(hidden_layer_sizes=(64,), solver=solver, max_iter=5)
        model.set_params(batch_size=1 if solver == "sgd" else 64).fit(X, y)
        assert pool_counts() == before
        model.predict_proba(X)
        assert pool_counts() == before


def _record_pools(monkeypatch):
    """Record SciPy's and NumPy's pool counts at every bias addition."""
    seen = []
    add_bias = fastpaths.add_bias_ger

    def recording(z, b, ones):
        pools = threads._pools()
        seen.append(
            (
                [lib.num_threads for lib in pools.scipy],
                [lib.num_threads for lib in pools.numpy],
            )
        )
        return add_bias(z, b, ones)

    monkeypatch.setattr(fastpaths, "add_bias_ger", recording)
    return seen


def test_scipy_pool_runs_one_thread_in_training_and_prediction(data, monkeypatch):
    if not threads._pools().scipy:
        pytest.skip("NumPy and SciPy share one BLAS library here: nothing to pin")
    X, y = data
    with threadpool_limits(limits=2):
        seen = _record_pools(monkeypatch)
        model = BPClassifier(hidden_layer_sizes=(64,), max_iter=3).fit(X, y)
        model.predict_proba(X)
    assert seen and all(scipy_counts == [1] for scipy_counts, _ in seen)


def test_a_limit_set_from_outside_is_never_exceeded(data, monkeypatch):
    X, y = data
    with threadpool_limits(limits=1):
        seen = _record_pools(monkeypatch)
        BPClassifier(hidden_layer_sizes=(256, 256), max_iter=3).fit(X, y)
    assert seen and all(max(numpy_counts) == 1 for _, numpy_counts in seen)


def test_online_training_runs_one_numpy_thread(data, monkeypatch):
    X, y = data
    counts = []
    original = fastpaths.online_sgd_step

    def recording(*args):
        counts.append(threads._pools().numpy_threads())
        return original(*args)

    monkeypatch.setattr("skbp._core.training.online_sgd_step", recording)
    with threadpool_limits(limits=2):
        online = BPClassifier(solver="sgd", batch_size=1, momentum=0.0, max_iter=2)
        online.fit(X, y)
    assert counts and set(counts) == {1}


def test_fits_in_threads_of_one_process_agree_with_fits_one_after_another(data):
    X, y = data
    models = [
        BPRegressor(hidden_layer_sizes=(128, 128), max_iter=20, random_state=seed)
        for seed in range(4)
    ]
    before = pool_counts()
    expected = [model.fit(X, y).predict(X) for model in models]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(lambda m: m.fit(X, y).predict(X), models))
    for e, g in zip(expected, got):
        assert_array_equal(e, g)
    assert pool_counts() == before
    assert threads._STATE["owners"] == {} and threads._STATE["saved"] is None


def test_a_fit_beside_one_in_another_thread_chooses_nothing():
    entered, release = threading.Event(), threading.Event()

    def other():
        with threads._pinned() as (_, alone):
            assert not alone  # not the main thread: OpenBLAS ignores its counts
            entered.set()
            release.wait(10)

    worker = threading.Thread(target=other)
    with threadpool_limits(limits=2):
        before = pool_counts()
        worker.start()
        entered.wait(10)
        with threads.training_threads(key="beside") as chooser:
            assert chooser is None
        assert pool_counts() == before
        release.set()
        worker.join()
        limit = threads._pools().numpy_threads()
        with threads.training_threads(key="alone") as chooser:
            assert (chooser is None) == (limit <= 1)
        assert pool_counts() == before
    assert threads._STATE["owners"] == {}


def test_a_one_row_prediction_does_not_enter_the_policy(data, monkeypatch):
    X, y = data
    model = BPClassifier(hidden_layer_sizes=(16,), max_iter=2).fit(X, y)

    def fail(*args):
        raise AssertionError("a one-row prediction entered the thread policy")

    monkeypatch.setattr("skbp._core.network.prediction_threads", fail)
    model.predict_proba(X[:1])
    with pytest.raises(AssertionError, match="thread policy"):
        model.predict_proba(X[:200])


def _fit_in_worker(X, y):
    """Fit in a joblib worker; return its NumPy pool's count and every count the
    thread policy set there."""
    set_counts = []
    pools = threads._pools()
    original = pools.set_numpy

    def recording(n_threads):
        set_counts.append(n_threads)
        original(n_threads)

    pools.set_numpy = recording
    try:
        cap = pools.numpy_threads()
        BPClassifier(hidden_layer_sizes=(256, 256), max_iter=3).fit(X, y)
    finally:
        del pools.set_numpy
    return cap, set_counts


def test_joblib_workers_are_not_oversubscribed(data):
    # joblib's workers run with cores // n_jobs BLAS threads; a fit there stays
    # within that, as GridSearchCV(n_jobs=...) relies on.
    joblib = pytest.importorskip("joblib")
    X, y = data
    results = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(_fit_in_worker)(X, y) for _ in range(2)
    )
    for cap, set_counts in results:
        assert cap == max(1, joblib.cpu_count() // 2)
        assert all(n <= cap for n in set_counts)


def test_a_remembered_choice_is_left_at_the_first_collapsing_step(clock):
    busy = {"now": False}
    pools = SimulatedPools(lambda n: 2e-1 if busy["now"] and n > 1 else 4e-3 / n)
    run_steps(threads.ThreadChooser(pools, 2, key="a"), pools, clock, 300)
    assert pools.n_threads == 2
    busy["now"] = True  # the next fit of the same shape, on a busy machine
    chooser = threads.ThreadChooser(pools, 2, key="a")
    used = run_steps(chooser, pools, clock, 300)
    assert used[:2] == [2, 1]  # one collapsing step, then the probe at one
    assert used[1:].count(2) <= 2
