"""scikit-learn's callback API (``sklearn.callback``, scikit-learn >= 1.9).

A fit of :class:`~skbp.BPClassifier` or :class:`~skbp.BPRegressor` is one
callback task with one subtask per
epoch (per iteration for L-BFGS), and each epoch has one leaf subtask per
minibatch: the tree that ``ProgressBar`` draws and ``ScoringMonitor`` scores
(at the end of every epoch, and of the fit). The trainer stays free of
scikit-learn: it reports to a ``TrainingHooks`` object, and ``CallbackHooks``
below turns those reports into callback contexts. ``FitTask`` is the fit's own
task: begun before the data are encoded, ended once the fitted attributes are
stored.

With scikit-learn < 1.9 the estimator still imports and fits;
``set_callbacks`` then explains which version it needs.
"""

from skbp._compat import has_callbacks, init_callback_context
from skbp._core.training import TrainingHooks


class FitTask:
    """The callback task of one ``fit`` / ``partial_fit`` call.

    Without scikit-learn's callback API (scikit-learn < 1.9) every method does
    nothing.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor
        The estimator being fitted; the callbacks receive it.
    max_subtasks : int
        Epochs (L-BFGS iterations) the fit may run.
    X, y : the validated training data
        Handed to the callbacks (``ScoringMonitor`` scores on them).
    sample_weight : array-like or None
        As passed to ``fit``, handed to the callbacks as metadata.
    """

    def __init__(self, estimator, *, max_subtasks, X, y, sample_weight):
        self._estimator = estimator
        self._context = init_callback_context(estimator, max_subtasks=max_subtasks)
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self._data = {"X": X, "y": y, "metadata": metadata}

    def begin(self):
        """Start the fit's task."""
        if self._context is not None:
            self._context.call_on_fit_task_begin(
                estimator=self._estimator, **self._data
            )

    def hooks(self, fitted_attributes, task_name):
        """The trainer's ``CallbackHooks`` for this task, or None without callbacks.

        Parameters
        ----------
        fitted_attributes : callable
            See ``CallbackHooks``.
        task_name : str
            Name of the per-epoch subtasks.
        """
        if self._context is None or not has_callbacks(self._estimator):
            return None
        return CallbackHooks(
            self._estimator,
            self._context,
            **self._data,
            fitted_attributes=fitted_attributes,
            task_name=task_name,
        )

    def end(self):
        """End the fit's task, once the fitted attributes are stored."""
        if self._context is not None:
            # An empty dict: the fitted estimator is this one, as it now stands.
            self._context.call_on_fit_task_end(
                estimator=self._estimator, reconstruction_attributes={}, **self._data
            )


class CallbackHooks(TrainingHooks):
    """Forwards the trainer's reports to the callbacks of one fit.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor
        The estimator being fitted; the hooks receive it.
    context : sklearn.callback.CallbackContext
        The root context of this fit (``FitTask``).
    X, y : the training data passed to ``fit``
        Handed to the epoch hooks (``ScoringMonitor`` scores on them).
    metadata : dict or None
        ``{"sample_weight": ...}`` when ``fit`` was given sample weights.
    fitted_attributes : callable
        ``fitted_attributes(theta) -> dict`` of the attributes that turn a copy
        of ``estimator`` into a model predicting with a copy of ``theta``.
    task_name : str
        Name of the per-epoch subtasks ("epoch", or "iteration" for L-BFGS).
    """

    def __init__(
        self, estimator, context, *, X, y, metadata, fitted_attributes, task_name
    ):
        self._estimator = estimator
        self._context = context
        self._data = {"X": X, "y": y, "metadata": metadata}
        self._fitted_attributes = fitted_attributes
        self._task_name = task_name
        self._epoch = None
        self._batch = None

    def _model(self, theta):
        # Built only if a callback asks for ``fitted_estimator``, and from a copy:
        # training goes on updating ``theta`` in place.
        if theta is None:
            return None
        # (fitted_attributes copies theta itself.)
        return lambda: self._fitted_attributes(theta)

    def epoch_begin(self, theta, n_batches):
        self._epoch = self._context.subcontext(
            task_name=self._task_name, max_subtasks=n_batches
        )
        self._epoch.call_on_fit_task_begin(
            estimator=self._estimator,
            reconstruction_attributes=self._model(theta),
            **self._data,
        )

    def epoch_end(self, theta):
        if theta is None:
            return self._epoch.call_on_fit_task_end(estimator=self._estimator)
        return self._epoch.call_on_fit_task_end(
            estimator=self._estimator,
            reconstruction_attributes=self._model(theta),
            **self._data,
        )

    def batch_begin(self):
        self._batch = self._epoch.subcontext(task_name="batch")
        self._batch.call_on_fit_task_begin(estimator=self._estimator)

    def batch_end(self):
        return self._batch.call_on_fit_task_end(estimator=self._estimator)
