"""Speed benchmark: BPClassifier against MLPClassifier on identical settings.

Both estimators run in one process, interleaved (skbp, sklearn, sklearn, skbp, ...
the first of each pair alternates), for several rounds, and both run exactly
``max_iter`` epochs (``tol=0``, ``n_iter_no_change=max_iter + 1``, no early
stopping). Per scenario the script prints the median fit time of each, the median
of the per-round ratios skbp / sklearn against the target of issue #3, held-out
accuracy, and the peak memory of one extra fit under ``tracemalloc``. For the large
scenario it prints the achieved GFLOP/s next to the machine's GEMM rate for the
same layer shapes. See ``benchmarks/README.md`` for the methodology.

Scenarios (skbp parameter names; MLPClassifier gets ``learning_rate_init`` and
``'logistic'``):

- S1 online: digits / 16, 64-100-10, sigmoid, sgd, momentum 0, batch_size=1,
  5 epochs.
- S2 mini-batch: standardised digits, (100,), relu, batch 200, 50 epochs; sgd
  (Nesterov 0.9) and adam.
- S3 large: make_classification(50_000 x 100, 10 classes), 80/20 split,
  (256, 256), relu, adam, batch 256, 5 epochs; float64 and float32.
- S4 predict: predict_proba of the S3 float64 model on 1 row and on 100,000 rows.
- S5 regression: BPRegressor against MLPRegressor on make_friedman1(20,000 x 10,
  noise 1), standardised X, (100,), relu, adam, batch 200, 20 epochs; the
  accuracy columns hold the held-out R².
- T threads, L input layouts, P pipeline, Y PyTorch yardstick: tables of their
  own, from ``bench_users.py`` (see its docstring).

Usage::

    python benchmarks/bench_speed.py                  # full run, writes the docs
    python benchmarks/bench_speed.py --quick          # < 1 minute, smoke test
    python benchmarks/bench_speed.py --scenarios S1,S4 --threads default
    python benchmarks/bench_speed.py --json results.json --no-write-docs
"""

import argparse
import datetime
import gc
import hashlib
import json
import os
import platform
import re
import statistics
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import bench_users
import numpy as np
import scipy
import sklearn
from sklearn.datasets import load_digits, make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

import skbp
from skbp import BPClassifier, BPRegressor

ROOT = Path(__file__).resolve().parent.parent
DOCS_PAGE = ROOT / "docs" / "performance.rst"
BEGIN_MARKER = ".. BEGIN BENCH TABLE"
END_MARKER = ".. END BENCH TABLE"
ALL_SCENARIOS = ("S1", "S2", "S3", "S4", "S5", *bench_users.KEYS)
MIB = 2.0**20

