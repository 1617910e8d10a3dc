"""Out-of-core training: ``fit_stream`` runs epochs of ``partial_fit`` over chunks.

An integration module on top of the estimators. It trains through their public
API (``partial_fit``, ``score``, ``classes_``, ``loss_``, ``get_params``) and
scikit-learn's, so it works the same for ``BPClassifier``, ``BPRegressor`` and
other incremental scikit-learn estimators. From skbp it takes two things: the
core's ``StoppingMonitor``, so that ``early_stopping`` stops after the same
epochs as the estimators' own ``early_stopping`` (and scikit-learn's MLP), and
the estimator classes, to know which estimators it may record its history on
(skbp's; another library's estimator gets no attributes from it, see
``return_history``). dask is imported only when a dask array is given.

The data is read through a *chunk source*: ``_ArrayChunks`` cuts arrays
(numpy, memmap, dask, pandas, scipy sparse) into contiguous row ranges read in a
shuffled order; ``_PairChunks`` reads ``(X_chunk, y_chunk)`` pairs from a
callable or an iterable. ``fit_stream`` validates its arguments, picks the
``classes`` of the first call, and runs the epochs (``_run_epochs``), each one a
pass of ``partial_fit`` over the source (``_train_epoch``) followed by the
optional validation score and early-stopping decision (``StoppingMonitor``).
"""

import copy
import time
from collections.abc import Iterator
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring
from sklearn.utils import check_random_state

from skbp._classifier import BPClassifier
from skbp._core.training import StoppingMonitor
from skbp._regressor import BPRegressor

__all__ = ["fit_stream"]


