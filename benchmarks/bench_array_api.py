"""Array API benchmark: S3 trained by BPClassifier in NumPy, PyTorch and CuPy.

The speed benchmark's S3 scenario (``bench_speed.py``: make_classification
50,000 x 100, 10 classes, 80/20 split, (256, 256) relu, adam, batch 256, 5
epochs, float32) fitted by:

- ``MLPClassifier`` on NumPy arrays (the reference of every ratio);
- ``BPClassifier`` on NumPy arrays (array API dispatch off: the NumPy fast paths);
- ``BPClassifier`` on PyTorch CPU tensors (dispatch on: the array API path);
- ``BPClassifier`` on PyTorch CUDA tensors and on CuPy arrays, where a GPU is
  present (the script says so where there is none).

Every round fits each one once, in a rotating order, with the same seed;
the table gives the median fit time, the median of the per-round ratios to
``MLPClassifier`` and to ``BPClassifier`` on NumPy, and the held-out accuracy.
BLAS and PyTorch's CPU kernels run on one thread by default, as in
``bench_speed.py``; ``--threads default`` uses the machine's.

Usage::

    python benchmarks/bench_array_api.py              # 5 rounds, about 1 minute
    python benchmarks/bench_array_api.py --quick      # 5,000 samples, 1 round
    python benchmarks/bench_array_api.py --rounds 9 --threads default
"""

import argparse
import gc
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

# SciPy reads this when first imported; scikit-learn's array API dispatch needs it.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speed import build_scenarios, make_pair, scenario_data  # noqa: E402

import skbp  # noqa: E402


class Backend:
    """One row: how to move the data there and fit one model."""

    def __init__(self, name, device, estimator, to_array=None, sync=None):
        self.name = name
        self.device = device
        self.estimator = estimator  # "skbp" or "sklearn"
        self.to_array = to_array  # None: NumPy arrays, array API dispatch off
        self.sync = sync or (lambda: None)
        self.unavailable = None  # why the row is not measured, or None


def torch_backends():
    try:
        import torch
    except ImportError:
        cpu = Backend("BPClassifier, PyTorch", "cpu", "skbp")
        cpu.unavailable = "PyTorch is not installed"
        gpu = Backend("BPClassifier, PyTorch", "cuda", "skbp")
        gpu.unavailable = "PyTorch is not installed"
        return [cpu, gpu]
    cpu = Backend(
        "BPClassifier, PyTorch", "cpu", "skbp", lambda a: torch.asarray(a.copy())
    )
    gpu = Backend(
        "BPClassifier, PyTorch",
        "cuda",
        "skbp",
        lambda a: torch.asarray(a.copy(), device="cuda"),
        sync=lambda: torch.cuda.synchronize(),
    )
    if not torch.cuda.is_available():
        gpu.unavailable = "no CUDA GPU here"
    return [cpu, gpu]


def cupy_backend():
    backend = Backend("BPClassifier, CuPy", "gpu", "skbp")
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() == 0:
            backend.unavailable = "no CUDA GPU here"
            return backend
    except ImportError:
        backend.unavailable = "CuPy is not installed (no CUDA GPU here)"
        return backend
    except Exception as error:  # CuPy without a driver raises its own errors
        backend.unavailable = f"no usable CUDA GPU here ({type(error).__name__})"
        return backend
    backend.to_array = cupy.asarray
    backend.sync = lambda: cupy.cuda.Device().synchronize()
    return backend


def backends():
    return [
        Backend("MLPClassifier, NumPy", "cpu", "sklearn"),
        Backend("BPClassifier, NumPy", "cpu", "skbp"),
        *torch_backends(),
        cupy_backend(),
    ]


def s3_scenario(quick):
    scenario = next(s for s in build_scenarios(quick) if s.name == "S3 large float32")
    return scenario