# ------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    """One row of the table: a dataset and the settings both estimators share.

    ``params`` uses skbp's names; ``sklearn_params`` translates them. ``target``
    and ``aim`` bound the median per-round time ratio skbp / sklearn; ``acc_tol``
    bounds the held-out accuracy (R² for a regressor) difference.
    """

    key: str
    name: str
    data: str
    params: dict
    rounds: int
    target: float
    aim: float
    acc_tol: float
    dtype: type = np.float64
    regressor: bool = False


@dataclass
class Row:
    """Measured numbers of one table row (times in seconds, memory in MiB)."""

    scenario: str
    skbp_time: float
    sklearn_time: float
    ratio: float
    target: float | None = None
    aim: float | None = None
    acc_skbp: float | None = None
    acc_sklearn: float | None = None
    acc_tol: float | None = None
    mib_skbp: float | None = None
    mib_sklearn: float | None = None
    check_memory: bool = True
    raw: dict = field(default_factory=dict)


def common_params(max_iter):
    """Settings that keep both estimators running exactly ``max_iter`` epochs."""
    return {
        "alpha": 1e-4,
        "max_iter": max_iter,
        "tol": 0.0,
        "n_iter_no_change": max_iter + 1,
        "early_stopping": False,
        "shuffle": True,
    }


def build_scenarios(quick):
    """The fit scenarios S1-S3; ``quick`` shrinks epochs, rounds and data."""
    s2_epochs = 10 if quick else 50
    s3_epochs = 5
    s1 = {
        "hidden_layer_sizes": (100,),
        "activation": "sigmoid",
        "loss": "log_loss",
        "solver": "sgd",
        "learning_rate": 0.1,
        "momentum": 0.0,
        "nesterovs_momentum": False,
        "batch_size": 1,
        **common_params(5),
    }
    # MLPClassifier initialises relu layers Glorot-uniform; skbp's init="auto"
    # would pick He-uniform. The same initialisation makes it the same work.
    s2 = {
        "hidden_layer_sizes": (100,),
        "activation": "relu",
        "init": "glorot_uniform",
        "batch_size": 200,
        **common_params(s2_epochs),
    }
    s2_sgd = {
        **s2,
        "solver": "sgd",
        "learning_rate": 0.1,
        "momentum": 0.9,
        "nesterovs_momentum": True,
    }
    s2_adam = {**s2, "solver": "adam", "learning_rate": 0.001}
    s3 = {
        "hidden_layer_sizes": (256, 256),
        "activation": "relu",
        "init": "glorot_uniform",
        "solver": "adam",
        "learning_rate": 0.001,
        "batch_size": 256,
        **common_params(s3_epochs),
    }
    s5 = {
        "hidden_layer_sizes": (100,),
        "activation": "relu",
        "init": "glorot_uniform",
        "solver": "adam",
        "learning_rate": 0.001,
        "batch_size": 200,
        # MLPRegressor trains on the targets as they are: the same work.
        "normalize_y": False,
        **common_params(5 if quick else 20),
    }
    r1, r2, r3 = (2, 2, 1) if quick else (15, 15, 11)
    r5 = 2 if quick else 11
    return [
        Scenario("S1", "S1 online sgd b=1", "digits16", s1, r1, 0.15, 0.10, 0.01),
        Scenario("S2", "S2 minibatch sgd", "digits_std", s2_sgd, r2, 0.60, 0.50, 0.01),
        Scenario(
            "S2", "S2 minibatch adam", "digits_std", s2_adam, r2, 0.60, 0.50, 0.01
        ),
        Scenario("S3", "S3 large float64", "large", s3, r3, 0.80, 0.70, 0.02),
        Scenario(
            "S3", "S3 large float32", "large", s3, r3, 0.60, 0.50, 0.02, np.float32
        ),
        Scenario(
            "S5",
            "S5 regression adam",
            "friedman",
            s5,
            r5,
            0.60,
            0.50,
            0.01,
            regressor=True,
        ),
    ]


def sklearn_params(params):
    """Translate skbp's parameter names and values to scikit-learn's MLP's."""
    out = dict(params)
    out.pop("loss", None)  # log-loss / squared error: the MLPs' defaults
    out.pop("init", None)  # and always initialises Glorot-uniform
    out.pop("normalize_y", None)  # MLPRegressor never scales the target
    out["learning_rate_init"] = out.pop("learning_rate")
    if "learning_rate_schedule" in out:
        out["learning_rate"] = out.pop("learning_rate_schedule")
    if out.get("activation") == "sigmoid":
        out["activation"] = "logistic"
    return out


def make_pair(scenario, seed):
    """Unfitted (skbp, sklearn) estimators with identical settings and seed."""
    params = {**scenario.params, "random_state": seed}
    if scenario.regressor:
        return BPRegressor(**params), MLPRegressor(**sklearn_params(params))
    return BPClassifier(**params), MLPClassifier(**sklearn_params(params))


# ------------------------------------------------------------------------ data

_DATA_CACHE = {}


