"""Odd but legitimate inputs keep working (issue "Reliability", item 4).

Read-only memory maps, non-contiguous and Fortran-ordered arrays, big-endian
data, CSR and CSC matrices, pandas nullable dtypes, labels as a list of strings,
integer features, a single feature, more features than samples and one-row
predictions: each must train the model that the same values as a plain
C-contiguous, native-endian float64 array train, predict the same, and never
write to its input. Where the
values are float32 the reference is the same data as a plain float32 array (a
float32 model, compared at float32 precision).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression

from skbp import BPClassifier, BPRegressor
from skbp._core import minibatches

# The fits here under-train on purpose.
pytestmark = pytest.mark.usefixtures("no_convergence_warning")

KINDS = ["classifier", "regressor"]

#: Configurations reaching the different ways the trainers read ``X``: full
#: batches (L-BFGS), shuffled minibatches gathered into buffers (Adam), minibatch
#: views of ``X`` in its own order (SGD without shuffling) and 1-D row views
#: (online SGD, the fused step).
CONFIGS = {
    "lbfgs": dict(solver="lbfgs", max_iter=5),
    "adam": dict(solver="adam", batch_size=16, max_iter=3),
    "sgd-noshuffle": dict(solver="sgd", batch_size=16, shuffle=False, max_iter=3),
    "sgd-online": dict(solver="sgd", batch_size=1, momentum=0.0, max_iter=2),
}

N_SAMPLES = 48


def _data():
    X, y = make_classification(
        n_samples=N_SAMPLES,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    X_r, y_r = make_regression(
        n_samples=N_SAMPLES, n_features=5, noise=1.0, random_state=0
    )
    sw = np.random.RandomState(0).uniform(0.5, 2.0, N_SAMPLES)
    return {"classifier": (X, y, sw), "regressor": (X_r, 100.0 + y_r, sw)}


DATA = _data()


def make(kind, config="lbfgs", **params):
    settings = dict(hidden_layer_sizes=(5,), learning_rate=0.01, random_state=0)
    settings.update(CONFIGS[config])
    settings.update(params)
    return (BPClassifier if kind == "classifier" else BPRegressor)(**settings)


def outputs(model, X):
    """What a user reads: probabilities (classifier) or predictions."""
    if isinstance(model, BPClassifier):
        return model.predict_proba(X)
    return model.predict(X)


def assert_close(actual, expected, rtol=1e-10):
    """Equal to rounding: relative, with an absolute floor at the data's scale."""
    scale = float(np.max(np.abs(expected))) if np.size(expected) else 1.0
    assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def read_only(*arrays):
    """The arrays as read-only views: a write into an input then raises."""
    views = []
    for a in arrays:
        if isinstance(a, np.ndarray) and a.flags.writeable:
            a = a.view()
            a.flags.writeable = False
        views.append(a)
    return views


def copies(*arrays):
    return [None if a is None else np.array(a, copy=True) for a in arrays]


def assert_unchanged(arrays, saved):
    for a, before in zip(arrays, saved):
        if a is not None:
            assert_array_equal(np.asarray(a), before, strict=True)


def native(a):
    """The same values, C-contiguous and in native byte order."""
    a = np.ascontiguousarray(a)
    return a.astype(a.dtype.newbyteorder("="))


def check_like_plain(kind, config, X, y, sw, *, dtype=np.float64, rtol=1e-10, **params):
    """``(X, y, sw)`` train the model the same values as plain arrays train."""
    X_plain = np.ascontiguousarray(X, dtype=dtype)
    y_plain = native(y)
    sw_plain = None if sw is None else np.ascontiguousarray(sw, dtype=np.float64)
    saved = copies(X, y, sw)

    reference = make(kind, config, **params)
    reference.fit(X_plain, y_plain, sample_weight=sw_plain)
    model = make(kind, config, **params).fit(X, y, sample_weight=sw)

    assert model.coefs_[0].dtype == dtype
    for a, b in zip(
        model.coefs_ + model.intercepts_, reference.coefs_ + reference.intercepts_
    ):
        assert_close(a, b, rtol)
    expected = outputs(reference, X_plain)
    for X_pred in (X, X_plain):
        got = outputs(model, X_pred)
        assert got.dtype == dtype  # predict_proba / the regressor's predict
        assert got.shape == expected.shape
        assert_close(got, expected, rtol)
    predicted = model.predict(X)
    if kind == "classifier":
        assert predicted.dtype == model.classes_.dtype == reference.classes_.dtype
        assert_array_equal(predicted, reference.predict(X_plain))
    assert_unchanged((X, y, sw), saved)
    return model


