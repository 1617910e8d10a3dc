"""How many BLAS threads training and prediction use.

A process that imports NumPy and SciPy from their wheels holds two OpenBLAS
libraries, each with its own pool of threads: NumPy's, which runs the matrix
products, and SciPy's, which runs the rank-1 bias additions and ``axpy`` updates
of ``skbp._core.blas``. After a call, a pool's idle workers spin for a while
before they sleep; two pools used in turn spin against each other, and with
both at their default thread count a digits fit ran 20-30x slower than with one
thread (2.9 s against 0.12 s on 2 cores). The policy, measured on that machine:

- **SciPy's pool runs one thread** while skbp trains or predicts on more than a
  few rows. Its calls are memory-bound level-1/2 routines that threads barely
  speed up; pinned, the pools no longer fight (digits: 0.135 s with NumPy's
  pool left at two threads).
- **NumPy's pool, in training, runs the number of threads that measures
  fastest on the run's own steps**: a probe times a few steps at one thread,
  then at two, four, ... up to the pool's current count, and keeps the first
  count that is not at least 10% faster than the best before it; it probes again
  after 64, 128, 256, ... steps, and at once when a step at more than one
  thread takes three times what the choice measured, so a machine that
  becomes busy (or idle) in the middle of a fit is noticed. Threads pay on
  large layers of an idle machine (the (256, 256) network on 40k rows: 0.58 s
  against 0.87 s at one thread) and cost 2.7-3.2x on a machine where another
  process keeps one core busy, which the probe sees at once; runs whose steps
  take under a millisecond at one thread stay there (``MIN_STEP_SECONDS``).
  The choice is remembered per network shape for the process, so
  ``partial_fit`` chunks, ``fit_stream`` and the folds of a search start from
  it instead of probing each time (and leave it at their first slow step, or
  after 64 steps, whichever comes first).
- **One-row steps** (online training, ``batch_size=1``) use one thread: their
  products are too small for threads, and the clock would cost more than a
  probe could win.
- **Prediction** leaves NumPy's pool as it is (a single large product per
  layer, which OpenBLAS splits by size itself).
- **Limits set from outside are upper bounds**: the pool's count when a fit
  starts (``threadpoolctl.threadpool_limits``, ``OPENBLAS_NUM_THREADS``, the
  limits joblib's workers and dask's nannies set) is the most a probe tries,
  and every count is put back when the fit or prediction ends.
- **Threads of one process**: OpenBLAS's pthreads builds take thread counts
  from the main thread only (set from another thread, they change nothing),
  so a fit in another thread (joblib's threading backend, a dask worker's
  thread) runs with the counts the main thread set, and a fit in the main
  thread that runs beside one keeps NumPy's pool at one thread: the cores are
  shared already. Limit the threads in the main thread
  (``threadpool_limits(1)``) before training in threads.

Where NumPy and SciPy share one BLAS library (conda's MKL or a system
OpenBLAS), there is one pool and nothing to pin; the probe still chooses its
threads. This module imports only NumPy, SciPy and threadpoolctl.
"""

import math
import os
import threading
import time
from contextlib import contextmanager

import numpy as np
import scipy

#: Steps timed per thread count in a probe, after one step that is only
#: looked at (the first step after a change wakes the pool's workers).
PROBE_STEPS = 3

#: More threads must make a step at least this much faster to be chosen.
MIN_GAIN = 0.9

#: A step that takes less than this at one thread is too small for threads to
#: win much, and trying them on a busy machine costs whole scheduler time
#: slices per product (a digits step: 0.3 ms at one thread, 50 ms at two with
#: the other core busy): such runs stay at one thread.
MIN_STEP_SECONDS = 1e-3

#: A step at a new count that is this many times slower than the best ends the
#: probe at once (the busy-machine collapse).
ABORT_FACTOR = 3.0

#: Probes may cost at most this share of the training time: the next one waits
#: until the run has trained this many times longer than the last one lost.
PROBE_BUDGET = 20.0

#: Steps between the end of the first probe and the next; doubles after each
#: probe up to ``MAX_PERIOD``.
FIRST_PERIOD = 64
MAX_PERIOD = 4096

