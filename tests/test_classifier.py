"""Estimator behaviour of BPClassifier: labels, outputs, weights, training modes.

What only the classifier has; behaviour shared with BPRegressor and tested on
both lives in its own file (see tests/README.md).
"""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import erf, expit
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils import compute_sample_weight

from skbp import BPClassifier

ALL_ACTIVATIONS = [
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


def _fast(**params):
    """A small, quickly trained classifier (L-BFGS unless told otherwise)."""
    # L-BFGS needs about 270 iterations on the binary fixture to converge.
    defaults = dict(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=500, random_state=0
    )
    defaults.update(params)
    return BPClassifier(**defaults)


@pytest.fixture
def noisy_binary():
    """Overlapping binary classes, so weights and schedules change predictions."""
    X, y = make_classification(
        n_samples=200,
        n_features=6,
        n_informative=3,
        class_sep=0.5,
        flip_y=0.1,
        random_state=0,
    )
    return X, y


# ------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    "labels",
    [
        np.array([3, 7, 11]),
        np.array(["ant", "bee", "cat"]),
        np.array([1.0, 2.0, 5.0]),
        np.array(["no", "yes"]),
        np.array([False, True]),
        np.array([-1, 1]),
        np.array([0.0, 1.0]),
    ],
    ids=["int", "str", "float", "str-binary", "bool", "int-binary", "float-binary"],
)
def test_label_types_round_trip(multiclass_data, labels):
    X, y_int = multiclass_data
    y = labels[y_int % len(labels)]
    clf = _fast().fit(X, y)
    assert_array_equal(clf.classes_, labels)
    assert clf.classes_.dtype == labels.dtype
    pred = clf.predict(X)
    assert pred.dtype == labels.dtype
    assert set(np.unique(pred)) <= set(labels)
    assert np.mean(pred == y) > 0.9


def test_string_labels_as_list(multiclass_data):
    X, y_int = multiclass_data
    y = [["a", "b", "c"][k] for k in y_int]
    clf = _fast().fit(X, y)
    assert_array_equal(clf.classes_, ["a", "b", "c"])
    assert clf.predict(X[:3]).tolist() == y[:3]


# ------------------------------------------------------------ output shapes


@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
@pytest.mark.parametrize(
    "data, pred_shape, n_columns, n_outputs",
    [
        ("binary_data", (80,), 2, 1),
        ("multiclass_data", (90,), 3, 3),
        ("multilabel_data", (60, 3), 3, 3),
    ],
)
def test_output_shapes(request, loss, data, pred_shape, n_columns, n_outputs):
    X, y = request.getfixturevalue(data)
    clf = _fast(loss=loss).fit(X, y)
    assert clf.predict(X).shape == pred_shape
    assert clf.predict_proba(X).shape == (len(X), n_columns)
    assert clf.predict_log_proba(X).shape == (len(X), n_columns)
    assert clf.n_outputs_ == n_outputs
    assert clf.predict(X[:1]).shape == (1, *pred_shape[1:])


def test_multilabel_predict_is_indicator(multilabel_data):
    X, Y = multilabel_data
    clf = _fast().fit(X, Y)
    assert_array_equal(clf.classes_, [0, 1, 2])
    pred = clf.predict(X)
    assert set(np.unique(pred)) <= {0, 1}
    assert_array_equal(pred, (clf.predict_proba(X) > 0.5).astype(int))
    assert np.mean(pred == Y) > 0.9


# ------------------------------------------------------------ probabilities


