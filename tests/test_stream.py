"""fit_stream: epochs of partial_fit over chunks of arrays, memmaps and pairs."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, SGDClassifier
from sklearn.neural_network import MLPClassifier

from skbp import BPClassifier, BPRegressor, fit_stream
from skbp._core.training import StoppingMonitor

# ----------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def stream_data():
    """3 classes, 600 rows in random order, float32; 200 more held out."""
    X, y = make_classification(
        n_samples=800,
        n_features=8,
        n_informative=5,
        n_classes=3,
        random_state=0,
    )
    X = X.astype(np.float32)
    return X[:600], y[:600], X[600:], y[600:]


def _clf(**params):
    return BPClassifier(
        **{
            "hidden_layer_sizes": (8,),
            "learning_rate": 0.01,
            "batch_size": 50,
            "random_state": 0,
            **params,
        }
    )


def _save(tmp_path, **arrays):
    """Save arrays as .npy files and open them as read-only memmaps."""
    opened = []
    for name, array in arrays.items():
        np.save(tmp_path / f"{name}.npy", array)
        opened.append(np.load(tmp_path / f"{name}.npy", mmap_mode="r"))
    return opened


def _partial_fit_loop(estimator, chunks, epochs, classes=None):
    """The reference: partial_fit on each chunk, ``classes`` on the first call."""
    for _ in range(epochs):
        for X_chunk, y_chunk in chunks:
            kwargs = {} if classes is None else {"classes": classes}
            estimator.partial_fit(X_chunk, y_chunk, **kwargs)
            classes = None
    return estimator


def _assert_same_model(a, b):
    for left, right in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_array_equal(left, right)
    assert a.t_ == b.t_
    assert a.loss_curve_ == b.loss_curve_


class _ChunkRecorder(RegressorMixin, BaseEstimator):
    """An incremental estimator that records the rows of each chunk it gets.

    Column 0 of ``X`` holds the row number, so ``chunks_`` lists the rows read.
    """

    def partial_fit(self, X, y):
        self.chunks_ = [*getattr(self, "chunks_", []), np.asarray(X)[:, 0].copy()]
        return self

    def predict(self, X):
        return np.zeros(len(X))


# ----------------------------------------------------------- arrays, memmaps


def test_equals_a_partial_fit_loop_over_the_same_chunks(stream_data):
    X, y, _, _ = stream_data
    model = fit_stream(_clf(), X, y, epochs=3, chunk_size=200, shuffle=False)
    chunks = [(X[i : i + 200], y[i : i + 200]) for i in (0, 200, 400)]
    reference = _partial_fit_loop(_clf(), chunks, 3, classes=[0, 1, 2])
    _assert_same_model(model, reference)
    assert model.t_ == 1800
    assert len(model.loss_curve_) == 9  # one entry per partial_fit call
    history = model.stream_history_
    assert history["epoch"] == [1, 2, 3]
    assert history["n_samples"] == [600] * 3
    assert history["n_chunks"] == [3] * 3
    # The epoch loss is the row-weighted mean of its chunks' losses.
    assert_allclose(history["loss"][2], np.mean(model.loss_curve_[6:]))
    assert all(t > 0 for t in history["fit_time"])
    assert "validation_score" not in history
    assert model.stream_best_epoch_ is None
    assert model.stream_best_score_ is None


def test_chunks_are_contiguous_ranges_in_a_seeded_shuffled_order():
    n_rows, chunk_size = 103, 20
    X = np.arange(n_rows, dtype=float)[:, None]
    y = np.zeros(n_rows)

    def chunks_read(**kwargs):
        model = fit_stream(_ChunkRecorder(), X, y, epochs=4, chunk_size=20, **kwargs)
        return model.chunks_

    chunks = chunks_read(random_state=0)
    # ceil(103 / 20) = 6 chunks of nearly equal size: no tiny remainder.
    assert sorted({len(rows) for rows in chunks}) == [17, 18]
    starts_per_epoch = []
    for epoch in range(4):
        epoch_chunks = chunks[6 * epoch : 6 * (epoch + 1)]
        for rows in epoch_chunks:
            assert len(rows) <= chunk_size
            assert_array_equal(rows, np.arange(rows[0], rows[0] + len(rows)))
        assert_array_equal(np.sort(np.concatenate(epoch_chunks)), np.arange(n_rows))
        starts_per_epoch.append([rows[0] for rows in epoch_chunks])
    # A new order each epoch, the same orders for the same seed.
    assert len({tuple(starts) for starts in starts_per_epoch}) > 1
    again = chunks_read(random_state=0)
    assert all(np.array_equal(a, b) for a, b in zip(chunks, again))
    in_order = chunks_read(shuffle=False)
    assert_array_equal(np.concatenate(in_order[:6]), np.arange(n_rows))


def test_memmap_gives_the_in_memory_result(stream_data, tmp_path):
    X, y, _, _ = stream_data
    X_disk, y_disk = _save(tmp_path, X=X, y=y)
    from_disk = fit_stream(
        _clf(), X_disk, y_disk, epochs=2, chunk_size=150, random_state=0
    )
    in_memory = fit_stream(_clf(), X, y, epochs=2, chunk_size=150, random_state=0)
    _assert_same_model(from_disk, in_memory)
    assert from_disk.coefs_[0].dtype == np.float32


def test_memmap_accuracy_matches_an_in_memory_fit(tmp_path):
    # fit_stream differs from fit in the shuffling (chunks in random order, rows
    # within chunks) and in the minibatches (each 500-row chunk ends with a
    # partial one of 100 rows: 36 steps per epoch to fit's 30), so held-out
    # accuracy after the same number of epochs agrees up to the seed's noise.
    # Measured on this problem over seeds 0-9 (10 epochs): fit 0.877 +- 0.007
    # (std over seeds), fit_stream 0.882 +- 0.006, paired difference
    # +0.004 +- 0.003. The binomial standard error of one accuracy on 2000 test
    # points is 0.007; the bound 0.03 is three standard errors of the
    # difference of two such accuracies (3 * sqrt(2) * 0.007).
    X, y = make_classification(
        n_samples=8000, n_features=20, n_informative=10, n_classes=3, random_state=0
    )
    X = X.astype(np.float32)
    X_disk, y_disk = _save(tmp_path, X=X[:6000], y=y[:6000])
    params = dict(hidden_layer_sizes=(32,), learning_rate=0.003, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 10 epochs on purpose
        in_memory = BPClassifier(**params, max_iter=10).fit(X[:6000], y[:6000])
    streamed = fit_stream(
        BPClassifier(**params), X_disk, y_disk, epochs=10, chunk_size=500,
        random_state=0,
    )  # fmt: skip
    accuracy_memory = in_memory.score(X[6000:], y[6000:])
    accuracy_stream = streamed.score(X[6000:], y[6000:])
    assert accuracy_memory > 0.8
    assert abs(accuracy_stream - accuracy_memory) <= 0.03


def test_peak_memory_is_bounded_by_the_chunk_not_the_file(tmp_path):
    # A 16 MB float32 file read in 1 MB chunks: the memmap's pages are not
    # Python allocations, so tracemalloc (which counts numpy's buffers) sees only
    # what training allocates per chunk. Measured: about 0.3 chunk.
    n_rows, n_features = 40_000, 100
    rng = np.random.RandomState(0)
    X = rng.randn(n_rows, n_features).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    X_disk, y_disk = _save(tmp_path, X=X, y=y)
    file_bytes = X.nbytes + y.nbytes
    del X, y
    chunk_bytes = 1024**2
    chunk_rows = chunk_bytes // (4 * n_features)
    clf = BPClassifier((16,), random_state=0)
    tracemalloc.start()
    try:
        fit_stream(clf, X_disk, y_disk, epochs=1, chunk_size=chunk_rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert clf.t_ == n_rows
    assert peak < 3 * chunk_bytes
    assert peak < file_bytes / 5


def test_sparse_and_dataframe_sources(stream_data):
    pd = pytest.importorskip("pandas")
    X, y, _, _ = stream_data
    dense = fit_stream(_clf(), X, y, epochs=2, chunk_size=200, random_state=0)
    sparse = fit_stream(
        _clf(), sp.csr_matrix(X), y, epochs=2, chunk_size=200, random_state=0
    )
    for a, b in zip(dense.coefs_, sparse.coefs_):
        assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    columns = [f"f{i}" for i in range(X.shape[1])]
    frame = fit_stream(
        _clf(), pd.DataFrame(X, columns=columns), pd.Series(y), epochs=2,
        chunk_size=200, random_state=0,
    )  # fmt: skip
    _assert_same_model(frame, dense)
    assert list(frame.feature_names_in_) == columns


def test_dask_array_source(stream_data):
    da = pytest.importorskip("dask.array")
    X, y, _, _ = stream_data
    # Row blocks of 150 (not aligned with the 200-row chunks) and classes
    # inferred from the dask labels.
    X_dask, y_dask = da.from_array(X, chunks=(150, 8)), da.from_array(y, chunks=150)
    model = fit_stream(_clf(), X_dask, y_dask, epochs=2, chunk_size=200, random_state=0)
    reference = fit_stream(_clf(), X, y, epochs=2, chunk_size=200, random_state=0)
    _assert_same_model(model, reference)
    assert_array_equal(model.classes_, [0, 1, 2])


def test_regressor(tmp_path):
    X, y = make_regression(n_samples=600, n_features=5, noise=5.0, random_state=0)
    X_disk, y_disk = _save(tmp_path, X=X[:500], y=y[:500])
    reg = BPRegressor((16,), learning_rate=0.01, random_state=0)
    reg = fit_stream(
        reg, X_disk, y_disk, epochs=30, chunk_size=100, random_state=0,
        X_val=X[500:], y_val=y[500:],
    )  # fmt: skip
    assert reg.t_ == 30 * 500
    assert reg.stream_history_["validation_score"][-1] > 0.9  # R²
    assert reg.stream_best_epoch_ == 1 + int(
        np.argmax(reg.stream_history_["validation_score"])
    )


def test_fitted_estimator_continues(stream_data):
    X, y, _, _ = stream_data
    twice = fit_stream(_clf(), X, y, epochs=1, chunk_size=200, shuffle=False)
    twice = fit_stream(twice, X, y, epochs=1, chunk_size=200, shuffle=False)
    once = fit_stream(_clf(), X, y, epochs=2, chunk_size=200, shuffle=False)
    _assert_same_model(twice, once)
    assert twice.stream_history_["epoch"] == [1]  # the record of the last call
    # clone starts afresh.
    fresh = fit_stream(clone(twice), X, y, epochs=1, chunk_size=200, shuffle=False)
    assert fresh.t_ == 600


def test_other_incremental_estimators(stream_data):
    X, y, _, _ = stream_data
    model, history = fit_stream(
        SGDClassifier(random_state=0), X, y, epochs=2, chunk_size=200,
        shuffle=False, return_history=True,
    )  # fmt: skip
    assert_array_equal(model.classes_, [0, 1, 2])
    assert np.isnan(history["loss"]).all()  # no loss_ attribute
    # The same model as a partial_fit loop over the same chunks.
    reference = _partial_fit_loop(
        SGDClassifier(random_state=0), _pairs(X, y, 200), 2, classes=[0, 1, 2]
    )
    assert_array_equal(model.coef_, reference.coef_)


def test_writes_no_attributes_on_other_libraries_estimators(stream_data):
    # A foreign estimator's fitted attributes are its own methods' to set: after
    # fit_stream it has exactly the attributes partial_fit gave it, also when
    # early stopping puts an earlier epoch's state back.
    X, y, X_val, y_val = stream_data
    model, history = fit_stream(
        SGDClassifier(random_state=0), X, y, epochs=10, chunk_size=200,
        random_state=0, X_val=X_val, y_val=y_val, early_stopping=True,
        n_iter_no_change=1, scoring=_scripted_scorer([0.5, 0.7, 0.6, 0.6, 0.9]),
        return_history=True,
    )  # fmt: skip
    reference = SGDClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    assert set(vars(model)) == set(vars(reference))
    assert history["epoch"] == [1, 2, 3, 4]
    # The documented way to the best epoch, which the model is from.
    best = history["epoch"][np.nanargmax(history["validation_score"])]
    assert best == 2
    epoch_2 = fit_stream(
        SGDClassifier(random_state=0), X, y, epochs=2, chunk_size=200, random_state=0
    )
    assert_array_equal(model.coef_, epoch_2.coef_)


def test_return_history_of_skbp_estimators(stream_data):
    X, y, X_val, y_val = stream_data
    model, history = fit_stream(
        _clf(), X, y, epochs=2, chunk_size=200, X_val=X_val, y_val=y_val,
        return_history=True,
    )  # fmt: skip
    assert history is model.stream_history_
    assert history["epoch"] == [1, 2]
    assert model.stream_best_epoch_ in (1, 2)


def test_float32_preserved_and_verbose(stream_data, capsys):
    X, y, X_val, y_val = stream_data
    model = fit_stream(
        _clf(), X, y, epochs=2, chunk_size=300, X_val=X_val, y_val=y_val, verbose=1
    )
    assert model.predict_proba(X_val).dtype == np.float32
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("fit_stream epoch 2/2: 600 rows in 2 chunks, loss ")
    assert "validation score" in lines[1]


# --------------------------------------------------------------------- pairs


def _pairs(X, y, size):
    return [(X[i : i + size], y[i : i + size]) for i in range(0, len(X), size)]


def test_pair_sources_equal_the_array_source(stream_data):
    X, y, _, _ = stream_data
    reference = fit_stream(_clf(), X, y, epochs=2, chunk_size=200, shuffle=False)
    pairs = _pairs(X, y, 200)
    sources = {
        "list": pairs,
        "callable": lambda: iter(pairs),
        # A pair longer than chunk_size is cut into chunks of at most chunk_size.
        "one long pair": [(X, y)],
        "with an empty pair": [pairs[0], (X[:0], y[:0]), *pairs[1:]],
    }
    for name, source in sources.items():
        model = fit_stream(_clf(), source, epochs=2, chunk_size=200, classes=[0, 1, 2])
        _assert_same_model(model, reference)
    # chunk_size=None uses the pairs as they come.
    model = fit_stream(_clf(), pairs, epochs=2, chunk_size=None, classes=[0, 1, 2])
    _assert_same_model(model, reference)


def test_one_shot_generator(stream_data):
    X, y, _, _ = stream_data
    generator = (pair for pair in _pairs(X, y, 200))
    model = fit_stream(_clf(), generator, epochs=1, chunk_size=200, classes=[0, 1, 2])
    assert model.t_ == 600
    generator = (pair for pair in _pairs(X, y, 200))
    with pytest.raises(ValueError, match="one-shot iterator.*epochs=2"):
        fit_stream(_clf(), generator, epochs=2, chunk_size=200, classes=[0, 1, 2])
    # A callable must give a fresh iterator each epoch, not the same one again.
    iterator = iter(_pairs(X, y, 200))
    with pytest.raises(ValueError, match="no chunks in this epoch"):
        fit_stream(
            _clf(), lambda: iterator, epochs=2, chunk_size=200, classes=[0, 1, 2]
        )


# ------------------------------------------------------------------- classes


def test_classes_inferred_from_array_labels(stream_data):
    X, y, _, _ = stream_data
    # Sorted by class and read in order: each chunk misses classes.
    order = np.argsort(y, kind="stable")
    X_sorted, y_sorted = X[order], np.array(["a", "b", "c"])[y[order]]
    inferred = fit_stream(
        _clf(), X_sorted, y_sorted, epochs=1, chunk_size=100, shuffle=False
    )
    given = fit_stream(
        _clf(), X_sorted, y_sorted, epochs=1, chunk_size=100, shuffle=False,
        classes=["c", "b", "a"],
    )  # fmt: skip
    assert_array_equal(inferred.classes_, ["a", "b", "c"])
    _assert_same_model(inferred, given)


def test_partial_fit_contract_of_dask_ml_incremental(stream_data):
    # dask_ml.wrappers.Incremental calls partial_fit(X_block, y_block,
    # classes=...) on every block, and a block may miss classes.
    X, y, _, _ = stream_data
    order = np.argsort(y, kind="stable")
    blocks = _pairs(X[order], y[order], 100)
    assert min(len(np.unique(y_block)) for _, y_block in blocks) == 1
    clf = _clf()
    for X_block, y_block in blocks:
        clf.partial_fit(X_block, y_block, classes=[0, 1, 2])
    assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X[:5]).shape == (5, 3)
    # The same as fit_stream, which passes classes on the first call only.
    streamed = fit_stream(_clf(), blocks, epochs=1, chunk_size=100, classes=[0, 1, 2])
    _assert_same_model(clf, streamed)


def test_multilabel_needs_no_classes(stream_data):
    X, _, _, _ = stream_data
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    model = fit_stream(_clf(), X, Y, epochs=1, chunk_size=200)
    assert model.predict(X[:3]).shape == (3, 2)
    model = fit_stream(_clf(), _pairs(X, Y, 200), epochs=1, chunk_size=200)
    assert model.t_ == 600


def test_classes_required_for_pairs(stream_data):
    X, y, _, _ = stream_data
    with pytest.raises(ValueError, match="classes is required"):
        fit_stream(_clf(), _pairs(X, y, 200), epochs=1, chunk_size=200)
    # A fitted classifier knows its classes.
    fitted = _clf().partial_fit(X[:60], y[:60], classes=[0, 1, 2])
    fit_stream(fitted, _pairs(X, y, 200), epochs=1, chunk_size=200)
    assert fitted.t_ == 660


# ------------------------------------------------------------ early stopping


def _scripted_scorer(scores):
    """A scorer that returns the given validation scores in turn."""
    scores = iter(scores)
    return lambda estimator, X, y: next(scores)


def test_early_stopping_keeps_the_best_epoch(stream_data):
    X, y, X_val, y_val = stream_data
    # Epoch 2 is best; epochs 3, 4 and 5 do not improve: more than
    # n_iter_no_change=2, so stop after epoch 5.
    model = fit_stream(
        _clf(), X, y, epochs=10, chunk_size=200, random_state=0, X_val=X_val,
        y_val=y_val, early_stopping=True, n_iter_no_change=2, tol=0.0,
        scoring=_scripted_scorer([0.5, 0.9, 0.7, 0.6, 0.8, 1.0]),
    )  # fmt: skip
    assert model.stream_history_["epoch"] == [1, 2, 3, 4, 5]
    assert model.stream_history_["validation_score"] == [0.5, 0.9, 0.7, 0.6, 0.8]
    assert model.stream_best_epoch_ == 2
    assert model.stream_best_score_ == 0.9
    # The estimator is exactly the model after epoch 2 (same chunk order: the
    # same seed), optimiser state included: one more step agrees too.
    reference = fit_stream(_clf(), X, y, epochs=2, chunk_size=200, random_state=0)
    _assert_same_model(model, reference)
    model.partial_fit(X[:100], y[:100])
    reference.partial_fit(X[:100], y[:100])
    _assert_same_model(model, reference)


def test_tol_and_the_default_score(stream_data):
    X, y, X_val, y_val = stream_data
    # tol=1: the first epoch improves on no score at all (-inf), and no later
    # one can improve the accuracy by 1, so stop after 1 + (n_iter_no_change + 1)
    # epochs.
    model = fit_stream(
        _clf(), X, y, epochs=10, chunk_size=200, X_val=X_val, y_val=y_val,
        early_stopping=True, n_iter_no_change=3, tol=1.0,
    )  # fmt: skip
    scores = model.stream_history_["validation_score"]
    assert len(scores) == 5
    assert model.stream_best_score_ == max(scores)
    assert model.score(X_val, y_val) == model.stream_best_score_
    # Without early stopping the scores are recorded and the last model kept.
    model = fit_stream(
        _clf(), X, y, epochs=3, chunk_size=200, X_val=X_val, y_val=y_val,
        scoring="neg_log_loss",
    )  # fmt: skip
    assert model.t_ == 1800
    assert all(score < 0 for score in model.stream_history_["validation_score"])


def test_nan_scores_keep_the_last_model(stream_data):
    X, y, X_val, y_val = stream_data
    model = fit_stream(
        _clf(), X, y, epochs=10, chunk_size=200, X_val=X_val, y_val=y_val,
        early_stopping=True, n_iter_no_change=2, scoring=_scripted_scorer([np.nan] * 3),
    )  # fmt: skip
    assert model.stream_history_["epoch"] == [1, 2, 3]  # NaN never improves
    assert model.stream_best_epoch_ is None
    assert model.t_ == 1800


# One stopping rule. Each case: validation scores, n_iter_no_change, tol, the
# epochs run and the best epoch. A plateau is more than n_iter_no_change epochs
# in a row that do not beat the best score so far by at least tol; the best
# epoch is the first with the highest score. A rule that stopped when the count
# *reached* n_iter_no_change would stop one epoch early in every case.
STOPPING_CASES = {
    # Epoch 2 is best; 3, 4, 5 are k + 1 = 3 epochs without improvement.
    "drop after the best": ([0.5, 0.9, 0.7, 0.6, 0.8, 0.95], 2, 0.0, 5, 2),
    # Epoch 3 improves and resets the count: 4 and 5 make the plateau.
    "an improvement resets": ([0.5, 0.4, 0.6, 0.3, 0.2, 0.9], 1, 0.0, 5, 3),
    # Rises smaller than tol are no improvement, yet the best model is the
    # highest score: 0.55 (+0.05) counts 1, 0.7 (+0.15) resets, 0.72, 0.75 and
    # 0.76 count 1, 2, 3 > 2, and epoch 6 (0.76) is the best.
    "rises below tol": ([0.5, 0.55, 0.7, 0.72, 0.75, 0.76, 0.99], 2, 0.1, 6, 6),
    # A tie counts as an improvement with tol=0 (>= best + tol).
    "a tie improves": ([0.8, 0.8, 0.7, 0.7, 0.9], 1, 0.0, 4, 1),
}


def _epochs_of_the_core_rule(scores, n_iter_no_change, tol):
    """Epochs the estimators' StoppingMonitor runs before its plateau."""
    monitor = StoppingMonitor(tol, n_iter_no_change)
    for epoch, score in enumerate(scores, start=1):
        plateau, _ = monitor.update(1.0, score)
        if plateau:
            return epoch
    raise AssertionError("no plateau in the scripted scores")


