"""Default skbp estimators against scikit-learn's default MLPs.

Classification rows (BPClassifier against MLPClassifier):

- digits, iris, wine, breast_cancer: both estimators run inside
  ``make_pipeline(StandardScaler(), ...)`` with their default parameters through
  the same 5-fold stratified cross-validation, for several seeds.
- s3: the data of the speed benchmark's S3 scenario,
  ``make_classification(n_samples=50_000, n_features=100, n_informative=60,
  n_classes=10, random_state=0)`` cast to float32, stratified 80/20 split with
  ``random_state=0``, no scaling; both estimators at their defaults except
  ``hidden_layer_sizes=(256, 256), batch_size=256, max_iter=5`` (a short
  training, where the initialisation and the step size show most).

Regression rows (BPRegressor against MLPRegressor), R² instead of accuracy:

- diabetes, linnerud, friedman1 (``make_friedman1(n_samples=2000,
  random_state=0)``): both inside ``make_pipeline(StandardScaler(), ...)`` with
  their defaults through shuffled 5-fold CV (``KFold(5, shuffle=True,
  random_state=0)``). The column ``skl+TTR`` is MLPRegressor's R² inside
  ``TransformedTargetRegressor(transformer=StandardScaler())``, the wrapper its
  users need for an unscaled target; ``bar`` is the R² BPRegressor's defaults
  must reach without it (0.45 on diabetes, 0.97 on friedman1; ``FAIL bar``
  below it).

Fits are interleaved (skbp and sklearn back to back with the same seed, alternating
which goes first) so that load on the shared machine hits both alike. Per row the
script reports mean accuracy, the median fit time of each, the median of the
per-fit time ratios skbp / sklearn, and the mean over seeds of the accuracy
difference skbp - sklearn (each seed's accuracy averaged over its folds) with its
standard error over seeds. ``check`` is ``pass`` when skbp is at least as accurate
within one standard error (``diff + SE >= 0``) and not slower (``ratio <= 1``);
``FAIL acc`` when the accuracy is below by more than t * SE (t: two-sided 95%
Student quantile for the seeds, 2.78 for 5), ``acc?`` in between (inconclusive:
rerun with more seeds), ``FAIL time`` when slower; ``n/a`` with a single seed. The
exit code is always 0.

Usage::

    python benchmarks/bench_defaults.py [--seeds 5] [--threads 1] [--quick]
    python benchmarks/bench_defaults.py --datasets digits,s3
    python benchmarks/bench_defaults.py --skbp-params init=he_uniform,learning_rate=3e-3
    python benchmarks/bench_defaults.py --params '{"learning_rate": 0.01}'

``--skbp-params`` and ``--params`` (JSON) change the skbp estimator only; where
they name the same parameter, ``--skbp-params`` wins. The settings a row fixes for both
estimators (s3's ``hidden_layer_sizes``, ``batch_size``, ``max_iter``) override
them, so that both sides keep the same network and training length.
"""

import argparse
import ast
import json
import re
import time
import warnings

import numpy as np
import sklearn
from scipy import stats
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_linnerud,
    load_wine,
    make_classification,
    make_friedman1,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skbp
from skbp import BPClassifier, BPRegressor


def cv_splits(loader):
    """5-fold stratified splits (unshuffled) of a toy dataset."""

    def load():
        X, y = loader(return_X_y=True)
        return [
            (X[train], X[test], y[train], y[test])
            for train, test in StratifiedKFold(5).split(X, y)
        ]

    return load


def shuffled_cv_splits(loader):
    """Shuffled 5-fold splits (``random_state=0``) of a regression dataset."""

    def load():
        X, y = loader()
        folds = KFold(5, shuffle=True, random_state=0).split(X)
        return [(X[train], X[test], y[train], y[test]) for train, test in folds]

    return load


def s3_split():
    """The speed benchmark's S3 data in float32, one stratified 80/20 split."""
    X, y = make_classification(
        n_samples=50_000,
        n_features=100,
        n_informative=60,
        n_classes=10,
        random_state=0,
    )
    X = X.astype(np.float32)
    return [tuple(train_test_split(X, y, test_size=0.2, stratify=y, random_state=0))]