@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_predict_proba_rows_sum_to_one(
    binary_data, multiclass_data, loss, solver, dtype, no_convergence_warning
):
    for X, y in (binary_data, multiclass_data):
        X = X.astype(dtype)
        clf = _fast(loss=loss, solver=solver, max_iter=50).fit(X, y)
        # Far-away points saturate the outputs; rows must still sum to 1.
        for X_eval in (X, 100 * X):
            proba = clf.predict_proba(X_eval)
            assert np.all(np.isfinite(proba))
            assert np.all((proba >= 0) & (proba <= 1))
            atol = 1e-6 if dtype == np.float32 else 1e-12
            assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=atol)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_binary_squared_error_proba_is_one_logistic_unit(binary_data, activation):
    X, y = binary_data
    clf = _fast(loss="squared_error", activation=activation).fit(X, y)
    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == 1
    # Forward pass written out: one hidden layer, one logistic output unit.
    hidden = X @ clf.coefs_[0] + clf.intercepts_[0]
    hidden = np.maximum(hidden, 0) if activation == "relu" else np.tanh(hidden)
    p = expit(hidden @ clf.coefs_[1] + clf.intercepts_[1])[:, 0]
    proba = clf.predict_proba(X)
    assert_allclose(proba[:, 1], p, rtol=1e-10)
    assert_allclose(proba[:, 0], 1 - p, rtol=1e-10, atol=1e-15)


def test_multiclass_squared_error_proba_is_normalised_logistic(multiclass_data):
    X, y = multiclass_data
    clf = _fast(loss="squared_error", hidden_layer_sizes=()).fit(X, y)
    assert clf.out_activation_ == "logistic"
    outputs = expit(X @ clf.coefs_[0] + clf.intercepts_[0])
    assert_allclose(
        clf.predict_proba(X), outputs / outputs.sum(axis=1, keepdims=True), rtol=1e-10
    )


@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_multilabel_proba_strictly_inside_unit_interval(multilabel_data, loss, dtype):
    X, Y = multilabel_data
    X = X.astype(dtype)
    clf = _fast(loss=loss).fit(X, Y)
    assert clf.out_activation_ == "logistic"
    for X_eval in (X, 1e3 * X, -1e3 * X):
        proba = clf.predict_proba(X_eval)
        assert proba.dtype == dtype
        assert np.all(proba > 0)
        assert np.all(proba < 1)


@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_predict_log_proba(binary_data, multiclass_data, multilabel_data, loss, dtype):
    for X, y in (binary_data, multiclass_data, multilabel_data):
        X = X.astype(dtype)
        clf = _fast(loss=loss).fit(X, y)
        for X_eval in (X, 1e3 * X):
            proba = clf.predict_proba(X_eval)
            log_proba = clf.predict_log_proba(X_eval)
            assert log_proba.dtype == dtype
            assert np.all(np.isfinite(log_proba))
            assert np.all(log_proba <= 0)
            not_tiny = proba > 1e-6
            rtol = 1e-4 if dtype == np.float32 else 1e-9
            assert_allclose(
                log_proba[not_tiny], np.log(proba[not_tiny]), rtol=rtol, atol=rtol
            )


@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_predict_is_argmax_of_proba(binary_data, multiclass_data, loss):
    for X, y in (binary_data, multiclass_data):
        labels = np.array(["x", "y", "z"])[: len(np.unique(y))]
        clf = _fast(loss=loss).fit(X, labels[y])
        X_eval = np.vstack([X, np.random.RandomState(0).normal(scale=3, size=X.shape)])
        proba = clf.predict_proba(X_eval)
        assert_array_equal(clf.predict(X_eval), clf.classes_[proba.argmax(axis=1)])


# ----------------------------------------------------------- sample weights


