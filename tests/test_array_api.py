"""The estimators on array API input: array-api-strict, PyTorch, and a GPU.

With ``sklearn.set_config(array_api_dispatch=True)``, fitting on arrays of another
library trains in that library, on the input's device, and gives NumPy's model
for the same ``random_state`` (the random draws stay on the host): the tests
hold every solver of both estimators, every activation and loss, and the
training options against NumPy's fit. The tolerances are stated next to each
comparison: float64 fits agree to rounding (1e-9 relative or tighter after
training), float32 fits to float32's resolution amplified by training.

array-api-strict is a test dependency (the ``tests`` extra); PyTorch runs where
it is installed, on the CPU; the GPU tests run where CUDA (PyTorch or CuPy) is
present and skip otherwise. scikit-learn's own array API checks
(``check_array_api_input`` and friends) run in ``test_estimator_checks.py``.
"""

import os
import pickle
import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from skbp import BPClassifier, BPRegressor
from skbp._compat import ARRAY_API_SUPPORTED

pytestmark = [
    pytest.mark.skipif(
        not ARRAY_API_SUPPORTED,
        reason=(
            "skbp's array API support needs scikit-learn >= 1.8 (its move_to and "
            f"vendored array-api-compat); this is scikit-learn {sklearn.__version__}"
        ),
    ),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


class Library:
    """Makes arrays of one library on one device, and reads them back."""

    def __init__(self, name, device=None):
        self.name = name
        if name == "array_api_strict":
            self.module = pytest.importorskip("array_api_strict")
            self.device = self.module.Device(device or "device1")
        elif name == "torch":
            self.module = pytest.importorskip("torch")
            if device == "cuda" and not self.module.cuda.is_available():
                pytest.skip("no CUDA GPU here: PyTorch's GPU run skipped")
            self.device = self.module.device(device or "cpu")
        elif name == "cupy":
            self.module = pytest.importorskip(
                "cupy", reason="CuPy is not installed (it needs a CUDA GPU)"
            )
            self.device = None
        self.id = name if device is None else f"{name}-{device}"

    def __call__(self, array, dtype=None):
        array = np.array(array, dtype=dtype, copy=True)
        if self.name == "cupy":
            return self.module.asarray(array)
        return self.module.asarray(array, device=self.device)

    def numpy(self, array):
        if isinstance(array, np.ndarray):
            return array
        if self.name == "array_api_strict":
            return np.asarray(array.to_device(self.module.Device("CPU_DEVICE")))
        if self.name == "torch":
            return array.cpu().numpy()
        return array.get()

    def holds(self, array):
        """Whether ``array`` is an array of this library on this device."""
        if self.name == "array_api_strict":
            return type(array).__module__.startswith("array_api_strict") and (
                array.device == self.device
            )
        if self.name == "torch":
            return isinstance(array, self.module.Tensor) and (
                array.device == self.device
            )
        return isinstance(array, self.module.ndarray)


@pytest.fixture(params=["array_api_strict", "torch"])
def lib(request):
    return Library(request.param)


@pytest.fixture
def strict():
    return Library("array_api_strict")


@pytest.fixture
def dispatch():
    with sklearn.config_context(array_api_dispatch=True):
        yield


def _classification(n_samples=120, n_classes=3, dtype=np.float64):
    X, y = make_classification(
        n_samples, 6, n_informative=4, n_classes=n_classes, random_state=0
    )
    return X.astype(dtype), y


def _regression(n_samples=120, n_targets=2, dtype=np.float64, positive=False):
    X, y = make_regression(n_samples, 6, n_targets=n_targets, noise=1.0, random_state=0)
    if positive:
        y = np.abs(y) / 50.0
    return X.astype(dtype), y.astype(dtype)


#: Relative tolerance of a fitted model against NumPy's, per dtype. Every
#: operation agrees to rounding; training compounds it over the steps.
FIT_RTOL = {np.float64: 1e-9, np.float32: 2e-3}


def _fit_both(lib, make, X, y, fit_kwargs=None, lib_kwargs=None):
    """``(NumPy model, lib model)`` of the same estimator and data."""
    fit_kwargs = fit_kwargs or {}
    reference = make().fit(X, y, **fit_kwargs)
    with sklearn.config_context(array_api_dispatch=True):
        model = make().fit(lib(X), lib(y), **(lib_kwargs or {}))
    return reference, model


def _assert_same_model(lib, reference, model, rtol):
    assert len(model.coefs_) == len(reference.coefs_)
    for ours, theirs in zip(
        [*model.coefs_, *model.intercepts_],
        [*reference.coefs_, *reference.intercepts_],
    ):
        assert lib.holds(ours)
        assert_allclose(lib.numpy(ours), theirs, rtol=rtol, atol=rtol)
    assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=rtol)
    assert model.n_iter_ == reference.n_iter_
    assert model.t_ == reference.t_