# ----------------------------------------------------------------- layouts


def _save(tmp_path, name, a):
    path = tmp_path / f"{name}.npy"
    np.save(path, a)
    return path


def _np_load(tmp_path, X, y, sw):
    """np.load(mmap_mode="r") of .npy files: read-only memory maps."""
    return [
        np.load(_save(tmp_path, n, a), mmap_mode="r") for n, a in zip("Xys", (X, y, sw))
    ]


def _np_memmap(tmp_path, X, y, sw):
    """np.memmap of the .npy files' data (after the header), X Fortran-ordered."""
    maps = []
    for name, a in zip("Xys", (X, y, sw)):
        order = "F" if a.ndim == 2 else "C"
        path = _save(tmp_path, name, np.asarray(a, order=order))
        header = np.lib.format.open_memmap(path, mode="r")
        offset = header.offset
        del header
        maps.append(np.memmap(path, a.dtype, "r", offset, a.shape, order))
    return maps


def _big_endian_memmap(tmp_path, X, y, sw):
    """Memory maps of .npy files written in big-endian byte order."""
    return _np_load(
        tmp_path, *(a.astype(a.dtype.newbyteorder(">")) for a in (X, y, sw))
    )


LAYOUTS = {
    "np.load-mmap": _np_load,
    "np.memmap-F": _np_memmap,
    "big-endian-memmap": _big_endian_memmap,
    "fortran": lambda tmp_path, X, y, sw: [np.asfortranarray(X), y, sw],
    # Every other column (row) of a twice-as-wide (long) array: strided views.
    "column-slice": lambda tmp_path, X, y, sw: [
        np.repeat(X, 2, axis=1)[:, ::2],
        np.repeat(y, 2)[::2],
        np.repeat(sw, 2)[::2],
    ],
    "strided-rows": lambda tmp_path, X, y, sw: [
        np.repeat(X, 3, axis=0)[::3],
        np.repeat(y, 3)[::3],
        np.repeat(sw, 3)[::3],
    ],
    "negative-strides": lambda tmp_path, X, y, sw: [
        X[::-1, ::-1].copy()[::-1, ::-1],
        y[::-1].copy()[::-1],
        sw[::-1].copy()[::-1],
    ],
    "big-endian": lambda tmp_path, X, y, sw: [
        X.astype(">f8"),
        y.astype(">i8" if y.dtype.kind == "i" else ">f8"),
        sw.astype(">f8"),
    ],
    "big-endian-fortran": lambda tmp_path, X, y, sw: [
        np.asfortranarray(X.astype(">f8")),
        y,
        sw.astype(">f4"),
    ],
}


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("kind", KINDS)
def test_layouts_train_like_plain_arrays(kind, layout, config, tmp_path):
    X, y, sw = read_only(*LAYOUTS[layout](tmp_path, *DATA[kind]))
    assert_array_equal(X, DATA[kind][0])  # the same values, laid out oddly
    check_like_plain(kind, config, X, y, sw)


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("kind", KINDS)
def test_layouts_without_sample_weight(kind, layout, config, tmp_path):
    # No weights: the online step's fast loop, the unweighted loss.
    X, y, _ = read_only(*LAYOUTS[layout](tmp_path, *DATA[kind]))
    check_like_plain(kind, config, X, y, None)


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("kind", KINDS)
def test_fortran_arrays_too_large_to_copy_are_gathered_by_columns(
    kind, config, monkeypatch
):
    # Shuffled batches of a Fortran-ordered X come from a C-ordered copy, except
    # above a size limit: then from the transpose, column by column. Forced here.
    monkeypatch.setattr(minibatches, "ROW_MAJOR_COPY_BYTES", 0)
    X, y, sw = DATA[kind]
    check_like_plain(kind, config, np.asfortranarray(X), y, sw)


def test_fortran_gathers_equal_row_gathers():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((50, 7))
    rows = rng.permutation(50)[:13]
    for limit in (0, minibatches.ROW_MAJOR_COPY_BYTES):
        source = minibatches._row_major(np.asfortranarray(X)) if limit else None
        X_F = np.asfortranarray(X) if source is None else source
        assert X_F.flags.c_contiguous == bool(limit)  # copied only below the limit
        buffer = np.empty((16, 7))
        assert_array_equal(minibatches._gather_rows(X_F, rows, buffer), X[rows])


