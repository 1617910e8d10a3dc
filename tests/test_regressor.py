"""Estimator behaviour of BPRegressor: shapes, target scaling, losses, training.

What only the regressor has; behaviour shared with BPClassifier and tested on
both lives in its own file (see tests/README.md).

Expected values come from independent computations (numpy forward passes,
``sklearn.metrics``, closed-form statistics, refits on transformed data), never
from the estimator's own output alone.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import mean_poisson_deviance, r2_score

import skbp
from skbp import BPRegressor

LOSSES = ["squared_error", "poisson", "huber", "absolute_error"]
IDENTITY_LOSSES = ["squared_error", "huber", "absolute_error"]
SOLVERS = ["adam", "sgd", "lbfgs"]


def _fast(**params):
    """A small regressor (L-BFGS unless told otherwise)."""
    defaults = dict(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    defaults.update(params)
    return BPRegressor(**defaults)


def _relu(z):
    return np.maximum(z, 0.0)


def _forward(coefs, intercepts, X, hidden=_relu, output=lambda z: z):
    """The network's forward pass written out with numpy."""
    a = X
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        a = hidden(a @ W + b)
    return output(a @ coefs[-1] + intercepts[-1])


def _targets_for(loss, y):
    """``y`` made valid for ``loss``: non-negative counts-like values for poisson."""
    if loss == "poisson":
        return np.exp((y - y.mean()) / (2 * y.std()))
    return y


# ------------------------------------------------------------------ shapes