def fit_once(backend, scenario, data, seed):
    """Fit one model; return ``(seconds, held-out accuracy)``."""
    X_train, X_test, y_train, y_test = data
    skbp_model, sklearn_model = make_pair(scenario, seed)
    model = skbp_model if backend.estimator == "skbp" else sklearn_model
    if backend.to_array is None:
        gc.collect()
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        return seconds, float(model.score(X_test, y_test))
    X_dev, y_dev = backend.to_array(X_train), backend.to_array(y_train)
    X_test_dev, y_test_dev = backend.to_array(X_test), backend.to_array(y_test)
    with sklearn.config_context(array_api_dispatch=True):
        backend.sync()
        gc.collect()
        start = time.perf_counter()
        model.fit(X_dev, y_dev)
        backend.sync()
        seconds = time.perf_counter() - start
        accuracy = float(model.score(X_test_dev, y_test_dev))
    return seconds, accuracy


def run(rounds, quick, log):
    scenario = s3_scenario(quick)
    data = scenario_data(scenario, quick)
    rows = backends()
    measured = [b for b in rows if b.unavailable is None]
    times = {b: [] for b in measured}
    accuracies = {b: [] for b in measured}
    for b in measured:  # one untimed fit each: imports, kernels, allocator
        fit_once(b, scenario, data, seed=0)
    for r in range(rounds):
        order = measured[r % len(measured) :] + measured[: r % len(measured)]
        for b in order:
            seconds, accuracy = fit_once(b, scenario, data, seed=r)
            times[b].append(seconds)
            accuracies[b].append(accuracy)
            log(f"  round {r + 1}/{rounds}: {b.name} ({b.device}) {seconds:.2f} s")
    return scenario, rows, times, accuracies


def median_ratio(numerator, denominator):
    return statistics.median(n / d for n, d in zip(numerator, denominator))


def format_table(rows, times, accuracies):
    reference = next(b for b in rows if b.estimator == "sklearn")
    numpy_skbp = next(b for b in rows if b.name == "BPClassifier, NumPy")
    header = (
        f"{'estimator, arrays':<24} {'device':<7} {'fit':>8} "
        f"{'/ MLPClassifier':>16} {'/ BPClassifier NumPy':>21} {'accuracy':>9}"
    )
    lines = [header, "-" * len(header)]
    for b in rows:
        if b.unavailable is not None:
            lines.append(f"{b.name:<24} {b.device:<7} not run: {b.unavailable}")
            continue
        lines.append(
            f"{b.name:<24} {b.device:<7} {statistics.median(times[b]):>6.2f} s "
            f"{median_ratio(times[b], times[reference]):>16.3f} "
            f"{median_ratio(times[b], times[numpy_skbp]):>21.3f} "
            f"{statistics.fmean(accuracies[b]):>9.4f}"
        )
    return lines


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="default 5 (1 quick)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5,000 samples and one round: proves the script runs",
    )
    parser.add_argument(
        "--threads",
        default="1",
        help="CPU threads of BLAS and PyTorch (an integer), or 'default'",
    )
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 5
    if args.threads != "default":
        args.threads = int(args.threads)
    return args


def main(argv=None):
    args = parse_args(argv)

    def log(message):
        print(message, flush=True)

    versions = f"numpy {np.__version__}, scikit-learn {sklearn.__version__}"
    try:
        import torch

        versions += f", torch {torch.__version__}"
        if args.threads != "default":
            torch.set_num_threads(args.threads)
        versions += f" ({torch.get_num_threads()} CPU threads)"
    except ImportError:
        pass
    log(f"bench_array_api{' --quick' if args.quick else ''}: S3 float32")
    log(f"skbp {skbp.__version__}, {versions}; BLAS threads: {args.threads}")
    limits = None if args.threads == "default" else args.threads
    with threadpool_limits(limits=limits), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scenario, rows, times, accuracies = run(args.rounds, args.quick, log)
    log("")
    log(
        f"S3 float32: {scenario.params['max_iter']} epochs of adam, batch "
        f"{scenario.params['batch_size']}, (256, 256) relu; median of "
        f"{args.rounds} round(s); ratios are medians of per-round ratios"
    )
    if args.quick:
        log("QUICK RUN: reduced sizes; the ratios are not meaningful.")
    log("\n".join(format_table(rows, times, accuracies)))
    if all(b.unavailable is not None for b in rows if b.device != "cpu"):
        log("\nNo GPU here: the GPU rows were not run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
