"""The speed benchmark's user-facing scenarios: threads, input layouts, a pipeline
and PyTorch as a yardstick (issue #19, items 4 and 5).

``bench_speed.py`` imports this module and runs the scenarios of ``KEYS`` that
``--scenarios`` selects after S1-S5; each one prints a table of its own, which
``write_docs`` puts on the docs page below the main table. The methodology is
``bench_speed``'s: every estimator of a scenario is fitted once per round, the
jobs in list order on even rounds and in reverse order on odd rounds (so each pair
alternates which goes first), with the round number as seed; a ratio is the median
of the per-round ratios; ``--quick`` shrinks sizes and rounds, and its checks read
``n/a`` because its timings mean nothing. See ``benchmarks/README.md``.

- T threads: the library's default BLAS threads (no ``threadpool_limits`` at all,
  whatever ``--threads`` says) against ``threadpool_limits(1)``, for BPClassifier
  and MLPClassifier, on digits / 16 (S2 adam settings, 30 epochs) and on the S3
  float32 data (3 epochs); on an idle machine and with one core kept busy by a
  child process.
- L layouts: the same data as C- and F-ordered float64 and float32, a strided
  view, pandas and polars DataFrames, and a one-hot CSR matrix against its dense
  form (``--threads`` BLAS threads); plus ``predict_proba`` on one row.
- P pipeline: ``ColumnTransformer`` (scaler and one-hot encoder) and the
  estimator in a pipeline, on a mixed-type pandas table; default threads and one.
- Y PyTorch: a hand-written PyTorch loop and a skorch ``NeuralNetClassifier``
  against BPClassifier and MLPClassifier on S3 float32 and on an S2-shaped fit
  (``--threads`` BLAS and PyTorch threads).
"""

import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

KEYS = ("T", "L", "P", "Y")
TITLES = {
    "T": "threads",
    "L": "input layouts",
    "P": "pipeline",
    "Y": "PyTorch yardstick",
}

# ------------------------------------------------------------------ machinery


@dataclass
class Section:
    """One scenario's output: its title, the lines printed and the raw numbers."""

    key: str
    title: str
    lines: list
    raw: dict = field(default_factory=dict)


@dataclass
class Job:
    """An estimator fitted once per round on fixed data.

    ``make(seed)`` returns an unfitted object with ``fit(X, y)`` and
    ``score(X, y)``. ``threads=None`` fits without any ``threadpool_limits`` (the
    limits in force, the library's defaults when none are); an integer fits
    inside ``threadpool_limits(threads)``. With ``test=(X_test, y_test)`` the
    model is scored after each fit, outside the timing.
    """

    name: str
    make: Callable
    X: object
    y: object
    threads: int | None = None
    test: tuple | None = None


def run_jobs(bench, jobs, rounds, log, label):
    """Fit every job once per round; return the per-round times and scores.

    Even rounds run the jobs in list order, odd rounds in reverse, so that each
    pair of jobs alternates which goes first and neither gains from the order.
    Returns ``(times, scores, models)``: per job name, the list of fit seconds,
    the list of scores (empty without ``test``) and the last fitted model.
    """
    times = {job.name: [] for job in jobs}
    scores = {job.name: [] for job in jobs}
    models = {}
    for r in range(rounds):
        for job in jobs if r % 2 == 0 else jobs[::-1]:
            model = job.make(r)
            limit = (
                nullcontext() if job.threads is None else threadpool_limits(job.threads)
            )
            with limit:
                times[job.name].append(bench.timed_fit(model, job.X, job.y))
            if job.test is not None:
                scores[job.name].append(float(model.score(*job.test)))
            models[job.name] = model
        log(
            f"  {label} round {r + 1}/{rounds}: "
            + ", ".join(
                f"{name} {seconds[-1]:.3f} s" for name, seconds in times.items()
            )
        )
    return times, scores, models


def ratio(times, a, b):
    """Median over the rounds of the per-round ratio ``times[a] / times[b]``."""
    return statistics.median([x / y for x, y in zip(times[a], times[b])])


