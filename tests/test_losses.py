"""Unit tests for skbp._core.losses: output functions, per-sample losses, deltas."""

from functools import partial

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.neural_network import _base as sklearn_mlp_losses

from skbp._core.losses import (
    CLASSIFICATION_LOSSES,
    OUTPUT_LOSSES,
    REGRESSION_LOSSES,
    output_function_for,
    regression_output_for,
)
from skbp._core.namespace import NUMPY_OPS as OPS
from skbp._core.outputs import (
    CLASSIFIER_OUTPUTS,
    OUTPUT_FUNCTIONS,
    class_indices,
    class_log_probabilities,
    class_probabilities,
    classifier_output_kind,
    identity,
    log_logistic,
    log_softmax,
    logistic,
    softmax,
)

#: Huber threshold used throughout; residuals are drawn on both sides of it.
THRESHOLD = 0.8
#: Keyword arguments of a pair's loss function (what ``Network(loss_params=...)``
#: passes); pairs not listed take none.
PARAMS = {("huber", "identity"): {"threshold": THRESHOLD}}
#: Pairs whose output is bounded (or linear), so extreme logits give finite losses.
#: The log link is not: exp(1000) overflows, as the predicted mean itself would.
UNBOUNDED_OUTPUTS = {"exp"}


def _loss_fn(pair):
    """The loss-and-delta function of a pair with ``ops`` and its keyword
    arguments bound: ``fn(z, Y, out=None) -> (per-sample loss, delta)``."""
    return partial(OUTPUT_LOSSES[pair], OPS, **PARAMS.get(pair, {}))


def _loss(pair, z, Y):
    """The per-sample loss alone (the delta goes to a scratch buffer)."""
    return _loss_fn(pair)(z, Y, np.empty_like(z))[0]


def _softmax_cross_entropy(z, Y):
    # -sum_k Y_k log p_k with p = softmax(z), computed naively (moderate z only).
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -(Y * np.log(p)).sum(axis=1)


def _logistic_cross_entropy(z, Y):
    # -Y log p - (1 - Y) log(1 - p), summed over outputs, p = 1 / (1 + exp(-z)).
    p = 1.0 / (1.0 + np.exp(-z))
    return -(Y * np.log(p) + (1.0 - Y) * np.log(1.0 - p)).sum(axis=1)


def _logistic_half_squared_error(z, Y):
    # 0.5 * sum_k (Y_k - a_k)^2 with a = 1 / (1 + exp(-z)).
    a = 1.0 / (1.0 + np.exp(-z))
    return 0.5 * ((Y - a) ** 2).sum(axis=1)


def _identity_half_squared_error(z, Y):
    # 0.5 * sum_k (z_k - Y_k)^2: the identity output is the prediction.
    return 0.5 * ((z - Y) ** 2).sum(axis=1)


def _exp_half_poisson_deviance(z, Y):
    # sum_k Y log(Y / mu) - Y + mu with mu = exp(z) and 0 log 0 = 0, as written
    # in textbooks (through mu, not from the logit).
    mu = np.exp(z)
    positive = Y > 0
    y_log_y_over_mu = np.zeros_like(Y)
    y_log_y_over_mu[positive] = Y[positive] * np.log(Y[positive] / mu[positive])
    return (y_log_y_over_mu - Y + mu).sum(axis=1)


def _identity_huber(z, Y, threshold):
    # r^2 / 2 for |r| <= t, t (|r| - t / 2) beyond, summed over outputs.
    r = np.abs(z - Y)
    quadratic = 0.5 * r**2
    linear = threshold * (r - 0.5 * threshold)
    return np.where(r <= threshold, quadratic, linear).sum(axis=1)


def _identity_absolute_error(z, Y):
    return np.abs(z - Y).sum(axis=1)


#: (loss, output) -> direct per-sample formula. Must cover OUTPUT_LOSSES exactly.
DIRECT = {
    ("log_loss", "softmax"): _softmax_cross_entropy,
    ("log_loss", "logistic"): _logistic_cross_entropy,
    ("squared_error", "logistic"): _logistic_half_squared_error,
    ("squared_error", "identity"): _identity_half_squared_error,
    ("poisson", "exp"): _exp_half_poisson_deviance,
    ("huber", "identity"): _identity_huber,
    ("absolute_error", "identity"): _identity_absolute_error,
}
PAIRS = sorted(set(DIRECT) | set(OUTPUT_LOSSES))


def _direct(pair, z, Y):
    return DIRECT[pair](z, Y, **PARAMS.get(pair, {}))