#: float32 layouts: compared with the same data as a plain float32 array.
FLOAT32_LAYOUTS = {
    "np.load-mmap": lambda tmp_path, X: np.load(
        _save(tmp_path, "X32", X), mmap_mode="r"
    ),
    "fortran": lambda tmp_path, X: np.asfortranarray(X),
    "column-slice": lambda tmp_path, X: np.repeat(X, 2, axis=1)[:, ::2],
    "strided-rows": lambda tmp_path, X: np.repeat(X, 3, axis=0)[::3],
}


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("layout", list(FLOAT32_LAYOUTS))
@pytest.mark.parametrize("kind", KINDS)
def test_float32_layouts_train_a_float32_model(kind, layout, config, tmp_path):
    X, y, sw = DATA[kind]
    (X32,) = read_only(FLOAT32_LAYOUTS[layout](tmp_path, X.astype(np.float32)))
    check_like_plain(kind, config, X32, y, sw, dtype=np.float32, rtol=1e-5)


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("kind", KINDS)
def test_big_endian_float32_trains_a_float32_model(kind, config):
    # The documented rule: float32 X keeps the whole model in float32. Byte
    # order does not make float32 data float64 (skbp's docs, user guide,
    # "float32 end to end").
    X, y, sw = DATA[kind]
    (X32,) = read_only(X.astype(">f4"))
    check_like_plain(
        kind,
        config,
        X32,
        y.astype(y.dtype.newbyteorder(">")),
        sw.astype(">f4"),
        dtype=np.float32,
        rtol=1e-5,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_two_dimensional_targets_fortran_ordered_and_memory_mapped(kind, tmp_path):
    X, y, sw = DATA[kind]
    if kind == "classifier":
        Y = np.column_stack([y == 0, y == 1, X[:, 0] > 0]).astype(np.int64)
    else:
        Y = np.column_stack([y, 2.0 * y - X[:, 0]])
    Y_map = np.load(_save(tmp_path, "Y", np.asfortranarray(Y)), mmap_mode="r")
    assert Y_map.flags.f_contiguous and not Y_map.flags.writeable
    for Y_odd in read_only(
        np.asfortranarray(Y), Y_map, Y.astype(Y.dtype.newbyteorder(">"))
    ):
        model = check_like_plain(kind, "adam", X, Y_odd, sw)
        assert model.predict(X).shape == Y.shape


# ------------------------------------------------------------ integer data


@pytest.mark.parametrize("int_dtype", [np.int64, ">i4", np.uint8, np.int16])
@pytest.mark.parametrize("kind", KINDS)
def test_integer_X_trains_like_its_float64_values(kind, int_dtype):
    X, y, sw = DATA[kind]
    X_int = np.clip(np.round(4 * X), 0 if int_dtype == np.uint8 else -100, 100)
    (X_int,) = read_only(X_int.astype(int_dtype))
    model = check_like_plain(kind, "adam", X_int, y, sw)
    assert model.coefs_[0].dtype == np.float64


# ------------------------------------------------------------------ shapes


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("kind", KINDS)
def test_a_single_feature(kind, config, tmp_path):
    X, y, sw = DATA[kind]
    for X_one in read_only(
        X[:, 2:3],  # a column of a wider array: not contiguous
        np.ascontiguousarray(X[:, 2:3]),
        np.load(_save(tmp_path, "X1", X[:, 2:3]), mmap_mode="r"),
    ):
        model = check_like_plain(kind, config, X_one, y, sw)
        assert model.n_features_in_ == 1
        assert model.coefs_[0].shape == (1, 5)


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("kind", KINDS)
def test_more_features_than_samples(kind, config):
    rng = np.random.RandomState(0)
    # (8, 40) as the transpose of a (40, 8) array: Fortran-ordered.
    X = rng.randn(40, 8).T
    y = np.arange(8) % 2 if kind == "classifier" else rng.randn(8)
    (X,) = read_only(X)
    batch_size = {"batch_size": 4} if CONFIGS[config].get("batch_size") else {}
    model = check_like_plain(kind, config, X, y, None, **batch_size)
    assert model.coefs_[0].shape == (40, 5)
    assert np.isfinite(outputs(model, X)).all()


# ------------------------------------------------------------------ sparse


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("kind", KINDS)
def test_sparse_equals_dense(kind, fmt, config):
    """CSR and CSC train the model the dense array trains, to rounding: the
    sparse products add in another order, which 30 epochs or iterations carry
    along."""
    X, y, _ = DATA[kind]
    X = np.where(np.abs(X) > 1, X, 0.0)  # mostly zeros
    X_sparse = sp.csr_matrix(X).asformat(fmt)
    dense = make(kind, config, max_iter=30).fit(X, y)
    sparse = make(kind, config, max_iter=30).fit(X_sparse, y)
    assert X_sparse.format == fmt
    expected = outputs(dense, X)
    assert_allclose(outputs(sparse, X), expected, rtol=1e-6)
    assert_allclose(outputs(sparse, X_sparse), expected, rtol=1e-6)
    assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-6)
    if kind == "classifier":
        assert_array_equal(sparse.predict(X_sparse), dense.predict(X))