def load_data(name, quick):
    """Return ``(X_train, X_test, y_train, y_test)`` in float64, cached.

    Every split is 80/20, ``random_state=0`` (stratified for classification),
    so both estimators see the same rows.
    """
    key = (name, quick)
    if key in _DATA_CACHE:
        return _DATA_CACHE[key]
    if name == "large":
        X, y = make_classification(
            n_samples=5_000 if quick else 50_000,
            n_features=100,
            n_informative=60,
            n_classes=10,
            random_state=0,
        )
    elif name == "friedman":
        X, y = make_friedman1(
            n_samples=4_000 if quick else 20_000, noise=1.0, random_state=0
        )
    else:
        X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=None if name == "friedman" else y, random_state=0
    )
    if name in ("digits_std", "friedman"):
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    elif name == "digits16":
        X_train, X_test = X_train / 16.0, X_test / 16.0
    data = tuple(np.ascontiguousarray(a) for a in (X_train, X_test, y_train, y_test))
    _DATA_CACHE[key] = data
    return data


def scenario_data(scenario, quick):
    X_train, X_test, y_train, y_test = load_data(scenario.data, quick)
    dtype = scenario.dtype
    return X_train.astype(dtype), X_test.astype(dtype), y_train, y_test


# -------------------------------------------------------------------- measuring


def timed_fit(estimator, X, y):
    """Fit and return the wall-clock seconds (garbage collected beforehand)."""
    gc.collect()
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


def peak_mib(function):
    """Peak traced memory (MiB) allocated while ``function()`` runs.

    NumPy reports its buffers to ``tracemalloc``, so array memory is included;
    memory allocated before the call (the data) is not.
    """
    gc.collect()
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / MIB
    finally:
        tracemalloc.stop()


def run_fit_scenario(scenario, quick, log):
    """Interleaved timed fits, accuracies and one extra fit each for memory."""
    X_train, X_test, y_train, y_test = scenario_data(scenario, quick)
    times = {"skbp": [], "sklearn": []}
    accs = {"skbp": [], "sklearn": []}
    ratios = []
    models = {}
    for r in range(scenario.rounds):
        pair = dict(zip(("skbp", "sklearn"), make_pair(scenario, seed=r)))
        # Alternate who goes first so that neither gains from the order (warm
        # caches, a drift of the load) over the rounds.
        order = ("skbp", "sklearn") if r % 2 == 0 else ("sklearn", "skbp")
        seconds = {key: timed_fit(pair[key], X_train, y_train) for key in order}
        for key, model in pair.items():
            times[key].append(seconds[key])
            accs[key].append(float(model.score(X_test, y_test)))
            models[key] = model
        ratios.append(seconds["skbp"] / seconds["sklearn"])
        log(
            f"  {scenario.name} round {r + 1}/{scenario.rounds}: "
            f"skbp {seconds['skbp']:.3f} s, sklearn {seconds['sklearn']:.3f} s, "
            f"ratio {ratios[-1]:.3f}"
        )
    mib = {}
    for key, estimator in zip(("skbp", "sklearn"), make_pair(scenario, seed=0)):
        mib[key] = peak_mib(lambda est=estimator: est.fit(X_train, y_train))
    row = Row(
        scenario=scenario.name,
        skbp_time=statistics.median(times["skbp"]),
        sklearn_time=statistics.median(times["sklearn"]),
        ratio=statistics.median(ratios),
        target=scenario.target,
        aim=scenario.aim,
        acc_skbp=statistics.fmean(accs["skbp"]),
        acc_sklearn=statistics.fmean(accs["sklearn"]),
        acc_tol=scenario.acc_tol,
        mib_skbp=mib["skbp"],
        mib_sklearn=mib["sklearn"],
        raw={
            "times": times,
            "ratios": ratios,
            "accuracies": accs,
            "n_train": int(X_train.shape[0]),
            "n_test": int(X_test.shape[0]),
            "dtype": np.dtype(scenario.dtype).name,
            "params": {k: _jsonable(v) for k, v in scenario.params.items()},
        },
    )
    return row, models


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value


