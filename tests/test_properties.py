"""Property-based tests: random data and random valid settings, fitted for a few
epochs, either give well-formed outputs or a clear ``ValueError``.

Every example draws a data set (1 to 300 rows, mostly few; 1 to 50 features;
float32 or float64; dense, CSR or CSC; values from 1e-300 to 1e6 in size, with
constant and duplicated columns and rows), targets, optional sample weights with
zeros, and hyper-parameters from every solver, activation, loss and training
option. The fit runs with NumPy's ``RuntimeWarning`` as an error. Then either

* the outputs have the right shapes, dtypes and ranges, agree with each other
  (``predict`` with ``predict_proba``, ``predict_log_proba`` with its log) and
  survive a joblib round trip unchanged, or
* ``fit`` raised a ``ValueError`` (or ``TypeError``) raised by skbp or
  scikit-learn itself, whose message is not a raw NumPy message, and only where
  one is allowed (one class, early stopping on too few samples, ...).

Hypothesis runs derandomized and without an example database, so CI sees the
same examples every run. Set ``SKBP_PROPERTY_MESSAGES=path`` to write the error
messages seen (numbers masked) to ``path``.
"""

import io
import os
import re
import traceback
import warnings
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skbp import BPClassifier, BPRegressor

ACTIVATIONS = [
    "sigmoid",
    "logistic",
    "tanh",
    "relu",
    "softsign",
    "identity",
    "leaky_relu",
    "elu",
    "softplus",
    "gelu",
]
INITS = ["auto", "glorot_uniform", "he_uniform", "uniform"]
SCHEDULES = ["constant", "invscaling", "adaptive"]
CLASSIFIER_LOSSES = ["log_loss", "squared_error"]
REGRESSOR_LOSSES = ["squared_error", "poisson", "huber", "absolute_error"]

#: Reproducible in CI: the same examples every run, nothing stored between runs.
COMMON = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

#: Error messages seen, with numbers masked (see the module docstring).
SEEN_MESSAGES = Counter()

#: A message NumPy, SciPy or Python raise, not one that says what to change.
RAW_MESSAGE = re.compile(
    "|".join(
        [
            "could not be broadcast",
            "out of bounds",
            "zero-size array",
            "cannot reshape",
            "setting an array element",
            "math domain error",
            "encountered in",
            "division by zero",
            "unsupported operand",
            "not supported between instances",
            "truth value of an array",
            "inhomogeneous",
            "not aligned",
            "matmul: Input operand",
            "must not contain infs or NaNs",
            "too many indices",
            "need at least one array",
            "arrays used as indices",
            "empty sequence",
            "object has no attribute",
        ]
    )
)


@pytest.fixture(autouse=True, scope="module")
def _write_seen_messages():
    yield
    path = os.environ.get("SKBP_PROPERTY_MESSAGES")
    if path:
        lines = (f"{n:5d}  {m}" for m, n in sorted(SEEN_MESSAGES.items()))
        Path(path).write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------- strategies


def _n_rows(max_rows=300):
    # Mostly a handful of rows, sometimes a few hundred.
    return st.one_of(st.integers(1, 12), st.integers(1, 40), st.integers(1, max_rows))


@st.composite
def matrices(draw, n_rows, n_features, dtype):
    """A finite matrix: drawn values, or a seeded one of normal values or of
    magnitudes from 1e-300 (1e-30 in float32) to 1e6; then a tiny scale, a
    constant and a duplicated column and duplicated rows, each maybe."""
    shape = (n_rows, n_features)
    width = 32 if dtype == np.float32 else 64
    kind = draw(st.sampled_from(["drawn", "normal", "magnitudes"]))
    if kind == "drawn":
        X = draw(
            hnp.arrays(dtype, shape, elements=st.floats(-1e6, 1e6, width=width))
        ).copy()
    else:
        rng = np.random.RandomState(draw(st.integers(0, 2**32 - 1)))
        if kind == "normal":
            size = draw(st.sampled_from([1.0, 1e-3, 1e3, 1e6]))
            X = rng.standard_normal(shape) * size
        else:
            low = -30 if dtype == np.float32 else -300
            X = rng.choice([-1.0, 1.0], shape) * 10.0 ** rng.uniform(low, 6, shape)
        X = X.astype(dtype)
    tiny = 1e-30 if dtype == np.float32 else 1e-300
    X *= dtype(draw(st.sampled_from([1.0, 1.0, tiny])))
    if draw(st.booleans()):  # a constant column
        X[:, draw(st.integers(0, n_features - 1))] = X[0, 0]
    if n_features > 1 and draw(st.booleans()):  # a duplicated column
        source, target = draw(st.permutations(range(n_features)))[:2]
        X[:, target] = X[:, source]
    if n_rows > 1 and draw(st.booleans()):  # duplicated rows
        n_copies = draw(st.integers(1, n_rows - 1))
        X[-n_copies:] = X[:n_copies]
    return X


