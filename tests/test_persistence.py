"""Saved models: version stamps, and skops files that load without running code.

A fitted model's state is plain data (arrays, numbers, strings, lists, dicts)
besides the estimator itself, so skops needs to trust only the estimator class.
"""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification, make_regression

import skbp
from skbp import BPClassifier, BPRegressor, InconsistentVersionWarning

pytestmark = pytest.mark.usefixtures("no_convergence_warning")


def _fitted(kind):
    """A small fitted model of each kind, with optimiser state to carry on."""
    if kind == "regressor":
        X, y = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
        model = BPRegressor((6,), max_iter=3, warm_start=True, random_state=0)
    elif kind == "multilabel":
        X, y = make_classification(n_samples=60, n_features=5, random_state=0)
        y = np.column_stack([y, X[:, 0] > 0]).astype(int)
        model = BPClassifier((6,), max_iter=3, warm_start=True, random_state=0)
    else:
        X, y = make_classification(
            n_samples=60, n_features=5, n_classes=3, n_informative=3, random_state=0
        )
        y = np.array(["a", "b", "c"])[y]
        model = BPClassifier(
            (6,), solver="sgd", max_iter=3, warm_start=True, random_state=0
        )
    return model.fit(X, y), X, y


def _outputs(model, X):
    return (
        model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)
    )


KINDS = ["multiclass", "multilabel", "regressor"]


# --------------------------------------------------------------- version stamps


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_version_loads_silently(kind):
    model, X, _ = _fitted(kind)
    assert model.__getstate__()["_skbp_version"] == skbp.__version__
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        loaded = pickle.loads(pickle.dumps(model))
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        buffer.seek(0)
        joblib.load(buffer)
    assert "_skbp_version" not in vars(loaded)
    assert_array_equal(_outputs(loaded, X), _outputs(model, X))


@pytest.mark.parametrize("saved_by", ["0.0.1", None])
def test_another_version_warns_naming_both(saved_by):
    model, X, _ = _fitted("multiclass")
    state = model.__getstate__()
    if saved_by is None:  # a file from before the stamp
        del state["_skbp_version"]
    else:
        state["_skbp_version"] = saved_by
    copy = BPClassifier.__new__(BPClassifier)
    with pytest.warns(InconsistentVersionWarning) as record:
        copy.__setstate__(state)
    (warning,) = [w.message for w in record]
    expected = "unknown" if saved_by is None else saved_by
    assert warning.original_skbp_version == expected
    assert warning.current_skbp_version == skbp.__version__
    assert warning.estimator_name == "BPClassifier"
    assert expected in str(warning) and skbp.__version__ in str(warning)
    assert_array_equal(copy.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("kind", KINDS)
def test_a_pickle_with_the_attributes_of_earlier_versions_loads(kind):
    # Earlier versions also stored the layer sizes (now read off coefs_):
    # loading drops them, and the model predicts and trains on as before.
    model, X, y = _fitted(kind)
    state = model.__getstate__()
    assert "_layer_sizes" not in state
    coefs = model.coefs_
    state["_layer_sizes"] = [coefs[0].shape[0], *(c.shape[1] for c in coefs)]
    old = type(model).__new__(type(model))
    old.__setstate__(state)
    assert "_layer_sizes" not in vars(old)
    assert_array_equal(_outputs(old, X), _outputs(model, X))
    old.fit(X, y)
    model.fit(X, y)
    assert_array_equal(_outputs(old, X), _outputs(model, X))
    assert old.loss_curve_ == model.loss_curve_


# ----------------------------------------------------------------------- skops


@pytest.mark.parametrize("kind", KINDS)
def test_skops_trusts_only_the_estimator_class(kind):
    sio = pytest.importorskip("skops.io")
    model, _, _ = _fitted(kind)
    untrusted = sio.get_untrusted_types(data=sio.dumps(model))
    cls = type(model)
    assert untrusted == [f"{cls.__module__}.{cls.__qualname__}"]


@pytest.mark.parametrize("kind", KINDS)
def test_skops_round_trip_is_exact_and_training_continues(kind, tmp_path):
    sio = pytest.importorskip("skops.io")
    model, X, y = _fitted(kind)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    trusted = sio.get_untrusted_types(file=path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        loaded = sio.load(path, trusted=trusted)
    assert_array_equal(_outputs(loaded, X), _outputs(model, X))
    # The optimiser state, stopping monitor and random generator came along:
    # one more warm-started fit is the same from the original and the copy.
    model.fit(X, y)
    loaded.fit(X, y)
    assert_array_equal(_outputs(loaded, X), _outputs(model, X))
    assert loaded.loss_curve_ == model.loss_curve_
    assert loaded.t_ == model.t_


def test_skops_refuses_to_load_untrusted():
    sio = pytest.importorskip("skops.io")
    model, _, _ = _fitted("multiclass")
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.loads(sio.dumps(model))
