"""skbp.to_onnx: onnxruntime's outputs against skbp's own predictions.

Every case converts a small fitted model, runs the graph with onnxruntime and
compares with ``predict`` / ``predict_proba``: equal labels, probabilities and
regression outputs within 1e-5 (float32). Skipped without the ``skbp[onnx]``
extra (skl2onnx, onnxruntime).
"""

import doctest
import re
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs, make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")

from skbp import BPClassifier, BPRegressor, to_onnx  # noqa: E402
from skbp._core.activations import ACTIVATIONS  # noqa: E402
from skbp._tools.onnx import (  # noqa: E402
    DEFAULT_TARGET_OPSET,
    ONNX_ACTIVATIONS,
    _label_table,
)

pytestmark = pytest.mark.usefixtures("no_convergence_warning")

ATOL = 1e-5
KINDS = ["binary", "multiclass", "multilabel"]
STRING_LABELS = np.array(["cat", "dog", "emu"])


def _data(kind, dtype):
    """A tiny dataset: ``(X, y)`` with 3-4 features."""
    if kind == "binary":
        X, y = make_classification(
            n_samples=40, n_features=4, n_informative=3, n_redundant=0, random_state=0
        )
    elif kind == "multiclass":
        X, y = make_blobs(n_samples=45, n_features=3, centers=3, random_state=0)
    else:
        rng = np.random.RandomState(0)
        X = rng.randn(40, 4)
        y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] > 0.5])
        y = y.astype(int)
    return X.astype(dtype), y


def _fit(estimator, X, y):
    return estimator.fit(X, y)


def _session(onx):
    return onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def _run(onx, X):
    return _session(onx).run(None, {"X": X})


def _check_classifier(clf, X, X_onnx=None, **kwargs):
    """Convert ``clf`` and compare labels and probabilities; return the max error."""
    X_onnx = X if X_onnx is None else X_onnx
    onx = to_onnx(clf, X_onnx[:1], **kwargs)
    assert [output.name for output in onx.graph.output] == ["label", "probabilities"]
    label, proba = _run(onx, X_onnx)
    assert_array_equal(label, clf.predict(X))
    expected = clf.predict_proba(X)
    assert proba.dtype == X_onnx.dtype
    assert proba.shape == expected.shape
    assert_allclose(proba, expected, rtol=0, atol=ATOL)
    return float(np.abs(proba - expected).max())


# ------------------------------------------------------------- classifiers


def test_every_activation_has_an_onnx_writer():
    assert set(ONNX_ACTIVATIONS) == set(ACTIVATIONS)


@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_classifier_matches_skbp(activation, kind, loss, dtype):
    X, y = _data(kind, dtype)
    clf = BPClassifier(
        (5, 4),
        activation=activation,
        loss=loss,
        solver="lbfgs",
        max_iter=30,
        random_state=0,
    )
    _check_classifier(_fit(clf, X, y), X)


def test_per_layer_activations(dtype):
    # One hidden layer per activation, each with its own ONNX writer.
    X, y = _data("multiclass", dtype)
    names = tuple(sorted(ACTIVATIONS))
    clf = BPClassifier(
        (4,) * len(names),
        activation=names,
        solver="lbfgs",
        max_iter=30,
        random_state=0,
    )
    _check_classifier(_fit(clf, X, y), X)


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_string_labels(kind, dtype):
    X, y = _data(kind, dtype)
    clf = _fit(BPClassifier((5,), solver="lbfgs", max_iter=30), X, STRING_LABELS[y])
    _check_classifier(clf, X)


@pytest.mark.parametrize(
    "to_labels",
    [lambda y: y + 10, lambda y: y.astype(bool), lambda y: y.astype(float)],
    ids=["int", "bool", "integral-float"],
)
def test_numeric_labels_become_int64(to_labels):
    X, y = _data("binary", np.float32)
    clf = _fit(BPClassifier((5,), solver="lbfgs", max_iter=30), X, to_labels(y))
    onx = to_onnx(clf, X[:1])
    label, _ = _run(onx, X)
    assert label.dtype == np.int64
    assert_array_equal(label, clf.predict(X).astype(np.int64))


@pytest.mark.parametrize(
    "classes, expected",
    [
        (np.array([3, 7]), np.array([3, 7])),
        (np.array([0.0, 2.0]), np.array([0, 2])),
        (np.array([1, 2], dtype=object), np.array([1, 2])),
        (np.array(["a", "b"], dtype=object), np.array(["a", "b"])),
    ],
)
def test_label_table(classes, expected):
    table = _label_table(classes)
    assert table.dtype.kind == expected.dtype.kind and table.dtype.kind in "iU"
    assert_array_equal(table, expected)