@st.composite
def inputs(draw, max_rows=300):
    """``(X, X_dense)``: a matrix in one of the accepted formats and its array."""
    n_rows = draw(_n_rows(max_rows))
    n_features = draw(st.one_of(st.integers(1, 5), st.integers(1, 50)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    X = draw(matrices(n_rows, n_features, dtype))
    layout = draw(st.sampled_from(["dense", "dense", "csr", "csc"]))
    if layout != "dense":
        # Mostly zeros, as sparse input usually is.
        rng = np.random.RandomState(draw(st.integers(0, 1000)))
        X[rng.uniform(size=X.shape) < draw(st.sampled_from([0.0, 0.5, 0.9]))] = 0
        return getattr(sp, f"{layout}_matrix")(X), X
    return X, X


def _seeded(draw):
    """A NumPy generator seeded by Hypothesis, for values drawn in bulk."""
    return np.random.RandomState(draw(st.integers(0, 2**32 - 1)))


@st.composite
def sample_weights(draw, n_rows, kinds=(None, "drawn", "seeded")):
    """None, or non-negative weights with zeros, not all zero."""
    kind = draw(st.sampled_from(kinds))
    if kind is None:
        return None
    if kind == "drawn":
        elements = st.one_of(
            st.sampled_from([0.0, 0.0, 1.0, 0.5, 3.0]), st.floats(1e-3, 100)
        )
        weights = draw(hnp.arrays(np.float64, n_rows, elements=elements)).copy()
    else:
        rng = _seeded(draw)
        zeros = rng.uniform(size=n_rows) < draw(st.sampled_from([0.1, 0.5, 0.9]))
        weights = np.where(zeros, 0.0, rng.uniform(1e-3, 10, n_rows))
    if not weights.sum() > 0:
        weights[draw(st.integers(0, n_rows - 1))] = 1.0
    return weights


LABEL_VALUES = {
    "int": np.array([-7, 0, 1, 2, 3, 5, 8, 13, 21, 34, 1000, 2**40]),
    "str": np.array(list("abcdefghijkl")) + "_label",
    "float": np.arange(-3.0, 9.0),  # integral: 2.5 makes a continuous target
    "bool": np.array([False, True]),
}


@st.composite
def labels(draw, n_rows, kinds=("int", "str", "float", "bool", "multilabel")):
    """``(y, kind)``: 1 to 12 classes of ints, strings, floats or bools, or a
    multilabel indicator matrix of 2 to 5 labels; drawn (often one value
    throughout) or spread evenly."""
    kind = draw(st.sampled_from(kinds))
    if kind == "multilabel":
        n_columns, high = draw(st.integers(2, 5)), 1
    else:
        # One class now and then (the error case), else 2 to 12 classes.
        classes = st.sampled_from([2, 3, 12, 2, 5, 1, 3, 7, 2, 4])
        n_columns, high = None, 1 if kind == "bool" else draw(classes) - 1
    shape = n_rows if n_columns is None else (n_rows, n_columns)
    if draw(st.sampled_from(["drawn", "seeded", "seeded"])) == "drawn":
        codes = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, high)))
    else:
        codes = _seeded(draw).randint(high + 1, size=shape)
    return (codes if kind == "multilabel" else LABEL_VALUES[kind][codes]), kind


@st.composite
def targets(draw, n_rows, loss):
    """Regression targets, 1-D or 2-D, non-negative for the Poisson loss:
    drawn values (from 1e-300 to 1e6 in size), or seeded normal values (counts
    for the Poisson loss) at a scale from 1e-300 to 1e40 (beyond float32)."""
    n_outputs = draw(st.sampled_from([None, 1, 2, 3]))
    shape = n_rows if n_outputs is None else (n_rows, n_outputs)
    if draw(st.booleans()):
        elements = st.one_of(
            st.floats(0.0 if loss == "poisson" else -1e6, 1e6),
            st.sampled_from([0.0, 1.0, 2.0, 1e-300]),
        )
        return draw(hnp.arrays(np.float64, shape, elements=elements))
    rng = _seeded(draw)
    size = draw(st.sampled_from([1e-300, 1e-60, 1e-3, 1.0, 1e3, 1e6, 1e40]))
    if loss == "poisson":
        return rng.poisson(rng.uniform(0, 10, shape)) * size
    return rng.standard_normal(shape) * size + draw(st.sampled_from([0.0, 1e6]))