def test_class_weight_dict_shifts_predictions(noisy_binary):
    X, y = noisy_binary
    plain = _fast(hidden_layer_sizes=(4,)).fit(X, y)
    weighted = _fast(hidden_layer_sizes=(4,), class_weight={0: 1.0, 1: 20.0}).fit(X, y)
    n_plain = np.sum(plain.predict(X) == 1)
    n_weighted = np.sum(weighted.predict(X) == 1)
    assert n_weighted > n_plain + 10
    assert weighted.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_class_weight_balanced_equals_sample_weight(noisy_binary, solver):
    X, y = noisy_binary
    keep = (y == 1) | (np.arange(len(y)) % 3 == 0)  # imbalance the classes
    X, y = X[keep], y[keep]
    params = dict(solver=solver, max_iter=30, learning_rate=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        balanced = _fast(class_weight="balanced", **params).fit(X, y)
        manual = _fast(**params).fit(
            X, y, sample_weight=compute_sample_weight("balanced", y)
        )
    for a, b in zip(
        balanced.coefs_ + balanced.intercepts_, manual.coefs_ + manual.intercepts_
    ):
        assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_class_weight_multiplies_sample_weight(noisy_binary, no_convergence_warning):
    X, y = noisy_binary
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    class_weight = {0: 3.0, 1: 0.5}
    both = _fast(class_weight=class_weight, max_iter=50).fit(X, y, sample_weight=sw)
    manual = _fast(max_iter=50).fit(X, y, sample_weight=sw * np.where(y == 0, 3.0, 0.5))
    assert_allclose(both.predict_proba(X), manual.predict_proba(X), rtol=1e-10)


# Both objectives are identical, but they are sums of different lengths and differ
# by rounding (~1e-16). On separable data the loss heads towards 0 with growing
# weights and, after ~40 L-BFGS iterations, that rounding grows into a different
# path (measured at one BLAS thread, where skbp trains problems this small: the
# binary loss curves first differ by more than 1e-13 at iteration 12, by more
# than 1e-9 at iteration 40). Thirty-five iterations compare the same path;
# the ConvergenceWarning is expected.
_EQUIVALENCE_PARAMS = dict(solver="lbfgs", max_iter=35, tol=1e-10, random_state=0)


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_zero_sample_weight_equals_removal_lbfgs(
    binary_data, multiclass_data, kind, no_convergence_warning
):
    X, y = binary_data if kind == "binary" else multiclass_data
    rng = np.random.RandomState(0)
    sw = rng.uniform(0.5, 2.0, size=len(y))
    sw[rng.rand(len(y)) < 0.3] = 0.0
    keep = sw > 0
    weighted = _fast(**_EQUIVALENCE_PARAMS).fit(X, y, sample_weight=sw)
    removed = _fast(**_EQUIVALENCE_PARAMS).fit(X[keep], y[keep], sample_weight=sw[keep])
    assert_allclose(weighted.loss_curve_, removed.loss_curve_, rtol=1e-9)
    assert_allclose(
        weighted.predict_proba(X), removed.predict_proba(X), rtol=1e-6, atol=1e-12
    )


def test_integer_sample_weight_equals_repetition_lbfgs(
    binary_data, no_convergence_warning
):
    X, y = binary_data
    sw = np.random.RandomState(1).randint(1, 4, size=len(y))
    weighted = _fast(**_EQUIVALENCE_PARAMS).fit(X, y, sample_weight=sw)
    repeated = _fast(**_EQUIVALENCE_PARAMS).fit(
        np.repeat(X, sw, axis=0), np.repeat(y, sw)
    )
    assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-6, atol=1e-12
    )


def test_all_zero_weight_minibatch_is_skipped(multiclass_data, no_convergence_warning):
    """MLPClassifier divides by a zero weight sum here; skbp skips the batch."""
    X, y = multiclass_data
    sample_weight = np.ones(len(y))
    sample_weight[:16] = 0.0  # the whole first minibatch when not shuffled
    clf = BPClassifier(
        hidden_layer_sizes=(7,),
        batch_size=16,
        max_iter=5,
        shuffle=False,
        random_state=0,
    )
    clf.fit(X, y, sample_weight=sample_weight)
    assert np.all(np.isfinite(clf.loss_curve_))
    assert np.all(np.isfinite(clf.predict_proba(X)))


# ------------------------------------------------------------ feature names