#: Below this many elements (rows times the widest layer) OpenBLAS runs a rank-1
#: update on the calling thread alone (its threshold is 9,216 on 0.3.x), so a
#: prediction that small wakes no pool and needs no pinning.
PIN_MIN_ELEMENTS = 4096

#: Shapes whose choice is remembered; the oldest is forgotten beyond this.
MAX_REMEMBERED = 256

_LOCK = threading.Lock()
#: The pools (found on first use), the threads inside a fit or prediction with
#: their nesting depth, and the counts to put back when the last one ends.
_STATE = {"pools": None, "owners": {}, "saved": None}
_REMEMBERED = {}


class _Pools:
    """The BLAS pools of NumPy and, when it has its own, of SciPy."""

    def __init__(self):
        from threadpoolctl import ThreadpoolController

        blas = [
            lib
            for lib in ThreadpoolController().lib_controllers
            if lib.user_api == "blas"
        ]
        numpy_dir = os.path.dirname(np.__file__)
        scipy_dir = os.path.dirname(scipy.__file__)
        self.scipy = [lib for lib in blas if lib.filepath.startswith(scipy_dir)]
        self.numpy = [lib for lib in blas if lib.filepath.startswith(numpy_dir)]
        if not self.numpy:  # one shared library: all but SciPy's own
            self.numpy = [lib for lib in blas if lib not in self.scipy]

    def counts(self):
        """The current thread count of every pool, to be put back later."""
        return [(lib, lib.num_threads) for lib in self.numpy + self.scipy]

    def numpy_threads(self):
        """NumPy's pool's current count (1 without a known pool)."""
        return min((lib.num_threads for lib in self.numpy), default=1)

    def set_numpy(self, n_threads):
        for lib in self.numpy:
            lib.set_num_threads(n_threads)


def _pools():
    """The process's pools, found once (scanning the loaded libraries: ~12 ms)."""
    if _STATE["pools"] is None:
        _STATE["pools"] = _Pools()
    return _STATE["pools"]


@contextmanager
def _pinned():
    """SciPy's pool at one thread for the block, when run in the main thread.

    OpenBLAS's pthreads builds (NumPy's and SciPy's wheels) take thread counts
    from the main thread only: set from any other thread, they change nothing.
    So only the main thread acts: its outermost block saves every count, pins
    SciPy's pool and puts the counts back at its end; a nested block (a
    validation pass inside a fit) changes nothing. Yields ``(pools, alone)``,
    ``alone`` telling whether this is the main thread and no other thread is
    training or predicting (only then may a chooser change NumPy's pool).
    """
    me = threading.get_ident()
    main = threading.current_thread() is threading.main_thread()
    with _LOCK:
        pools, owners = _pools(), _STATE["owners"]
        owners[me] = owners.get(me, 0) + 1
        if main and owners[me] == 1:
            _STATE["saved"] = pools.counts()
            for lib in pools.scipy:
                lib.set_num_threads(1)
        alone = main and len(owners) == 1
    try:
        yield pools, alone
    finally:
        with _LOCK:
            owners[me] -= 1
            if not owners[me]:
                del owners[me]
                if main:
                    for lib, n_threads in _STATE["saved"]:
                        lib.set_num_threads(n_threads)
                    _STATE["saved"] = None


def _shared():
    """Whether more than one thread of the process is training or predicting."""
    return len(_STATE["owners"]) > 1


@contextmanager
def training_threads(key, online=False):
    """The thread policy for one training call; yields a ``ThreadChooser`` or None.

    Parameters
    ----------
    key : hashable
        The shape of the work (layer sizes, batch rows, dtype): choices are
        remembered per key.
    online : bool, default=False
        One-row steps: NumPy's pool runs one thread, nothing is timed.

    Yields
    ------
    ThreadChooser or None
        Tell it about every step (``start`` at the beginning of an epoch,
        ``step_done`` after each step); None when there is nothing to choose
        (one thread at most, online steps, or fits in other threads).
    """
    with _pinned() as (pools, alone):
        cap = pools.numpy_threads()
        if not alone or cap <= 1:
            yield None
        elif online:
            pools.set_numpy(1)
            yield None
        else:
            yield ThreadChooser(pools, cap, key)