@st.composite
def hyper_parameters(draw, loss, n_rows):
    """Random valid settings, small enough to fit in milliseconds."""
    hidden = tuple(draw(st.lists(st.integers(1, 5), max_size=2)))
    n_hidden = len(hidden)
    activation = draw(
        st.one_of(
            st.sampled_from(ACTIVATIONS),
            st.tuples(*[st.sampled_from(ACTIVATIONS)] * n_hidden),
        )
    )
    solver = draw(st.sampled_from(["sgd", "adam", "lbfgs"]))
    dropout = 0.0
    if solver != "lbfgs":
        rate = st.sampled_from([0.0, 0.1, 0.5, 0.9])
        dropout = draw(st.one_of(rate, st.tuples(*[rate] * n_hidden)))
    return dict(
        hidden_layer_sizes=hidden,
        activation=activation,
        solver=solver,
        loss=loss,
        dropout=dropout,
        learning_rate=draw(st.sampled_from([1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0])),
        learning_rate_schedule=draw(st.sampled_from(SCHEDULES)),
        momentum=draw(st.sampled_from([0.0, 0.5, 0.9, 1.0])),
        nesterovs_momentum=draw(st.booleans()),
        alpha=draw(st.sampled_from([0.0, 1e-4, 1.0, 100.0])),
        batch_size=draw(
            st.one_of(st.sampled_from(["auto", 1]), st.integers(1, 2 * n_rows + 1))
        ),
        max_iter=draw(st.integers(1, 5)),
        tol=draw(st.sampled_from([0.0, 1e-4, 1.0])),
        n_iter_no_change=draw(st.sampled_from([1, 10, np.inf])),
        early_stopping=draw(st.booleans()),
        validation_fraction=draw(st.sampled_from([0.1, 0.3, 0.5])),
        shuffle=draw(st.booleans()),
        init=draw(st.sampled_from(INITS)),
        random_state=draw(st.integers(0, 1000)),
    )


# ------------------------------------------------------------------ helpers


@contextmanager
def numpy_warnings_as_errors():
    """NumPy's RuntimeWarning raises; ConvergenceWarning and the note that
    batch_size exceeds the sample count are expected with these settings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "batch_size=", UserWarning)
        warnings.simplefilter("error", RuntimeWarning)
        yield


def check_clean_error(exc):
    """A ``ValueError`` / ``TypeError`` raised by skbp or scikit-learn, whose
    message is not NumPy's; record the message."""
    message = str(exc)
    assert message.strip(), f"{type(exc).__name__} without a message"
    assert not RAW_MESSAGE.search(message), f"raw message: {message}"
    innermost = Path(traceback.extract_tb(exc.__traceback__)[-1].filename)
    assert {"skbp", "sklearn"} & set(innermost.parts), (
        f"{type(exc).__name__} from {innermost}: {message}"
    )
    SEEN_MESSAGES[re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "#", message)] += 1


def fit_or_raise(estimator, X, y, sample_weight, *, may_fail, must_mention=()):
    """Fit; True when fitted, False when it raised a clean error where allowed.

    ``may_fail`` allows a clean error: any (True), none (False), or one whose
    message contains a given string; ``must_mention`` (strings) demands one,
    with each string in its message.
    """
    try:
        with numpy_warnings_as_errors():
            estimator.fit(X, y, sample_weight=sample_weight)
    except (ValueError, TypeError) as exc:
        check_clean_error(exc)
        if isinstance(may_fail, str):
            may_fail = may_fail in str(exc)
        assert may_fail or must_mention, f"unexpected error: {exc}"
        for text in must_mention:
            assert text in str(exc), f"{text!r} not in: {exc}"
        assert not hasattr(estimator, "coefs_"), "a failed fit left fitted state"
        event("fit raised a clean error")
        return False
    assert not must_mention, f"fit should have raised, mentioning {must_mention}"
    event("fitted")
    return True


def outputs(estimator, X):
    """Every prediction output of ``estimator`` on ``X``, by method name."""
    names = ["predict", "predict_proba", "predict_log_proba"]
    with numpy_warnings_as_errors():
        return {
            name: getattr(estimator, name)(X)
            for name in names
            if hasattr(estimator, name)
        }