@pytest.mark.parametrize("kind", KINDS)
def test_sparse_input_not_modified(kind):
    X, y, _ = DATA[kind]
    X_sparse = sp.csc_matrix(np.where(np.abs(X) > 1, X, 0.0))
    before = X_sparse.copy()
    model = make(kind, "sgd-noshuffle")
    classes = {"classes": np.unique(y)} if kind == "classifier" else {}
    model.partial_fit(X_sparse, y, **classes)
    model.fit(X_sparse, y)
    assert X_sparse.format == "csc"
    assert_array_equal(X_sparse.toarray(), before.toarray())


# ------------------------------------------------------------------- labels


def test_labels_as_a_list_of_strings():
    X, y, sw = DATA["classifier"]
    names = np.array(["setosa", "versicolor", "virginica"])
    labels = [str(s) for s in names[y]]
    saved = list(labels)
    model = make("classifier").fit(X, labels, sample_weight=sw)
    assert labels == saved
    assert_array_equal(model.classes_, names)
    predicted = model.predict(X)
    assert predicted.dtype.kind == "U" and predicted.shape == (N_SAMPLES,)
    # The same network as the integer codes of the labels (sorted alike).
    by_code = make("classifier").fit(X, y, sample_weight=sw)
    assert_array_equal(model.predict_proba(X), by_code.predict_proba(X), strict=True)
    assert_array_equal(predicted, names[by_code.predict(X)])


# -------------------------------------------------------- pandas nullable


@pytest.fixture
def pd():
    return pytest.importorskip("pandas")


def _nullable_frame(pd, X):
    """Float64 and Int64 columns (no missing values) holding X's values."""
    return pd.DataFrame(
        {
            f"f{j}": pd.array(X[:, j], dtype="Float64" if j % 2 else "Int64")
            for j in range(X.shape[1])
        }
    )


@pytest.mark.parametrize("config", ["lbfgs", "adam"])
@pytest.mark.parametrize("kind", KINDS)
def test_pandas_nullable_feature_columns(pd, kind, config):
    X, y, sw = DATA[kind]
    X = X.copy()
    X[:, ::2] = np.round(4 * X[:, ::2])  # integer values in the Int64 columns
    frame = _nullable_frame(pd, X)
    saved = frame.copy()
    model = make(kind, config).fit(frame, y, sample_weight=sw)
    reference = make(kind, config).fit(X, y, sample_weight=sw)
    assert_array_equal(model.feature_names_in_, frame.columns)
    assert model.coefs_[0].dtype == np.float64
    got = outputs(model, frame)
    assert got.dtype == np.float64
    assert_close(got, outputs(reference, X))
    pd.testing.assert_frame_equal(frame, saved)


def _label_kinds(pd, codes):
    names = np.array(["a", "b", "c"])
    return {
        "Int64": pd.Series(codes, dtype="Int64"),
        "string": pd.Series(names[codes], dtype="string"),
        "categorical": pd.Series(pd.Categorical(names[codes])),
        "categorical-unsorted": pd.Series(
            pd.Categorical(names[codes], categories=["c", "a", "b"])
        ),
    }


@pytest.mark.parametrize(
    "label_kind", ["Int64", "string", "categorical", "categorical-unsorted"]
)
@pytest.mark.parametrize("config", ["lbfgs", "sgd-online"])
def test_pandas_labels(pd, label_kind, config):
    X, y, sw = DATA["classifier"]
    labels = _label_kinds(pd, y)[label_kind]
    saved = labels.copy()
    model = make("classifier", config).fit(X, labels, sample_weight=sw)
    by_code = make("classifier", config).fit(X, y, sample_weight=sw)
    # classes_ are sorted, so the network is the one the integer codes train.
    assert_array_equal(model.predict_proba(X), by_code.predict_proba(X), strict=True)
    predicted = model.predict(X)
    assert predicted.dtype == model.classes_.dtype
    if label_kind == "Int64":
        # scikit-learn's validation turns a nullable integer Series into float64
        # (every classifier's classes_ are then 0.0, 1.0, 2.0).
        assert_array_equal(model.classes_, [0, 1, 2])
        assert_array_equal(predicted, by_code.predict(X))
    else:
        assert_array_equal(model.classes_, ["a", "b", "c"])
        assert_array_equal(predicted, np.array(["a", "b", "c"])[by_code.predict(X)])
    assert model.score(X, labels) == by_code.score(X, y)
    pd.testing.assert_series_equal(labels, saved)