def n_params(layer_sizes):
    """Weights plus biases of a fully connected network."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(layer_sizes, layer_sizes[1:]))


def training_products(layer_sizes, batch, dtype, rng):
    """The matrix products of one training step, as ``(A, B, out)`` triples.

    Per layer i: the forward ``a[i] @ W[i]``, the weight gradient
    ``a[i].T @ delta[i+1]`` and, except into the input layer, the backward
    ``delta[i+1] @ W[i].T``; transposes are views, as in backprop code.
    """
    acts = [rng.standard_normal((batch, n)).astype(dtype) for n in layer_sizes]
    products = []
    for i, (n_in, n_out) in enumerate(zip(layer_sizes, layer_sizes[1:])):
        W = rng.standard_normal((n_in, n_out)).astype(dtype)
        delta = rng.standard_normal((batch, n_out)).astype(dtype)
        products.append((acts[i], W, np.empty((batch, n_out), dtype)))
        products.append((acts[i].T, delta, np.empty((n_in, n_out), dtype)))
        if i > 0:
            products.append((delta, W.T, np.empty((batch, n_in), dtype)))
    return products


def gemm_rate(layer_sizes, batch, dtype, repeats):
    """Measured GFLOP/s of one training step's products (median over repeats)."""
    products = training_products(layer_sizes, batch, dtype, np.random.default_rng(0))
    flops = sum(2 * A.shape[0] * A.shape[1] * B.shape[1] for A, B, _ in products)
    for A, B, out in products:  # warm-up
        np.matmul(A, B, out=out)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for A, B, out in products:
            np.matmul(A, B, out=out)
        seconds.append(time.perf_counter() - start)
    return flops / statistics.median(seconds) / 1e9


def s3_models(fitted, quick, log):
    """The S3 float64 models: reused from the S3 run, else fitted once now."""
    if "S3 large float64" in fitted:
        return fitted["S3 large float64"]
    scenario = next(s for s in build_scenarios(quick) if s.name == "S3 large float64")
    X_train, _, y_train, _ = scenario_data(scenario, quick)
    log("  fitting the S3 float64 models for S4")
    skbp_model, sklearn_model = make_pair(scenario, seed=0)
    return {
        "skbp": skbp_model.fit(X_train, y_train),
        "sklearn": sklearn_model.fit(X_train, y_train),
    }


def interleaved_calls(functions, blocks, calls):
    """Time ``calls`` calls of each function per block, alternating the order.

    One untimed call of each comes first: the first call of a big prediction pays
    for fresh pages. Returns the per-call seconds of each function and, per
    block, the ratio of the block medians (first function / second).
    """
    for function in functions:
        function()
    seconds = [[], []]
    ratios = []
    for b in range(blocks):
        order = (0, 1) if b % 2 == 0 else (1, 0)
        block = [[], []]
        for i in order:
            for _ in range(calls):
                start = time.perf_counter()
                functions[i]()
                block[i].append(time.perf_counter() - start)
        for i in (0, 1):
            seconds[i].extend(block[i])
        ratios.append(statistics.median(block[0]) / statistics.median(block[1]))
    return seconds, ratios