def fit_stream(
    estimator,
    X,
    y=None,
    *,
    epochs,
    chunk_size,
    classes=None,
    shuffle=True,
    random_state=None,
    X_val=None,
    y_val=None,
    early_stopping=False,
    n_iter_no_change=10,
    tol=1e-4,
    scoring=None,
    verbose=0,
    return_history=False,
):
    """Train an estimator for several epochs on data read a chunk at a time.

    Each epoch passes over the data once, calling ``estimator.partial_fit`` on
    one chunk of at most ``chunk_size`` rows at a time, so only a chunk is ever
    in memory: the optimiser state (Adam's moments, the momentum buffer) carries
    over from chunk to chunk and from epoch to epoch, as in one long ``fit``.
    After each epoch the model can be scored on a validation set and training
    stopped early, keeping the best epoch's model.

    Parameters
    ----------
    estimator : estimator instance
        An estimator with ``partial_fit``: :class:`~skbp.BPClassifier` or
        :class:`~skbp.BPRegressor` with ``solver='adam'`` or ``'sgd'`` (or
        another incremental scikit-learn estimator). It is trained in place;
        a fitted estimator continues from its current weights and optimiser
        state, like ``partial_fit`` (pass ``sklearn.base.clone(estimator)`` to
        start afresh). Its ``early_stopping`` must be False: use this
        function's ``early_stopping`` instead.
    X : array-like of shape (n_samples, n_features), callable or iterable
        The training data, in one of these forms:

        - an array with ``y`` given: a numpy array or memmap (e.g.
          ``np.load("X.npy", mmap_mode="r")``), a dask array (each chunk
          computed when it is needed, ``X`` and ``y`` together), a pandas
          DataFrame or a scipy sparse matrix;
        - with ``y=None``, ``(X_chunk, y_chunk)`` pairs, from a callable that
          returns a fresh iterator over them for each epoch, from a re-iterable
          object (a list, an object whose ``__iter__`` starts over), or, for
          ``epochs=1`` only, from a one-shot iterator such as a generator.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        Targets of an array ``X``, of the same length (a memmap or dask array
        too). None when ``X`` gives pairs.
    epochs : int
        Number of passes over the data (at most; fewer with early stopping).
    chunk_size : int or None
        Rows per ``partial_fit`` call, at most. An array's rows are cut into
        ``ceil(n_samples / chunk_size)`` contiguous ranges of nearly equal size
        (so there is no tiny last chunk), each read in one piece, so a memmap
        is read sequentially within a chunk; a dask array computes fewest
        blocks when its row chunks line up with these ranges. Pairs longer than
        ``chunk_size`` are cut the same way, shorter ones used as they come.
        None (pairs only): use the pairs as they come.
    classes : array-like of shape (n_classes,), default=None
        Every label of a classifier with 1-D targets, passed to its first
        ``partial_fit`` call (a chunk may miss classes). When None, it is
        inferred by one extra pass over ``y`` of an array input, one chunk at
        a time (cheap: ``y`` is a column, not a table; for a dask ``y`` it
        computes ``y``'s graph once more), and required for pairs, which
        cannot be read without reading ``X``. Not needed for multilabel
        indicator targets, a regressor, or an estimator fitted before.
    shuffle : bool, default=True
        Whether to read the chunks of an array in a new random order each
        epoch. The rows within a chunk are shuffled by the estimator itself
        when its own ``shuffle`` is True; rows are never moved between chunks,
        so save the data in random order when it is sorted (by class or by
        time). Pairs are read in the order their source gives.
    random_state : int, RandomState instance or None, default=None
        Seeds the chunk order. The estimator's own ``random_state`` seeds its
        initial weights and its shuffling within chunks.
    X_val : array-like of shape (n_val_samples, n_features), default=None
        Validation data, scored after every epoch. It is passed to the scorer
        whole, so it must fit in memory.
    y_val : array-like of shape (n_val_samples,) or (n_val_samples, n_outputs), \
default=None
        Validation targets; given together with ``X_val``.
    early_stopping : bool, default=False
        Stop once more than ``n_iter_no_change`` consecutive epochs have not
        improved the validation score by at least ``tol``, and give the
        estimator back as it was after its best-scoring epoch (weights,
        optimiser state and history). This is the rule of the estimators' own
        ``early_stopping`` and of scikit-learn's MLP: the same
        ``n_iter_no_change`` and ``tol`` stop after the same epochs. Needs
        ``X_val`` and ``y_val``.
    n_iter_no_change : int, default=10
        Consecutive epochs without improvement that ``early_stopping``
        tolerates: training stops after the next one, the
        ``n_iter_no_change + 1``-th in a row.
    tol : float, default=1e-4
        Smallest increase of the validation score over the best so far that
        counts as an improvement. The best epoch is the one with the highest
        score, whether or not it improved by ``tol``.
    scoring : str or callable, default=None
        Validation score: None for ``estimator.score`` (accuracy, R²), or a
        scikit-learn scorer name or callable ``scorer(estimator, X, y)``.
        Greater is better.
    verbose : int, default=0
        When positive, print one line per epoch.
    return_history : bool, default=False
        Whether to return the history of the epochs too, as
        ``(estimator, history)``. It is how to get the history of an estimator
        that is not skbp's, which is given no attributes.

    Returns
    -------
    estimator : estimator instance
        The estimator passed in, trained. On skbp's estimators
        (:class:`~skbp.BPClassifier`, :class:`~skbp.BPRegressor` and their
        subclasses) the record of this call is set as attributes:

        - ``stream_history_`` : dict, the ``history`` described below.
        - ``stream_best_epoch_`` : int or None, the epoch with the best
          validation score (None without a validation set, or when every
          score was NaN). With ``early_stopping`` the estimator holds that
          epoch's model.
        - ``stream_best_score_`` : float or None, that epoch's score.

        Another library's estimator (``SGDClassifier``, ...) is given no
        attributes: by scikit-learn's convention its fitted attributes are set
        by its own methods only, and a name this function added could clash
        with one of them. Pass ``return_history=True`` to get the history; the
        best epoch is the first with the highest score,
        ``history["epoch"][np.nanargmax(history["validation_score"])]`` (when
        not every score is NaN).
    history : dict of lists
        Returned only when ``return_history`` is True. One entry per epoch run,
        in the manner of ``cv_results_``: ``"epoch"`` (1, 2, ...),
        ``"n_samples"`` and ``"n_chunks"`` read, ``"loss"`` (the mean of the
        chunks' training losses ``loss_``, weighted by their rows; NaN for an
        estimator without ``loss_``), ``"fit_time"`` (seconds, reading
        included) and, with a validation set, ``"validation_score"``.
        ``pandas.DataFrame(history)`` makes it a table. On skbp's estimators it
        is the same dict as ``stream_history_``.

    Raises
    ------
    TypeError
        If the estimator has no ``partial_fit``, or ``X`` and ``y`` do not
        match one of the forms above.
    ValueError
        For invalid numbers (``epochs < 1``, ``chunk_size < 1``, ...), ``X``
        and ``y`` of different lengths, a solver without ``partial_fit``
        (``solver='lbfgs'``), an estimator with ``early_stopping=True``,
        missing ``classes`` for pairs, or a one-shot iterator with
        ``epochs > 1``.

    See Also
    --------
    skbp.BPClassifier.partial_fit : The single step this function repeats.

    Notes
    -----
    Memory holds one chunk of ``X`` (plus what ``partial_fit`` allocates for
    it: minibatch copies and, for a dtype other than float32 or float64, a
    converted copy), the validation set, and two copies of the estimator's
    state (the last completed epoch's, and the best epoch's with
    ``early_stopping``). Pages of a memmap that were read stay in the process's
    resident set as file-backed page cache, which the operating system reclaims
    when memory is needed.

    Training is chunk-by-chunk minibatch gradient descent. Compared with
    ``fit`` on all the data, two things differ: the shuffling (chunks in
    random order, rows shuffled within each chunk), and the minibatches (each
    chunk ends with a partial one, so an epoch takes up to one step per chunk
    more; negligible for chunks much larger than the estimator's
    ``batch_size``). When the rows are stored in random order, the accuracy
    after as many epochs is the same up to the run-to-run noise of the seed.
    Sample weights are not supported.

    An exception during an epoch (including ``KeyboardInterrupt``) gives the
    estimator back as it was after the last completed epoch and is raised
    again; skbp's estimators also hold the history of the epochs completed so
    far in ``stream_history_``.

    Without a validation set nothing stops training early: all ``epochs`` run.
    An estimator's ``fit`` without ``early_stopping`` also stops on a plateau
    of its training loss; ``fit_stream`` has no such rule, since ``epochs``
    and the validation set are how its caller says how long to train, and not
    every incremental estimator reports a loss. Where an estimator's ``fit``
    lowers its learning rate at a plateau instead of stopping (skbp's and
    scikit-learn's ``'adaptive'`` schedule), ``fit_stream`` still stops: the
    rate belongs to the estimator's optimiser, which it does not touch.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from skbp import BPClassifier, fit_stream
    >>> X, y = make_classification(n_samples=3000, n_features=10, random_state=0)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> np.save(os.path.join(tmp.name, "X.npy"), X[:2500].astype(np.float32))
    >>> np.save(os.path.join(tmp.name, "y.npy"), y[:2500])
    >>> X_disk = np.load(os.path.join(tmp.name, "X.npy"), mmap_mode="r")
    >>> y_disk = np.load(os.path.join(tmp.name, "y.npy"), mmap_mode="r")
    >>> clf = BPClassifier((16,), learning_rate=0.01, random_state=0)
    >>> clf = fit_stream(
    ...     clf, X_disk, y_disk, epochs=20, chunk_size=500, random_state=0,
    ...     X_val=X[2500:], y_val=y[2500:], early_stopping=True, n_iter_no_change=3,
    ... )
    >>> clf.stream_history_["n_samples"][:3], clf.stream_history_["n_chunks"][:3]
    ([2500, 2500, 2500], [5, 5, 5])
    >>> bool(clf.stream_best_score_ > 0.85)
    True

    An estimator that is not skbp's is given no attributes; the history comes
    back with ``return_history=True``:

    >>> from sklearn.linear_model import SGDClassifier
    >>> sgd, history = fit_stream(
    ...     SGDClassifier(random_state=0), X_disk, y_disk, epochs=3, chunk_size=500,
    ...     random_state=0, X_val=X[2500:], y_val=y[2500:], return_history=True,
    ... )
    >>> hasattr(sgd, "stream_history_")
    False
    >>> history["epoch"], len(history["validation_score"])
    ([1, 2, 3], 3)
    >>> del X_disk, y_disk
    >>> tmp.cleanup()
    """
    _check_estimator(estimator)
    epochs = _check_count(epochs, "epochs")
    source = _chunk_source(X, y, _check_chunk_size(chunk_size), epochs)
    validation = _check_validation(X_val, y_val, early_stopping, scoring)
    options = _RunOptions(
        epochs=epochs,
        shuffle=bool(shuffle),
        classes=_first_call_classes(estimator, source, classes),
        validation=validation,
        scorer=None if validation is None else check_scoring(estimator, scoring),
        early_stopping=bool(early_stopping),
        n_iter_no_change=_check_count(n_iter_no_change, "n_iter_no_change"),
        tol=_check_tol(tol),
        verbose=bool(verbose),
    )
    history = _run_epochs(estimator, source, options, check_random_state(random_state))
    return (estimator, history) if return_history else estimator