@pytest.mark.parametrize(
    "scores, n_iter_no_change, tol, n_epochs, best_epoch",
    list(STOPPING_CASES.values()),
    ids=list(STOPPING_CASES),
)
def test_one_stopping_rule(
    stream_data, scores, n_iter_no_change, tol, n_epochs, best_epoch
):
    X, y, X_val, y_val = stream_data
    settings = dict(early_stopping=True, n_iter_no_change=n_iter_no_change, tol=tol)
    # The core's monitor, which the estimators' fit uses.
    assert _epochs_of_the_core_rule(scores, n_iter_no_change, tol) == n_epochs
    # An estimator's fit with early_stopping, scored by the same script.
    clf = _clf(max_iter=50, scoring=_scripted_scorer(scores), **settings).fit(X, y)
    assert clf.n_iter_ == n_epochs
    assert clf.validation_scores_ == scores[:n_epochs]
    # fit_stream.
    model = fit_stream(
        _clf(), X, y, epochs=50, chunk_size=200, X_val=X_val, y_val=y_val,
        scoring=_scripted_scorer(scores), **settings,
    )  # fmt: skip
    assert model.stream_history_["epoch"] == list(range(1, n_epochs + 1))
    assert model.stream_best_epoch_ == best_epoch
    assert model.stream_best_score_ == scores[best_epoch - 1]