def test_label_table_refuses_other_labels():
    # scikit-learn's classifiers refuse these already; the converter says why.
    with pytest.raises(ValueError, match="integer or string labels"):
        _label_table(np.array([0.5, 1.5]))


def test_multilabel_labels_are_an_indicator_matrix():
    X, y = _data("multilabel", np.float32)
    clf = _fit(BPClassifier((5,), solver="lbfgs", max_iter=30), X, y)
    label, proba = _run(to_onnx(clf, X[:1]), X)
    assert label.dtype == np.int64 and label.shape == y.shape
    assert proba.shape == y.shape


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_saturated_outputs_stay_exact(kind, loss):
    # Weights scaled up: logits in the hundreds, where sigmoid(z) underflows in
    # float32 and a naive sigmoid(z) / sum(sigmoid(z)) is 0 / 0.
    X, y = _data(kind, np.float32)
    clf = _fit(BPClassifier((5,), loss=loss, solver="lbfgs", max_iter=30), X, y)
    clf.coefs_ = [W * np.float32(40.0) for W in clf.coefs_]
    clf.intercepts_[-1] = clf.intercepts_[-1] - np.float32(150.0)
    assert np.abs(clf._logits(X, "predict")[0]).max() > 100
    _check_classifier(clf, X)


def test_pipeline_with_scaler(dtype):
    X, y = _data("multiclass", dtype)
    X = X * 100 + 5  # something for the scaler to do
    clf = make_pipeline(
        StandardScaler(),
        BPClassifier((5,), activation="gelu", solver="lbfgs", max_iter=30),
    )
    _check_classifier(_fit(clf, X, y), X)


@pytest.mark.parametrize("model_dtype", [np.float32, np.float64])
def test_weights_are_cast_to_the_input_dtype(model_dtype):
    X, y = _data("multiclass", model_dtype)
    clf = _fit(BPClassifier((5,), activation="tanh", solver="lbfgs"), X, y)
    other = np.float64 if model_dtype == np.float32 else np.float32
    _check_classifier(clf, X, X_onnx=X.astype(other))


def test_dataframe_and_integer_input():
    pd = pytest.importorskip("pandas")
    X, y = _data("multiclass", np.float64)
    X = np.round(X * 10).astype(np.int64)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = _fit(BPClassifier((5,), solver="lbfgs", max_iter=30), frame, y)
    onx = to_onnx(clf, frame.iloc[:1])
    assert [i.name for i in onx.graph.input] == ["X"]
    label, proba = _run(onx, X)  # integer input, a float32 graph
    assert_array_equal(label, clf.predict(frame))
    assert_allclose(proba, clf.predict_proba(frame), atol=ATOL)


def test_initial_types_instead_of_a_sample():
    from skl2onnx.common.data_types import FloatTensorType

    X, y = _data("binary", np.float32)
    clf = _fit(BPClassifier((3,), solver="lbfgs", max_iter=10), X, y)
    onx = to_onnx(clf, None, initial_types=[("X", FloatTensorType([None, 4]))])
    _, proba = _run(onx, X)
    assert_allclose(proba, clf.predict_proba(X), atol=ATOL)


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
@pytest.mark.parametrize("labels", ["int", "str"])
def test_zipmap(kind, labels):
    X, y = _data(kind, np.float32)
    y = STRING_LABELS[y] if labels == "str" else y
    clf = _fit(make_pipeline(StandardScaler(), BPClassifier((5,))), X, y)
    onx = to_onnx(clf, X[:1], options={"zipmap": True})
    names = [output.name for output in onx.graph.output]
    assert names == ["output_label", "output_probability"]
    label, proba = _run(onx, X)
    assert_array_equal(label, clf.predict(X))
    expected = clf.predict_proba(X)
    classes = clf.classes_.tolist()
    for row, expected_row in zip(proba, expected):
        assert list(row) == classes
        assert_allclose([row[c] for c in classes], expected_row, rtol=0, atol=ATOL)


def test_zipmap_columns_and_nocl():
    X, y = _data("multiclass", np.float32)
    clf = _fit(BPClassifier((5,), solver="lbfgs", max_iter=30), X, STRING_LABELS[y])
    outputs = _run(to_onnx(clf, X[:1], options={"zipmap": "columns"}), X)
    assert_array_equal(outputs[0], clf.predict(X))
    assert_allclose(np.column_stack(outputs[1:]), clf.predict_proba(X), atol=ATOL)
    label, _ = _run(to_onnx(clf, X[:1], options={"nocl": True}), X)
    assert_array_equal(clf.classes_[label], clf.predict(X))