@pytest.mark.parametrize("target_dtype", ["Float64", "Int64"])
def test_pandas_nullable_regression_targets(pd, target_dtype):
    X, y, sw = DATA["regressor"]
    y = np.round(y)
    target = pd.Series(y, dtype=target_dtype)
    model = make("regressor", "adam").fit(X, target, sample_weight=sw)
    reference = make("regressor", "adam").fit(X, y, sample_weight=sw)
    got = model.predict(X)
    assert got.dtype == np.float64 and got.shape == (N_SAMPLES,)
    assert_close(got, reference.predict(X))


# ------------------------------------------------------------- one row


def _one_rows(tmp_path, X):
    """Row 3 of X in every odd form, each a (1, n_features) input."""
    wide = np.repeat(X, 2, axis=1)
    return {
        "slice": X[3:4],
        "fancy": X[[3]],
        "column-slice": wide[3:4, ::2],
        "fortran": np.asfortranarray(X[3:4]),
        "big-endian": X[3:4].astype(">f8"),
        "memmap": np.load(_save(tmp_path, "row", X[3:4]), mmap_mode="r"),
        "list": X[3:4].tolist(),
        "integer": np.round(X[3:4]).astype(np.int64),
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("kind", KINDS)
def test_one_row_predict(kind, dtype, tmp_path):
    X, y, sw = DATA[kind]
    model = make(kind, "adam").fit(X.astype(dtype), y, sample_weight=sw)
    for name, row in _one_rows(tmp_path, X).items():
        values = np.asarray(row, dtype=np.float64).astype(dtype)
        batch = np.vstack([values, X[:5].astype(dtype)])
        got = outputs(model, row)
        expected = outputs(model, batch)[:1]  # the row among others
        assert got.dtype == dtype, name
        assert got.shape == expected.shape, name
        assert_close(got, expected, 1e-12 if dtype == np.float64 else 1e-6)
        predicted = model.predict(row)
        assert predicted.shape == (1,)
        if kind == "classifier":
            assert_array_equal(predicted, model.predict(batch)[:1])
        else:
            # A regressor predicts its outputs: one row takes BLAS's
            # matrix-vector kernel and a batch its matrix product, whose float32
            # sums can round differently in the last bit (seen on Haswell).
            assert_close(predicted, model.predict(batch)[:1], 1e-6)


# ------------------------------------------- one-row DataFrames at predict time


@pytest.mark.parametrize("kind", KINDS)
def test_dataframes_at_predict_time_take_the_fast_path_only_when_it_is_safe(
    kind, monkeypatch
):
    # A DataFrame with the fitted names and NumPy number columns skips
    # scikit-learn's per-column checks; anything else gets them, warnings and
    # errors included.
    pd = pytest.importorskip("pandas")
    X, y, _ = DATA[kind]
    names = [f"f{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    model = make(kind, "adam").fit(frame, y)
    with pytest.warns(UserWarning, match="feature names"):
        expected = outputs(model, X[:3])
    with monkeypatch.context() as patch:
        patch.setattr("skbp._validation.validate_data", None)  # not called
        assert_close(outputs(model, frame.iloc[:3]), expected)
        assert_close(outputs(model, frame.iloc[:1]), expected[:1])
    mixed = frame.iloc[:3].astype({names[0]: np.float32, names[1]: np.int64})
    with pytest.warns(UserWarning, match="feature names"):
        mixed_expected = outputs(model, mixed.to_numpy(np.float64))
    assert_close(outputs(model, mixed), mixed_expected)
    with pytest.raises(ValueError, match="feature names"):
        outputs(model, frame.iloc[:3, ::-1])
    with pytest.raises(ValueError, match="NaN"):
        outputs(model, frame.iloc[:3].assign(**{names[0]: np.nan}))
    nullable = frame.iloc[:3].astype({names[0]: "Float64"})
    assert_close(outputs(model, nullable), expected)
