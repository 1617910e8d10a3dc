"""Tests for skbp._tools.display: TrainingCurveDisplay, of both estimators."""

import re
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skbp import BPClassifier, BPRegressor
from skbp._tools.display import TrainingCurveDisplay

HINT = "pip install matplotlib"


@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _fit(X, y, estimator_class=BPClassifier, **params):
    model = estimator_class(
        hidden_layer_sizes=(5,), solver="sgd", max_iter=15, random_state=0, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


#: Each estimator with a dataset of its kind.
ESTIMATORS = pytest.mark.parametrize(
    "estimator_class, data",
    [(BPClassifier, "iris"), (BPRegressor, "friedman")],
    ids=["classifier", "regressor"],
)


@ESTIMATORS
def test_from_estimator_draws_training_loss(pyplot, request, estimator_class, data):
    clf = _fit(*request.getfixturevalue(data), estimator_class)
    display = TrainingCurveDisplay.from_estimator(clf)
    assert set(display.lines_) == {"training_loss"}
    line = display.lines_["training_loss"]
    x, y = line.get_data()
    assert len(x) == len(clf.loss_curve_)
    np.testing.assert_array_equal(x, np.arange(1, len(clf.loss_curve_) + 1))
    np.testing.assert_allclose(y, clf.loss_curve_)
    assert display.ax_.get_lines() == [line]
    assert display.ax_score_ is None
    assert display.figure_ is display.ax_.figure
    assert display.ax_.get_xlabel() == "epoch"
    assert display.ax_.get_ylabel() == "training loss"
    assert display.ax_.get_legend() is not None


@ESTIMATORS
def test_early_stopping_adds_validation_score_on_twin_axis(
    pyplot, request, estimator_class, data
):
    clf = _fit(*request.getfixturevalue(data), estimator_class, early_stopping=True)
    display = TrainingCurveDisplay.from_estimator(clf, name="sgd")
    # Early stopping records the validation loss too, drawn on the loss axis.
    assert set(display.lines_) == {
        "training_loss",
        "validation_loss",
        "validation_score",
    }
    assert display.lines_["validation_loss"].axes is display.ax_
    np.testing.assert_allclose(
        display.lines_["validation_loss"].get_ydata(), clf.validation_loss_curve_
    )
    score = display.lines_["validation_score"]
    assert score.axes is display.ax_score_
    assert display.ax_score_ is not display.ax_
    assert len(score.get_xdata()) == len(clf.validation_scores_)
    np.testing.assert_allclose(score.get_ydata(), clf.validation_scores_)
    assert display.ax_score_.get_ylabel() == "validation score"
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert labels == [
        "sgd: training loss",
        "sgd: validation loss",
        "sgd: validation score",
    ]


def test_validation_loss_curve_on_loss_axis(pyplot, iris):
    clf = _fit(*iris)
    clf.validation_loss_curve_ = [v + 0.1 for v in clf.loss_curve_]
    display = TrainingCurveDisplay.from_estimator(clf)
    line = display.lines_["validation_loss"]
    assert line.axes is display.ax_
    np.testing.assert_allclose(line.get_ydata(), clf.validation_loss_curve_)


def test_passing_ax_uses_it(pyplot, iris):
    clf = _fit(*iris)
    fig, ax = pyplot.subplots()
    display = TrainingCurveDisplay.from_estimator(clf, ax=ax)
    assert display.ax_ is ax
    assert display.figure_ is fig
    # A second curve on the same axes, e.g. to compare two models.
    TrainingCurveDisplay([1.0, 0.5]).plot(ax, name="other")
    assert len(ax.get_lines()) == 2


def test_constructor_and_plot(pyplot):
    display = TrainingCurveDisplay(
        [1.0, 0.6, 0.4], validation_scores=[0.5, 0.7, 0.8], estimator_name="net"
    )
    assert display.plot() is display
    assert set(display.lines_) == {"training_loss", "validation_score"}
    assert display.lines_["training_loss"].get_label() == "net: training loss"


def _covered_by_legend(display):
    """The lines of the display's figure that its legend's box meets, by name."""
    from matplotlib.path import Path

    figure = display.figure_
    figure.canvas.draw()
    box = display.ax_.get_legend().get_window_extent()
    covered = []
    for axes in figure.axes:
        for line in axes.get_lines():
            points = line.get_transform().transform(line.get_xydata())
            # A data point inside the box, or a segment between two crossing it.
            if box.count_contains(points) or Path(points).intersects_bbox(
                box, filled=False
            ):
                covered.append(line.get_label())
    return covered


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16, y


@pytest.mark.parametrize("early_stopping", [True, False], ids=["early", "plain"])
def test_legend_covers_no_line_on_digits(pyplot, digits, early_stopping):
    # The typical picture: the loss falls from the top left, the validation
    # score (twin axes) rises to the top right. loc="best" on the loss axes
    # alone put the legend in the upper right, over the validation score.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = BPClassifier(
            early_stopping=early_stopping, max_iter=60, random_state=0
        ).fit(*digits)
    display = TrainingCurveDisplay.from_estimator(clf, name="BPClassifier")
    assert len(display.lines_) == (3 if early_stopping else 1)
    assert _covered_by_legend(display) == []
    legend_box = display.ax_.get_legend().get_window_extent()
    assert display.ax_.bbox.contains(*legend_box.p0)  # inside the axes: room there
    assert display.ax_.bbox.contains(*legend_box.p1)


@ESTIMATORS
def test_legend_covers_no_line_of_either_estimator(
    pyplot, request, estimator_class, data
):
    clf = _fit(*request.getfixturevalue(data), estimator_class, early_stopping=True)
    assert _covered_by_legend(TrainingCurveDisplay.from_estimator(clf)) == []


def test_legend_goes_above_axes_full_of_lines(pyplot):
    # Curves that leave no room inside the axes: the legend goes above them,
    # and the figure the display made lowers its axes to keep the legend in it.
    rng = np.random.default_rng(0)
    curves = rng.random((3, 200))
    display = TrainingCurveDisplay(*curves, estimator_name="net").plot()
    assert _covered_by_legend(display) == []
    legend_box = display.ax_.get_legend().get_window_extent()
    assert legend_box.y0 >= display.ax_.bbox.y1
    assert legend_box.y1 <= display.figure_.bbox.y1


def test_missing_matplotlib_raises_with_hint(monkeypatch, iris):
    clf = _fit(*iris)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=re.escape(HINT)):
        TrainingCurveDisplay.from_estimator(clf)
    # The constructor itself does not need matplotlib.
    TrainingCurveDisplay([1.0])


def test_unfitted_estimator_raises():
    with pytest.raises(NotFittedError):
        TrainingCurveDisplay.from_estimator(BPClassifier())
