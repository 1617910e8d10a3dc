"""Beyond MLPClassifier: hidden_activations, from_mlp and to_mlp."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier

# Most fits here under-train on purpose.
pytestmark = pytest.mark.usefixtures("no_convergence_warning")

MLP_ACTIVATIONS = ["relu", "tanh", "logistic", "identity"]
UNSUPPORTED = ["softsign", "leaky_relu", "elu", "softplus", "gelu"]
TARGETS = ["binary", "multiclass", "multilabel"]


def _data(kind, dtype=np.float64):
    if kind == "multilabel":
        X, y = make_multilabel_classification(
            n_samples=80, n_features=5, n_classes=3, random_state=0
        )
    else:
        X, y = make_classification(
            n_samples=80,
            n_features=5,
            n_informative=3,
            n_classes=2 if kind == "binary" else 3,
            random_state=0,
        )
    return StandardScaler().fit_transform(X).astype(dtype), y


def _params(activation, params):
    """The small network both estimators are built with here, and overrides."""
    return {
        "hidden_layer_sizes": (7, 4),
        "activation": activation,
        "solver": "lbfgs",
        "max_iter": 30,
        "random_state": 0,
        **params,
    }


def _mlp(activation="relu", **params):
    return MLPClassifier(**_params(activation, params))


def _bp(activation="relu", **params):
    return BPClassifier(**_params(activation, params))


def _manual_hidden(coefs, intercepts, X, f):
    """Every hidden layer's output, computed directly with numpy."""
    outputs, a = [], X
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        a = f(a @ W + b)
        outputs.append(a)
    return outputs


# --------------------------------------------------------------- from_mlp


@pytest.mark.parametrize("kind", TARGETS)
@pytest.mark.parametrize("activation", MLP_ACTIVATIONS)
def test_from_mlp_predicts_like_the_mlp(kind, activation):
    X, y = _data(kind)
    mlp = _mlp(activation).fit(X, y)
    clf = BPClassifier.from_mlp(mlp)
    assert_allclose(clf.predict_proba(X), mlp.predict_proba(X), rtol=0, atol=1e-12)
    assert_array_equal(clf.predict(X), mlp.predict(X))
    assert clf.score(X, y) == mlp.score(X, y)
    assert_array_equal(clf.classes_, mlp.classes_)
    assert clf.out_activation_ == mlp.out_activation_
    assert (clf.n_layers_, clf.n_outputs_) == (mlp.n_layers_, mlp.n_outputs_)


def test_from_mlp_mirrors_params_and_fitted_attributes():
    X, y = _data("multiclass")
    mlp = MLPClassifier(
        hidden_layer_sizes=(6,),
        activation="logistic",
        solver="sgd",
        learning_rate_init=0.02,
        learning_rate="invscaling",
        power_t=0.4,
        alpha=1e-3,
        batch_size=16,
        max_iter=7,
        momentum=0.8,
        nesterovs_momentum=False,
        beta_1=0.8,
        beta_2=0.99,
        epsilon=1e-7,
        tol=1e-3,
        n_iter_no_change=4,
        validation_fraction=0.2,
        shuffle=False,
        random_state=3,
        max_fun=999,
    )
    mlp.fit(X, y)
    clf = BPClassifier.from_mlp(mlp)
    params = clf.get_params()
    assert params["activation"] == "sigmoid"
    assert params["init"] == "glorot_uniform"
    assert params["hidden_layer_sizes"] == (6,)
    assert params["learning_rate"] == 0.02
    assert params["learning_rate_schedule"] == "invscaling"
    for name in [
        "solver",
        "power_t",
        "alpha",
        "batch_size",
        "max_iter",
        "momentum",
        "nesterovs_momentum",
        "beta_1",
        "beta_2",
        "epsilon",
        "tol",
        "n_iter_no_change",
        "early_stopping",
        "validation_fraction",
        "shuffle",
        "random_state",
        "max_fun",
    ]:
        assert params[name] == mlp.get_params()[name], name
    assert clf.n_features_in_ == mlp.n_features_in_
    assert (clf.n_iter_, clf.t_) == (mlp.n_iter_, mlp.t_)
    assert clf.loss_ == mlp.loss_
    assert clf.loss_curve_ == mlp.loss_curve_
    assert isinstance(clf.loss_curve_, list)
    assert clf.best_loss_ == mlp.best_loss_
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    for ours, theirs in zip(clf.coefs_ + clf.intercepts_, mlp.coefs_ + mlp.intercepts_):
        assert_array_equal(ours, theirs)
        assert not np.shares_memory(ours, theirs)


