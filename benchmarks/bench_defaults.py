"""Default BPClassifier against default MLPClassifier on four toy datasets.

For digits, iris, wine and breast_cancer, both estimators run inside
``make_pipeline(StandardScaler(), ...)`` with their default parameters through the
same 5-fold stratified cross-validation, for several seeds. Fits are interleaved
(skbp, sklearn, skbp, sklearn, ...) so that load on the shared machine hits both
alike; the script reports mean accuracy, the median fit time of each, and the
median of the per-fit time ratios skbp / sklearn.

Usage::

    python benchmarks/bench_defaults.py [--seeds 5] [--threads 1] [--quick]
    python benchmarks/bench_defaults.py --params '{"learning_rate": 0.01}'
"""

import argparse
import json
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier

DATASETS = {
    "digits": load_digits,
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
}


def timed_fold(model, X, y, train, test):
    """Fit on ``train`` and score on ``test``; return (accuracy, fit seconds)."""
    start = time.perf_counter()
    model.fit(X[train], y[train])
    seconds = time.perf_counter() - start
    return model.score(X[test], y[test]), seconds


def compare(name, seeds, skbp_params):
    """Cross-validate both estimators on one dataset, interleaving their fits."""
    X, y = DATASETS[name](return_X_y=True)
    results = {"skbp": ([], []), "sklearn": ([], [])}
    ratios = []
    for seed in range(seeds):
        models = {
            "skbp": make_pipeline(
                StandardScaler(), BPClassifier(random_state=seed, **skbp_params)
            ),
            "sklearn": make_pipeline(
                StandardScaler(), MLPClassifier(random_state=seed)
            ),
        }
        for train, test in StratifiedKFold(5).split(X, y):
            seconds = {}
            for key, model in models.items():
                accuracy, seconds[key] = timed_fold(clone(model), X, y, train, test)
                results[key][0].append(accuracy)
                results[key][1].append(seconds[key])
            ratios.append(seconds["skbp"] / seconds["sklearn"])
    return {
        key: (float(np.mean(acc)), float(np.median(sec)))
        for key, (acc, sec) in results.items()
    } | {"ratio": float(np.median(ratios))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per dataset")
    parser.add_argument("--threads", default="1", help="BLAS threads or 'default'")
    parser.add_argument("--quick", action="store_true", help="one seed")
    parser.add_argument("--params", default="{}", help="JSON BPClassifier params")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    args = parser.parse_args(argv)
    seeds = 1 if args.quick else args.seeds
    skbp_params = json.loads(args.params)

    from threadpoolctl import threadpool_limits

    limit = None if args.threads == "default" else int(args.threads)
    print(
        f"BLAS threads: {args.threads}; seeds: {seeds}; 5-fold CV; params:"
        f" {skbp_params or 'defaults'}"
    )
    header = (
        f"{'dataset':<14}{'skbp acc':>10}{'sklearn acc':>13}"
        f"{'skbp fit s':>12}{'sklearn fit s':>15}{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    with threadpool_limits(limits=limit), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in args.datasets.split(","):
            row = compare(name, seeds, skbp_params)
            print(
                f"{name:<14}{row['skbp'][0]:>10.4f}{row['sklearn'][0]:>13.4f}"
                f"{row['skbp'][1]:>12.4f}{row['sklearn'][1]:>15.4f}"
                f"{row['ratio']:>8.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