def run_predict_scenario(models, quick, log):
    """S4: predict_proba latency on 1 row and throughput on many rows."""
    _, X_test, _, _ = load_data("large", quick)
    X_one = X_test[:1].copy()
    n_big = 20_000 if quick else 100_000
    rng = np.random.default_rng(0)
    X_big = np.ascontiguousarray(X_test[rng.integers(0, X_test.shape[0], n_big)])
    skbp_model, sklearn_model = models["skbp"], models["sklearn"]
    gc.collect()

    blocks, calls = (4, 50) if quick else (20, 100)
    seconds, ratios = interleaved_calls(
        (
            lambda: skbp_model.predict_proba(X_one),
            lambda: sklearn_model.predict_proba(X_one),
        ),
        blocks,
        calls,
    )
    one = Row(
        scenario="S4 predict_proba 1 row",
        skbp_time=statistics.median(seconds[0]),
        sklearn_time=statistics.median(seconds[1]),
        ratio=statistics.median(ratios),
        target=0.50,
        aim=0.30,
        check_memory=False,
        raw={"block_ratios": ratios, "blocks": blocks, "calls_per_block": calls},
    )
    log(f"  {one.scenario}: ratio {one.ratio:.3f}")

    # A big prediction sometimes takes twice as long, whichever estimator runs it
    # (fresh memory pages for the 200 MB activations); block medians ignore that.
    blocks, calls = (2, 2) if quick else (5, 3)
    seconds, ratios = interleaved_calls(
        (
            lambda: skbp_model.predict_proba(X_big),
            lambda: sklearn_model.predict_proba(X_big),
        ),
        blocks,
        calls,
    )
    big = Row(
        scenario=f"S4 predict_proba {n_big // 1000}k rows",
        skbp_time=statistics.median(seconds[0]),
        sklearn_time=statistics.median(seconds[1]),
        ratio=statistics.median(ratios),
        target=1.00,
        aim=0.90,
        mib_skbp=peak_mib(lambda: skbp_model.predict_proba(X_big)),
        mib_sklearn=peak_mib(lambda: sklearn_model.predict_proba(X_big)),
        check_memory=False,
        raw={
            "times": {"skbp": seconds[0], "sklearn": seconds[1]},
            "block_ratios": ratios,
            "blocks": blocks,
            "calls_per_block": calls,
        },
    )
    log(f"  {big.scenario}: ratio {big.ratio:.3f}")
    return [one, big]


# --------------------------------------------------------------------- output


def fmt_time(seconds):
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def fmt_opt(value, spec):
    return "-" if value is None else format(value, spec)


def time_mark(row, quick):
    if quick:
        return "n/a"
    if row.ratio <= row.aim:
        return "aim"
    return "pass" if row.ratio <= row.target else "FAIL"


def acc_mark(row):
    if row.acc_skbp is None:
        return "-"
    return "pass" if abs(row.acc_skbp - row.acc_sklearn) <= row.acc_tol else "FAIL"


def mem_mark(row):
    if row.mib_skbp is None or not row.check_memory:
        return "-"
    return "pass" if row.mib_skbp <= row.mib_sklearn else "FAIL"


COLUMNS = (
    ("scenario", 25, "<"),
    ("skbp", 9, ">"),
    ("sklearn", 9, ">"),
    ("ratio", 7, ">"),
    ("target (aim)", 14, ">"),
    ("time", 5, ">"),
    ("acc skbp", 9, ">"),
    ("acc skl", 8, ">"),
    ("acc", 5, ">"),
    ("MiB skbp", 9, ">"),
    ("MiB skl", 8, ">"),
    ("mem", 5, ">"),
)


def format_table(rows, quick):
    def line(cells):
        text = " ".join(f"{c:{a}{w}}" for c, (_, w, a) in zip(cells, COLUMNS))
        return text.rstrip()

    header = line([name for name, _, _ in COLUMNS])
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            line(
                [
                    row.scenario,
                    fmt_time(row.skbp_time),
                    fmt_time(row.sklearn_time),
                    f"{row.ratio:.3f}",
                    f"<={row.target:.2f} ({row.aim:.2f})",
                    time_mark(row, quick),
                    fmt_opt(row.acc_skbp, ".4f"),
                    fmt_opt(row.acc_sklearn, ".4f"),
                    acc_mark(row),
                    fmt_opt(row.mib_skbp, ".1f"),
                    fmt_opt(row.mib_sklearn, ".1f"),
                    mem_mark(row),
                ]
            )
        )
    return lines


def format_gflops(flops_info, quick):
    lines = []
    for info in flops_info:
        fraction = info["skbp_gflops"] / info["gemm_gflops"]
        line = (
            f"{info['scenario']}: skbp {info['skbp_gflops']:.1f} GFLOP/s, "
            f"sklearn {info['sklearn_gflops']:.1f} GFLOP/s; GEMM rate for the same "
            f"shapes {info['gemm_gflops']:.1f} GFLOP/s; skbp/GEMM {fraction:.2f}, "
            f"sklearn/GEMM {info['sklearn_gflops'] / info['gemm_gflops']:.2f}"
        )
        if info["dtype"] == "float32":
            mark = "n/a" if quick else ("pass" if fraction >= 0.65 else "FAIL")
            line += f" (target >= 0.65: {mark})"
        lines.append(line)
    return lines


