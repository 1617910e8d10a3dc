"""Memory benchmark: ``skbp.fit_stream`` on a memmapped ``.npy`` against ``fit``.

The script writes a classification problem to ``X.npy`` (float32) and ``y.npy``
in a temporary directory, block by block so that the writer never holds it
whole, with a held-out test set kept in memory. The labels come from a fixed
random teacher network (``y = argmax(tanh(X W1) W2 + noise)``), so the problem is
learnable but not linear. Then it trains ``BPClassifier`` two ways, each in a
fresh subprocess so that the peaks are its own:

- ``stream``: ``fit_stream`` over ``np.load(..., mmap_mode="r")`` with chunks of
  ``--chunk-mb`` megabytes, ``--epochs`` epochs;
- ``memory``: ``np.load`` of the whole file, then ``fit`` with
  ``max_iter=--epochs``.

Each case runs twice: once under ``tracemalloc`` (numpy registers its buffers
with it, so the peak traced memory is what the case allocated in Python and
numpy, from loading to the end of the fit) and once without it, for the fit time
and the resident set size (RSS). The RSS is read from ``/proc/self/status``
(Linux): the peak of the whole process (``VmHWM``, reset just before the case
starts) and, sampled every 2 ms by a thread, the peaks of its anonymous part
(``RssAnon``: memory the process allocated) and its file-backed part
(``RssFile``: pages of the memmap that were read, page cache the kernel can
reclaim). All are reported as the increase over the value just before loading
the data. The file is written just before, so it is read from the page cache; a
cold read adds disk time to the stream case, not memory.

Usage::

    python benchmarks/bench_stream.py                    # 200 MB file, 10 MB chunks
    python benchmarks/bench_stream.py --size-mb 50 --chunk-mb 5 --epochs 1
    python benchmarks/bench_stream.py --json results.json

The exit code is 0 unless a case fails.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

MB = 1024**2
N_CLASSES = 3


# ------------------------------------------------------------------ the data


def teacher(n_features, seed=0):
    """The fixed random network whose outputs label the data."""
    rng = np.random.RandomState(seed)
    W1 = rng.randn(n_features, 16) / np.sqrt(n_features)
    W2 = rng.randn(16, N_CLASSES)
    return W1, W2


def make_rows(n_rows, W1, W2, rng):
    """``(X, y)``: float32 Gaussian rows labelled by the teacher."""
    X = rng.randn(n_rows, W1.shape[0]).astype(np.float32)
    logits = np.tanh(X @ W1) @ W2 + 0.3 * rng.randn(n_rows, N_CLASSES)
    return X, logits.argmax(axis=1)


def write_dataset(directory, size_mb, n_features, block_rows):
    """Write ``X.npy``/``y.npy`` of about ``size_mb`` MB and the test set."""
    n_rows = int(size_mb * MB) // (4 * n_features)
    W1, W2 = teacher(n_features)
    rng = np.random.RandomState(1)
    X_file = np.lib.format.open_memmap(
        directory / "X.npy", mode="w+", dtype=np.float32, shape=(n_rows, n_features)
    )
    y_file = np.lib.format.open_memmap(
        directory / "y.npy", mode="w+", dtype=np.int64, shape=(n_rows,)
    )
    for start in range(0, n_rows, block_rows):
        stop = min(start + block_rows, n_rows)
        X_file[start:stop], y_file[start:stop] = make_rows(stop - start, W1, W2, rng)
    X_file.flush()
    y_file.flush()
    del X_file, y_file
    X_test, y_test = make_rows(20_000, W1, W2, np.random.RandomState(2))
    np.save(directory / "X_test.npy", X_test)
    np.save(directory / "y_test.npy", y_test)
    return n_rows


# ------------------------------------------------------- memory measurement


def proc_status():
    """``{field: bytes}`` of the memory fields of ``/proc/self/status``."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                values[name] = int(rest.split()[0]) * 1024
    return values