def _atol(z, Y, eps):
    """Absolute tolerance for a per-sample loss, ``eps`` times its largest term.

    A small log-loss or Poisson deviance is the difference of terms as large as
    ``|Y z|`` (``Y log Y - Y z``, ``logsumexp(z) - Y z``), so its rounding error is
    relative to those terms, not to the result.
    """
    return eps * max(1.0, float(np.abs(Y * z).sum(axis=-1).max()))


def _softmax_direct(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


#: Output function -> closed form. Must cover OUTPUT_FUNCTIONS exactly.
OUTPUT_DIRECT = {
    "softmax": _softmax_direct,
    "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "identity": lambda z: z,
    "exp": np.exp,
}


def _residuals(shape, rng, margin=1e-2):
    """Residuals ``z - Y`` alternately inside and outside the Huber threshold.

    Every residual stays ``margin`` away from the kinks of the absolute error
    (``r = 0``) and of the Huber loss's second derivative (``|r| = THRESHOLD``),
    where a central difference would straddle two pieces; signs are random.
    """
    n = int(np.prod(shape))
    inside = rng.uniform(margin, THRESHOLD - margin, n)
    outside = rng.uniform(THRESHOLD + margin, 3.0 * THRESHOLD, n)
    magnitude = np.where(np.arange(n) % 2 == 0, inside, outside)
    sign = rng.choice([-1.0, 1.0], n)
    return (sign * magnitude).reshape(shape)


def _problem(pair, n_samples=7, n_outputs=3, seed=0, dtype=np.float64):
    """Moderate logits and matching targets for a (loss, output) pair."""
    rng = np.random.RandomState(seed)
    z = 2.0 * rng.randn(n_samples, n_outputs)
    if pair[1] == "softmax":
        Y = np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    elif pair[1] == "logistic":
        Y = rng.randint(2, size=(n_samples, n_outputs)).astype(float)
    elif pair[1] == "exp":
        # Counts drawn around the predicted means; some are 0.
        Y = rng.poisson(np.exp(z)).astype(float)
    else:  # identity: real targets, away from the kinks of huber / absolute error
        Y = z - _residuals(z.shape, rng)
    return z.astype(dtype), Y.astype(dtype)


#: Output function -> its log, for the two a classifier takes logs of.
LOG_OUTPUT_FUNCTIONS = {"softmax": log_softmax, "logistic": log_logistic}


def test_registries():
    assert set(OUTPUT_LOSSES) == set(DIRECT)
    assert set(OUTPUT_FUNCTIONS) == set(OUTPUT_DIRECT)
    assert set(OUTPUT_FUNCTIONS) == {"softmax", "logistic", "identity", "exp"}
    assert OUTPUT_FUNCTIONS["softmax"] is softmax
    assert OUTPUT_FUNCTIONS["logistic"] is logistic
    assert OUTPUT_FUNCTIONS["identity"] is identity
    # Every pair names a registered output function and a known loss.
    assert {output for _, output in OUTPUT_LOSSES} == set(OUTPUT_FUNCTIONS)
    assert set(CLASSIFICATION_LOSSES) | set(REGRESSION_LOSSES) == {
        loss for loss, _ in OUTPUT_LOSSES
    }
    assert set(PARAMS) <= set(OUTPUT_LOSSES)
    # A classifier's outputs are the ones with a log.
    assert {output for loss, output in OUTPUT_LOSSES if loss == "log_loss"} == set(
        LOG_OUTPUT_FUNCTIONS
    )


@pytest.mark.parametrize("output", sorted(OUTPUT_FUNCTIONS))
def test_output_function_matches_closed_form(output, dtype):
    z, _ = _problem(("squared_error", output), dtype=dtype)
    z_before = z.copy()
    fn = OUTPUT_FUNCTIONS[output]
    expected = OUTPUT_DIRECT[output](z.astype(np.float64))
    a = fn(OPS, z)
    assert a is not z
    assert a.dtype == dtype
    assert_array_equal(z, z_before)  # read only without out
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    assert_allclose(a, expected, rtol=rtol)
    # NumPy writes into a given buffer ...
    out = np.full_like(z, np.nan)
    assert fn(OPS, z, out=out) is out
    assert_array_equal(out, a)
    # ... which may alias z.
    z_alias = z.copy()
    assert fn(OPS, z_alias, out=z_alias) is z_alias
    assert_array_equal(z_alias, a)


def test_softmax_rows_sum_to_one_for_huge_logits():
    z = np.array(
        [[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1000.0]]
    )
    p = softmax(OPS, z)
    assert np.isfinite(p).all()
    assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    # Shifting by a constant per row leaves the softmax unchanged.
    assert_allclose(p, softmax(OPS, z - z.max(axis=1, keepdims=True)), rtol=1e-15)
    assert_allclose(p[0], [1.0, 0.0, 0.0])
    assert_allclose(p[2], [1 / 3, 1 / 3, 1 / 3], rtol=1e-15)
    e = np.exp([1.0, 1.0, 0.0])
    assert_allclose(p[1], e / e.sum(), rtol=1e-15)


def test_softmax_out_may_alias_z():
    z, _ = _problem(("log_loss", "softmax"))
    expected = softmax(OPS, z)
    z_alias = z.copy()
    result = softmax(OPS, z_alias, out=z_alias)
    assert result is z_alias
    assert_array_equal(z_alias, expected)


@pytest.mark.parametrize("output", sorted(LOG_OUTPUT_FUNCTIONS))
def test_log_output_out_may_alias_z(output):
    log_fn = LOG_OUTPUT_FUNCTIONS[output]
    z, _ = _problem(("log_loss", output))
    expected = log_fn(OPS, z)
    out = np.empty_like(z)
    assert log_fn(OPS, z, out=out) is out
    assert_array_equal(out, expected)
    z_alias = z.copy()
    assert log_fn(OPS, z_alias, out=z_alias) is z_alias
    assert_array_equal(z_alias, expected)


def test_log_softmax_finite_where_softmax_underflows():
    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, -800.0]])
    with np.errstate(under="ignore"):
        assert (softmax(OPS, z)[:, 2] == 0.0).all()  # log of it would be -inf
    log_p = log_softmax(OPS, z)
    assert np.isfinite(log_p).all()
    assert_allclose(log_p[0], [0.0, -1000.0, -2000.0], atol=1e-12)
    assert_allclose(log_p[1], [-np.log(2), -np.log(2), -800 - np.log(2)], rtol=1e-14)
    # Where softmax does not underflow the two agree.
    z_mod, _ = _problem(("log_loss", "softmax"))
    assert_allclose(log_softmax(OPS, z_mod), np.log(softmax(OPS, z_mod)), rtol=1e-12)