def test_from_mlp_with_early_stopping_history():
    X, y = _data("multiclass")
    mlp = _mlp(solver="adam", early_stopping=True, max_iter=15)
    mlp.fit(X, y)
    clf = BPClassifier.from_mlp(mlp)
    assert clf.early_stopping
    assert clf.validation_scores_ == mlp.validation_scores_
    assert clf.best_validation_score_ == mlp.best_validation_score_
    assert clf.best_loss_ is None is mlp.best_loss_  # the validation score decides
    assert_allclose(clf.predict_proba(X), mlp.predict_proba(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", TARGETS)
def test_from_mlp_model_continues_training(kind):
    X, y = _data(kind)
    mlp = _mlp(solver="adam", max_iter=5).fit(X, y)
    clf = BPClassifier.from_mlp(mlp)
    before = [c.copy() for c in clf.coefs_]
    n_curve, t = len(clf.loss_curve_), clf.t_
    clf.partial_fit(X, y)
    assert len(clf.loss_curve_) == n_curve + 1
    assert clf.t_ == t + X.shape[0]
    assert any(not np.array_equal(a, b) for a, b in zip(before, clf.coefs_))
    assert clf.predict(X).shape == np.asarray(y).shape
    # warm_start refits from the converted weights as well.
    clf.set_params(warm_start=True, max_iter=3)
    clf.fit(X, y)
    assert clf.n_iter_ == 3


def test_from_mlp_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _data("multiclass")
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    mlp = _mlp().fit(df, y)
    clf = BPClassifier.from_mlp(mlp)
    assert_array_equal(clf.feature_names_in_, mlp.feature_names_in_)
    assert_allclose(clf.predict_proba(df), mlp.predict_proba(df), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df[df.columns[::-1]])
    back = clf.to_mlp()
    assert_array_equal(back.feature_names_in_, mlp.feature_names_in_)


def test_from_mlp_keeps_float32():
    X, y = _data("multiclass", dtype=np.float32)
    mlp = _mlp(solver="adam", max_iter=5).fit(X, y)  # lbfgs is float64
    assert mlp.coefs_[0].dtype == np.float32
    clf = BPClassifier.from_mlp(mlp)
    assert all(c.dtype == np.float32 for c in clf.coefs_ + clf.intercepts_)
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32
    assert_allclose(proba, mlp.predict_proba(X), rtol=0, atol=1e-6)
    clf.partial_fit(X, y)  # training stays in float32
    assert all(c.dtype == np.float32 for c in clf.coefs_)


def test_from_mlp_rejects_unfitted_and_other_estimators():
    with pytest.raises(NotFittedError):
        BPClassifier.from_mlp(MLPClassifier())
    X, y = _data("binary")
    with pytest.raises(TypeError, match="MLPClassifier"):
        BPClassifier.from_mlp(LogisticRegression().fit(X, y))


# ----------------------------------------------------------------- to_mlp


@pytest.mark.parametrize("kind", TARGETS)
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "sigmoid"])
def test_to_mlp_predicts_like_the_classifier(kind, activation):
    X, y = _data(kind)
    clf = _bp(activation).fit(X, y)
    mlp = clf.to_mlp()
    assert mlp.activation == ("logistic" if activation == "sigmoid" else activation)
    assert_allclose(mlp.predict_proba(X), clf.predict_proba(X), rtol=0, atol=1e-12)
    assert_array_equal(mlp.predict(X), clf.predict(X))
    assert mlp.score(X, y) == clf.score(X, y)
    assert mlp.learning_rate_init == clf.learning_rate
    assert mlp.learning_rate == clf.learning_rate_schedule
    assert mlp.hidden_layer_sizes == (7, 4)
    assert (mlp.n_iter_, mlp.t_, mlp.loss_) == (clf.n_iter_, clf.t_, clf.loss_)
    assert mlp.loss_curve_ == clf.loss_curve_


def test_to_mlp_without_hidden_layers_and_per_layer_tuple():
    X, y = _data("multiclass")
    clf = _bp("gelu", hidden_layer_sizes=()).fit(X, y)
    mlp = clf.to_mlp()  # no hidden layer: the activation never applies
    assert_allclose(mlp.predict_proba(X), clf.predict_proba(X), rtol=0, atol=1e-12)
    clf = _bp(("tanh", "tanh")).fit(X, y)
    mlp = clf.to_mlp()
    assert mlp.activation == "tanh"
    assert_allclose(mlp.predict_proba(X), clf.predict_proba(X), rtol=0, atol=1e-12)