def mark(ok, quick):
    """A must-reach check: ``pass``/``FAIL``; ``n/a`` under --quick or if None."""
    if ok is None or quick:
        return "n/a"
    return "pass" if ok else "FAIL"


def format_rows(columns, rows):
    """A plain-text table; ``columns`` holds ``(header, width, align)`` triples."""

    def line(cells):
        return " ".join(f"{c:{a}{w}}" for c, (_, w, a) in zip(cells, columns)).rstrip()

    header = line([name for name, _, _ in columns])
    return [header, "-" * len(header), *(line(row) for row in rows)]


def rounds_for(args, full, quick):
    """``--rounds`` when given, else the scenario's own count for the mode."""
    if args.rounds is not None:
        return args.rounds
    return quick if args.quick else full


def scenario_named(bench, name, quick, **changes):
    """A copy of one of bench_speed's fit scenarios, with ``changes`` applied;
    ``max_iter=N`` sets the epochs (and the settings that keep them exact)."""
    scenario = next(s for s in bench.build_scenarios(quick) if s.name == name)
    if "max_iter" in changes:
        params = {**scenario.params, **bench.common_params(changes.pop("max_iter"))}
        changes["params"] = params
    return replace(scenario, **changes)


def estimator_maker(bench, scenario, which, wrap=None):
    """``seed -> estimator``: skbp's (``which=0``) or scikit-learn's (1) of the
    scenario's pair, passed through ``wrap`` (a pipeline, say) when given."""

    def make(seed):
        estimator = bench.make_pair(scenario, seed)[which]
        return estimator if wrap is None else wrap(estimator)

    return make


def text_lines(sections):
    """The sections as printed below the main table."""
    return [line for s in sections for line in ("", s.title, *s.lines)]


def rst_sections(sections):
    """The sections as reStructuredText: a subsection and a literal block each."""
    lines = []
    for s in sections:
        lines += ["", s.title, "~" * len(s.title), "", "::", ""]
        lines += ["   " + line if line else "" for line in s.lines]
    return lines


def run_user_scenarios(args, log, bench):
    """Run the scenarios of ``KEYS`` that ``args.scenarios`` selects.

    ``bench`` is the ``bench_speed`` module: its data, settings and timing
    helpers. It is passed in rather than imported because ``bench_speed`` runs as
    ``__main__``, and importing it by name would load a second copy (with a data
    cache of its own). Call this outside any ``threadpool_limits``: T and P
    measure the default threads; L and Y apply ``--threads`` themselves.
    """
    limits = None if args.threads == "default" else args.threads
    runners = {
        "T": lambda: run_threads(bench, args, log),
        "L": lambda: run_layouts(bench, args, log, limits),
        "P": lambda: run_pipeline(bench, args, log),
        "Y": lambda: run_pytorch(bench, args, log, limits),
    }
    sections = []
    for key in KEYS:
        if key in args.scenarios:
            log(f"{key}: {TITLES[key]}")
            sections.append(runners[key]())
    return sections


# -------------------------------------------------------------------- threads


def _spin(seconds, started):
    """Keep one core busy for at most ``seconds``.

    The loop is bounded so that the child ends by itself even if the benchmark
    dies before it can terminate it.
    """
    started.set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


@contextmanager
def busy_core(seconds):
    """A child process spinning on one core while the block runs.

    ``spawn`` starts a fresh interpreter: a fork of this process would copy the
    BLAS thread pools' state for nothing. The fresh interpreter re-imports the
    main script first (a second or so), so the block starts only once the loop
    runs. Yields the child, terminated after.
    """
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    child = context.Process(target=_spin, args=(seconds, started), daemon=True)
    child.start()
    try:
        if not started.wait(timeout=120):
            raise RuntimeError("the busy-core child process did not start")
        yield child
    finally:
        child.terminate()
        child.join(timeout=10)