def check_joblib_round_trip(estimator, X, expected):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    for name, values in outputs(loaded, X).items():
        assert_array_equal(values, expected[name], err_msg=name)


def check_classifier_outputs(clf, X, y, dtype, multilabel):
    n_rows = X.shape[0]
    out = outputs(clf, X)
    predicted, proba, log_proba = (
        out["predict"],
        out["predict_proba"],
        out["predict_log_proba"],
    )
    n_columns = y.shape[1] if multilabel else len(np.unique(y))
    assert predicted.shape == ((n_rows, n_columns) if multilabel else (n_rows,))
    assert proba.shape == log_proba.shape == (n_rows, n_columns)
    assert proba.dtype == log_proba.dtype == clf.coefs_[0].dtype == dtype
    assert np.isfinite(proba).all() and np.isfinite(log_proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    assert (log_proba <= 0).all()
    eps = np.finfo(dtype).eps
    if not multilabel:
        assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=10 * n_columns * eps)
        assert predicted.dtype == clf.classes_.dtype
        assert np.isin(predicted, clf.classes_).all()
        # argmax of the probabilities, up to ties made by rounding them.
        chosen = proba[np.arange(n_rows), np.searchsorted(clf.classes_, predicted)]
        assert (chosen >= proba.max(axis=1) - 4 * eps).all()
    else:
        # Each label is on where its probability is above 1/2, up to rounding.
        clear = np.abs(proba - 0.5) > 4 * eps
        assert_array_equal(predicted[clear], (proba[clear] > 0.5).astype(int))
    # log(proba) where proba is a normal number (float32's subnormals have too
    # few digits); to a few ulps, plus the rounding of large logits.
    tiny = max(np.finfo(dtype).tiny, 1e-300)
    normal = proba > tiny
    assert_allclose(
        log_proba[normal],
        np.log(proba[normal]),
        rtol=100 * eps,
        atol=100 * eps,
        err_msg="predict_log_proba is not log(predict_proba)",
    )
    with numpy_warnings_as_errors():
        score = clf.score(X, y)
    assert 0.0 <= score <= 1.0
    return out


def _r2_is_representable(y, predicted):
    """Whether ``1 - SS_res / SS_tot`` is a finite float64 for these values."""
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    predicted = np.asarray(predicted, dtype=np.float64).reshape(y.shape)
    if float(np.abs(predicted).max()) >= 1e150:
        return False
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        residual = ((y - predicted) ** 2).sum(axis=0)
        total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        ratio = residual / np.where(total > 0, total, 1.0)
    return bool(np.isfinite(ratio).all())


def check_regressor_outputs(reg, X, y, dtype, loss):
    out = outputs(reg, X)
    predicted = out["predict"]
    assert predicted.shape == y.shape
    assert predicted.dtype == reg.coefs_[0].dtype == dtype
    assert np.isfinite(predicted).all(), "non-finite predictions"
    if loss == "poisson":
        assert (predicted >= 0).all()
    # R² is undefined for one sample, and its squares overflow beyond 1e154
    # (a Poisson model of unscaled inputs can predict 1e300); so does the
    # ratio of the residual to the total sum of squares when the targets
    # barely vary (y ~ 1e-60 against predictions ~ 1e100).
    if X.shape[0] > 1 and _r2_is_representable(y, predicted):
        with numpy_warnings_as_errors():
            score = reg.score(X, y)
        assert np.isfinite(score) and score <= 1.0
    return out


# -------------------------------------------------------------- properties


@settings(max_examples=800, **COMMON)
@given(data=st.data())
def test_classifier_fits_and_predicts_or_explains(data):
    X, X_dense = data.draw(inputs(), label="X")
    n_rows = X.shape[0]
    y, kind = data.draw(labels(n_rows), label="y")
    sample_weight = data.draw(sample_weights(n_rows), label="sample_weight")
    loss = data.draw(st.sampled_from(CLASSIFIER_LOSSES), label="loss")
    params = data.draw(hyper_parameters(loss, n_rows), label="params")
    params["class_weight"] = data.draw(st.sampled_from([None, "balanced"]))
    clf = BPClassifier(**params)

    multilabel = kind == "multilabel"
    must_mention = ()
    if not multilabel:
        weighted = y if sample_weight is None else y[sample_weight > 0]
        if len(np.unique(weighted)) < 2:
            # One class (with positive weight): the error names it.
            must_mention = (str(weighted[0].item()),)
    stochastic = params["solver"] != "lbfgs"
    may_fail = params["early_stopping"] and stochastic
    if not fit_or_raise(
        clf, X, y, sample_weight, may_fail=may_fail, must_mention=must_mention
    ):
        return
    out = check_classifier_outputs(clf, X, y, X_dense.dtype, multilabel)
    check_joblib_round_trip(clf, X, out)