def test_to_mlp_model_can_keep_training():
    X, y = _data("multiclass")
    clf = _bp(solver="adam", max_iter=5).fit(X, y)
    mlp = clf.to_mlp()
    n_curve = len(mlp.loss_curve_)
    mlp.partial_fit(X, y)
    assert len(mlp.loss_curve_) == n_curve + 1


@pytest.mark.parametrize("kind", TARGETS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_skbp_mlp_skbp_is_exact(kind, dtype):
    X, y = _data(kind, dtype)
    clf = _bp("tanh", solver="adam", max_iter=5).fit(X, y)
    back = BPClassifier.from_mlp(clf.to_mlp())
    assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(back.predict(X), clf.predict(X))
    for ours, theirs in zip(
        back.coefs_ + back.intercepts_, clf.coefs_ + clf.intercepts_
    ):
        assert ours.dtype == theirs.dtype
        assert_array_equal(ours, theirs)
    assert back.activation == "tanh"
    assert (back.loss_curve_, back.t_, back.n_iter_) == (
        clf.loss_curve_,
        clf.t_,
        clf.n_iter_,
    )


@pytest.mark.parametrize("activation", UNSUPPORTED)
def test_to_mlp_rejects_activations_mlp_lacks(activation):
    X, y = _data("binary")
    clf = _bp(activation).fit(X, y)
    with pytest.raises(ValueError, match="no MLPClassifier equivalent"):
        clf.to_mlp()


def test_to_mlp_rejects_mixed_activations_and_squared_error():
    X, y = _data("binary")
    clf = _bp(("relu", "tanh")).fit(X, y)
    with pytest.raises(ValueError, match="single activation"):
        clf.to_mlp()
    clf = _bp(loss="squared_error").fit(X, y)
    with pytest.raises(ValueError, match="only has the log-loss"):
        clf.to_mlp()


def test_to_mlp_before_fit():
    with pytest.raises(NotFittedError):
        BPClassifier().to_mlp()


# ------------------------------------------------------- hidden_activations


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_hidden_activations_match_a_manual_forward_pass(activation):
    X, y = _data("multiclass")
    clf = _bp(activation, hidden_layer_sizes=(7, 5, 4)).fit(X, y)
    f = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "sigmoid": expit}
    expected = _manual_hidden(clf.coefs_, clf.intercepts_, X, f[activation])
    for layer in range(3):
        assert_allclose(clf.hidden_activations(X, layer=layer), expected[layer])
        assert_array_equal(
            clf.hidden_activations(X, layer=layer - 3),
            clf.hidden_activations(X, layer=layer),
        )
    assert_array_equal(clf.hidden_activations(X), clf.hidden_activations(X, layer=2))
    assert clf.hidden_activations(X).shape == (X.shape[0], 4)


def test_hidden_activations_match_the_mlps_layers():
    X, y = _data("binary")
    mlp = _mlp("tanh").fit(X, y)
    clf = BPClassifier.from_mlp(mlp)
    expected = _manual_hidden(mlp.coefs_, mlp.intercepts_, X, np.tanh)
    assert_allclose(clf.hidden_activations(X, 0), expected[0], rtol=0, atol=1e-12)
    assert_allclose(clf.hidden_activations(X, -1), expected[1], rtol=0, atol=1e-12)


def test_hidden_activations_validate_input_like_predict():
    X, y = _data("multiclass")
    clf = _bp().fit(X, y)
    expected = clf.hidden_activations(X)
    assert_allclose(clf.hidden_activations(sp.csr_matrix(X)), expected)
    assert_allclose(clf.hidden_activations(X.tolist()), expected)
    assert clf.hidden_activations(X.astype(np.float32)).dtype == np.float64
    with pytest.raises(ValueError, match="features"):
        clf.hidden_activations(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        clf.hidden_activations(np.full_like(X, np.nan))

    X32 = X.astype(np.float32)
    clf32 = _bp().fit(X32, y)
    assert clf32.hidden_activations(X32).dtype == np.float32


def test_hidden_activations_errors():
    X, y = _data("binary")
    with pytest.raises(NotFittedError):
        BPClassifier().hidden_activations(X)
    clf = _bp().fit(X, y)
    for layer in (2, -3, 10):
        with pytest.raises(ValueError, match="out of range"):
            clf.hidden_activations(X, layer=layer)
    with pytest.raises(TypeError, match="integer"):
        clf.hidden_activations(X, layer=1.0)
    flat = _bp(hidden_layer_sizes=()).fit(X, y)
    with pytest.raises(ValueError, match="no hidden layers"):
        flat.hidden_activations(X)