@contextmanager
def prediction_threads(n_rows, width):
    """SciPy's pool pinned for a prediction of ``n_rows`` rows large enough to
    wake it (``width``: the widest layer); nothing at all for smaller ones, so
    that a one-row prediction pays nothing for the policy."""
    if n_rows * width < PIN_MIN_ELEMENTS:
        yield
        return
    with _pinned():
        yield


class ThreadChooser:
    """Chooses NumPy's thread count for a training run by timing its steps.

    Parameters
    ----------
    pools : _Pools
    cap : int
        The most threads to try: the pool's count when training started.
    key : hashable
        Where the choice is remembered for later runs on the same shape.
    """

    def __init__(self, pools, cap, key):
        self.pools, self.key = pools, key
        self.ladder = [1]
        while self.ladder[-1] * 2 < cap:
            self.ladder.append(self.ladder[-1] * 2)
        self.ladder.append(cap)
        self.threads = None
        self.probe = None
        self.next_probe_at = 0.0  # perf_counter time before which none starts
        self.period = FIRST_PERIOD
        self.expected = math.inf  # seconds a row at the chosen count
        remembered = _REMEMBERED.get(key)
        if remembered is None or remembered[0] > cap:
            self._begin_probe()
        else:
            # Trusted until a step says otherwise (the watchdog in step_done)
            # or the first period ends.
            n_threads, self.expected = remembered
            self.countdown = self.period
            self.period *= 2
            self._use(n_threads)
        self.last = time.perf_counter()

    def start(self):
        """An epoch (or an evaluation after a pause) starts: restart the clock."""
        self.last = time.perf_counter()

    def step_done(self, n_rows):
        """A step on ``n_rows`` rows ended: time it, and switch when due."""
        now = time.perf_counter()
        seconds, self.last = now - self.last, now
        if self.probe is None:
            self.countdown -= 1
            if self.countdown <= 0 and now >= self.next_probe_at:
                self._begin_probe()
            elif self.threads > 1 and seconds > ABORT_FACTOR * self.expected * n_rows:
                # The watchdog: threads that paid collapse when another
                # process takes a core; fewer may help at once.
                self._begin_probe()
            return
        if _shared():  # a fit in another thread: one thread each
            self._decide(1, now)
            return
        self._probe_step(seconds, max(n_rows, 1), now)

    def _probe_step(self, seconds, n_rows, now):
        probe, per_row = self.probe, seconds / n_rows
        best = probe["best"]
        if best is not None:  # counts above one: what they cost over the best
            probe["lost"] += max(seconds - best[1] * n_rows, 0.0)
        if best is not None and per_row > ABORT_FACTOR * best[1]:
            self._decide(best[0], now)  # collapsing: no need to see more
            return
        if probe["skip"]:
            probe["skip"] = False
            return
        probe["samples"].append(per_row)
        if len(probe["samples"]) < PROBE_STEPS:
            return
        score = sorted(probe["samples"])[PROBE_STEPS // 2]
        index = probe["index"]
        if best is None or score < MIN_GAIN * best[1]:
            probe["best"] = best = (self.ladder[index], score)
            small = index == 0 and score * n_rows < MIN_STEP_SECONDS
            if index + 1 < len(self.ladder) and not small:
                probe.update(index=index + 1, samples=[], skip=True)
                self._use(self.ladder[index + 1])
                return
        self._decide(best[0], now)

    def _begin_probe(self):
        self.probe = {"index": 0, "samples": [], "skip": True, "best": None}
        self.probe["lost"] = 0.0
        self._use(self.ladder[0])

    def _decide(self, n_threads, now):
        probe = self.probe
        lost = probe["lost"] if probe is not None else 0.0
        best = probe["best"] if probe is not None else None
        self.expected = best[1] if best is not None else math.inf
        self.probe = None
        self._use(n_threads)
        self.countdown = self.period
        self.next_probe_at = now + PROBE_BUDGET * lost
        _REMEMBERED.pop(self.key, None)  # re-inserted as the newest
        _REMEMBERED[self.key] = (n_threads, self.expected)
        if len(_REMEMBERED) > MAX_REMEMBERED:
            del _REMEMBERED[next(iter(_REMEMBERED))]
        self.period = min(2 * self.period, MAX_PERIOD)

    def _use(self, n_threads):
        if n_threads != self.threads:
            self.pools.set_numpy(n_threads)
            self.threads = n_threads