def test_zipmap_needs_float32_and_one_label_per_sample():
    X, y = _data("multiclass", np.float64)
    clf = _fit(BPClassifier((3,), solver="lbfgs", max_iter=5), X, y)
    with pytest.raises(ValueError, match="needs float32 probabilities"):
        to_onnx(clf, X[:1], options={"zipmap": True})
    X, Y = _data("multilabel", np.float32)
    clf = _fit(BPClassifier((3,), solver="lbfgs", max_iter=5), X, Y)
    for zipmap in [True, "columns"]:
        with pytest.raises(ValueError, match="indicator matrix"):
            to_onnx(clf, X[:1], options={"zipmap": zipmap})


def test_subclass_converts():
    class MyClassifier(BPClassifier):
        pass

    X, y = _data("binary", np.float32)
    _check_classifier(_fit(MyClassifier((3,), solver="lbfgs", max_iter=10), X, y), X)


# --------------------------------------------------------------- regressor


def _regression_data(n_outputs, dtype):
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, (40, 3))
    Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1], np.cos(X[:, 2])])
    Y = np.exp(Y / 2) if n_outputs else Y  # positive for the Poisson loss
    return X.astype(dtype), Y[:, 0] if n_outputs == 1 else Y


@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize(
    "loss", ["squared_error", "poisson", "huber", "absolute_error"]
)
def test_regressor_matches_skbp(loss, n_outputs, dtype):
    X, y = _regression_data(n_outputs, dtype)
    reg = BPRegressor((5, 4), activation="tanh", loss=loss, solver="lbfgs", max_iter=30)
    reg = _fit(reg, X, y)
    onx = to_onnx(reg, X[:1])
    assert [output.name for output in onx.graph.output] == ["variable"]
    (prediction,) = _run(onx, X)
    expected = reg.predict(X)
    assert prediction.shape == expected.shape  # (n,) for 1-D y
    assert prediction.dtype == dtype
    assert_allclose(prediction, expected, rtol=ATOL, atol=ATOL)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_regressor_activations_in_a_pipeline(activation, dtype):
    X, y = _regression_data(1, dtype)
    reg = make_pipeline(
        StandardScaler(),
        BPRegressor((5,), activation=activation, solver="lbfgs", max_iter=30),
    )
    reg = _fit(reg, X * 10, y)
    (prediction,) = _run(to_onnx(reg, X[:1]), X * 10)
    assert_allclose(prediction, reg.predict(X * 10), rtol=ATOL, atol=ATOL)


# ---------------------------------------------------------- opsets, errors


@pytest.mark.parametrize("target_opset", [None, 9, 13, 21])
def test_target_opset(target_opset):
    X, y = _data("multiclass", np.float32)
    clf = BPClassifier((4, 4), activation=("gelu", "elu"), loss="squared_error")
    clf = _fit(clf.set_params(solver="lbfgs", max_iter=30), X, y)
    onx = to_onnx(clf, X[:1], target_opset=target_opset)
    opsets = {opset.domain: opset.version for opset in onx.opset_import}
    assert opsets[""] <= (target_opset or DEFAULT_TARGET_OPSET)
    label, proba = _run(onx, X)
    assert_array_equal(label, clf.predict(X))
    assert_allclose(proba, clf.predict_proba(X), atol=ATOL)


def test_opsets_before_9_are_refused():
    X, y = _data("binary", np.float32)
    clf = _fit(BPClassifier((3,), solver="lbfgs", max_iter=5), X, y)
    with pytest.raises(ValueError, match="opset >= 9"):
        to_onnx(clf, X[:1], target_opset=8)


def test_unfitted_model():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        to_onnx(BPClassifier(), np.zeros((1, 2), dtype=np.float32))


def test_missing_skl2onnx_says_what_to_install(monkeypatch):
    X, y = _data("binary", np.float32)
    clf = _fit(BPClassifier((3,), solver="lbfgs", max_iter=5), X, y)
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    with pytest.raises(
        ImportError, match=re.escape('pip install "skl2onnx>=1.19.1" onnxruntime')
    ):
        to_onnx(clf, X[:1])


def test_import_skbp_does_not_import_skl2onnx():
    code = "import sys, skbp; print('skl2onnx' in sys.modules, 'onnx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_docstring_examples_run():
    # The docstring marks the lines that need the extra +SKIP, so that the
    # package's doctests pass without it; here, with the extra, they run.
    source = to_onnx.__doc__.replace("# doctest: +SKIP", "")
    test = doctest.DocTestParser().get_doctest(source, {}, "to_onnx", None, 0)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    results = runner.run(test)
    assert results.failed == 0
    assert results.attempted == len(test.examples) > 10
