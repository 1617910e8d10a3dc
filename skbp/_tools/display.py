"""TrainingCurveDisplay: plot a fitted BPClassifier's or BPRegressor's loss curve.

Follows scikit-learn's Display convention: the constructor stores the data,
``from_estimator`` reads it from a fitted estimator, and ``plot`` draws it and
keeps the matplotlib objects in ``ax_``, ``figure_`` and ``lines_``.

matplotlib is optional (the ``skbp[plot]`` extra): it is imported inside
``plot`` only, so importing this module never needs it.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skbp._tools import import_optional

__all__ = ["TrainingCurveDisplay"]

_MATPLOTLIB_HINT = (
    "TrainingCurveDisplay needs matplotlib: pip install matplotlib (what the "
    "skbp[plot] extra installs)"
)

#: The legend's places inside the axes, in the order matplotlib's "best" tries them.
_INSIDE = (
    "upper right",
    "upper left",
    "lower left",
    "lower right",
    "right",
    "center left",
    "center right",
    "lower center",
    "upper center",
    "center",
)


def _line_points(figure):
    """The finite points of every visible line of the figure, in display pixels."""
    for axes in figure.axes:
        axes.get_xlim(), axes.get_ylim()  # autoscales now, not at the next draw
        for line in axes.get_lines():
            if line.get_visible():
                points = line.get_transform().transform(line.get_xydata())
                yield points[np.isfinite(points).all(axis=1)]


def _covers(legend, lines):
    """Whether the legend's box, 2 points wider (a line's width), meets a line."""
    from matplotlib.path import Path  # imported by plot already

    box = legend.get_window_extent().padded(2 * legend.axes.figure.dpi / 72)
    return any(
        box.count_contains(points)
        or (len(points) > 1 and Path(points).intersects_bbox(box, filled=False))
        for points in lines
    )


def _place_legend(ax, handles, make_room):
    """One legend for ``handles``, where it covers no line of the figure.

    matplotlib's ``loc="best"`` avoids only the lines of the legend's own axes,
    so it laid the legend over the validation score of the twin axes. This tries
    the same places inside the axes against the lines of every axes of the
    figure, as they are now; if each covers one, the legend goes above the axes,
    outside the data, in as many columns as fit the axes' width. ``make_room``
    (a figure of our own) lowers the axes' top if the figure would clip it.
    """
    labels = [handle.get_label() for handle in handles]
    lines = list(_line_points(ax.figure))
    for loc in _INSIDE:
        legend = ax.legend(handles, labels, loc=loc)
        if not _covers(legend, lines):
            return legend
    for ncols in range(len(handles), 0, -1):
        legend = ax.legend(
            handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1), ncols=ncols
        )
        if legend.get_window_extent().width <= ax.bbox.width:
            break
    figure = ax.figure
    gap = 4 * figure.dpi / 72  # 4 points between the legend and the figure's top
    overflow = legend.get_window_extent().y1 + gap - figure.bbox.y1
    if make_room and overflow > 0 and figure.get_layout_engine() is None:
        top = ax.get_position().y1 - overflow / figure.bbox.height
        figure.subplots_adjust(top=top)
    return legend


class TrainingCurveDisplay:
    """Training loss per epoch, with validation score and loss when available.

    Create it with :meth:`from_estimator` or with the constructor followed by
    :meth:`plot`. All attributes are stored as lists.

    Parameters
    ----------
    loss_curve : list of float
        Training loss of every epoch (``loss_curve_``).
    validation_scores : list of float, default=None
        Validation score of every epoch (``validation_scores_``), drawn on a
        secondary y axis.
    validation_loss_curve : list of float, default=None
        Validation loss of every epoch, drawn on the training loss's axis.
    estimator_name : str, default=None
        Name prefixed to the legend labels.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the training (and validation) loss.
    ax_score_ : matplotlib Axes or None
        Twin axes with the validation score, if one was drawn.
    figure_ : matplotlib Figure
        Figure containing the curves.
    lines_ : dict of str to matplotlib Line2D
        The drawn lines, keyed by ``"training_loss"`` and, when present,
        ``"validation_loss"`` and ``"validation_score"``.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against training size.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skbp import BPClassifier
    >>> from skbp import TrainingCurveDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = BPClassifier(
    ...     hidden_layer_sizes=(5,), max_iter=20, random_state=0
    ... ).fit(X, y)  # doctest: +SKIP
    >>> display = TrainingCurveDisplay.from_estimator(clf)  # doctest: +SKIP
    >>> display = TrainingCurveDisplay([1.0, 0.5, 0.3], estimator_name="net")
    >>> display.loss_curve
    [1.0, 0.5, 0.3]
    >>> display.plot()  # doctest: +SKIP
    <...TrainingCurveDisplay object at ...>
    """

    def __init__(
        self,
        loss_curve,
        validation_scores=None,
        validation_loss_curve=None,
        estimator_name=None,
    ):
        self.loss_curve = list(loss_curve)
        self.validation_scores = (
            None if validation_scores is None else list(validation_scores)
        )
        self.validation_loss_curve = (
            None if validation_loss_curve is None else list(validation_loss_curve)
        )
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None):
        """Plot the training curves of a fitted estimator.

        Parameters
        ----------
        estimator : BPClassifier or BPRegressor
            A fitted estimator with ``loss_curve_``; ``validation_scores_``
            (may be None) and ``validation_loss_curve_`` (if it exists) are drawn
            too.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created if None.
        name : str, default=None
            Name for the legend labels.

        Returns
        -------
        display : TrainingCurveDisplay
            Object holding the plotted curves and matplotlib objects.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier, TrainingCurveDisplay
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = BPClassifier((5,), max_iter=20, random_state=0)
        >>> clf = clf.fit(X, y, X_val=X[::5], y_val=y[::5])  # doctest: +SKIP
        >>> display = TrainingCurveDisplay.from_estimator(clf)  # doctest: +SKIP
        >>> sorted(display.lines_)  # doctest: +SKIP
        ['training_loss', 'validation_loss', 'validation_score']
        """
        check_is_fitted(estimator, "loss_curve_")
        display = cls(
            estimator.loss_curve_,
            validation_scores=getattr(estimator, "validation_scores_", None),
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            estimator_name=name,
        )
        return display.plot(ax=ax, name=name)

    def plot(self, ax=None, *, name=None):
        """Draw the curves.

        One legend, on ``ax``, names the lines of both axes. It goes to the first
        place inside the axes, in the order of matplotlib's ``loc="best"``, where
        it covers no line of the figure (the twin axes' validation score
        included); if every place would, above the axes, where a new figure
        makes room for it.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created if None. A validation score
            is drawn on a twin of it (``ax.twinx()``).
        name : str, default=None
            Name for the legend labels; overrides ``estimator_name``.

        Returns
        -------
        display : TrainingCurveDisplay
            ``self``, with ``ax_``, ``ax_score_``, ``figure_`` and ``lines_`` set.

        Examples
        --------
        >>> from skbp import TrainingCurveDisplay
        >>> curves = [0.9, 0.5, 0.4], [0.7, 0.8, 0.8]
        >>> display = TrainingCurveDisplay(*curves)
        >>> display.plot(name="net").ax_score_ is not None  # doctest: +SKIP
        True
        """
        plt = import_optional("matplotlib.pyplot", _MATPLOTLIB_HINT)
        own_figure = ax is None
        if own_figure:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        prefix = "" if name is None else f"{name}: "

        def epochs(values):
            return range(1, len(values) + 1)

        lines = {}
        (lines["training_loss"],) = ax.plot(
            epochs(self.loss_curve), self.loss_curve, label=f"{prefix}training loss"
        )
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        if self.validation_loss_curve:
            (lines["validation_loss"],) = ax.plot(
                epochs(self.validation_loss_curve),
                self.validation_loss_curve,
                linestyle="--",
                label=f"{prefix}validation loss",
            )
            ax.set_ylabel("loss")  # two losses share this axis
        ax_score = None
        if self.validation_scores:
            ax_score = ax.twinx()
            # Continue the colour cycle of ax, so the score gets its own colour.
            color = f"C{len(ax.get_lines())}"
            (lines["validation_score"],) = ax_score.plot(
                epochs(self.validation_scores),
                self.validation_scores,
                color=color,
                linestyle=":",
                label=f"{prefix}validation score",
            )
            ax_score.set_ylabel("validation score")
        # One legend for the lines of both axes, on ax, covering neither's.
        _place_legend(ax, list(lines.values()), make_room=own_figure)

        self.ax_ = ax
        self.ax_score_ = ax_score
        self.figure_ = ax.figure
        self.lines_ = lines
        return self
