"""Smoke test: every gallery script in examples/ runs headless without error.

The scripts are run in-process with ``runpy`` on matplotlib's non-interactive Agg
backend; figures are closed afterwards. The test is skipped when matplotlib is not
installed (it is an optional dependency, in the ``plot`` and ``docs`` extras).
"""

import runpy
import warnings
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))


def test_examples_found():
    assert EXAMPLES, f"no plot_*.py scripts in {EXAMPLES_DIR}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    plt.close("all")
    # catch_warnings restores any filter a script installs; plt.show() on Agg warns
    # that the figure cannot be shown, which is expected here. The examples multiply
    # small matrices, where several BLAS threads only compete with each other (on a
    # busy two-core machine, enough to make a script several times slower).
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.filterwarnings(
            "ignore", message=".*non-interactive.*", category=UserWarning
        )
        try:
            runpy.run_path(str(path), run_name="__main__")
        finally:
            plt.close("all")