def blas_info():
    """One line per native thread pool: API, library, version, arch, threads."""
    return [
        {
            key: pool.get(key)
            for key in (
                "user_api",
                "internal_api",
                "version",
                "architecture",
                "num_threads",
                "filepath",
            )
        }
        for pool in threadpool_info()
    ]


def skbp_digest():
    """A short hash of the skbp sources, to tie results to the code measured."""
    digest = hashlib.sha256()
    for path in sorted(Path(skbp.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def write_docs(report_lines, meta, sections=()):
    """Replace the text between the markers of docs/performance.rst.

    The main table comes first, then each of ``sections`` (bench_users' tables)
    as a subsection of its own.
    """
    text = DOCS_PAGE.read_text()
    if BEGIN_MARKER not in text or END_MARKER not in text:
        raise SystemExit(
            f"{DOCS_PAGE} lacks the markers {BEGIN_MARKER!r} / {END_MARKER!r}."
        )
    title = "Latest results"
    command = (
        " --quick``, reduced sizes, ratios not meaningful" if meta["quick"] else "``"
    )
    block = [
        BEGIN_MARKER,
        "",
        title,
        "-" * len(title),
        "",
        f"Run on {meta['date']} with ``benchmarks/bench_speed.py"
        f"{command}; "
        f"BLAS threads: {meta['threads']}; 1-minute load average "
        f"{meta['load_start']:.2f} at the start and {meta['load_end']:.2f} at the "
        f"end on {meta['cpu_count']} CPUs; numpy {meta['numpy']}, scikit-learn "
        f"{meta['sklearn']}, skbp {meta['skbp']} (sources {meta['skbp_digest']}); "
        f"BLAS {meta['blas']}.",
        "",
        "::",
        "",
        *("   " + line if line else "" for line in report_lines),
        *bench_users.rst_sections(sections),
        "",
        END_MARKER,
    ]
    pattern = re.compile(
        re.escape(BEGIN_MARKER) + r".*?" + re.escape(END_MARKER), re.DOTALL
    )
    DOCS_PAGE.write_text(pattern.sub(lambda _: "\n".join(block), text, count=1))


def blas_summary(pools):
    blas = [p for p in pools if p["user_api"] == "blas"]
    return (
        ", ".join(
            f"{p['internal_api']} {p['version']} ({p['architecture']})" for p in blas
        )
        or "unknown"
    )


# ----------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and 1-2 rounds; finishes in under a minute; ratios are "
        "not meaningful",
    )
    parser.add_argument(
        "--threads",
        default="1",
        help="BLAS threads (an integer) or 'default' for the machine default",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(ALL_SCENARIOS),
        help="comma-separated subset of S1,S2,S3,S4,S5 and T (threads), L "
        "(layouts), P (pipeline), Y (PyTorch)",
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="override the rounds of S1-S3, T-Y"
    )
    parser.add_argument(
        "--write-docs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the table into docs/performance.rst (default: on for a full "
        "run of all scenarios, off with --quick or --scenarios)",
    )
    parser.add_argument("--json", metavar="PATH", help="dump the raw numbers here")
    args = parser.parse_args(argv)
    selected = [s.strip().upper() for s in args.scenarios.split(",") if s.strip()]
    unknown = sorted(set(selected) - set(ALL_SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {ALL_SCENARIOS}")
    args.scenarios = [s for s in ALL_SCENARIOS if s in selected]
    if args.threads != "default":
        try:
            args.threads = int(args.threads)
        except ValueError:
            parser.error("--threads takes an integer or 'default'")
    if args.write_docs is None:
        args.write_docs = not args.quick and args.scenarios == list(ALL_SCENARIOS)
    return args


def run(args, log):
    """Run the selected scenarios; return the table rows and GFLOP/s info."""
    rows, flops_info, fitted = [], [], {}
    for scenario in build_scenarios(args.quick):
        if scenario.key not in args.scenarios:
            continue
        if args.rounds is not None:
            scenario.rounds = args.rounds
        log(f"{scenario.name}: rounds: {scenario.rounds}")
        row, models = run_fit_scenario(scenario, args.quick, log)
        rows.append(row)
        fitted[scenario.name] = models
        if scenario.key == "S3":
            sizes = (100, *scenario.params["hidden_layer_sizes"], 10)
            flops = (
                6 * row.raw["n_train"] * n_params(sizes) * scenario.params["max_iter"]
            )
            gemm = gemm_rate(
                sizes,
                scenario.params["batch_size"],
                scenario.dtype,
                repeats=50 if args.quick else 300,
            )
            flops_info.append(
                {
                    "scenario": scenario.name,
                    "dtype": np.dtype(scenario.dtype).name,
                    "flops": flops,
                    "skbp_gflops": flops / row.skbp_time / 1e9,
                    "sklearn_gflops": flops / row.sklearn_time / 1e9,
                    "gemm_gflops": gemm,
                }
            )
    if "S4" in args.scenarios:
        log("S4 predict")
        models = s3_models(fitted, args.quick, log)
        rows.extend(run_predict_scenario(models, args.quick, log))
    return rows, flops_info


def main(argv=None):
    args = parse_args(argv)

    def log(message):
        print(message, flush=True)

    start = time.perf_counter()
    pools = blas_info()
    meta = {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "quick": args.quick,
        "threads": args.threads,
        "scenarios": args.scenarios,
        "load_start": os.getloadavg()[0],
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "skbp": skbp.__version__,
        "skbp_digest": skbp_digest(),
        "threadpools": pools,
        "blas": blas_summary(pools),
    }
    quick_note = " --quick (small sizes: ratios not meaningful)" if args.quick else ""
    log(f"bench_speed{quick_note}")
    log(
        f"python {meta['python']}, numpy {meta['numpy']}, scipy {meta['scipy']}, "
        f"scikit-learn {meta['sklearn']}, skbp {meta['skbp']} "
        f"(sources {meta['skbp_digest']})"
    )
    for pool in pools:
        log(
            f"threadpool: {pool['user_api']} {pool['internal_api']} "
            f"{pool['version']} arch={pool['architecture']} "
            f"default threads={pool['num_threads']}"
        )
    log(
        f"BLAS threads: {args.threads}; 1-min load average at start: "
        f"{meta['load_start']:.2f} ({meta['cpu_count']} CPUs)"
    )
    limits = None if args.threads == "default" else args.threads
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with threadpool_limits(limits=limits):
            rows, flops_info = run(args, log)
        # Outside the limits: T and P time the default threads too.
        sections = bench_users.run_user_scenarios(args, log, sys.modules[__name__])
    meta["load_end"] = os.getloadavg()[0]
    meta["seconds"] = time.perf_counter() - start

    report = format_table(rows, args.quick) if rows else []
    if flops_info:
        report += ["", *format_gflops(flops_info, args.quick)]
    log("")
    if args.quick:
        log("QUICK RUN: reduced sizes and rounds; ratios are not meaningful.")
    log("\n".join(report + bench_users.text_lines(sections)))
    log(
        f"\nBLAS threads: {args.threads}; 1-min load average: start "
        f"{meta['load_start']:.2f}, end {meta['load_end']:.2f}; "
        f"total {meta['seconds']:.1f} s"
    )
    if args.write_docs:
        write_docs(report, meta, sections)
        log(f"wrote the table into {DOCS_PAGE}")
    if args.json:
        payload = {
            "meta": meta,
            "rows": [vars(row) for row in rows],
            "gflops": flops_info,
            "sections": [vars(section) for section in sections],
        }
        Path(args.json).write_text(json.dumps(payload, indent=2, default=str))
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