@pytest.mark.parametrize("n_outputs", [None, 1, 3], ids=["1d", "n_by_1", "n_by_3"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_predict_has_the_shape_of_y(
    multi_output_data, n_outputs, solver, no_convergence_warning
):
    X, Y = multi_output_data
    y = Y[:, 0] if n_outputs is None else Y[:, :n_outputs]
    with warnings.catch_warnings():
        # A column vector is a valid multi-output target, not a conversion.
        warnings.simplefilter("error", DataConversionWarning)
        reg = _fast(solver=solver, max_iter=20).fit(X, y)
        pred = reg.predict(X)
    assert pred.shape == y.shape
    assert reg.n_outputs_ == (1 if n_outputs is None else n_outputs)
    assert reg.predict(X[:1]).shape == (1, *y.shape[1:])
    assert [c.shape for c in reg.coefs_] == [(4, 8), (8, reg.n_outputs_)]
    assert reg.out_activation_ == "identity"
    assert reg.n_layers_ == 3


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_column_vector_y_fits_like_1d_y(
    regression_data, solver, no_convergence_warning
):
    X, y = regression_data
    flat = _fast(solver=solver, max_iter=20).fit(X, y)
    column = _fast(solver=solver, max_iter=20).fit(X, y[:, None])
    assert_array_equal(column.predict(X)[:, 0], flat.predict(X))
    assert column.loss_curve_ == flat.loss_curve_


@pytest.mark.parametrize("multi_output", [False, True])
def test_score_is_r2(multi_output_data, multi_output, no_convergence_warning):
    X, Y = multi_output_data
    y = Y if multi_output else Y[:, 0]
    reg = _fast(max_iter=15).fit(X, y)
    pred = reg.predict(X)
    assert reg.score(X, y) == pytest.approx(r2_score(y, pred), rel=1e-12)
    sw = np.random.RandomState(0).uniform(0.1, 3.0, size=len(y))
    expected = r2_score(y, pred, sample_weight=sw)
    assert reg.score(X, y, sample_weight=sw) == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(r2_score(y, pred), rel=1e-6)  # weights matter


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_and_solver_fits(
    friedman, loss, solver, seed, no_convergence_warning
):
    X, y = friedman
    y = _targets_for(loss, y)
    reg = _fast(
        loss=loss,
        solver=solver,
        max_iter=30,
        learning_rate=0.01,
        batch_size=20,
        random_state=seed,
    )
    reg.fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == y.shape
    assert np.all(np.isfinite(pred))
    assert np.all(np.isfinite(reg.loss_curve_))
    assert reg.out_activation_ == ("exp" if loss == "poisson" else "identity")
    # Training did something useful: better than predicting the mean.
    assert reg.score(X, y) > 0.3
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


def test_dataframe_feature_names(multi_output_data):
    pd = pytest.importorskip("pandas")
    X, Y = multi_output_data
    columns = ["a", "b", "c", "d"]
    df = pd.DataFrame(X, columns=columns)
    targets = pd.DataFrame(Y[:, :2], columns=["u", "v"])
    # (Adam, few epochs: a DataFrame's F-ordered values round differently, which
    # a long L-BFGS run would amplify.)
    params = dict(solver="adam", max_iter=5, learning_rate=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = _fast(**params).fit(df, targets)
        expected = _fast(**params).fit(X, Y[:, :2]).predict(X)
    assert_array_equal(reg.feature_names_in_, columns)
    pred = reg.predict(df)
    assert isinstance(pred, np.ndarray) and pred.shape == (80, 2)
    assert_allclose(pred, expected, rtol=1e-10)
    with pytest.raises(ValueError, match="feature names"):
        reg.predict(df[columns[::-1]])
    # A Series target gives 1-D predictions.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = _fast(**params).fit(df, pd.Series(Y[:, 0], name="y"))
    assert reg.predict(df).shape == (80,)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_hidden_activations_match_a_manual_forward_pass(
    friedman, activation, no_convergence_warning
):
    X, y = friedman
    reg = _fast(hidden_layer_sizes=(7, 5), activation=activation, max_iter=20)
    reg.fit(X, y)
    f = _relu if activation == "relu" else np.tanh
    first = f(X @ reg.coefs_[0] + reg.intercepts_[0])
    second = f(first @ reg.coefs_[1] + reg.intercepts_[1])
    assert_allclose(reg.hidden_activations(X, layer=0), first, rtol=1e-12)
    assert_allclose(reg.hidden_activations(X), second, rtol=1e-12)
    assert_allclose(reg.hidden_activations(X, layer=-2), first, rtol=1e-12)
    with pytest.raises(ValueError, match="out of range"):
        reg.hidden_activations(X, layer=2)


@pytest.mark.parametrize("normalize_y", [True, False])
@pytest.mark.parametrize("loss", LOSSES)
def test_predict_is_the_manual_forward_pass(
    friedman, multi_output_data, loss, normalize_y, no_convergence_warning
):
    """relu hidden layers, identity output (exp for poisson), in fitted units."""
    output = np.exp if loss == "poisson" else (lambda z: z)
    for X, y in (friedman, multi_output_data):
        y = np.abs(y) if loss == "poisson" else y
        reg = _fast(
            hidden_layer_sizes=(6, 5), loss=loss, normalize_y=normalize_y, max_iter=15
        ).fit(X, y)
        expected = _forward(reg.coefs_, reg.intercepts_, X, output=output)
        assert_allclose(reg.predict(X), expected.reshape(y.shape), rtol=1e-10)


def test_no_hidden_layer_is_a_linear_model(regression_data):
    X, y = regression_data
    reg = _fast(hidden_layer_sizes=(), alpha=0.0, tol=1e-12, max_iter=500).fit(X, y)
    assert len(reg.coefs_) == 1 and reg.n_layers_ == 2
    # Least squares with an intercept, solved directly.
    design = np.column_stack([X, np.ones(len(y))])
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    # (L-BFGS-B stops on its relative loss decrease, ~1e-9, not on exactness.)
    assert_allclose(reg.coefs_[0][:, 0], solution[:-1], rtol=1e-3)
    assert_allclose(reg.intercepts_[0], solution[-1:], rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match="no hidden layers"):
        reg.hidden_activations(X)


# --------------------------------------------------------------- normalize_y


# The scaled targets of y and a * y + b differ by rounding (~1e-16), which the
# minibatch solvers carry along (measured 1e-14 after 25 epochs) and L-BFGS's
# line searches amplify (1e-12 after 25 iterations, over 20 seeds): 15 L-BFGS
# iterations keep the comparison at 1e-10 with a margin of 1000.
_ITERS = {"adam": 25, "sgd": 25, "lbfgs": 15}


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("loss", IDENTITY_LOSSES)
def test_normalize_y_makes_fits_invariant_to_affine_targets(
    friedman, loss, solver, seed, no_convergence_warning
):
    """Fitting a * y + b gives a * pred + b: the network sees the same targets."""
    X, y = friedman
    a, b = 37.5, -1234.0
    params = dict(
        loss=loss,
        solver=solver,
        max_iter=_ITERS[solver],
        learning_rate=0.01,
        random_state=seed,
    )
    plain = _fast(**params).fit(X, y)
    moved = _fast(**params).fit(X, a * y + b)
    expected = a * plain.predict(X) + b
    assert_allclose(moved.predict(X), expected, rtol=1e-10)
    # The training loss is measured on the scaled targets, so it is the same.
    assert_allclose(moved.loss_curve_, plain.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
def test_normalize_y_makes_poisson_fits_invariant_to_scale(
    counts, solver, seed, no_convergence_warning
):
    X, y = counts
    params = dict(
        loss="poisson",
        solver=solver,
        max_iter=_ITERS[solver],
        learning_rate=0.01,
        random_state=seed,
    )
    plain = _fast(**params).fit(X, y)
    scaled = _fast(**params).fit(X, 250.0 * y)
    assert_allclose(scaled.predict(X), 250.0 * plain.predict(X), rtol=1e-10)
    assert_allclose(scaled.loss_curve_, plain.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
def test_without_normalize_y_a_shift_changes_the_fit(
    friedman, solver, seed, no_convergence_warning
):
    """The invariance above is the scaling's doing: unscaled, a shift matters."""
    X, y = friedman
    shift = 1000.0
    params = dict(
        solver=solver, max_iter=_ITERS[solver], learning_rate=0.01, random_state=seed
    )
    for normalize_y in (True, False):
        plain = _fast(normalize_y=normalize_y, **params).fit(X, y)
        moved = _fast(normalize_y=normalize_y, **params).fit(X, y + shift)
        gap = np.max(np.abs(moved.predict(X) - (plain.predict(X) + shift)))
        if normalize_y:
            assert gap < 1e-9 * shift
            assert_allclose(moved.loss_curve_, plain.loss_curve_, rtol=1e-10)
        else:
            # The network sees the raw targets: ~1000^2 / 2 against ~15^2 / 2.
            assert moved.loss_curve_[0] > 100 * plain.loss_curve_[0]
            if solver != "lbfgs":
                # Steps of a fixed size do not cross the shift in 25 epochs
                # (L-BFGS's line search may, so its predictions can agree).
                assert gap > 0.1 * np.std(y)


def test_normalize_y_improves_diabetes(diabetes, seed, no_convergence_warning):
    """The trap the parameter exists for: targets in the hundreds, raw."""
    X, y = diabetes
    X, y = X[:120], y[:120]
    params = dict(
        hidden_layer_sizes=(16,), solver="adam", max_iter=100, random_state=seed
    )
    scaled = _fast(learning_rate=0.01, **params).fit(X, y)
    raw = _fast(learning_rate=0.01, normalize_y=False, **params).fit(X, y)
    assert scaled.score(X, y) > 0.3  # measured: > 0.38 over 30 seeds
    assert raw.score(X, y) < 0.0


def test_normalize_y_statistics_are_weighted(multi_output_data):
    X, Y = multi_output_data
    sw = np.random.RandomState(0).uniform(0.0, 3.0, size=len(Y))
    reg = _fast(max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, Y, sample_weight=sw)
    scale, shift = reg._logit_affine()
    mean = (sw @ Y) / sw.sum()
    std = np.sqrt((sw @ (Y - mean) ** 2) / sw.sum())
    assert_allclose(shift, mean, rtol=1e-12)
    assert_allclose(scale, std, rtol=1e-12)
    assert not np.allclose(shift, Y.mean(axis=0), rtol=1e-3)


# Both objectives are the same function up to the order of the sums; after ~35
# L-BFGS iterations the rounding differences can grow into a visibly different
# path (measured over 10 seeds: loss curves equal to 1e-9 up to iteration 35,
# predictions to 1e-8 after 40), so thirty iterations compare the same path.
_EQUIVALENCE_PARAMS = dict(solver="lbfgs", max_iter=30, tol=1e-10)


@pytest.mark.parametrize("loss", ["squared_error", "poisson", "huber"])
def test_zero_sample_weight_equals_removal_lbfgs(
    friedman, loss, seed, no_convergence_warning
):
    """Zero-weight rows change neither the target statistics nor the loss."""
    X, y = friedman
    y = _targets_for(loss, y)
    rng = np.random.RandomState(0)
    sw = rng.uniform(0.5, 2.0, size=len(y))
    sw[rng.rand(len(y)) < 0.3] = 0.0
    y_far = y.copy()
    y_far[sw == 0] *= 50.0  # would move the mean and std if they were counted
    keep = sw > 0
    params = dict(loss=loss, random_state=seed, **_EQUIVALENCE_PARAMS)
    weighted = _fast(**params).fit(X, y_far, sample_weight=sw)
    removed = _fast(**params).fit(X[keep], y[keep], sample_weight=sw[keep])
    assert_allclose(weighted.loss_curve_, removed.loss_curve_, rtol=1e-8)
    assert_allclose(weighted.predict(X), removed.predict(X), rtol=1e-6)


def test_integer_sample_weight_equals_repetition_lbfgs(
    friedman, seed, no_convergence_warning
):
    X, y = friedman
    sw = np.random.RandomState(1).randint(1, 4, size=len(y))
    params = dict(random_state=seed, **_EQUIVALENCE_PARAMS)
    weighted = _fast(**params).fit(X, y, sample_weight=sw)
    repeated = _fast(**params).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-6)


CONSTANTS = [0.1, 3.0, -7.3, 1e6 + 0.1, 0.0]


@pytest.mark.parametrize(
    "loss, value",
    [("squared_error", v) for v in CONSTANTS]
    + [("huber", v) for v in CONSTANTS]
    + [("poisson", v) for v in CONSTANTS if v >= 0],
)
def test_constant_target(regression_data, loss, value, seed):
    """A constant column is centred only: no division by a zero (or by rounding
    noise: the mean of repeated 0.1 misses 0.1 by an ulp)."""
    X, _ = regression_data
    y = np.full(len(X), value)
    Y = np.column_stack([y, np.abs(X[:, 0])])  # a constant and a varying column
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no 0/0 or x/0
        warnings.simplefilter("ignore", ConvergenceWarning)
        params = dict(loss=loss, max_iter=200, tol=1e-8, random_state=seed)
        reg = _fast(**params).fit(X, y)
        multi = _fast(**params).fit(X, Y)
    # The network learns a constant (0 in training units: y - value, or 1 for
    # poisson's y / value) to a few 1e-3 (measured over 10 seeds), and to a few
    # 1e-2 when it shares its hidden units with a varying output.
    tol = dict(rtol=1e-2, atol=1e-2) if loss == "poisson" else dict(atol=1e-2)
    assert_allclose(reg.predict(X), value, **tol)
    tol = {name: 10 * t for name, t in tol.items()}
    assert_allclose(multi.predict(X)[:, 0], value, **tol)
    scale, shift = reg._logit_affine()
    assert_array_equal(scale, [1.0])
    if loss != "poisson":
        assert_allclose(shift, [value], rtol=1e-15)
        assert multi._logit_affine()[0][0] == 1.0
        varying = Y[:, 1]
        if loss in ("huber", "absolute_error"):  # median absolute deviation
            expected = 1.482602218505602 * np.median(
                np.abs(varying - np.median(varying))
            )
        else:
            expected = np.std(varying)
        assert multi._logit_affine()[0][1] == pytest.approx(expected)
    # The network trained towards 0 (the centred constant): a tiny loss.
    assert reg.loss_ < 1e-3


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_multi_output_columns_are_each_standardised(friedman, solver, seed):
    X, y = friedman
    Y = np.column_stack([1e-3 * y, 1e5 * X[:, 0] * X[:, 1] + 1e6])
    params = dict(
        hidden_layer_sizes=(16,),
        solver=solver,
        learning_rate=0.01,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scaled = _fast(max_iter=300, **params).fit(X, Y)
        raw = _fast(max_iter=300, normalize_y=False, **params).fit(X, Y)
    scale, shift = scaled._logit_affine()
    assert_allclose(scale, Y.std(axis=0), rtol=1e-12)
    assert_allclose(shift, Y.mean(axis=0), rtol=1e-12)
    r2_scaled = r2_score(Y, scaled.predict(X), multioutput="raw_values")
    r2_raw = r2_score(Y, raw.predict(X), multioutput="raw_values")
    assert np.all(r2_scaled > 0.8)  # measured: > 0.84 over 10 seeds
    # Unscaled, the small column is drowned by the large one.
    assert r2_raw[0] < 0.0


# -------------------------------------------------------------------- losses


def _outlier_data():
    """A clean line, 6 of 200 targets moved up by 1000, and clean test points."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(200, 1))
    y = 3.0 * X[:, 0] + 1.0 + 0.1 * rng.randn(200)
    y[rng.choice(200, 6, replace=False)] += 1000.0
    X_test = np.linspace(-2, 2, 50)[:, None]
    return X, y, X_test, 3.0 * X_test[:, 0] + 1.0


@pytest.mark.parametrize(
    "hidden_layer_sizes, activation", [((), "relu"), ((8,), "relu"), ((4,), "tanh")]
)
def test_huber_is_robust_to_outliers(
    hidden_layer_sizes, activation, seed, no_convergence_warning
):
    X, y, X_test, y_test = _outlier_data()
    params = dict(
        hidden_layer_sizes=hidden_layer_sizes,
        activation=activation,
        max_iter=500,
        random_state=seed,
    )

    def median_error(**loss_params):
        reg = _fast(**params, **loss_params).fit(X, y)
        return np.median(np.abs(reg.predict(X_test) - y_test))

    # Squared error fits the mean: 6 / 200 * 1000 = 30 above the clean line
    # (less where a hidden layer bends towards single outliers: > 13 measured).
    assert median_error(loss="squared_error") > 10.0
    # With normalize_y, huber_delta is in robust standard deviations of y (its
    # scaled median absolute deviation, ~4.4 here, which the outliers do not
    # inflate as they do the standard deviation, ~170): each outlier pulls
    # with ~4.4, which shifts the clean points by ~0.03 * 4.4 ~ 0.13 (0.15 at
    # most, measured over 10 seeds).
    assert median_error(loss="huber") < 0.5
    # In the targets' own units a threshold of 1 pulls with 1: ~0.03.
    assert median_error(loss="huber", normalize_y=False) < 0.1


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_absolute_error_estimates_the_median(solver, seed, no_convergence_warning):
    rng = np.random.RandomState(0)
    y = rng.exponential(size=301)  # skewed: median log 2 ~ 0.69, mean ~ 1
    X = np.ones((301, 1))
    median, mean = np.median(y), np.mean(y)
    assert mean - median > 0.25
    params = dict(hidden_layer_sizes=(), loss="absolute_error", random_state=seed)
    if solver == "adam":
        # Full batches and a fixed number of epochs: subgradient steps of about
        # learning_rate then circle the median (within 1e-3 over 20 seeds).
        params.update(
            solver="adam",
            learning_rate=0.01,
            batch_size=301,
            tol=0.0,
            n_iter_no_change=np.inf,
            max_iter=500,
        )
    reg = _fast(**params).fit(X, y)
    assert abs(reg.predict(X[:1])[0] - median) < 0.1 * (mean - median)
    squared = _fast(hidden_layer_sizes=()).fit(X, y)
    assert squared.predict(X[:1])[0] == pytest.approx(mean, rel=1e-4)


def test_poisson_predictions_are_positive(counts, seed, no_convergence_warning):
    X, y = counts
    reg = _fast(loss="poisson", max_iter=50, random_state=seed).fit(X, y)
    assert reg.out_activation_ == "exp"
    far = np.vstack([X, 50 * X, -50 * X])
    assert np.all(reg.predict(far) > 0)
    assert reg.score(X, y) > 0.3


def test_poisson_rejects_negative_targets(counts, no_convergence_warning):
    X, y = counts
    y_bad = y.copy()
    y_bad[3] = -1.0
    reg = _fast(loss="poisson")
    with pytest.raises(ValueError, match="negative.*poisson"):
        reg.fit(X, y_bad)
    assert not hasattr(reg, "coefs_")
    with pytest.raises(ValueError, match="poisson"):
        _fast(loss="poisson", solver="adam").partial_fit(X, y_bad)
    with pytest.raises(ValueError, match="y_val.*poisson"):
        _fast(loss="poisson", solver="adam", max_iter=2).fit(X, y, X_val=X, y_val=y_bad)
    # Zeros are fine.
    _fast(loss="poisson", max_iter=5).fit(X, np.where(y > 1, y, 0.0))


@pytest.mark.parametrize("normalize_y", [True, False])
def test_poisson_loss_is_half_the_deviance(counts, normalize_y, no_convergence_warning):
    """loss_ is scikit-learn's mean Poisson deviance / 2 on the trained targets
    (divided by their mean with normalize_y; alpha=0 leaves no penalty)."""
    X, y = counts
    reg = _fast(loss="poisson", alpha=0.0, normalize_y=normalize_y, max_iter=500)
    reg.fit(X, y)
    m = y.mean() if normalize_y else 1.0
    expected = mean_poisson_deviance(y / m, reg.predict(X) / m) / 2
    assert reg.loss_ == pytest.approx(expected, rel=1e-9)
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    reg.fit(X, y, sample_weight=sw)
    m = np.average(y, weights=sw) if normalize_y else 1.0
    expected = mean_poisson_deviance(y / m, reg.predict(X) / m, sample_weight=sw) / 2
    assert reg.loss_ == pytest.approx(expected, rel=1e-9)


def test_squared_error_loss_is_half_the_mse(friedman, no_convergence_warning):
    X, y = friedman
    reg = _fast(alpha=0.0, normalize_y=False, max_iter=500).fit(X, y)
    assert reg.loss_ == pytest.approx(np.mean((reg.predict(X) - y) ** 2) / 2, rel=1e-9)


def test_huge_huber_delta_equals_squared_error(friedman, seed, no_convergence_warning):
    """Beyond every residual the Huber loss is the half squared error."""
    X, y = friedman
    # normalize_y=False: the robust losses scale the target by its median
    # absolute deviation, the squared error by its standard deviation.
    params = dict(
        solver="adam",
        max_iter=20,
        learning_rate=0.01,
        normalize_y=False,
        random_state=seed,
    )
    squared = _fast(**params).fit(X, y)
    huber = _fast(loss="huber", huber_delta=1e6, **params).fit(X, y)
    assert_allclose(huber.predict(X), squared.predict(X), rtol=1e-12)
    assert_allclose(huber.loss_curve_, squared.loss_curve_, rtol=1e-12)
    # A small delta clips the residuals and gives another model.
    small = _fast(loss="huber", huber_delta=0.1, **params).fit(X, y)
    assert not np.allclose(small.predict(X), squared.predict(X), rtol=1e-3)


# ---------------------------------------------------------------- divergence


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_divergence_warns_and_keeps_finite_weights(friedman, solver):
    X, y = friedman
    reg = _fast(solver=solver, learning_rate=1e3, max_iter=50, momentum=0.9)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        reg.fit(X, y)
    assert reg.n_iter_ < 50
    assert np.all(np.isfinite(reg.loss_curve_))
    assert all(np.all(np.isfinite(c)) for c in reg.coefs_ + reg.intercepts_)
    assert np.all(np.isfinite(reg.predict(X)))


def test_divergence_message_quotes_the_starting_loss(friedman):
    X, y = friedman
    # Full batches, no momentum, no shuffling: the first epoch's loss is the loss
    # at the initial weights; a step of 5 diverges in the third epoch.
    reg = _fast(
        solver="sgd",
        learning_rate=5.0,
        momentum=0.0,
        batch_size=len(y),
        shuffle=False,
        max_iter=50,
    )
    with pytest.warns(ConvergenceWarning, match="diverged") as record:
        reg.fit(X, y)
    message = str(record[0].message)
    assert f"{reg.loss_curve_[0]:.3g} at the start" in message
    assert "more than 100 times its lowest value so far" in message


# -------------------------------------------------- L-BFGS, multi-output


@pytest.mark.parametrize("weighted", [False, True])
def test_lbfgs_multi_output_gradient_and_loss(multi_output_data, weighted):
    """L-BFGS gets a loss and a gradient of the same function for several outputs.

    The objective by hand: half the squared error on the standardised targets,
    summed over outputs, weighted mean over samples, plus alpha / 2 * sum ||W||^2
    / sum(weights) on the weights in training units.
    """
    X, Y = multi_output_data
    Y = Y * [1.0, 100.0, 0.01] + [0.0, 5.0, -3.0]
    sw = np.random.RandomState(0).uniform(0.2, 2.0, len(Y)) if weighted else None
    reg = _fast(hidden_layer_sizes=(6, 5), activation="tanh", alpha=0.3, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, Y, sample_weight=sw)
    check = skbp.check_gradients(reg, X, Y, sample_weight=sw)
    assert check.max_relative_error < 1e-6

    w = np.ones(len(Y)) if sw is None else sw
    mean = (w @ Y) / w.sum()
    std = np.sqrt((w @ (Y - mean) ** 2) / w.sum())
    scale, shift = reg._logit_affine()
    assert_allclose(scale, std, rtol=1e-12)
    predicted = (reg.predict(X) - mean) / std  # in training units
    data = w @ (0.5 * np.sum((predicted - (Y - mean) / std) ** 2, axis=1)) / w.sum()
    weights = [*reg.coefs_[:-1], reg.coefs_[-1] / std]  # unfold the output layer
    penalty = 0.5 * reg.alpha * sum(np.sum(W**2) for W in weights) / w.sum()
    assert reg.loss_ == pytest.approx(data + penalty, rel=1e-10)
    assert penalty > 0.1 * data  # the penalty term is really being checked


# ------------------------------------------------ robust scaling of the target


def test_weighted_median_is_numpys_median_and_repetition():
    from skbp._regressor import _weighted_median

    rng = np.random.RandomState(0)
    for n in (1, 2, 7, 10):
        Y = rng.randn(n, 3)
        assert_allclose(_weighted_median(Y, None), np.median(Y, axis=0))
        assert_allclose(_weighted_median(Y, np.ones(n)), np.median(Y, axis=0))
        counts = rng.randint(0, 4, size=n)
        counts[0] = max(counts[0], 1)
        repeated = np.repeat(Y, counts, axis=0)
        assert_allclose(
            _weighted_median(Y, counts.astype(float)), np.median(repeated, axis=0)
        )


@pytest.mark.parametrize("loss", ["huber", "absolute_error"])
def test_robust_losses_scale_the_target_by_median_and_mad(loss, no_convergence_warning):
    X, y, _, _ = _outlier_data()
    clean = y < 500.0
    reg = _fast(loss=loss, max_iter=5).fit(X, y)
    scale, shift = reg._logit_affine()
    # The outliers (3% of the rows, +1000) move neither the median nor the
    # median absolute deviation much; they would multiply the std by ~40.
    assert_allclose(shift, [np.median(y)])
    mad = np.median(np.abs(y - np.median(y)))
    assert_allclose(scale, [1.482602218505602 * mad])
    assert scale[0] < 1.2 * 1.482602218505602 * np.median(
        np.abs(y[clean] - np.median(y[clean]))
    )
    assert scale[0] < np.std(y) / 20
    squared = _fast(max_iter=5).fit(X, y)
    assert_allclose(squared._logit_affine()[0], [np.std(y)])