def test_log_logistic_finite_where_logistic_underflows():
    z = np.array([[-1000.0, -800.0, 0.0, 50.0, 1000.0]])
    assert logistic(OPS, z)[0, 0] == 0.0  # log of it would be -inf
    log_p = log_logistic(OPS, z)
    assert np.isfinite(log_p).all()
    # log(1 / (1 + exp(-z))) = z - log(1 + exp(z)) ~ z for z << 0, -exp(-z) for
    # z >> 0.
    assert_allclose(log_p[0, :2], [-1000.0, -800.0], rtol=1e-15)
    assert_allclose(log_p[0, 2], -np.log(2.0), rtol=1e-15)
    assert_allclose(log_p[0, 3], -np.exp(-50.0), rtol=1e-12)
    assert log_p[0, 4] <= 0.0


@pytest.mark.parametrize("output", sorted(LOG_OUTPUT_FUNCTIONS))
def test_output_log_probabilities_match_probabilities(output, dtype):
    z, _ = _problem(("log_loss", output), dtype=dtype)
    prob, log_prob = OUTPUT_FUNCTIONS[output], LOG_OUTPUT_FUNCTIONS[output]
    result = log_prob(OPS, z)
    assert result.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(result, np.log(prob(OPS, z)), rtol=rtol)