@pytest.mark.parametrize("n_iter_no_change", [1, 3])
def test_stops_after_the_epochs_of_scikit_learns_mlp(stream_data, n_iter_no_change):
    # With a tol no score can rise by, the first epoch improves (on -inf) and
    # every later one does not: MLPClassifier, BPClassifier and fit_stream all
    # stop after 1 + (n_iter_no_change + 1) epochs.
    X, y, X_val, y_val = stream_data
    settings = dict(early_stopping=True, n_iter_no_change=n_iter_no_change, tol=2.0)
    expected = n_iter_no_change + 2
    mlp = MLPClassifier(
        (8,), learning_rate_init=0.01, batch_size=50, max_iter=50, random_state=0,
        **settings,
    ).fit(X, y)  # fmt: skip
    assert mlp.n_iter_ == expected
    assert _clf(max_iter=50, **settings).fit(X, y).n_iter_ == expected
    model = fit_stream(
        _clf(), X, y, epochs=50, chunk_size=200, X_val=X_val, y_val=y_val,
        **settings,
    )  # fmt: skip
    assert len(model.stream_history_["epoch"]) == expected


# ---------------------------------------------------------------- exceptions


class _Interrupted(Exception):
    pass


@pytest.mark.parametrize("exception", [_Interrupted, KeyboardInterrupt])
def test_exception_keeps_the_last_completed_epoch(stream_data, exception):
    X, y, _, _ = stream_data
    pairs = _pairs(X, y, 200)
    calls = []

    def source():
        calls.append(None)
        for index, pair in enumerate(pairs):
            if len(calls) == 2 and index == 2:
                raise exception("stop")
            yield pair

    model = _clf()
    with pytest.raises(exception):
        fit_stream(model, source, epochs=3, chunk_size=200, classes=[0, 1, 2])
    reference = fit_stream(_clf(), pairs, epochs=1, chunk_size=200, classes=[0, 1, 2])
    _assert_same_model(model, reference)
    assert model.stream_history_["epoch"] == [1]
    # An unfitted estimator that fails in its first epoch stays unfitted.
    model = _clf()
    with pytest.raises(TypeError, match="not an .X_chunk, y_chunk. pair"):
        fit_stream(
            model, lambda: iter([pairs[0], "not a pair"]), epochs=1, chunk_size=200,
            classes=[0, 1, 2],
        )  # fmt: skip
    assert not hasattr(model, "coefs_")


