"""float32 and float64 end to end, on both estimators.

A model fitted on float32 data keeps float32 parameters and predicts float32,
whatever the dtype of the data it predicts on; it trains like the float64 model
to float32 precision. Other float32 input forms (memory maps, big-endian) are in
``test_odd_inputs.py``, the numeric core's dtypes in its unit tests.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier, BPRegressor

# The fits here under-train on purpose.
pytestmark = pytest.mark.usefixtures("no_convergence_warning")

CASES = [(BPClassifier, "multiclass_data"), (BPRegressor, "regression_data")]


def _small(estimator_class, **params):
    return estimator_class(hidden_layer_sizes=(8,), random_state=0, **params)


def _outputs(model, X):
    """What a user reads: probabilities (classifier) or predictions."""
    if isinstance(model, BPClassifier):
        return model.predict_proba(X)
    return model.predict(X)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize(
    "estimator_class, data", CASES, ids=["classifier", "regressor"]
)
def test_dtype_preserved(request, estimator_class, data, solver, dtype):
    X, y = request.getfixturevalue(data)
    X = X.astype(dtype)
    model = _small(estimator_class, solver=solver, max_iter=20).fit(X, y)
    for array in model.coefs_ + model.intercepts_:
        assert array.dtype == dtype
    assert _outputs(model, X).dtype == dtype
    if estimator_class is BPClassifier:
        assert model.predict_log_proba(X).dtype == dtype
    # Prediction input of the other dtype does not change the model's dtype.
    other = np.float64 if dtype == np.float32 else np.float32
    assert _outputs(model, X.astype(other)).dtype == dtype
    assert _outputs(model, X.astype(other)).shape == _outputs(model, X).shape
    assert all(np.isfinite(model.loss_curve_))
    assert isinstance(model.loss_, float)


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
@pytest.mark.parametrize(
    "estimator_class, data",
    [(BPClassifier, "multiclass_data"), (BPRegressor, "friedman")],
    ids=["classifier", "regressor"],
)
def test_float32_close_to_float64(request, estimator_class, data, solver):
    X, y = request.getfixturevalue(data)
    params = dict(solver=solver, max_iter=10, learning_rate=0.01)
    if estimator_class is BPClassifier:
        X = StandardScaler().fit_transform(X)
        tolerance = dict(atol=1e-3)  # on probabilities
    else:
        tolerance = dict(rtol=1e-3, atol=1e-3 * np.std(y))
    out64 = _outputs(_small(estimator_class, **params).fit(X, y), X)
    out32 = _outputs(_small(estimator_class, **params).fit(X.astype(np.float32), y), X)
    assert_allclose(out32, out64, **tolerance)
