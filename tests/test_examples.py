"""Smoke test: every gallery script under examples/ runs headless without error.

The scripts are run in-process with ``runpy`` on matplotlib's non-interactive Agg
backend; figures are closed afterwards. The test is skipped when matplotlib is not
installed (it is an optional dependency, in the ``plot`` and ``docs`` extras), and
an example is skipped, with the reason, when what it demonstrates needs something
this environment lacks (a newer scikit-learn, an optional package).
"""

import runpy
import warnings
from importlib.util import find_spec
from pathlib import Path

import pytest
import sklearn
from threadpoolctl import threadpool_limits

from skbp._compat import CALLBACKS_AVAILABLE, MIN_SKLEARN_FOR_CALLBACKS

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
# The gallery's sections are subfolders of examples/ (sphinx-gallery subsections).
EXAMPLES = sorted(EXAMPLES_DIR.rglob("plot_*.py"))


def missing(*modules):
    """A reason to skip if any of ``modules`` (optional packages) is not installed."""
    absent = [name for name in modules if find_spec(name) is None]
    return f"needs {', '.join(absent)} (not installed)" if absent else None


# Example (file stem) -> reason to skip it in this environment, or None to run it.
REQUIREMENTS = {
    "plot_callbacks": None
    if CALLBACKS_AVAILABLE
    else (
        f"sklearn.callback needs scikit-learn >= {MIN_SKLEARN_FOR_CALLBACKS}, "
        f"not {sklearn.__version__}"
    ),
    "plot_saving_loading": missing("skops"),
    "plot_onnx": missing("skl2onnx", "onnxruntime"),
}


def example_id(path):
    return path.relative_to(EXAMPLES_DIR).with_suffix("").as_posix()


def test_examples_found():
    assert EXAMPLES, f"no plot_*.py scripts under {EXAMPLES_DIR}"
    stems = [path.stem for path in EXAMPLES]
    assert len(set(stems)) == len(stems), "two examples share a file name"


def test_every_example_is_in_a_gallery_section():
    # sphinx-gallery only lists a subfolder that has a GALLERY_HEADER.rst.
    for path in EXAMPLES:
        assert path.parent != EXAMPLES_DIR, f"{path.name} is not in a section"
        assert (path.parent / "GALLERY_HEADER.rst").is_file(), path.parent


@pytest.mark.parametrize("path", EXAMPLES, ids=example_id)
def test_example_runs(path, monkeypatch):
    reason = REQUIREMENTS.get(path.stem)
    if reason is not None:
        pytest.skip(reason)
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