class RssSampler:
    """Peaks of ``RssAnon`` and ``RssFile``, sampled by a background thread."""

    def __init__(self, interval=0.002):
        self.interval = interval
        self.peak = {"RssAnon": 0, "RssFile": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            status = proc_status()
            for name in self.peak:
                self.peak[name] = max(self.peak[name], status[name])
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def reset_peak_rss():
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


# ------------------------------------------------------------- one case


def run_case(case, directory, args, traced):
    """Train one way; return the measurements (runs in its own process)."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from skbp import BPClassifier, fit_stream

    X_test = np.load(directory / "X_test.npy")
    y_test = np.load(directory / "y_test.npy")
    clf = BPClassifier(
        hidden_layer_sizes=(args.hidden,), learning_rate=args.learning_rate,
        max_iter=args.epochs, random_state=0,
    )  # fmt: skip
    chunk_rows = int(args.chunk_mb * MB) // (4 * args.n_features)

    before = proc_status()
    reset_peak_rss()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    with RssSampler() as sampler, threadpool_limits(args.threads, user_api="blas"):
        if case == "stream":
            X = np.load(directory / "X.npy", mmap_mode="r")
            y = np.load(directory / "y.npy", mmap_mode="r")
            fit_stream(
                clf, X, y, epochs=args.epochs, chunk_size=chunk_rows, random_state=0
            )
        else:
            X = np.load(directory / "X.npy")
            y = np.load(directory / "y.npy")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter epochs
                clf.fit(X, y)
    seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] if traced else None
    tracemalloc.stop()
    after = proc_status()
    return {
        "case": case,
        "traced": traced,
        "seconds": seconds,
        "accuracy": float(clf.score(X_test, y_test)),
        "chunk_rows": chunk_rows,
        "traced_peak": traced_peak,
        "rss_peak_delta": after["VmHWM"] - before["VmRSS"],
        "anon_peak_delta": sampler.peak["RssAnon"] - before["RssAnon"],
        "file_peak_delta": sampler.peak["RssFile"] - before["RssFile"],
    }


def run_in_subprocess(case, directory, args, traced):
    command = [
        sys.executable, __file__, "--worker", case, "--dir", str(directory),
        "--size-mb", str(args.size_mb), "--chunk-mb", str(args.chunk_mb),
        "--n-features", str(args.n_features), "--epochs", str(args.epochs),
        "--hidden", str(args.hidden), "--learning-rate", str(args.learning_rate),
        "--threads", str(args.threads),
    ]  # fmt: skip
    if traced:
        command.append("--traced")
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------- report


def report(results, file_bytes, chunk_bytes):
    def mb(value):
        return "-" if value is None else f"{value / MB:8.1f}"

    print(
        f"file {file_bytes / MB:.1f} MB (X.npy + y.npy), chunk budget "
        f"{chunk_bytes / MB:.1f} MB ({results[0]['chunk_rows']} rows of X)\n"
    )
    header = (
        f"{'case':8} {'accuracy':>8} {'fit s':>7} {'traced':>8} {'RSS':>8} "
        f"{'anon':>8} {'file':>8}   (MB; peaks above the start)"
    )
    print(header)
    for case in ("stream", "memory"):
        timed = next(r for r in results if r["case"] == case and not r["traced"])
        traced = next(r for r in results if r["case"] == case and r["traced"])
        print(
            f"{case:8} {timed['accuracy']:8.4f} {timed['seconds']:7.2f} "
            f"{mb(traced['traced_peak'])} {mb(timed['rss_peak_delta'])} "
            f"{mb(timed['anon_peak_delta'])} {mb(timed['file_peak_delta'])}"
        )
    stream = next(r for r in results if r["case"] == "stream" and r["traced"])
    print(
        f"\nstream: traced peak = {stream['traced_peak'] / chunk_bytes:.2f} x the "
        f"chunk, {stream['traced_peak'] / file_bytes:.3f} x the file"
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=200.0)
    parser.add_argument("--chunk-mb", type=float, default=10.0)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--worker", choices=["stream", "memory"], help=argparse.SUPPRESS
    )
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        result = run_case(args.worker, Path(args.dir), args, args.traced)
        print(json.dumps(result))
        return
    if not os.path.exists("/proc/self/status"):
        sys.exit("This benchmark reads /proc/self/status: it runs on Linux only.")
    chunk_bytes = int(args.chunk_mb * MB)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        block_rows = chunk_bytes // (4 * args.n_features)
        write_dataset(directory, args.size_mb, args.n_features, block_rows)
        file_bytes = sum(
            (directory / name).stat().st_size for name in ("X.npy", "y.npy")
        )
        results = [
            run_in_subprocess(case, directory, args, traced)
            for case in ("stream", "memory")
            for traced in (False, True)
        ]
    report(results, file_bytes, chunk_bytes)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