def test_logistic_is_expit():
    z = np.linspace(-30, 30, 61)
    assert_allclose(logistic(OPS, z), expit(z), rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_output_caps_the_mean_at_the_largest_finite_one(dtype):
    # Beyond log(max) the predicted mean would overflow to inf: the largest
    # finite mean is predicted instead, without an overflow warning.
    exp_output = OUTPUT_FUNCTIONS["exp"]
    largest = np.finfo(dtype).max
    z = np.array([[0.0, 1.0, 80.0], [np.log(largest), 1000.0, -1000.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise"):
        mean = exp_output(OPS, z)
    assert mean.dtype == dtype
    assert np.isfinite(mean).all()
    rtol = 1e-6 if dtype == np.float32 else 1e-15
    assert_allclose(mean[0, :2], [1.0, np.e], rtol=rtol)
    # Capped at exp of the largest logit below log(max), which is within a
    # rounding of log(max): a mean within exp's relative error of max.
    assert mean[1, 0] == mean[1, 1]
    assert_allclose(mean[1, 1], largest, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert mean[1, 2] == 0.0
    assert mean[0, 2] == np.exp(z[0, 2])  # below the cap: exp itself


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_per_sample_loss_matches_direct_formula(pair):
    z, Y = _problem(pair)
    loss = _loss(pair, z.copy(), Y)
    assert loss.shape == (z.shape[0],)
    assert_allclose(loss, _direct(pair, z, Y), rtol=1e-12, atol=_atol(z, Y, 1e-14))


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_delta_is_written_into_out_and_z_is_read_only(pair):
    # NumPy writes the delta into out; without out it makes a new array. Either
    # way z and Y are read only and the numbers are the same.
    z, Y = _problem(pair)
    z_before, Y_before = z.copy(), Y.copy()
    out = np.full_like(z, np.nan)
    loss, delta = _loss_fn(pair)(z, Y, out)
    assert delta is out
    assert_array_equal(z, z_before)
    assert_array_equal(Y, Y_before)
    loss_new, delta_new = _loss_fn(pair)(z, Y)
    assert not np.shares_memory(delta_new, z)
    assert delta_new.shape == z.shape and delta_new.dtype == z.dtype
    assert_array_equal(z, z_before)
    assert_array_equal(loss_new, loss)
    assert_array_equal(delta_new, delta)


@pytest.mark.parametrize(
    "pair", [p for p in PAIRS if p[1] != "softmax"], ids=lambda p: "-".join(p)
)
def test_single_output(pair):
    # Binary problems and single-target regression use one output; softmax needs
    # at least two.
    z, Y = _problem(pair, n_outputs=1)
    loss = _loss(pair, z.copy(), Y)
    assert_allclose(loss, _direct(pair, z, Y), rtol=1e-12, atol=_atol(z, Y, 1e-14))


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_one_sample_matches_row_of_batch(pair, dtype):
    # The loss functions reduce over the last axis, so they take one sample's 1-D
    # vectors too; the loss is then 0-d.
    z, Y = _problem(pair, dtype=dtype)
    loss_fn = _loss_fn(pair)
    loss, delta = loss_fn(z.copy(), Y, np.empty_like(z))
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    for i in range(z.shape[0]):
        out_i = np.empty_like(z[i])
        loss_i, delta_i = loss_fn(z[i].copy(), Y[i], out_i)
        assert np.ndim(loss_i) == 0
        assert delta_i is out_i
        assert delta_i.dtype == dtype
        assert_allclose(loss_i, loss[i], rtol=rtol)
        assert_allclose(delta_i, delta[i], rtol=rtol, atol=1e-15)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_delta_matches_finite_differences(pair, seed):
    z, Y = _problem(pair, seed=seed)
    _, delta = _loss_fn(pair)(z.copy(), Y, np.empty_like(z))

    # The loss of sample i depends only on row i of z, so perturbing column k of
    # every row at once gives d loss_i / d z_ik for all i together.
    h = 1e-6
    numerical = np.empty_like(z)
    for k in range(z.shape[1]):
        z_plus, z_minus = z.copy(), z.copy()
        z_plus[:, k] += h
        z_minus[:, k] -= h
        numerical[:, k] = (_loss(pair, z_plus, Y) - _loss(pair, z_minus, Y)) / (2.0 * h)
    assert_allclose(delta, numerical, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_delta_may_alias_z(pair):
    z, Y = _problem(pair)
    expected_loss, expected_delta = _loss_fn(pair)(z.copy(), Y, np.empty_like(z))

    z_alias = z.copy()
    loss, delta = _loss_fn(pair)(z_alias, Y, z_alias)
    assert delta is z_alias
    assert_allclose(loss, expected_loss, rtol=1e-15)
    assert_allclose(z_alias, expected_delta, rtol=1e-15)


@pytest.mark.parametrize(
    "pair",
    [p for p in PAIRS if p[1] not in UNBOUNDED_OUTPUTS],
    ids=lambda p: "-".join(p),
)
def test_loss_finite_for_confident_logits(pair):
    # Confident and wrong predictions: the loss is large but finite, from logits.
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]])
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, delta = _loss_fn(pair)(z.copy(), Y, np.empty_like(z))
    assert np.isfinite(loss).all()
    assert np.isfinite(delta).all()
    if pair[0] == "log_loss":
        assert (loss >= 1000.0).all()


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_float32_preserved(pair):
    z, Y = _problem(pair, dtype=np.float32)
    loss, delta = _loss_fn(pair)(z.copy(), Y, np.empty_like(z))
    assert delta.dtype == np.float32
    assert loss.dtype == np.float32
    # Without out too: no float64 constant may promote the result.
    loss_new, delta_new = _loss_fn(pair)(z.copy(), Y)
    assert loss_new.dtype == delta_new.dtype == np.float32
    z64, Y64 = z.astype(np.float64), Y.astype(np.float64)
    loss64, delta64 = _loss_fn(pair)(z64, Y64, np.empty_like(z64))
    assert_allclose(delta, delta64, rtol=1e-5, atol=1e-6)
    assert_allclose(loss, loss64, rtol=1e-5, atol=_atol(z64, Y64, 1e-6))


@pytest.mark.parametrize(
    "pair",
    [p for p in PAIRS if p[1] in ("softmax", "logistic")],
    ids=lambda p: "-".join(p),
)
def test_boolean_targets(pair):
    # NumPy targets may be 0/1 booleans (the classifier's label indicator).
    z, Y = _problem(pair)
    loss, delta = _loss_fn(pair)(z.copy(), Y, np.empty_like(z))
    loss_bool, delta_bool = _loss_fn(pair)(z.copy(), Y.astype(bool), np.empty_like(z))
    assert loss_bool.dtype == delta_bool.dtype == np.float64
    assert_array_equal(loss_bool, loss)
    assert_array_equal(delta_bool, delta)


@pytest.mark.parametrize(
    "loss, n_outputs, multilabel, expected",
    [
        ("log_loss", 3, False, "softmax"),
        ("log_loss", 2, False, "softmax"),
        ("log_loss", 1, False, "logistic"),
        ("log_loss", 3, True, "logistic"),
        ("squared_error", 1, False, "logistic"),
        ("squared_error", 3, False, "logistic"),
        ("squared_error", 3, True, "logistic"),
    ],
)
def test_output_function_for(loss, n_outputs, multilabel, expected):
    output = output_function_for(loss, n_outputs, multilabel)
    assert output == expected
    assert (loss, output) in OUTPUT_LOSSES


@pytest.mark.parametrize(
    "loss, expected",
    [
        ("squared_error", "identity"),
        ("poisson", "exp"),
        ("huber", "identity"),
        ("absolute_error", "identity"),
    ],
)
def test_regression_output_for(loss, expected):
    output = regression_output_for(loss)
    assert output == expected
    assert (loss, output) in OUTPUT_LOSSES


def test_every_regression_loss_is_covered():
    assert {loss for loss, _ in PAIRS if _ in ("identity", "exp")} == set(
        REGRESSION_LOSSES
    )
    for loss in REGRESSION_LOSSES:
        assert (loss, regression_output_for(loss)) in OUTPUT_LOSSES


def test_poisson_zero_targets():
    # y = 0: y log(y / mu) is 0 (xlogy), so the deviance is the mean itself, and
    # the gradient pushes the log-mean down with delta = mu.
    z = np.array([[-2.0, 0.0, 3.0], [1.5, -0.5, 0.25]])
    Y = np.zeros_like(z)
    with np.errstate(divide="raise", invalid="raise"):
        loss, delta = OUTPUT_LOSSES[("poisson", "exp")](OPS, z.copy(), Y)
    assert_allclose(loss, np.exp(z).sum(axis=1), rtol=1e-15)
    assert_allclose(delta, np.exp(z), rtol=1e-15)


def test_poisson_large_negative_logits():
    # mu = exp(-800) underflows to 0, yet the loss is finite and exact: computed
    # from the logit it is xlogy(y, y) - y z - y + exp(z), with no log(mu).
    z = np.array([[-800.0, -800.0], [-50.0, -1000.0]])
    Y = np.array([[0.0, 3.0], [1.0, 2.0]])
    with np.errstate(divide="raise", invalid="raise", over="raise"):
        loss, delta = OUTPUT_LOSSES[("poisson", "exp")](OPS, z.copy(), Y)
    assert np.isfinite(loss).all()
    expected = [
        0.0 + (3 * np.log(3.0) + 3 * 800.0 - 3.0),
        (50.0 - 1.0) + (2 * np.log(2.0) + 2 * 1000.0 - 2.0),
    ]
    assert_allclose(loss, expected, rtol=1e-15)
    assert_allclose(delta, np.exp(z) - Y, rtol=1e-15)
    assert_allclose(delta, -Y, atol=1e-20)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_poisson_matches_scikit_learn(n_outputs, weighted, seed):
    # scikit-learn's poisson_loss averages over samples and sums over outputs:
    # the (weighted) mean of skbp's per-sample loss, up to rounding.
    poisson_loss = getattr(sklearn_mlp_losses, "poisson_loss", None)
    if poisson_loss is None:
        pytest.skip("scikit-learn < 1.7 has no Poisson loss in its MLP")
    z, Y = _problem(("poisson", "exp"), n_outputs=n_outputs, seed=seed)
    rng = np.random.RandomState(seed)
    sw = rng.uniform(0.2, 2.0, z.shape[0]) if weighted else None
    per_sample = _loss(("poisson", "exp"), z.copy(), Y)
    w = np.ones(z.shape[0]) if sw is None else sw
    expected = poisson_loss(Y, np.exp(z), sample_weight=sw)
    assert_allclose(per_sample @ w / w.sum(), expected, rtol=1e-13)


def test_squared_error_identity_matches_scikit_learn_for_one_output(seed):
    z, Y = _problem(("squared_error", "identity"), n_outputs=1, seed=seed)
    per_sample = _loss(("squared_error", "identity"), z.copy(), Y)
    assert_allclose(
        per_sample.mean(), sklearn_mlp_losses.squared_loss(Y, z), rtol=1e-14
    )


def test_squared_error_identity_sums_over_outputs():
    # skbp sums the half squared error over outputs, so that the loss and its
    # delta z - Y are one function. scikit-learn's squared_loss reports the mean
    # over outputs (n_outputs times smaller) while MLPRegressor backpropagates
    # z - Y, the gradient of the sum.
    z, Y = _problem(("squared_error", "identity"), n_outputs=3)
    per_sample, delta = OUTPUT_LOSSES[("squared_error", "identity")](
        OPS, z.copy(), Y, np.empty_like(z)
    )
    assert_allclose(
        per_sample.mean(), 3 * sklearn_mlp_losses.squared_loss(Y, z), rtol=1e-14
    )
    assert_allclose(delta, z - Y, rtol=1e-15)


def test_huber_between_squared_and_absolute_error():
    z, Y = _problem(("huber", "identity"))
    huber = partial(OUTPUT_LOSSES[("huber", "identity")], OPS)
    r = z - Y
    assert (np.abs(r) < THRESHOLD).any() and (np.abs(r) > THRESHOLD).any()
    _, delta = huber(z, Y, np.empty_like(z), threshold=THRESHOLD)
    assert_array_equal(delta, np.clip(r, -THRESHOLD, THRESHOLD))
    # Beyond every residual the threshold makes Huber the half squared error ...
    squared = _loss(("squared_error", "identity"), z, Y)
    loss, delta = huber(z, Y, np.empty_like(z), threshold=1e3)
    assert_allclose(loss, squared, rtol=1e-14)
    assert_allclose(delta, r, rtol=1e-15)
    # ... and below them t * (absolute error - t / 2) per output.
    t = 1e-3
    absolute = _loss(("absolute_error", "identity"), z, Y)
    expected = t * (absolute - 0.5 * t * z.shape[1])
    loss, delta = huber(z, Y, np.empty_like(z), threshold=t)
    assert_allclose(loss, expected, rtol=1e-12)
    assert_allclose(delta, t * np.sign(r), rtol=1e-15)


def test_huber_threshold_keeps_float32():
    # The threshold is a Python float inside: a NumPy float64 threshold must not
    # promote float32 logits.
    z, Y = _problem(("huber", "identity"), dtype=np.float32)
    loss, delta = OUTPUT_LOSSES[("huber", "identity")](
        OPS, z, Y, threshold=np.float64(THRESHOLD)
    )
    assert loss.dtype == delta.dtype == np.float32


def test_huber_continuous_at_threshold():
    # At |r| = t both pieces give t^2 / 2 and the delta is +-t.
    t = 0.5
    z = np.array([[t, -t, 0.0]])
    Y = np.zeros_like(z)
    loss, delta = OUTPUT_LOSSES[("huber", "identity")](
        OPS, z, Y, np.empty_like(z), threshold=t
    )
    assert_allclose(loss, [t**2], rtol=1e-15)
    assert_array_equal(delta, [[t, -t, 0.0]])


def test_absolute_error_subgradient_at_zero_residual():
    # |r| has no derivative at r = 0; the delta is 0 there, a subgradient.
    z = np.array([[1.0, -2.0, 0.5]])
    Y = np.array([[1.0, 0.0, 2.0]])
    loss, delta = OUTPUT_LOSSES[("absolute_error", "identity")](
        OPS, z, Y, np.empty_like(z)
    )
    assert_allclose(loss, [0.0 + 2.0 + 1.5], rtol=1e-15)
    assert_array_equal(delta, [[0.0, -1.0, -1.0]])


# ----------------------------------------------- the classifier output kinds

KINDS = sorted(CLASSIFIER_OUTPUTS)


def _kind_logits(kind, n_samples=9, seed=0, scale=3.0, dtype=np.float64):
    """Moderate logits of a classifier of this kind (one column when binary)."""
    rng = np.random.RandomState(seed)
    n_outputs = 1 if kind == "binary" else 3
    return (scale * rng.randn(n_samples, n_outputs)).astype(dtype)


def _expected_probabilities(kind, z):
    """The probabilities of each kind written from their definitions (float64)."""
    z = z.astype(np.float64)
    p = 1.0 / (1.0 + np.exp(-z))
    if kind == "binary":
        return np.hstack([1.0 / (1.0 + np.exp(z)), p])
    if kind == "softmax":
        return _softmax_direct(z)
    if kind == "normalised_logistic":
        return p / p.sum(axis=1, keepdims=True)
    return p  # multilabel: one independent probability per label


def test_classifier_output_kinds():
    assert set(CLASSIFIER_OUTPUTS) == {
        "multilabel",
        "binary",
        "softmax",
        "normalised_logistic",
    }


@pytest.mark.parametrize(
    "output, n_outputs, multilabel, expected",
    [
        ("logistic", 1, False, "binary"),
        ("logistic", 2, False, "normalised_logistic"),
        ("logistic", 3, False, "normalised_logistic"),
        ("softmax", 2, False, "softmax"),
        ("softmax", 3, False, "softmax"),
        ("logistic", 3, True, "multilabel"),
        ("logistic", 1, True, "multilabel"),
    ],
)
def test_classifier_output_kind(output, n_outputs, multilabel, expected):
    kind = classifier_output_kind(output, n_outputs, multilabel)
    assert kind == expected
    assert kind in CLASSIFIER_OUTPUTS


@pytest.mark.parametrize(
    "loss, n_outputs, multilabel, expected",
    [
        ("log_loss", 1, False, "binary"),
        ("log_loss", 3, False, "softmax"),
        ("log_loss", 3, True, "multilabel"),
        ("squared_error", 1, False, "binary"),
        ("squared_error", 3, False, "normalised_logistic"),
        ("squared_error", 3, True, "multilabel"),
    ],
)
def test_classifier_output_kind_of_each_trained_layout(
    loss, n_outputs, multilabel, expected
):
    # The output function a classifier is trained with decides its kind.
    output = output_function_for(loss, n_outputs, multilabel)
    assert classifier_output_kind(output, n_outputs, multilabel) == expected


@pytest.mark.parametrize("kind", KINDS)
def test_class_probabilities_match_closed_forms(kind, dtype):
    z = _kind_logits(kind, dtype=dtype)
    z_before = z.copy()
    proba = class_probabilities(OPS, kind, z)
    assert_array_equal(z, z_before)  # overwrite_z=False: z is read only
    expected = _expected_probabilities(kind, z)
    assert proba.dtype == dtype
    assert proba.shape == (z.shape[0], 2 if kind == "binary" else 3)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    assert_allclose(proba, expected, rtol=rtol)
    sums = proba.sum(axis=1)
    if kind == "multilabel":
        assert np.abs(sums - 1.0).max() > 0.1  # independent labels
    else:
        assert_allclose(sums, 1.0, rtol=4 * np.finfo(dtype).eps)
    # With overwrite_z, the buffer of z may be used: the same numbers.
    z_work = z.copy()
    assert_array_equal(class_probabilities(OPS, kind, z_work, overwrite_z=True), proba)


@pytest.mark.parametrize("kind", KINDS)
def test_class_log_probabilities_are_the_log_of_probabilities(kind, dtype):
    z = _kind_logits(kind, dtype=dtype)
    z_before = z.copy()
    log_proba = class_log_probabilities(OPS, kind, z)
    assert_array_equal(z, z_before)
    assert log_proba.dtype == dtype
    proba = class_probabilities(OPS, kind, z)
    assert (proba > 0).all()
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-15)
    assert_allclose(log_proba, np.log(proba), rtol=rtol, atol=atol)


#: Logits whose probabilities round to 0 or 1 (float32 and float64 alike).
HUGE = np.array(
    [
        [1000.0, 0.0, -1000.0],
        [-1000.0, -1000.0, -1000.0],
        [-1000.0, -1001.0, -1003.0],
        [800.0, 800.0, 799.0],
        [-200.0, 50.0, 5.0],
    ]
)


@pytest.mark.parametrize("kind", KINDS)
def test_class_log_probabilities_finite_for_huge_logits(kind, dtype):
    z = HUGE[:, :1] if kind == "binary" else HUGE
    z = z.astype(dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        proba = class_probabilities(OPS, kind, z)
        log_proba = class_log_probabilities(OPS, kind, z)
    assert np.isfinite(proba).all()
    assert np.isfinite(log_proba).all()
    assert (log_proba <= 0.0).all()
    if kind != "multilabel":
        assert_allclose(proba.sum(axis=1), 1.0, rtol=4 * np.finfo(dtype).eps)
    # log(proba) where proba is neither 0 nor moved by the multilabel clip.
    info = np.finfo(dtype)
    unclipped = (proba > info.smallest_normal) & (proba < 1.0 - info.eps / 2)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(
        log_proba[unclipped], np.log(proba[unclipped]), rtol=rtol, atol=info.eps
    )
    # The values the logits give, where the probabilities cannot tell them.
    if kind == "binary":
        assert_allclose(log_proba[:2], [[-1000.0, 0.0], [0.0, -1000.0]], atol=0)
    elif kind == "softmax":
        assert_allclose(log_proba[0], [0.0, -1000.0, -2000.0], rtol=1e-6)
    elif kind == "normalised_logistic":
        # sigmoid(z) ~ exp(z) for z << 0: the softmax of the logits.
        assert_allclose(log_proba[1], np.log([1 / 3] * 3), rtol=1e-6)
        assert_allclose(log_proba[2], log_softmax(OPS, z[2:3])[0], rtol=1e-6)
        assert_allclose(proba[2], softmax(OPS, z[2:3])[0], rtol=1e-6)
    else:
        assert_allclose(log_proba[0], [0.0, -np.log(2.0), -1000.0], rtol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_class_indices_agree_with_probabilities(kind, seed):
    z = _kind_logits(kind, n_samples=40, seed=seed)
    # Exact ties and zeros: the first of tied maxima, z = 0 is not positive.
    if kind == "binary":
        z[:2] = [[0.0], [-0.0]]
    else:
        z[:3] = [[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [-1.0, 2.0, 2.0]]
    indices = class_indices(OPS, kind, z)
    proba = class_probabilities(OPS, kind, z)
    if kind == "multilabel":
        assert indices.shape == z.shape
        assert indices.dtype == np.int64
        assert_array_equal(indices, (z > 0).astype(np.int64))
        assert_array_equal(indices, proba > 0.5)
        return
    assert indices.shape == (z.shape[0],)
    assert_array_equal(indices, np.argmax(proba, axis=1))
    if kind == "binary":
        assert_array_equal(indices, (z[:, 0] > 0).astype(int))
        assert_array_equal(indices[:2], [0, 0])
    else:
        assert_array_equal(indices, np.argmax(z, axis=1))
        assert_array_equal(indices[:3], [0, 0, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multilabel_clip_keeps_probabilities_strictly_inside(dtype):
    # sigmoid rounds to exactly 1 from z > 37 (float64) and to 0 below -745:
    # multilabel probabilities never claim certainty.
    z = np.array([[-1000.0, -100.0, -40.0, -10.0, 0.0, 5.0, 20.0, 40.0, 1000.0]])
    z = z.astype(dtype)
    raw = expit(z)
    assert raw.min() == 0.0 and raw.max() == 1.0  # the clip has work to do
    proba = class_probabilities(OPS, "multilabel", z)
    assert proba.dtype == dtype
    assert ((proba > 0.0) & (proba < 1.0)).all()
    info = np.finfo(dtype)
    assert proba.max() == np.nextafter(dtype(1.0), dtype(0.0))  # 1 - eps / 2
    assert proba.min() == info.smallest_normal
    # Inside the bounds the probabilities are the sigmoid's.
    inside = (raw > info.smallest_normal) & (raw < 1.0 - info.eps / 2)
    assert inside.sum() >= 3
    assert_array_equal(proba[inside], raw[inside])