def run_threads(bench, args, log):
    """T: default BLAS threads against one thread, idle and with a busy core."""
    quick = args.quick
    cases = [
        (
            "digits",
            scenario_named(
                bench,
                "S2 minibatch adam",
                quick,
                data="digits16",
                max_iter=10 if quick else 30,
            ),
            rounds_for(args, 5, 1),
        ),
        (
            "S3",
            scenario_named(bench, "S3 large float32", quick, max_iter=3),
            # Few rounds: on a shared 2-core machine MLPClassifier's fit at the
            # default threads can take over ten times its 1-thread time.
            rounds_for(args, 3, 1),
        ),
    ]
    cpus = os.cpu_count() or 1
    bound = 120 if quick else 900  # seconds; the busy rows take well under this
    defaults = ", ".join(
        f"{p['internal_api']} {p['num_threads']}"
        for p in threadpool_info()
        if p["user_api"] == "blas"
    )
    rows, raw = [], {"cpu_count": cpus, "default_blas_threads": defaults}
    for state in ("idle", "busy core"):
        if state == "busy core" and cpus < 2:
            rows += [[f"{name} {state}"] + ["n/a"] * 10 for name, _, _ in cases]
            continue
        context = busy_core(bound) if state == "busy core" else nullcontext()
        with context as child:
            for name, scenario, rounds in cases:
                X, _, y, _ = bench.scenario_data(scenario, quick)
                jobs = [
                    Job(label, estimator_maker(bench, scenario, which), X, y, threads)
                    for which, est in ((0, "skbp"), (1, "MLP"))
                    for label, threads in ((f"{est} default", None), (f"{est} 1", 1))
                ]
                times, _, _ = run_jobs(bench, jobs, rounds, log, f"T {name} {state}")
                rows.append(threads_row(bench, name, state, times, quick))
                raw[f"{name} {state}"] = times
            if child is not None and not child.is_alive():
                log(f"  WARNING: the busy child ended before the {bound} s bound")
    lines = [
        f"os.cpu_count(): {cpus}; default BLAS threads: {defaults}; busy core: a "
        f"spawned child process spinning a Python loop (ends by itself after "
        f"{bound} s)",
        "",
        *format_rows(THREAD_COLUMNS, rows),
        "",
        "d/1: median of the per-round ratios default threads / 1 thread;",
        "skbp/MLP: skbp default / MLP default. Checks: <=1.3x: skbp d/1 <= 1.3;",
        "<=MLP: skbp/MLP <= 1; threads help (idle S3 row): when MLP d/1 < 1, skbp",
        "d/1 < 1 too (n/a when MLP's threads do not help it).",
    ]
    return Section("T", "Threads: the default BLAS threads against 1", lines, raw)


THREAD_COLUMNS = (
    ("case", 16, "<"),
    ("skbp def", 9, ">"),
    ("skbp 1", 9, ">"),
    ("skbp d/1", 8, ">"),
    ("MLP def", 9, ">"),
    ("MLP 1", 9, ">"),
    ("MLP d/1", 7, ">"),
    ("skbp/MLP", 8, ">"),
    ("<=1.3x", 6, ">"),
    ("<=MLP", 5, ">"),
    ("threads help", 12, ">"),
)


def threads_row(bench, name, state, times, quick):
    """One row of T from the per-round times of its four jobs."""
    fmt = bench.fmt_time
    skbp_threads = ratio(times, "skbp default", "skbp 1")
    mlp_threads = ratio(times, "MLP default", "MLP 1")
    vs_mlp = ratio(times, "skbp default", "MLP default")
    helps = "-"
    if (name, state) == ("S3", "idle"):
        # Only a must when threads pay off for MLPClassifier on this machine.
        helps = mark(skbp_threads < 1 if mlp_threads < 1 else None, quick)
    return [
        f"{name} {state}",
        fmt(statistics.median(times["skbp default"])),
        fmt(statistics.median(times["skbp 1"])),
        f"{skbp_threads:.3f}",
        fmt(statistics.median(times["MLP default"])),
        fmt(statistics.median(times["MLP 1"])),
        f"{mlp_threads:.3f}",
        f"{vs_mlp:.3f}",
        mark(skbp_threads <= 1.3, quick),
        mark(vs_mlp <= 1.0, quick),
        helps,
    ]