# ------------------------------------------------------------------- checks


def _check_count(value, name):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    return int(value)


def _check_chunk_size(chunk_size):
    """``chunk_size`` as an int >= 1, or None."""
    return None if chunk_size is None else _check_count(chunk_size, "chunk_size")


def _check_tol(tol):
    if not isinstance(tol, Real) or isinstance(tol, bool) or not tol >= 0:
        raise ValueError(f"tol must be a number >= 0, got {tol!r}.")
    return float(tol)


def _check_estimator(estimator):
    """The estimator can be trained chunk by chunk."""
    name = type(estimator).__name__
    if getattr(estimator, "solver", None) == "lbfgs":
        raise ValueError(
            f"{name}(solver='lbfgs') has no partial_fit: L-BFGS needs all the data "
            "at every step. Use solver='adam' or 'sgd' to train on chunks."
        )
    if not hasattr(estimator, "partial_fit"):
        raise TypeError(
            f"fit_stream trains estimators with a partial_fit method (such as "
            f"BPClassifier and BPRegressor); {name} has none."
        )
    if getattr(estimator, "early_stopping", False):
        raise ValueError(
            f"{name}(early_stopping=True) cannot hold out a validation fraction of "
            "a stream, and its partial_fit refuses it. Set early_stopping=False on "
            "the estimator and pass fit_stream(..., X_val=..., y_val=..., "
            "early_stopping=True) instead."
        )