def test_dataframe_feature_names(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    df = pd.DataFrame(X, columns=columns)
    clf = _fast().fit(df, y)
    assert_array_equal(clf.feature_names_in_, columns)
    assert clf.n_features_in_ == 4
    assert_array_equal(clf.predict_proba(df), _fast().fit(X, y).predict_proba(X))

    renamed = df.rename(columns={"petal_width": "width"})
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(renamed)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict_proba(df[columns[::-1]])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        clf.predict(X)


def test_no_feature_names_for_arrays(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    clf = _fast().fit(X, y)
    assert not hasattr(clf, "feature_names_in_")
    with pytest.warns(UserWarning, match="fitted without feature names"):
        clf.predict(pd.DataFrame(X, columns=["a", "b", "c", "d"]))


# -------------------------------------------------------------- architecture


def test_no_hidden_layer(multiclass_data):
    X, y = multiclass_data
    clf = _fast(hidden_layer_sizes=()).fit(X, y)
    assert clf.n_layers_ == 2
    assert len(clf.coefs_) == 1
    assert clf.coefs_[0].shape == (X.shape[1], 3)
    assert clf.score(X, y) > 0.9


def test_int_hidden_layer_sizes(multiclass_data):
    X, y = multiclass_data
    clf = _fast(hidden_layer_sizes=5).fit(X, y)
    assert clf.hidden_layer_sizes == 5  # the parameter itself is not rewritten
    assert [c.shape for c in clf.coefs_] == [(X.shape[1], 5), (5, 3)]
    assert clf.n_layers_ == 3


def test_tuple_activation_per_layer(scaled_iris):
    X, y = scaled_iris
    activation = ("tanh", "logistic", "relu")
    clf = _fast(hidden_layer_sizes=(10, 8, 6), activation=activation).fit(X, y)
    assert clf.activation == activation  # not rewritten to canonical names
    assert [c.shape for c in clf.coefs_] == [(4, 10), (10, 8), (8, 6), (6, 3)]
    assert clf.score(X, y) > 0.9
    # The activations are applied in order, layer by layer.
    a = np.tanh(X @ clf.coefs_[0] + clf.intercepts_[0])
    a = expit(a @ clf.coefs_[1] + clf.intercepts_[1])
    a = np.maximum(a @ clf.coefs_[2] + clf.intercepts_[2], 0)
    z = a @ clf.coefs_[3] + clf.intercepts_[3]
    proba = np.exp(z - z.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    assert_allclose(clf.predict_proba(X), proba, rtol=1e-9, atol=1e-15)


def test_list_activation_accepted(scaled_iris):
    X, y = scaled_iris
    clf = _fast(hidden_layer_sizes=(6, 4), activation=["tanh", "relu"]).fit(X, y)
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize(
    "hidden, activation",
    [((6,), ("tanh", "relu")), ((6, 4), ("tanh",)), ((), ("tanh",))],
)
def test_tuple_activation_length_mismatch(scaled_iris, hidden, activation):
    X, y = scaled_iris
    clf = _fast(hidden_layer_sizes=hidden, activation=activation)
    with pytest.raises(ValueError, match="activation"):
        clf.fit(X, y)


# Closed forms written independently of skbp._core.activations.
_REFERENCE_ACTIVATIONS = {
    "sigmoid": expit,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "softsign": lambda z: z / (1.0 + np.abs(z)),
    "identity": lambda z: z,
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "softplus": lambda z: np.logaddexp(0.0, z),
    "gelu": lambda z: 0.5 * z * (1.0 + erf(z / np.sqrt(2.0))),
}


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_predict_proba_matches_forward_pass(multiclass_data, activation):
    """predict_proba is the forward pass written out with the fitted weights."""
    X, y = multiclass_data
    X = StandardScaler().fit_transform(X)
    clf = _fast(hidden_layer_sizes=(6, 5), activation=activation, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    f = _REFERENCE_ACTIVATIONS[activation]
    W, b = clf.coefs_, clf.intercepts_
    z = f(f(X @ W[0] + b[0]) @ W[1] + b[1]) @ W[2] + b[2]
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert_allclose(clf.predict_proba(X), expected, rtol=1e-9, atol=1e-15)
    assert_array_equal(clf.predict(X), expected.argmax(axis=1))


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_every_activation_fits_iris(scaled_iris, activation):
    X, y = scaled_iris
    clf = BPClassifier(
        hidden_layer_sizes=(10,), activation=activation, solver="lbfgs", random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.activation == activation
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("init", ["auto", "glorot_uniform", "he_uniform", "uniform"])
def test_every_init_fits(scaled_iris, init, no_convergence_warning):
    # U(-1, 1) starts far from a solution; L-BFGS may use all 200 iterations.
    X, y = scaled_iris
    clf = _fast(init=init).fit(X, y)
    assert clf.score(X, y) > 0.9


# ----------------------------------------------------------------- verbose


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_prints_one_line_per_epoch(
    noisy_classification, capsys, early_stopping, no_convergence_warning
):
    X, y = noisy_classification
    clf = BPClassifier(
        hidden_layer_sizes=(8,),
        verbose=1,
        max_iter=15,
        early_stopping=early_stopping,
        random_state=0,
    ).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    # MLPClassifier's line ("Iteration N, loss = ...") first, our fields after.
    epoch_lines = [line for line in lines if line.startswith("Iteration")]
    assert len(epoch_lines) == clf.n_iter_ > 0
    assert lines == epoch_lines
    assert epoch_lines[0].startswith("Iteration 1, loss = ")
    assert epoch_lines[0].endswith("s")  # the seconds
    if early_stopping:
        assert all("validation score" in line for line in epoch_lines)


def test_verbose_lbfgs_prints_one_line_per_iteration(scaled_iris, capsys):
    X, y = scaled_iris
    clf = _fast(verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("Iteration") for line in lines) == clf.n_iter_


def test_silent_by_default(scaled_iris, capsys):
    X, y = scaled_iris
    _fast(solver="adam", max_iter=300, learning_rate=0.01).fit(X, y)
    assert capsys.readouterr().out == ""


# ------------------------------------------------------- fitted attributes


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_fitted_attributes_match_mlpclassifier_layout(
    binary_data, multiclass_data, multilabel_data, solver, no_convergence_warning
):
    for X, y in (binary_data, multiclass_data, multilabel_data):
        params = dict(hidden_layer_sizes=(7, 5), solver=solver, max_iter=20)
        ours = BPClassifier(random_state=0, **params).fit(X, y)
        theirs = MLPClassifier(random_state=0, **params).fit(X, y)
        assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
        assert [b.shape for b in ours.intercepts_] == [
            b.shape for b in theirs.intercepts_
        ]
        assert ours.n_layers_ == theirs.n_layers_ == 4
        assert ours.n_outputs_ == theirs.n_outputs_
        assert ours.out_activation_ == theirs.out_activation_
        assert_array_equal(ours.classes_, theirs.classes_)
        assert ours.n_features_in_ == X.shape[1]
        assert isinstance(ours.loss_curve_, list)
        assert len(ours.loss_curve_) == ours.n_iter_
        assert ours.loss_ == ours.loss_curve_[-1]
        assert ours.best_loss_ == pytest.approx(min(ours.loss_curve_))
        assert isinstance(ours.n_iter_, int)
        assert isinstance(ours.t_, int)
        if solver != "lbfgs":
            assert ours.t_ == theirs.t_ == ours.n_iter_ * X.shape[0]


@pytest.mark.parametrize(
    "loss, data, expected",
    [
        ("log_loss", "multiclass", "softmax"),
        ("log_loss", "binary", "logistic"),
        ("log_loss", "multilabel", "logistic"),
        ("squared_error", "multiclass", "logistic"),
        ("squared_error", "binary", "logistic"),
        ("squared_error", "multilabel", "logistic"),
    ],
)
def test_out_activation(request, loss, data, expected):
    X, y = request.getfixturevalue(f"{data}_data")
    assert _fast(loss=loss).fit(X, y).out_activation_ == expected


# ------------------------------------------------------------- convergence


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_convergence_warning_when_max_iter_reached(multiclass_data, solver):
    X, y = multiclass_data
    clf = _fast(solver=solver, max_iter=2)
    with pytest.warns(ConvergenceWarning, match="2"):
        clf.fit(X, y)
    assert clf.n_iter_ == 2


def test_no_convergence_warning_when_converged(scaled_iris):
    X, y = scaled_iris
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = _fast(solver="adam", learning_rate=0.01, max_iter=1000).fit(X, y)
    assert clf.n_iter_ < 1000


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
def test_learning_rate_schedules(scaled_iris, schedule):
    X, y = scaled_iris
    clf = BPClassifier(
        hidden_layer_sizes=(10,),
        solver="sgd",
        learning_rate=0.1,
        learning_rate_schedule=schedule,
        # t counts samples: with power_t=0.5 the rate is already 0.1/sqrt(150)
        # after one epoch of iris, too slow to train in 300 epochs.
        power_t=0.25,
        max_iter=300,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.learning_rate_schedule == schedule
    assert clf.learning_rate == 0.1  # the parameter is not rewritten by the schedule
    assert clf.score(X, y) > 0.95
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_adaptive_trains_longer_than_constant(scaled_iris):
    """Adaptive lowers the rate on a plateau instead of stopping at once."""
    X, y = scaled_iris
    params = dict(
        hidden_layer_sizes=(10,),
        solver="sgd",
        learning_rate=0.1,
        max_iter=2000,
        n_iter_no_change=3,
        tol=1e-3,
        random_state=0,
    )
    constant = BPClassifier(**params).fit(X, y)
    adaptive = BPClassifier(learning_rate_schedule="adaptive", **params).fit(X, y)
    assert adaptive.n_iter_ > constant.n_iter_
    assert adaptive.loss_curve_[: constant.n_iter_] == pytest.approx(
        constant.loss_curve_, rel=1e-12
    )


# -------------------------------------------------------------- determinism


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_fit_is_idempotent(multiclass_data, solver, seed, no_convergence_warning):
    X, y = multiclass_data
    clf = _fast(
        solver=solver,
        max_iter=20,
        early_stopping=solver != "lbfgs",
        random_state=seed,
    )
    first = clf.fit(X, y).predict_proba(X)
    first_curve = list(clf.loss_curve_)
    second = clf.fit(X, y).predict_proba(X)
    assert_array_equal(first, second)
    assert clf.loss_curve_ == first_curve
    third = clone(clf).fit(X, y).predict_proba(X)
    assert_array_equal(first, third)


def test_random_state_matters(multiclass_data, no_convergence_warning):
    X, y = multiclass_data
    a = _fast(solver="sgd", max_iter=5, random_state=0).fit(X, y)
    b = _fast(solver="sgd", max_iter=5, random_state=1).fit(X, y)
    assert not np.allclose(a.coefs_[0], b.coefs_[0])


def test_global_numpy_rng_untouched(multiclass_data, no_convergence_warning):
    X, y = multiclass_data
    np.random.seed(0)
    expected = np.random.rand()
    np.random.seed(0)
    # (random_state=None uses the global RNG by scikit-learn's convention.)
    _fast(solver="sgd", max_iter=3, random_state=1).fit(X, y)
    _fast(solver="adam", max_iter=3, early_stopping=True).fit(X, y)
    _fast(solver="adam", max_iter=3, random_state=np.random.RandomState(2)).fit(X, y)
    assert np.random.rand() == expected


def test_input_not_modified(multiclass_data, no_convergence_warning):
    X, y = multiclass_data
    X_before, y_before = X.copy(), y.copy()
    sw = np.ones(len(y))
    _fast(solver="sgd", max_iter=3, class_weight="balanced").fit(X, y, sample_weight=sw)
    assert_array_equal(X, X_before)
    assert_array_equal(y, y_before)
    assert_array_equal(sw, 1.0)


def test_score_is_accuracy(multiclass_data):
    X, y = multiclass_data
    clf = _fast().fit(X, y)
    assert clf.score(X, y) == pytest.approx(np.mean(clf.predict(X) == y))


def test_repr_shows_changed_params():
    assert re.search(r"solver='lbfgs'", repr(BPClassifier(solver="lbfgs")))


def test_lean_predict_path_agrees_with_full_validation(multiclass_data):
    """Plain float ndarrays skip validate_data; every other form takes the full
    path. Both must give identical results and the same errors."""
    X, y = multiclass_data
    clf = BPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    expected = clf.predict_proba(X)
    for variant in (X.tolist(), np.asfortranarray(X), X.astype(np.float32)):
        assert_allclose(clf.predict_proba(variant), expected, rtol=1e-6)
    assert_array_equal(clf.predict_proba(X.tolist()), expected)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict_proba(bad)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :2])