#: name -> (splits loader, parameters fixed for both estimators, standardise?)
DATASETS = {
    "digits": (cv_splits(load_digits), {}, True),
    "iris": (cv_splits(load_iris), {}, True),
    "wine": (cv_splits(load_wine), {}, True),
    "breast_cancer": (cv_splits(load_breast_cancer), {}, True),
    "s3": (
        s3_split,
        {"hidden_layer_sizes": (256, 256), "batch_size": 256, "max_iter": 5},
        False,
    ),
    "diabetes": (shuffled_cv_splits(lambda: load_diabetes(return_X_y=True)), {}, True),
    "linnerud": (shuffled_cv_splits(lambda: load_linnerud(return_X_y=True)), {}, True),
    "friedman1": (
        shuffled_cv_splits(lambda: make_friedman1(n_samples=2000, random_state=0)),
        {},
        True,
    ),
}
REGRESSION = {"diabetes", "linnerud", "friedman1"}
#: The R² that BPRegressor's defaults must reach (without a target wrapper).
R2_BARS = {"diabetes": 0.45, "friedman1": 0.97}


def parse_skbp_params(text):
    """Parse ``"init=glorot_uniform,learning_rate=0.001"`` into a dict.

    Values are Python literals where they parse as one (``0.001``, ``True``,
    ``None``, ``(100, 100)``), else strings. Commas inside a value are kept: a new
    parameter starts only at a comma followed by ``name=``.
    """
    params = {}
    if not text.strip():
        return params
    for item in re.split(r",(?=\s*[A-Za-z_]\w*\s*=)", text):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"expected name=value, got {item!r}")
        try:
            params[name.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            params[name.strip()] = value.strip()
    return params


def timed_fit(model, X_train, X_test, y_train, y_test):
    """Fit on the train part and score on the test part; (score, fit seconds)."""
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return model.score(X_test, y_test), seconds


def compare(name, seeds, skbp_params):
    """Fit both estimators on every split of one row for each seed, interleaved."""
    load, fixed, scale = DATASETS[name]
    splits = load()
    accuracy = {key: np.zeros((seeds, len(splits))) for key in ("skbp", "sklearn")}
    seconds = {"skbp": [], "sklearn": []}
    ratios = []
    fit = 0
    regression = name in REGRESSION
    ours, theirs = (
        (BPRegressor, MLPRegressor) if regression else (BPClassifier, MLPClassifier)
    )
    for seed in range(seeds):
        models = {
            "skbp": ours(**{**skbp_params, **fixed, "random_state": seed}),
            "sklearn": theirs(**fixed, random_state=seed),
        }
        if scale:
            models = {k: make_pipeline(StandardScaler(), m) for k, m in models.items()}
        for k, split in enumerate(splits):
            order = ["skbp", "sklearn"] if fit % 2 == 0 else ["sklearn", "skbp"]
            fit += 1
            took = {}
            for key in order:
                accuracy[key][seed, k], took[key] = timed_fit(
                    clone(models[key]), *split
                )
                seconds[key].append(took[key])
            ratios.append(took["skbp"] / took["sklearn"])
    per_seed = {key: acc.mean(axis=1) for key, acc in accuracy.items()}
    diff = per_seed["skbp"] - per_seed["sklearn"]
    se = float(diff.std(ddof=1) / np.sqrt(seeds)) if seeds > 1 else float("nan")
    reference = None
    if regression:
        reference = float(
            np.mean(
                [
                    timed_fit(
                        make_pipeline(
                            StandardScaler(),
                            TransformedTargetRegressor(
                                MLPRegressor(random_state=seed),
                                transformer=StandardScaler(),
                            ),
                        ),
                        *split,
                    )[0]
                    for seed in range(seeds)
                    for split in splits
                ]
            )
        )
    return {
        key: (float(per_seed[key].mean()), float(np.median(seconds[key])))
        for key in per_seed
    } | {
        "ratio": float(np.median(ratios)),
        "diff": float(diff.mean()),
        "se": se,
        "ttr": reference,
        "bar": R2_BARS.get(name),
    }


def check(row, seeds):
    """``pass`` or what failed; ``n/a`` with a single seed (no SE).

    Accuracy passes when ``diff + SE >= 0``. A deficit is ``FAIL acc`` when it
    exceeds ``t * SE``, ``t`` the two-sided 95% quantile of Student's t with
    ``seeds - 1`` degrees of freedom (2.78 for 5 seeds); in between it is
    ``acc?``, where an estimator that only differs by chance lands about one row
    in six: rerun with more seeds before concluding. Time passes when
    ``ratio <= 1``.
    """
    if np.isnan(row["se"]):
        return "n/a"
    failed = []
    if row["bar"] is not None and row["skbp"][0] < row["bar"]:
        failed.append("FAIL bar")
    if row["diff"] + stats.t.ppf(0.975, seeds - 1) * row["se"] < 0:
        failed.append("FAIL acc")
    elif row["diff"] + row["se"] < 0:
        failed.append("acc?")
    if row["ratio"] > 1:
        failed.append("FAIL time")
    return ", ".join(failed) or "pass"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: --skbp-params init=glorot_uniform,learning_rate=0.001",
    )
    parser.add_argument("--seeds", type=int, default=5, help="seeds per dataset")
    parser.add_argument("--threads", default="1", help="BLAS threads or 'default'")
    parser.add_argument("--quick", action="store_true", help="one seed")
    parser.add_argument("--params", default="{}", help="JSON skbp estimator params")
    parser.add_argument(
        "--skbp-params",
        type=parse_skbp_params,
        default={},
        help="skbp estimator params as name=value,name=value (wins over --params)",
    )
    parser.add_argument(
        "--datasets",
        default=",".join(DATASETS),
        help=f"comma-separated subset of {','.join(DATASETS)}",
    )
    args = parser.parse_args(argv)
    seeds = 1 if args.quick else args.seeds
    skbp_params = json.loads(args.params) | args.skbp_params
    names = args.datasets.split(",")
    unknown = [name for name in names if name not in DATASETS]
    if unknown:
        parser.error(f"unknown datasets {unknown}; choose from {list(DATASETS)}")

    from threadpoolctl import threadpool_limits

    limit = None if args.threads == "default" else int(args.threads)
    print(
        f"skbp {skbp.__version__}, scikit-learn {sklearn.__version__},"
        f" numpy {np.__version__}"
    )
    print(
        f"BLAS threads: {args.threads}; seeds: {seeds}; params:"
        f" {skbp_params or 'defaults'}"
    )
    header = (
        f"{'dataset':<14}{'skbp':>10}{'sklearn':>10}"
        f"{'skbp fit s':>12}{'sklearn fit s':>15}{'ratio':>8}"
        f"{'diff':>10}{'SE':>8}{'skl+TTR':>9}{'bar':>6}  check"
    )
    print(header)
    print("-" * (len(header) + 6))
    with threadpool_limits(limits=limit), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in names:
            row = compare(name, seeds, skbp_params)
            se = "n/a" if np.isnan(row["se"]) else f"{row['se']:.4f}"
            ttr = "-" if row["ttr"] is None else f"{row['ttr']:.4f}"
            bar = "-" if row["bar"] is None else f"{row['bar']:.2f}"
            verdict = check(row, seeds)
            print(
                f"{name:<14}{row['skbp'][0]:>10.4f}{row['sklearn'][0]:>10.4f}"
                f"{row['skbp'][1]:>12.4f}{row['sklearn'][1]:>15.4f}"
                f"{row['ratio']:>8.2f}{row['diff']:>+10.4f}{se:>8}{ttr:>9}"
                f"{bar:>6}  {verdict}",
                flush=True,
            )
    print(
        "skbp, sklearn: mean accuracy (classification) or R² (regression)\n"
        "toy rows: StandardScaler + estimator, 5-fold stratified CV, defaults\n"
        "regression rows: StandardScaler + estimator, shuffled 5-fold CV,"
        " defaults; skl+TTR: MLPRegressor with a standardised target; bar: the"
        " R² BPRegressor must reach\n"
        "s3: float32 make_classification(50_000 x 100, 10 classes), 80/20 split,"
        " no scaling,\n    hidden_layer_sizes=(256, 256), batch_size=256,"
        " max_iter=5, else defaults\n"
        "diff: skbp - sklearn, mean over seeds; SE: its standard error over"
        " seeds\n"
        "check: pass = diff + SE >= 0, skbp >= bar and ratio <= 1; FAIL acc ="
        " diff < -t * SE (t: 95% Student, 2.78 for 5 seeds);\n"
        "    acc? = in between (inconclusive, rerun with more seeds)"
    )


if __name__ == "__main__":
    main()