def test_bad_pair(stream_data):
    X, y, _, _ = stream_data
    with pytest.raises(TypeError, match="Item 1 of X is a str"):
        fit_stream(
            _clf(), [(X, y), "oops"], epochs=1, chunk_size=200, classes=[0, 1, 2]
        )
    with pytest.raises(ValueError, match="Pair 0: X_chunk has 600 rows but y_chunk"):
        fit_stream(_clf(), [(X, y[:5])], epochs=1, chunk_size=200, classes=[0, 1, 2])


# ------------------------------------------------------------------ checking


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"chunk_size": 0}, ValueError, "chunk_size must be an integer >= 1"),
        ({"chunk_size": 2.5}, ValueError, "chunk_size must be an integer >= 1"),
        ({"chunk_size": None}, ValueError, "chunk_size is required for array"),
        ({"epochs": 0}, ValueError, "epochs must be an integer >= 1"),
        ({"epochs": True}, ValueError, "epochs must be an integer >= 1"),
        ({"n_iter_no_change": 0}, ValueError, "n_iter_no_change must be"),
        ({"tol": -1.0}, ValueError, "tol must be a number >= 0"),
        ({"y": "short"}, ValueError, "different lengths: 600 and 5 rows"),
        ({"X": "1-D"}, ValueError, "X must be 2-D"),
        ({"y": None}, TypeError, "y is required when X is an array"),
        ({"early_stopping": True}, ValueError, "early_stopping=True needs a valid"),
        ({"scoring": "accuracy"}, ValueError, "scoring='accuracy' needs a valid"),
        ({"X_val": "only"}, ValueError, "X_val and y_val must be given together"),
        ({"y_val": "short"}, ValueError, "X_val has 200 rows but y_val has 5"),
        ({"classes": [0, 1]}, ValueError, r"labels \[2\] that are not in"),
    ],
)
def test_invalid_arguments(stream_data, kwargs, error, match):
    X, y, X_val, y_val = stream_data
    arguments = {"X": X, "y": y, "epochs": 1, "chunk_size": 200}
    arguments.update(kwargs)
    if kwargs.get("y") == "short":
        arguments["y"] = y[:5]
    if kwargs.get("X") == "1-D":
        arguments["X"] = X[:, 0]
    if kwargs.get("X_val") == "only":
        arguments["X_val"] = X_val
    if kwargs.get("y_val") == "short":
        arguments.update(X_val=X_val, y_val=y_val[:5])
    with pytest.raises(error, match=match):
        fit_stream(_clf(), **arguments)


@pytest.mark.parametrize(
    "estimator, error, match",
    [
        (BPClassifier(solver="lbfgs"), ValueError, r"solver='lbfgs'\) has no partial"),
        (LinearRegression(), TypeError, "LinearRegression has none"),
        (BPClassifier(early_stopping=True), ValueError, "early_stopping=True"),
        (BPRegressor(), ValueError, "classes is for classifiers"),
    ],
)
def test_invalid_estimators(stream_data, estimator, error, match):
    X, y, _, _ = stream_data
    with pytest.raises(error, match=match):
        fit_stream(estimator, X, y, epochs=1, chunk_size=200, classes=[0, 1, 2])


def test_y_with_a_pair_source(stream_data):
    X, y, _, _ = stream_data
    with pytest.raises(TypeError, match="y must be None when X is a callable"):
        fit_stream(_clf(), lambda: iter([]), y, epochs=1, chunk_size=200)
    with pytest.raises(TypeError, match="X must give .X_chunk, y_chunk. pairs"):
        fit_stream(_clf(), 3, epochs=1, chunk_size=200)