def _check_validation(X_val, y_val, early_stopping, scoring):
    """``(X_val, y_val)``, or None without a validation set."""
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together.")
    if X_val is None:
        for name, value in (("early_stopping", early_stopping), ("scoring", scoring)):
            if value not in (None, False):
                raise ValueError(
                    f"{name}={value!r} needs a validation set: pass X_val and "
                    "y_val (fit_stream cannot hold part of a stream out)."
                )
        return None
    if _n_rows(X_val) != _n_rows(y_val):
        raise ValueError(
            f"X_val has {_n_rows(X_val)} rows but y_val has {_n_rows(y_val)}."
        )
    return X_val, y_val


def _first_call_classes(estimator, source, classes):
    """The ``classes`` for the first ``partial_fit`` call, or None."""
    if not is_classifier(estimator):
        if classes is not None:
            raise ValueError(
                f"classes is for classifiers; {type(estimator).__name__} is not one."
            )
        return None
    if classes is not None:
        return np.asarray(classes)
    if hasattr(estimator, "classes_") or isinstance(source, _PairChunks):
        # A fitted classifier knows its classes; pairs are checked at their
        # first chunk (``_check_classes_given``).
        return None
    if not _is_label_vector(source.y):
        return None  # multilabel indicator columns are the classes
    # One pass over y alone, a chunk at a time: a union of per-chunk uniques.
    return np.unique(np.concatenate([np.unique(y) for y in source.labels()]))


def _is_label_vector(y):
    """1-D labels (or a single column of them), not a multilabel indicator."""
    shape = y.shape if hasattr(y, "shape") else np.shape(y)
    return len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)


