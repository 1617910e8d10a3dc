"""TrainingCurveDisplay: plot a fitted BPClassifier's or BPRegressor's loss curve.

Follows scikit-learn's Display convention: the constructor stores the data,
``from_estimator`` reads it from a fitted estimator, and ``plot`` draws it and
keeps the matplotlib objects in ``ax_``, ``figure_`` and ``lines_``.

matplotlib is optional (the ``skbp[plot]`` extra): it is imported inside
``plot`` only, so importing this module never needs it.
"""

from sklearn.utils.validation import check_is_fitted

from skbp._tools import import_optional

__all__ = ["TrainingCurveDisplay"]

_MATPLOTLIB_HINT = "TrainingCurveDisplay needs matplotlib: pip install 'skbp[plot]'"


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
        if ax is None:
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
        # One legend for the lines of both axes.
        handles = list(lines.values())
        ax.legend(handles, [line.get_label() for line in handles])

        self.ax_ = ax
        self.ax_score_ = ax_score
        self.figure_ = ax.figure
        self.lines_ = lines
        return self