def test_scipy_array_api_is_on_for_the_suite():
    # tests/conftest.py sets it before SciPy is imported; without it
    # scikit-learn skips every array API check.
    assert os.environ.get("SCIPY_ARRAY_API") == "1"


# ------------------------------------------------- every solver, both estimators


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_classifier_matches_numpy(lib, solver, dtype):
    X, y = _classification(dtype=dtype)

    def make():
        return BPClassifier(
            (16, 8), solver=solver, learning_rate=0.01, max_iter=15, random_state=0
        )

    reference, model = _fit_both(lib, make, X, y)
    rtol = FIT_RTOL[dtype]
    _assert_same_model(lib, reference, model, rtol)
    with sklearn.config_context(array_api_dispatch=True):
        X_lib = lib(X)
        proba = model.predict_proba(X_lib)
        log_proba = model.predict_log_proba(X_lib)
        labels = model.predict(X_lib)
        score = model.score(X_lib, lib(y))
    for result in (proba, log_proba, labels):
        assert lib.holds(result)
    assert lib.numpy(proba).dtype == dtype
    assert_allclose(lib.numpy(proba), reference.predict_proba(X), rtol=rtol, atol=rtol)
    assert_allclose(
        lib.numpy(log_proba), reference.predict_log_proba(X), rtol=rtol, atol=rtol
    )
    assert_array_equal(lib.numpy(labels), reference.predict(X))
    assert isinstance(score, float)
    assert score == reference.score(X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_regressor_matches_numpy(lib, solver, dtype):
    X, y = _regression(dtype=dtype)

    def make():
        return BPRegressor(
            (16, 8), solver=solver, learning_rate=0.01, max_iter=15, random_state=0
        )

    reference, model = _fit_both(lib, make, X, y)
    rtol = FIT_RTOL[dtype]
    _assert_same_model(lib, reference, model, rtol)
    with sklearn.config_context(array_api_dispatch=True):
        prediction = model.predict(lib(X))
        score = model.score(lib(X), lib(y))
    assert lib.holds(prediction)
    assert lib.numpy(prediction).dtype == dtype
    assert_allclose(lib.numpy(prediction), reference.predict(X), rtol=rtol, atol=rtol)
    assert isinstance(score, float)
    assert score == pytest.approx(reference.score(X, y), rel=rtol)


# ------------------------------------------------- activations, losses, outputs


@pytest.mark.parametrize(
    "activation",
    ["sigmoid", "tanh", "relu", "softsign", "identity", "leaky_relu", "elu",
     "softplus", "gelu"],
)  # fmt: skip
def test_every_activation(strict, activation):
    X, y = _classification()

    def make():
        return BPClassifier(
            (8, 6), activation=activation, max_iter=5, learning_rate=0.01,
            random_state=0,
        )  # fmt: skip

    _assert_same_model(strict, *_fit_both(strict, make, X, y), rtol=1e-9)


@pytest.mark.parametrize(
    "loss", ["squared_error", "poisson", "huber", "absolute_error"]
)
def test_every_regression_loss(lib, loss):
    X, y = _regression(positive=loss == "poisson")

    def make():
        return BPRegressor((8,), loss=loss, max_iter=5, random_state=0)

    _assert_same_model(lib, *_fit_both(lib, make, X, y), rtol=1e-9)


@pytest.mark.parametrize("kind", ["binary", "multilabel", "squared_error"])
def test_classification_outputs(lib, kind):
    X, y = _classification(n_classes=2 if kind == "binary" else 3)
    if kind == "multilabel":
        y = np.column_stack([y == 0, y == 1, X[:, 0] > 0]).astype(np.int64)
    loss = "squared_error" if kind == "squared_error" else "log_loss"

    def make():
        return BPClassifier((8,), loss=loss, max_iter=5, random_state=0)

    reference, model = _fit_both(lib, make, X, y)
    _assert_same_model(lib, reference, model, rtol=1e-9)
    with sklearn.config_context(array_api_dispatch=True):
        X_lib = lib(X)
        for method in ("predict", "predict_proba", "predict_log_proba"):
            result = getattr(model, method)(X_lib)
            assert lib.holds(result)
            assert_allclose(
                lib.numpy(result), getattr(reference, method)(X), rtol=1e-9, atol=1e-12
            )


# ------------------------------------------------------------ training options


OPTIONS = {
    "dropout": ({"dropout": 0.2}, False),
    "sample_weight": ({}, True),
    "class_weight": ({"class_weight": "balanced"}, True),
    "early_stopping": ({"early_stopping": True, "max_iter": 30}, False),
    "early_stopping_on_loss": (
        {"early_stopping": True, "scoring": "loss", "max_iter": 30},
        False,
    ),
    "early_stopping_on_a_scorer": (
        {"early_stopping": True, "scoring": "neg_log_loss", "max_iter": 30},
        False,
    ),
    "nesterov_invscaling": (
        {"solver": "sgd", "learning_rate_schedule": "invscaling", "power_t": 0.3},
        False,
    ),
    "adaptive": (
        {"solver": "sgd", "learning_rate_schedule": "adaptive", "tol": 0.5,
         "n_iter_no_change": 2},
        False,
    ),
    "online": ({"batch_size": 1, "max_iter": 2}, False),
    "no_shuffle": ({"shuffle": False}, False),
}  # fmt: skip


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_training_options_match_numpy(lib, option):
    params, weighted = OPTIONS[option]
    X, y = _classification()
    kwargs = {"max_iter": 10, "learning_rate": 0.01, "random_state": 0, **params}
    sw = np.random.RandomState(0).uniform(0.0, 2.0, X.shape[0]) if weighted else None

    def make():
        return BPClassifier((8,), **kwargs)

    reference, model = _fit_both(
        lib,
        make,
        X,
        y,
        {"sample_weight": sw},
        {"sample_weight": None if sw is None else lib(sw)},
    )
    _assert_same_model(lib, reference, model, rtol=1e-9)
    if "early_stopping" in params:
        assert_allclose(
            model.validation_scores_, reference.validation_scores_, rtol=1e-9
        )
        assert model.best_validation_score_ == pytest.approx(
            reference.best_validation_score_, rel=1e-9
        )


def test_user_validation_set(lib):
    X, y = _regression()
    X_val, y_val = X[:30] + 0.1, y[:30]

    def make():
        return BPRegressor((8,), max_iter=8, random_state=0)

    reference, model = _fit_both(
        lib,
        make,
        X,
        y,
        {"X_val": X_val, "y_val": y_val},
        {"X_val": lib(X_val), "y_val": lib(y_val)},
    )
    _assert_same_model(lib, reference, model, rtol=1e-9)
    assert_allclose(model.validation_scores_, reference.validation_scores_, rtol=1e-9)
    assert_allclose(
        model.validation_loss_curve_, reference.validation_loss_curve_, rtol=1e-9
    )


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_warm_start_continues_in_the_namespace(lib, solver):
    X, y = _classification()
    kwargs = {"max_iter": 4, "random_state": 0, "warm_start": True, "solver": solver}
    reference = BPClassifier((8,), **kwargs).fit(X, y).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        model = BPClassifier((8,), **kwargs).fit(lib(X), lib(y)).fit(lib(X), lib(y))
    _assert_same_model(lib, reference, model, rtol=1e-9)
    if solver == "adam":  # Adam's moments stay on the device between calls
        assert lib.holds(model._optimizer_state["u"])


def test_partial_fit(lib):
    X, y = _regression(n_targets=1)
    X_c, y_c = _classification()
    reg, clf = BPRegressor((8,), random_state=0), BPClassifier((8,), random_state=0)
    reg_lib, clf_lib = (
        BPRegressor((8,), random_state=0),
        BPClassifier((8,), random_state=0),
    )
    for chunk in np.array_split(np.arange(120), 3):
        reg.partial_fit(X[chunk], y[chunk])
        clf.partial_fit(X_c[chunk], y_c[chunk], classes=[0, 1, 2])
        with sklearn.config_context(array_api_dispatch=True):
            reg_lib.partial_fit(lib(X[chunk]), lib(y[chunk]))
            clf_lib.partial_fit(lib(X_c[chunk]), lib(y_c[chunk]), classes=[0, 1, 2])
    _assert_same_model(lib, reg, reg_lib, rtol=1e-9)
    _assert_same_model(lib, clf, clf_lib, rtol=1e-9)


# ------------------------------------------------------------------ the labels


def test_classes_follow_y_and_predictions_follow_X(lib, dispatch):
    X, y = _classification()
    # y in the library: classes_ there too (scikit-learn's rule for array API
    # classifiers); numeric labels are predicted in X's namespace.
    model = BPClassifier((8,), max_iter=3, random_state=0).fit(lib(X), lib(y))
    assert lib.holds(model.classes_)
    assert lib.holds(model.predict(lib(X)))
    # y as a NumPy array: classes_ stays NumPy's, predictions still follow X.
    model = BPClassifier((8,), max_iter=3, random_state=0).fit(lib(X), y)
    assert isinstance(model.classes_, np.ndarray)
    assert lib.holds(model.predict(lib(X)))


def test_string_labels_stay_numpy(lib, dispatch):
    X, y = _classification()
    names = np.array(["ant", "bee", "cat"])[y]
    model = BPClassifier((8,), max_iter=3, random_state=0).fit(lib(X), names)
    assert model.classes_.tolist() == ["ant", "bee", "cat"]
    labels = model.predict(lib(X))
    assert isinstance(labels, np.ndarray) and labels.dtype.kind == "U"
    with sklearn.config_context(array_api_dispatch=False):
        reference = BPClassifier((8,), max_iter=3, random_state=0).fit(X, names)
    assert_array_equal(labels, reference.predict(X))
    assert model.score(lib(X), names) == reference.score(X, names)


def test_mixed_namespaces_follow_X(dispatch):
    # y and sample_weight from another library than X: everything follows X.
    torch_lib = Library("torch")
    strict = Library("array_api_strict")
    X, y = _classification()
    sw = np.linspace(0.5, 1.5, X.shape[0])
    model = BPClassifier((8,), max_iter=3, random_state=0)
    model.fit(torch_lib(X), strict(y), sample_weight=strict(sw))
    assert torch_lib.holds(model.coefs_[0])
    assert strict.holds(model.classes_)
    assert torch_lib.holds(model.predict(torch_lib(X)))
    with sklearn.config_context(array_api_dispatch=False):
        reference = BPClassifier((8,), max_iter=3, random_state=0)
        reference.fit(X, y, sample_weight=sw)
    _assert_same_model(torch_lib, reference, model, rtol=1e-9)


# ----------------------------------------------------------- float32 devices


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_float32_on_a_device_without_float64(solver, estimator, dispatch):
    # array-api-strict's "no_float64" device refuses float64 arrays, like
    # Apple's MPS: training, predicting and scoring must not make one.
    lib = Library("array_api_strict", "no_float64")
    if estimator == "classifier":
        X, y = _classification(dtype=np.float32)
        make = BPClassifier
    else:
        X, y = _regression(dtype=np.float32)
        make = BPRegressor
    options = {} if solver == "lbfgs" else {"early_stopping": True, "dropout": 0.1}
    model = make(
        (8, 4), activation="gelu", solver=solver, max_iter=5, random_state=0,
        **options,
    )  # fmt: skip
    model.fit(lib(X), lib(y), sample_weight=lib(np.ones(len(X)), np.float32))
    assert lib.holds(model.coefs_[0])
    assert model.coefs_[0].dtype == lib.module.float32
    prediction = model.predict(lib(X))
    assert lib.holds(prediction)
    assert isinstance(model.score(lib(X), lib(y)), float)
    if estimator == "classifier":
        assert lib.numpy(model.predict_proba(lib(X))).dtype == np.float32
    else:
        assert lib.numpy(prediction).dtype == np.float32


# --------------------------------------------------------------------- errors


def test_predict_needs_the_namespace_of_fit(strict):
    X, y = _classification()
    with sklearn.config_context(array_api_dispatch=True):
        model = BPClassifier((8,), max_iter=3, random_state=0).fit(strict(X), strict(y))
        for method in ("predict", "predict_proba", "predict_log_proba"):
            with pytest.raises(ValueError, match="must use the same namespace"):
                getattr(model, method)(X)
        other_device = Library("array_api_strict", "device2")
        with pytest.raises(ValueError, match=r"BPClassifier.predict\(\)"):
            model.predict(other_device(X))
    # With dispatch off, a model fitted on another library says how to use it.
    with pytest.raises(ValueError, match="array_api_dispatch=True"):
        model.predict(X)


def test_numpy_model_rejects_other_namespaces(strict, dispatch):
    X, y = _regression()
    model = BPRegressor((8,), max_iter=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="must use the same namespace"):
        model.predict(strict(X))
    assert_allclose(model.predict(X.tolist()), model.predict(X))  # array-likes


def test_validation_set_in_another_namespace_is_an_error(strict, dispatch):
    X, y = _regression()
    with pytest.raises(ValueError, match="X_val must be in the array namespace"):
        BPRegressor((8,), max_iter=3).fit(strict(X), strict(y), X_val=X, y_val=y)


# ------------------------------------------------ moving and saving the model


def test_move_to_numpy_and_keep_training(lib, dispatch):
    from sklearn.utils._array_api import move_estimator_to

    X, y = _classification()
    model = BPClassifier((8,), max_iter=3, random_state=0, warm_start=True)
    model.fit(lib(X), lib(y))
    on_numpy = move_estimator_to(model, np, "cpu")
    assert isinstance(on_numpy.coefs_[0], np.ndarray)
    assert_allclose(
        on_numpy.predict_proba(X), lib.numpy(model.predict_proba(lib(X))), rtol=1e-12
    )
    on_numpy.fit(X, y)  # a warm start from the moved weights, on NumPy
    with sklearn.config_context(array_api_dispatch=False):
        reference = BPClassifier((8,), max_iter=3, random_state=0, warm_start=True)
        reference.fit(X, y).fit(X, y)
    assert_allclose(on_numpy.predict_proba(X), reference.predict_proba(X), rtol=1e-9)


def test_pickle_round_trip(lib, dispatch):
    X, y = _regression()
    model = BPRegressor((8,), max_iter=3, random_state=0).fit(lib(X), lib(y))
    loaded = pickle.loads(pickle.dumps(model))
    assert lib.holds(loaded.coefs_[0])
    assert_allclose(lib.numpy(loaded.predict(lib(X))), lib.numpy(model.predict(lib(X))))


# ----------------------------------------------------------------------- GPU


@pytest.mark.parametrize("name, device", [("torch", "cuda"), ("cupy", None)])
def test_gpu(name, device):
    """Both estimators train and predict on a GPU, as on NumPy (float32)."""
    gpu = Library(name, device)  # skips, with the reason, where there is none
    X, y = _classification(dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for solver in ("adam", "lbfgs"):

            def make(solver=solver):
                return BPClassifier((16,), solver=solver, max_iter=10, random_state=0)

            reference, model = _fit_both(gpu, make, X, y)
            _assert_same_model(gpu, reference, model, rtol=2e-3)
            with sklearn.config_context(array_api_dispatch=True):
                proba = model.predict_proba(gpu(X))
            assert gpu.holds(proba)
            assert_allclose(
                gpu.numpy(proba), reference.predict_proba(X), rtol=2e-3, atol=2e-3
            )


def test_to_mlp_from_a_model_fitted_elsewhere(lib, dispatch):
    X, y = _classification()
    model = BPClassifier((8,), max_iter=3, random_state=0).fit(lib(X), lib(y))
    mlp = model.to_mlp()
    assert isinstance(mlp.coefs_[0], np.ndarray)
    assert_allclose(
        mlp.predict_proba(X), lib.numpy(model.predict_proba(lib(X))), rtol=1e-12
    )


# ------------------------------------------------- the rest of skbp's toolbox


@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_check_gradients_of_a_model_fitted_elsewhere(lib, dispatch, estimator):
    """check_gradients runs on the host in float64 wherever the model lives
    (the regressor's target scaling, moved to the device by fit, included)."""
    from skbp import check_gradients

    if estimator == "classifier":
        X, y = _classification()
        model = BPClassifier((8,), activation="tanh", max_iter=5, random_state=0)
    else:
        X, y = _regression()
        model = BPRegressor((8,), activation="tanh", max_iter=5, random_state=0)
    model.fit(lib(X), lib(y))
    result = check_gradients(model, lib(X), lib(y))
    assert result.max_relative_error < 1e-6
    assert lib.holds(model.coefs_[0])  # the model is left where it was


def test_deepcopy_of_a_model_fitted_elsewhere(lib, dispatch):
    import copy

    X, y = _classification()
    model = BPClassifier((8,), max_iter=3, random_state=0).fit(lib(X), lib(y))
    model.predict(lib(X))  # builds the cached network, which holds the namespace
    copied = copy.deepcopy(model)  # through __getstate__, without the network
    assert lib.holds(copied.coefs_[0])
    assert_array_equal(
        lib.numpy(copied.predict_proba(lib(X))), lib.numpy(model.predict_proba(lib(X)))
    )
    # fit_stream's snapshots deep-copy the attributes, the network included.
    state = copy.deepcopy(vars(model))
    network = state["_network_cache"]
    assert network.namespace is model._network.namespace
    logits = network.logits(model.coefs_, model.intercepts_, lib(X))
    assert_array_equal(
        lib.numpy(logits),
        lib.numpy(model._network.logits(model.coefs_, model.intercepts_, lib(X))),
    )


def test_fit_stream_trains_in_the_namespace(lib, dispatch):
    from skbp import fit_stream

    X, y = _classification(n_samples=300)
    kwargs = dict(epochs=3, chunk_size=100, classes=np.arange(3), random_state=0)
    model = fit_stream(BPClassifier((8,), random_state=0), lib(X), lib(y), **kwargs)
    assert lib.holds(model.coefs_[0])
    with sklearn.config_context(array_api_dispatch=False):
        reference = fit_stream(BPClassifier((8,), random_state=0), X, y, **kwargs)
    _assert_same_model(lib, reference, model, rtol=1e-9)


@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_to_onnx_of_a_model_fitted_elsewhere(lib, dispatch, estimator):
    """ONNX export reads host copies of the parameters and labels."""
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    from skbp import to_onnx

    if estimator == "classifier":
        X, y = _classification(dtype=np.float32)
        make = BPClassifier
    else:
        X, y = _regression(dtype=np.float32)
        make = BPRegressor
    model = make((8,), max_iter=5, random_state=0).fit(lib(X), lib(y))
    onx = to_onnx(model, X[:1])
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    outputs = session.run(None, {session.get_inputs()[0].name: X})
    if estimator == "classifier":
        labels, proba = outputs
        assert_array_equal(labels, lib.numpy(model.predict(lib(X))))
        expected = lib.numpy(model.predict_proba(lib(X)))
        assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    else:
        expected = lib.numpy(model.predict(lib(X)))
        # float32 rounding, relative to the targets' scale (about 100).
        atol = 1e-6 * np.abs(expected).max()
        assert_allclose(outputs[0].reshape(expected.shape), expected, atol=atol)


# scikit-learn's StandardScaler.fit divides by zero variance in its first
# incremental step on array-api-strict (its own warning, not skbp's).
@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")
def test_in_pipeline_grid_search_and_cross_validation(lib, dispatch):
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _classification(n_samples=150)
    X_lib, y_lib = lib(X), lib(y)
    pipe = make_pipeline(StandardScaler(), BPClassifier((8,), max_iter=5))
    assert lib.holds(pipe.fit(X_lib, y_lib).predict(X_lib))
    assert lib.holds(pipe[-1].coefs_[0])
    scores = cross_val_score(BPClassifier((8,), max_iter=5), X_lib, y_lib, cv=3)
    assert len(scores) == 3
    search = GridSearchCV(
        BPClassifier((8,), max_iter=5, random_state=0),
        {"learning_rate": [0.01, 0.001]},
        cv=3,
    ).fit(X_lib, y_lib)
    assert lib.holds(search.best_estimator_.coefs_[0])