@settings(max_examples=800, **COMMON)
@given(data=st.data())
def test_regressor_fits_and_predicts_or_explains(data):
    X, X_dense = data.draw(inputs(), label="X")
    n_rows = X.shape[0]
    loss = data.draw(st.sampled_from(REGRESSOR_LOSSES), label="loss")
    y = data.draw(targets(n_rows, loss), label="y")
    sample_weight = data.draw(sample_weights(n_rows), label="sample_weight")
    params = data.draw(hyper_parameters(loss, n_rows), label="params")
    params["normalize_y"] = data.draw(st.booleans(), label="normalize_y")
    params["huber_delta"] = data.draw(st.sampled_from([0.1, 0.5, 10.0]))
    reg = BPRegressor(**params)

    # Targets beyond the range of X's dtype once scaled (float32: beyond 1e38)
    # have no model of that dtype; the error names it.
    may_fail = X_dense.dtype.name
    if params["early_stopping"] and params["solver"] != "lbfgs":
        may_fail = True
    if not fit_or_raise(reg, X, y, sample_weight, may_fail=may_fail):
        return
    out = check_regressor_outputs(reg, X, y, X_dense.dtype, loss)
    check_joblib_round_trip(reg, X, out)


@settings(max_examples=100, **COMMON)
@given(data=st.data())
def test_one_class_raises_naming_it(data):
    X, _ = data.draw(inputs(max_rows=40), label="X")
    n_rows = X.shape[0]
    label = data.draw(
        st.sampled_from([np.int64(3), np.str_("only"), np.float64(2.0), True])
    )
    y = np.full(n_rows, label)
    clf = BPClassifier(**data.draw(hyper_parameters("log_loss", n_rows)))
    sample_weight = data.draw(sample_weights(n_rows))
    fit_or_raise(clf, X, y, sample_weight, may_fail=True, must_mention=(str(label),))


@settings(max_examples=100, **COMMON)
@given(data=st.data())
def test_one_class_with_positive_weight_raises_naming_it(data):
    X, _ = data.draw(inputs(max_rows=40), label="X")
    n_rows = X.shape[0]
    y, _ = data.draw(labels(n_rows, kinds=("int", "str", "float", "bool")))
    sample_weight = data.draw(sample_weights(n_rows, kinds=("drawn", "seeded")))
    kept = y[data.draw(st.integers(0, n_rows - 1))]
    sample_weight[y != kept] = 0.0
    if not sample_weight.sum() > 0:
        sample_weight[y == kept] = 1.0
    clf = BPClassifier(**data.draw(hyper_parameters("log_loss", n_rows)))
    fit_or_raise(
        clf, X, y, sample_weight, may_fail=True, must_mention=(str(kept.item()),)
    )


@settings(max_examples=100, **COMMON)
@given(data=st.data())
def test_all_zero_sample_weights_raise(data):
    X, _ = data.draw(inputs(max_rows=40), label="X")
    n_rows = X.shape[0]
    if data.draw(st.booleans(), label="classifier"):
        y, _ = data.draw(labels(n_rows))
        estimator = BPClassifier(**data.draw(hyper_parameters("log_loss", n_rows)))
    else:
        loss = data.draw(st.sampled_from(REGRESSOR_LOSSES))
        y = data.draw(targets(n_rows, loss))
        estimator = BPRegressor(**data.draw(hyper_parameters(loss, n_rows)))
    fit_or_raise(
        estimator, X, y, np.zeros(n_rows), may_fail=True, must_mention=("zero",)
    )


@settings(max_examples=100, **COMMON)
@given(data=st.data())
def test_poisson_with_a_negative_target_raises(data):
    X, _ = data.draw(inputs(max_rows=40), label="X")
    n_rows = X.shape[0]
    y = data.draw(targets(n_rows, "poisson"))
    y.flat[data.draw(st.integers(0, y.size - 1))] = -data.draw(
        st.sampled_from([1e-300, 1.0, 1e6])
    )
    reg = BPRegressor(**data.draw(hyper_parameters("poisson", n_rows)))
    fit_or_raise(
        reg,
        X,
        y,
        data.draw(sample_weights(n_rows)),
        may_fail=True,
        must_mention=("negative", "poisson"),
    )