def _check_classes_given(estimator, y_chunk, classes):
    """Before the first call on pairs: a classifier needs ``classes`` up front."""
    if (
        classes is None
        and is_classifier(estimator)
        and not hasattr(estimator, "classes_")
        and _is_label_vector(y_chunk)
    ):
        raise ValueError(
            "classes is required to train an unfitted classifier on "
            "(X_chunk, y_chunk) pairs: a chunk may miss some labels, and finding "
            "them all would mean reading the whole stream first. Pass "
            "classes=[...] with every label."
        )


# ------------------------------------------------------------ chunk sources


def _chunk_bounds(n_rows, chunk_size):
    """``(start, stop)`` of ``ceil(n_rows / chunk_size)`` contiguous ranges.

    The sizes differ by at most one row, so none exceeds ``chunk_size`` and
    none is a tiny remainder (a chunk smaller than the estimator's
    ``batch_size`` would make it warn).
    """
    n_chunks = -(-n_rows // chunk_size)
    edges = [i * n_rows // n_chunks for i in range(n_chunks + 1)]
    return list(zip(edges[:-1], edges[1:]))


def _n_rows(data):
    return data.shape[0] if hasattr(data, "shape") else len(data)


def _is_dask(data):
    return hasattr(data, "__dask_graph__")


def _take_rows(data, start, stop):
    """Rows ``start:stop`` by position (pandas through ``iloc``), unread.

    ``data[start:stop, ...]``: the array API standard indexes every axis (an
    array-api-strict matrix refuses ``data[start:stop]``).
    """
    if hasattr(data, "iloc"):
        return data.iloc[start:stop]
    if getattr(data, "ndim", 1) > 1:
        return data[start:stop, ...]
    return data[start:stop]


def _read_rows(X, y, start, stop):
    """Rows ``start:stop`` of ``X`` and ``y``, as arrays ``partial_fit`` accepts.

    A numpy array or memmap gives a view (a memmap's pages are read when
    ``partial_fit`` touches them); pandas objects are sliced by position; dask
    arrays are computed, ``X`` and ``y`` in one call so that a graph they share
    runs once.
    """
    X_chunk, y_chunk = _take_rows(X, start, stop), _take_rows(y, start, stop)
    if _is_dask(X_chunk) or _is_dask(y_chunk):
        import dask

        X_chunk, y_chunk = dask.compute(X_chunk, y_chunk)
    return X_chunk, y_chunk


class _ArrayChunks:
    """Contiguous row ranges of array-like ``X`` and ``y``, in shuffled order."""

    def __init__(self, X, y, chunk_size):
        if chunk_size is None:
            raise ValueError(
                "chunk_size is required for array input: the number of rows to "
                "read per partial_fit call."
            )
        if not hasattr(X, "shape"):
            X = np.asarray(X)  # a list of rows: already in memory
        if not hasattr(y, "shape"):
            y = np.asarray(y)
        if len(X.shape) != 2:
            raise ValueError(
                f"X must be 2-D (n_samples, n_features), got shape {X.shape}."
            )
        if not isinstance(_n_rows(X), Integral):
            raise ValueError(
                f"X has an unknown number of rows ({_n_rows(X)}): for a dask array "
                "with unknown chunk sizes, call X.compute_chunk_sizes() first."
            )
        if _n_rows(X) != _n_rows(y):
            raise ValueError(
                f"X and y have different lengths: {_n_rows(X)} and {_n_rows(y)} rows."
            )
        if _n_rows(X) == 0:
            raise ValueError("X has no rows to train on.")
        self.X, self.y = X, y
        self.bounds = _chunk_bounds(_n_rows(X), chunk_size)

    def epoch(self, rng, shuffle):
        """The chunks of one epoch: ``(X_chunk, y_chunk)`` pairs."""
        order = (
            rng.permutation(len(self.bounds)) if shuffle else range(len(self.bounds))
        )
        for index in order:
            yield _read_rows(self.X, self.y, *self.bounds[index])

    def labels(self):
        """``y`` chunk by chunk, as flat numpy arrays (to infer the classes)."""
        for start, stop in self.bounds:
            y_chunk = _take_rows(self.y, start, stop)
            if _is_dask(y_chunk):
                y_chunk = y_chunk.compute()
            yield np.ravel(np.asarray(y_chunk))


class _PairChunks:
    """``(X_chunk, y_chunk)`` pairs from a callable or an iterable, re-cut."""

    def __init__(self, source, chunk_size, epochs):
        self.chunk_size = chunk_size
        if callable(source):
            self.make_iterator = source
            return
        try:
            iterator = iter(source)
        except TypeError:
            raise TypeError(
                "With y=None, X must give (X_chunk, y_chunk) pairs: a callable "
                "returning an iterator over them, or an iterable; got "
                f"{type(source).__name__}."
            ) from None
        if iterator is source and epochs != 1:
            raise ValueError(
                f"X is a one-shot iterator (such as a generator), which can be read "
                f"once, but epochs={epochs}. Pass a callable that returns a fresh "
                "iterator for each epoch (e.g. lambda: read_chunks(path)) or a "
                "re-iterable object."
            )
        self.make_iterator = lambda: source

    def epoch(self, rng, shuffle):
        """The chunks of one epoch, in the source's order (``rng`` unused)."""
        for index, pair in enumerate(self.make_iterator()):
            X, y = _unpack_pair(pair, index)
            if _n_rows(X) == 0:
                continue  # an empty pair has nothing to train on
            bounds = (
                [(0, _n_rows(X))]
                if self.chunk_size is None
                else _chunk_bounds(_n_rows(X), self.chunk_size)
            )
            for start, stop in bounds:
                yield _read_rows(X, y, start, stop)


def _unpack_pair(pair, index):
    """Check one item of a pair source."""
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise TypeError(
            f"Item {index} of X is a {type(pair).__name__}, not an "
            "(X_chunk, y_chunk) pair."
        )
    X, y = pair
    if _n_rows(X) != _n_rows(y):
        raise ValueError(
            f"Pair {index}: X_chunk has {_n_rows(X)} rows but y_chunk has {_n_rows(y)}."
        )
    return X, y


def _chunk_source(X, y, chunk_size, epochs):
    """The chunk source for ``X`` and ``y`` (see ``fit_stream``'s forms)."""
    if y is None:
        if hasattr(X, "shape"):
            raise TypeError(
                "y is required when X is an array. To stream (X_chunk, y_chunk) "
                "pairs instead, pass a callable or an iterable of them as X and "
                "leave y=None."
            )
        return _PairChunks(X, chunk_size, epochs)
    if callable(X) or isinstance(X, Iterator):
        raise TypeError(
            "y must be None when X is a callable or an iterator: those give "
            "(X_chunk, y_chunk) pairs."
        )
    return _ArrayChunks(X, y, chunk_size)


# -------------------------------------------------------------- the epochs


@dataclass(frozen=True)
class _RunOptions:
    """``fit_stream``'s checked settings, made once per call."""

    epochs: int
    shuffle: bool
    classes: object  # array of labels, or None
    validation: tuple | None  # (X_val, y_val)
    scorer: object  # scorer(estimator, X, y) -> float
    early_stopping: bool
    n_iter_no_change: int
    tol: float
    verbose: bool


def _train_epoch(estimator, chunks, classes):
    """One ``partial_fit`` call per chunk; ``(n_samples, n_chunks, mean loss)``.

    ``classes`` goes to the first call only (it fixes the label encoding).
    """
    n_samples = n_chunks = 0
    loss_sum = 0.0
    for X_chunk, y_chunk in chunks:
        if n_chunks == 0:
            _check_classes_given(estimator, y_chunk, classes)
        kwargs = {} if classes is None else {"classes": classes}
        estimator.partial_fit(X_chunk, y_chunk, **kwargs)
        classes = None
        n_rows = _n_rows(X_chunk)
        n_samples += n_rows
        n_chunks += 1
        loss_sum += n_rows * float(getattr(estimator, "loss_", np.nan))
    if n_chunks == 0:
        raise ValueError(
            "The data source gave no chunks in this epoch. A callable must "
            "return a fresh iterator on every call."
        )
    return n_samples, n_chunks, loss_sum / n_samples


def _run_epochs(estimator, source, options, rng):
    """Train epoch after epoch; return the history (see ``fit_stream``).

    Keeps a copy of the state after the last completed epoch (to fall back to
    on an exception) and, with early stopping, after the best one. The history
    is recorded on skbp's estimators, also when an exception ends the run.
    """
    history = {"epoch": [], "n_samples": [], "n_chunks": [], "loss": [], "fit_time": []}
    if options.validation is not None:
        history["validation_score"] = []
    # The estimators' own monitor, so that the same n_iter_no_change and tol
    # stop after the same epochs here as in their fit.
    monitor = StoppingMonitor(options.tol, options.n_iter_no_change)
    best = {"epoch": None, "score": None, "state": None}
    last_completed = _snapshot(estimator)
    classes = options.classes
    try:
        for epoch in range(1, options.epochs + 1):
            started = time.perf_counter()
            chunks = source.epoch(rng, options.shuffle)
            n_samples, n_chunks, loss = _train_epoch(estimator, chunks, classes)
            classes = None
            for key, value in zip(
                ("epoch", "n_samples", "n_chunks", "loss", "fit_time"),
                (epoch, n_samples, n_chunks, loss, time.perf_counter() - started),
            ):
                history[key].append(value)
            plateau = False
            if options.validation is not None:
                score = float(options.scorer(estimator, *options.validation))
                history["validation_score"].append(score)
                # Given a score, the monitor judges it (higher is better) and
                # only keeps note of the loss, so a NaN loss (an estimator
                # without loss_) changes nothing.
                plateau, is_best = monitor.update(loss, score)
                if is_best:
                    best.update(epoch=epoch, score=score)
            last_completed = _snapshot(estimator)
            if options.early_stopping and best["epoch"] == epoch:
                best["state"] = last_completed
            if options.verbose:
                _print_epoch(history, options.epochs)
            if options.early_stopping and plateau:
                break
    except BaseException:
        _restore(estimator, last_completed)
        _record(estimator, history, best)
        raise
    # No best state when every score was NaN: the last model stays.
    if best["state"] is not None and best["state"] is not last_completed:
        _restore(estimator, best["state"])
    _record(estimator, history, best)
    return history


def _record(estimator, history, best):
    """Set the ``stream_*`` attributes on skbp's estimators, and only on them.

    A fitted attribute of another library's estimator is that estimator's own
    ``fit`` to set; ``fit_stream`` gives its record back instead.
    """
    if not isinstance(estimator, BPClassifier | BPRegressor):
        return
    estimator.stream_history_ = history
    estimator.stream_best_epoch_ = best["epoch"]
    estimator.stream_best_score_ = best["score"]


def _print_epoch(history, epochs):
    line = (
        f"fit_stream epoch {history['epoch'][-1]}/{epochs}: "
        f"{history['n_samples'][-1]} rows in {history['n_chunks'][-1]} chunks, "
        f"loss {history['loss'][-1]:.6f}"
    )
    if "validation_score" in history:
        line += f", validation score {history['validation_score'][-1]:.6f}"
    print(f"{line}, {history['fit_time'][-1]:.2f} s")


# ---------------------------------------------------------- state snapshots


def _is_shared(name, params):
    """Attributes a snapshot shares rather than copies.

    The constructor parameters (``partial_fit`` does not change them), and
    scikit-learn's callback bookkeeping (``_skl_callbacks``,
    ``_callback_fit_ctx``, ...): the callbacks are configuration, and a live
    progress bar need not survive a deep copy.
    """
    return name in params or name.startswith("_skl_") or "callback" in name


def _snapshot(estimator):
    """A copy of the estimator's state: fitted attributes and optimiser state."""
    params = estimator.get_params(deep=False)
    state = vars(estimator)
    # deepcopy returns a memo's entry as it is: the shared values are not copied.
    memo = {
        id(value): value for name, value in state.items() if _is_shared(name, params)
    }
    return copy.deepcopy(state, memo)


def _restore(estimator, state):
    """Put a snapshot back: the estimator is exactly as it was then."""
    vars(estimator).clear()
    vars(estimator).update(state)