# -------------------------------------------------------------------- layouts


def categorical_codes(n, n_classes=10, seed=0):
    """``n`` rows of 10 integer-coded categorical columns (4 to 40 levels) and a
    target that depends on every column."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(4, 41, 10)
    codes = np.column_stack([rng.integers(0, k, n) for k in levels])
    score = sum(
        rng.standard_normal((k, n_classes))[codes[:, j]] for j, k in enumerate(levels)
    )
    return codes, np.argmax(score + rng.gumbel(size=score.shape), axis=1)


def layout_inputs(quick, log):
    """``(name, baseline name, X, y)`` for each layout; the same values per group.

    Every MNIST-shaped layout holds the same numbers as the C-ordered float64 (or
    float32) array, its baseline; the one-hot CSR matrix is compared with its
    own dense C-ordered ``.toarray()``.
    """
    n = 1_000 if quick else 4_000
    X, y = make_classification(
        n_samples=n, n_features=784, n_informative=50, n_classes=10, random_state=0
    )
    X32 = X.astype(np.float32)
    # Every other column of an array twice as wide: a strided, non-contiguous view.
    wide = np.random.default_rng(0).standard_normal((n, 2 * X.shape[1]))
    wide[:, ::2] = X
    inputs = [
        ("C float64", "C float64", X, y),
        ("F float64", "C float64", np.asfortranarray(X), y),
        ("C float32", "C float32", X32, y),
        ("F float32", "C float32", np.asfortranarray(X32), y),
        ("X_wide[:, ::2] float64", "C float64", wide[:, ::2], y),
    ]
    names = [f"px{i}" for i in range(X.shape[1])]
    try:
        import pandas as pd

        inputs.append(
            ("pandas DataFrame", "C float64", pd.DataFrame(X, columns=names), y)
        )
    except ImportError:
        log("  L: pandas DataFrame row skipped: pandas is not installed")
    try:
        import polars as pl

        frame = pl.DataFrame(X, schema=names, orient="row")
        inputs.append(("polars DataFrame", "C float64", frame, y))
    except ImportError:
        log("  L: polars DataFrame row skipped: polars is not installed")
    codes, y_codes = categorical_codes(n)
    onehot = OneHotEncoder().fit_transform(codes).tocsr()
    inputs += [
        (
            "one-hot dense C float64",
            "one-hot dense C float64",
            onehot.toarray(),
            y_codes,
        ),
        ("one-hot CSR float64", "one-hot dense C float64", onehot, y_codes),
    ]
    return inputs


LAYOUT_COLUMNS = (
    ("layout", 30, "<"),
    ("skbp", 9, ">"),
    ("skbp/base", 9, ">"),
    ("MLP", 9, ">"),
    ("skbp/MLP", 8, ">"),
    ("base check", 12, ">"),
    ("MLP check", 11, ">"),
)


def run_layouts(bench, args, log, limits):
    """L: one fit on each input layout, then one-row ``predict_proba`` latency."""
    quick = args.quick
    scenario = scenario_named(
        bench, "S2 minibatch adam", quick, max_iter=3 if quick else 10
    )
    inputs = layout_inputs(quick, log)
    jobs = [
        Job(f"{est} {name}", estimator_maker(bench, scenario, which), X, y)
        for name, _, X, y in inputs
        for which, est in ((0, "skbp"), (1, "MLP"))
    ]
    with threadpool_limits(limits=limits):
        times, _, models = run_jobs(bench, jobs, rounds_for(args, 5, 1), log, "L")
        latency = layout_latency(bench, models, inputs, quick, log)
    rows = []
    for name, base, _, _ in inputs:
        vs_base = ratio(times, f"skbp {name}", f"skbp {base}")
        vs_mlp = ratio(times, f"skbp {name}", f"MLP {name}")
        base_bound, mlp_bound = (1.25, 0.80) if name == "F float32" else (None, 1.0)
        rows.append(
            [
                name,
                bench.fmt_time(statistics.median(times[f"skbp {name}"])),
                "(base)" if name == base else f"{vs_base:.3f}",
                bench.fmt_time(statistics.median(times[f"MLP {name}"])),
                f"{vs_mlp:.3f}",
                "-" if base_bound is None else bound_mark(vs_base, base_bound, quick),
                bound_mark(vs_mlp, mlp_bound, quick),
            ]
        )
    for name, skbp_seconds, mlp_seconds, vs_mlp in latency:
        rows.append(
            [
                name,
                bench.fmt_time(skbp_seconds),
                "-",
                bench.fmt_time(mlp_seconds),
                f"{vs_mlp:.3f}",
                "-",
                bound_mark(vs_mlp, 1.0, quick),
            ]
        )
    n, epochs = inputs[0][2].shape[0], scenario.params["max_iter"]
    lines = [
        f"make_classification({n} x 784, 10 classes, 50 informative), (100,) relu, "
        f"adam, batch 200, {epochs} epochs; one-hot: {n} x "
        f"{inputs[-1][2].shape[1]} from 10 categorical columns",
        "",
        *format_rows(LAYOUT_COLUMNS, rows),
        "",
        "skbp/base: against skbp on the C-ordered array of the same dtype (the",
        "one-hot CSR: its dense .toarray()). Checks: F float32 skbp/base <= 1.25",
        "and skbp/MLP <= 0.80; every other row skbp/MLP <= 1.",
    ]
    title = f"Input layouts (BLAS threads: {args.threads})"
    return Section("L", title, lines, {"times": times, "latency": latency})


def bound_mark(value, bound, quick):
    """``<=bound pass`` / ``<=bound FAIL`` (``n/a`` under --quick)."""
    return f"<={bound:.2f} {mark(value <= bound, quick)}"


def layout_latency(bench, models, inputs, quick, log):
    """``predict_proba`` of one row, as a pandas DataFrame and as an ndarray.

    Each on the models fitted on that input type (a model fitted on an ndarray
    warns about a DataFrame's feature names, and the other way round).
    Interleaved blocks of calls as S4; returns ``(row name, skbp median s, MLP
    median s, median of the block ratios)`` tuples.
    """
    blocks, calls = (4, 50) if quick else (20, 100)
    one_row = [("ndarray", "C float64", inputs[0][2][:1].copy())]
    frames = [x for name, _, x, _ in inputs if name == "pandas DataFrame"]
    if frames:
        one_row.insert(0, ("pandas", "pandas DataFrame", frames[0].iloc[:1]))
    out = []
    for kind, fitted_on, X_one in one_row:
        skbp_model, mlp_model = models[f"skbp {fitted_on}"], models[f"MLP {fitted_on}"]
        seconds, ratios = bench.interleaved_calls(
            (
                lambda m=skbp_model, x=X_one: m.predict_proba(x),
                lambda m=mlp_model, x=X_one: m.predict_proba(x),
            ),
            blocks,
            calls,
        )
        out.append(
            (
                f"predict_proba 1 row {kind}",
                statistics.median(seconds[0]),
                statistics.median(seconds[1]),
                statistics.median(ratios),
            )
        )
        log(f"  L predict_proba 1 row {kind}: ratio {out[-1][3]:.3f}")
    return out


# ------------------------------------------------------------------- pipeline


def mixed_table(n, seed=0):
    """A pandas table of 8 numeric columns on different scales and 4 string
    columns of 3, 8, 15 and 30 levels, and a 3-class target depending on both."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, 8))
    score = Z @ rng.standard_normal((8, 3))
    scales, offsets = 10.0 ** rng.uniform(-2, 3, 8), rng.normal(0, 100, 8)
    data = {f"num{i}": Z[:, i] * scales[i] + offsets[i] for i in range(8)}
    for j, levels in enumerate((3, 8, 15, 30)):
        codes = rng.integers(0, levels, n)
        score += 1.5 * rng.standard_normal((levels, 3))[codes]
        data[f"cat{j}"] = np.array([f"c{j}_{k}" for k in range(levels)])[codes]
    y = np.argmax(score + rng.gumbel(size=score.shape), axis=1)
    return pd.DataFrame(data), y


def describe_array(X):
    """Type, dtype and memory order (C, F or strided) of what an estimator gets."""
    if sparse.issparse(X):
        return f"{type(X).__name__} {X.dtype}"
    order = "C" if X.flags.c_contiguous else "F" if X.flags.f_contiguous else "strided"
    return f"{type(X).__name__} {X.dtype} {order}"


PIPELINE_COLUMNS = (
    ("threads", 15, "<"),
    ("skbp", 9, ">"),
    ("MLP", 9, ">"),
    ("skbp/MLP", 8, ">"),
    ("acc skbp", 8, ">"),
    ("acc MLP", 8, ">"),
    ("X to estimator", 20, ">"),
    ("<=MLP", 5, ">"),
)


def run_pipeline(bench, args, log):
    """P: make_pipeline(ColumnTransformer, estimator) on a mixed-type table."""
    quick = args.quick
    try:
        X, y = mixed_table(4_000 if quick else 20_000)
    except ImportError:
        line = "P skipped: pandas is not installed"
        log(line)
        return Section("P", "Pipeline", [line])
    num_cols = [c for c in X.columns if c.startswith("num")]
    cat_cols = [c for c in X.columns if c.startswith("cat")]

    def preprocess():
        return ColumnTransformer(
            [
                ("num", StandardScaler(), num_cols),
                ("cat", OneHotEncoder(handle_unknown="ignore"), cat_cols),
            ]
        )

    def wrap(estimator):
        return make_pipeline(preprocess(), estimator)

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    # What ColumnTransformer hands the estimator: it stacks sparse when the
    # one-hot output makes the result sparse enough (sparse_threshold=0.3).
    handed = describe_array(preprocess().fit_transform(X_train))
    scenario = scenario_named(
        bench, "S2 minibatch adam", quick, max_iter=3 if quick else 15
    )
    test = (X_test, y_test)
    jobs = [
        Job(
            label,
            estimator_maker(bench, scenario, which, wrap),
            X_train,
            y_train,
            t,
            test,
        )
        for label, which, t in (
            ("skbp default", 0, None),
            ("MLP default", 1, None),
            ("skbp 1", 0, 1),
            ("MLP 1", 1, 1),
        )
    ]
    times, scores, _ = run_jobs(bench, jobs, rounds_for(args, 5, 1), log, "P")
    rows = []
    for threads, suffix in (("default threads", "default"), ("1 thread", "1")):
        vs_mlp = ratio(times, f"skbp {suffix}", f"MLP {suffix}")
        rows.append(
            [
                threads,
                bench.fmt_time(statistics.median(times[f"skbp {suffix}"])),
                bench.fmt_time(statistics.median(times[f"MLP {suffix}"])),
                f"{vs_mlp:.3f}",
                f"{statistics.fmean(scores[f'skbp {suffix}']):.4f}",
                f"{statistics.fmean(scores[f'MLP {suffix}']):.4f}",
                handed,
                mark(vs_mlp <= 1.0, quick),
            ]
        )
    lines = [
        f"{len(X)} rows (80/20 split), 8 numeric + 4 string columns (3-30 levels), "
        "3 classes; StandardScaler + OneHotEncoder(handle_unknown='ignore') in a "
        "ColumnTransformer, then (100,) relu adam batch 200, "
        f"{scenario.params['max_iter']} epochs; times include the preprocessing",
        "",
        *format_rows(PIPELINE_COLUMNS, rows),
    ]
    raw = {"times": times, "scores": scores, "X_to_estimator": handed}
    return Section("P", "Pipeline: ColumnTransformer and the estimator", lines, raw)


# -------------------------------------------------------------------- PyTorch


def torch_module(n_in, hidden, n_out, seed):
    """``nn.Sequential`` of Linear-ReLU-...-Linear, initialised as MLPClassifier
    does for relu: weights and biases uniform in +-sqrt(6 / (fan_in + fan_out))."""
    import torch
    from torch import nn

    generator = torch.Generator().manual_seed(seed)
    sizes = (n_in, *hidden, n_out)
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        linear = nn.Linear(fan_in, fan_out)
        bound = (6.0 / (fan_in + fan_out)) ** 0.5
        with torch.no_grad():
            linear.weight.uniform_(-bound, bound, generator=generator)
            linear.bias.uniform_(-bound, bound, generator=generator)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def l2_weight_decay(alpha, batch_size):
    """Adam's ``weight_decay`` on the weights that matches scikit-learn's L2.

    MLPClassifier adds ``alpha / 2 * ||W||^2 / n`` to the loss of a minibatch of
    ``n`` rows, that is ``alpha * W / n`` to each weight gradient, and does not
    penalise the biases (``_multilayer_perceptron.py``: ``coef_grads += alpha *
    coefs_``, then ``/= n``). torch's Adam with ``weight_decay=wd`` adds ``wd * W``
    to the gradient before the moments: the same coupled L2 when
    ``wd = alpha / batch_size`` on the weights and 0 on the biases. Only the last,
    shorter minibatch of an epoch differs (scikit-learn divides by its size).
    torch's Adam also adds ``eps`` after dividing ``sqrt(v)`` by its bias
    correction, scikit-learn before; with ``eps=1e-8`` neither matters here.
    """
    return alpha / batch_size


class TorchLoop:
    """A hand-written PyTorch training loop with MLPClassifier's adam settings.

    ``fit`` and ``score`` as an estimator's, so that the benchmark times it like
    one: CrossEntropyLoss (mean over the minibatch), Adam (betas 0.9, 0.999, eps
    1e-8), the L2 of :func:`l2_weight_decay`, minibatches drawn from a fresh
    permutation each epoch by a seeded ``torch.Generator``; float32.
    """

    def __init__(self, params, random_state):
        self.params = params
        self.random_state = random_state

    def fit(self, X, y):
        import torch

        p = self.params
        self.classes_, codes = np.unique(y, return_inverse=True)
        X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        y = torch.from_numpy(codes.astype(np.int64))
        module = torch_module(
            X.shape[1], p["hidden_layer_sizes"], len(self.classes_), self.random_state
        )
        weights = [
            w for name, w in module.named_parameters() if name.endswith("weight")
        ]
        biases = [b for name, b in module.named_parameters() if name.endswith("bias")]
        decay = l2_weight_decay(p["alpha"], p["batch_size"])
        optimizer = torch.optim.Adam(
            [{"params": weights, "weight_decay": decay}, {"params": biases}],
            lr=p["learning_rate"],
            betas=(0.9, 0.999),
            eps=1e-8,
        )
        loss_function = torch.nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(self.random_state)
        batch_size = p["batch_size"]
        for _ in range(p["max_iter"]):
            order = torch.randperm(X.shape[0], generator=generator)
            for start in range(0, X.shape[0], batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                loss_function(module(X[batch]), y[batch]).backward()
                optimizer.step()
        self.module_ = module
        return self

    def score(self, X, y):
        import torch

        with torch.no_grad():
            X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
            predicted = self.module_(X).argmax(dim=1).numpy()
        return float(np.mean(self.classes_[predicted] == y))


def skorch_net(params, n_in, n_out, seed):
    """skorch's NeuralNetClassifier with TorchLoop's module, loss and optimiser."""
    import torch
    from skorch import NeuralNetClassifier

    # The DataLoader's shuffling draws from torch's global generator.
    torch.manual_seed(seed)
    return NeuralNetClassifier(
        torch_module(n_in, params["hidden_layer_sizes"], n_out, seed),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=params["learning_rate"],
        optimizer__betas=(0.9, 0.999),
        optimizer__eps=1e-8,
        optimizer__weight_decay=l2_weight_decay(params["alpha"], params["batch_size"]),
        optimizer__param_groups=[("*bias", {"weight_decay": 0.0})],
        max_epochs=params["max_iter"],
        batch_size=params["batch_size"],
        iterator_train__shuffle=True,
        train_split=None,
        verbose=0,
    )


@contextmanager
def torch_threads(torch, threads):
    """``torch.set_num_threads(threads)`` inside (an int; ``None`` leaves
    PyTorch's default), the previous count restored after."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def warm_up_torch(params, X, y, n_out):
    """One untimed epoch of the PyTorch loop and of skorch on a few rows.

    The first PyTorch fit of a process pays about a second of lazy
    initialisation, which would otherwise land in the first round.
    """
    short = {**params, "max_iter": 1}
    TorchLoop(short, 0).fit(X[:1024], y[:1024])
    skorch_net(short, X.shape[1], n_out, 0).fit(X[:1024], y[:1024])


PYTORCH_COLUMNS = (
    ("case", 16, "<"),
    ("estimator", 13, "<"),
    ("time", 9, ">"),
    ("/skbp", 7, ">"),
    ("accuracy", 8, ">"),
    ("skbp faster", 11, ">"),
)


def run_pytorch(bench, args, log, limits):
    """Y: PyTorch and skorch against skbp and MLPClassifier."""
    title = f"PyTorch yardstick (BLAS and PyTorch threads: {args.threads})"
    try:
        import skorch  # noqa: F401
        import torch
    except ImportError as error:
        line = f"Y skipped: {error.name} is not importable (pip install torch skorch)"
        log(line)
        return Section("Y", title, [line])
    quick = args.quick
    s3 = scenario_named(bench, "S3 large float32", quick)
    # The S2 shape in float32, the dtype a PyTorch user trains in.
    s2 = scenario_named(bench, "S2 minibatch adam", quick, dtype=np.float32)
    cases = [
        ("S3 float32", s3, rounds_for(args, 5, 1), True),
        ("S2 adam float32", s2, rounds_for(args, 7, 1), False),
    ]
    rows, raw = [], {}
    with threadpool_limits(limits=limits), torch_threads(torch, limits):
        for name, scenario, rounds, with_skorch in cases:
            X_train, X_test, y_train, y_test = bench.scenario_data(scenario, quick)
            y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
            n_in, n_out = X_train.shape[1], len(np.unique(y_train))
            params, test = scenario.params, (X_test, y_test)
            makers = {
                "BPClassifier": estimator_maker(bench, scenario, 0),
                "MLPClassifier": estimator_maker(bench, scenario, 1),
                "PyTorch loop": lambda seed, p=params: TorchLoop(p, seed),
            }
            if with_skorch:
                makers["skorch"] = lambda seed, p=params, i=n_in, o=n_out: skorch_net(
                    p, i, o, seed
                )
            jobs = [Job(k, m, X_train, y_train, test=test) for k, m in makers.items()]
            warm_up_torch(params, X_train, y_train, n_out)
            times, scores, _ = run_jobs(bench, jobs, rounds, log, f"Y {name}")
            raw[name] = {"times": times, "scores": scores}
            for key in makers:
                vs_skbp = ratio(times, key, "BPClassifier")
                faster = "-" if key in ("BPClassifier", "MLPClassifier") else None
                rows.append(
                    [
                        name,
                        key,
                        bench.fmt_time(statistics.median(times[key])),
                        f"{vs_skbp:.3f}",
                        f"{statistics.fmean(scores[key]):.4f}",
                        faster or mark(vs_skbp > 1.0, quick),
                    ]
                )
    lines = [
        f"torch {torch.__version__}, skorch {skorch.__version__}; the bench's S3 "
        f"float32 fit ({s3.params['max_iter']} epochs) and S2 adam fit "
        f"({s2.params['max_iter']} epochs) in float32; PyTorch: Glorot-uniform "
        "init, CrossEntropyLoss, Adam, L2 as weight_decay=alpha/batch_size on "
        "the weights",
        "",
        *format_rows(PYTORCH_COLUMNS, rows),
        "",
        "/skbp: median of the per-round ratios time / BPClassifier's time.",
        "Check: skbp faster than the PyTorch loop and than skorch (/skbp > 1).",
    ]
    return Section("Y", title, lines, raw)
