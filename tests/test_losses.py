"""Unit tests for skbp._losses: output functions, per-sample losses, deltas."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit

from skbp._losses import (
    LOSSES,
    OUTPUT_LOSSES,
    OUTPUTS,
    log_softmax,
    logistic,
    output_function_for,
    softmax,
)


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


#: (loss, output) -> direct per-sample formula. Must cover OUTPUT_LOSSES exactly.
DIRECT = {
    ("log_loss", "softmax"): _softmax_cross_entropy,
    ("log_loss", "logistic"): _logistic_cross_entropy,
    ("squared_error", "logistic"): _logistic_half_squared_error,
}
PAIRS = sorted(set(DIRECT) | set(OUTPUT_LOSSES))


def _problem(pair, n_samples=7, n_outputs=3, seed=0, dtype=np.float64):
    """Moderate logits and matching targets for a (loss, output) pair."""
    rng = np.random.RandomState(seed)
    z = 2.0 * rng.randn(n_samples, n_outputs)
    if pair[1] == "softmax":
        Y = np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    else:
        Y = rng.randint(2, size=(n_samples, n_outputs)).astype(float)
    return z.astype(dtype), Y.astype(dtype)


def test_registries():
    assert set(OUTPUT_LOSSES) == set(DIRECT)
    assert set(OUTPUTS) == {"softmax", "logistic"}
    assert set(LOSSES) == {loss for loss, _ in OUTPUT_LOSSES}


def test_softmax_rows_sum_to_one_for_huge_logits():
    z = np.array(
        [[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1000.0]]
    )
    p = softmax(z)
    assert np.isfinite(p).all()
    assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    # Shifting by a constant per row leaves the softmax unchanged.
    assert_allclose(p, softmax(z - z.max(axis=1, keepdims=True)), rtol=1e-15)
    assert_allclose(p[0], [1.0, 0.0, 0.0])
    assert_allclose(p[2], [1 / 3, 1 / 3, 1 / 3], rtol=1e-15)
    e = np.exp([1.0, 1.0, 0.0])
    assert_allclose(p[1], e / e.sum(), rtol=1e-15)


def test_softmax_out_may_alias_z():
    z, _ = _problem(("log_loss", "softmax"))
    expected = softmax(z)
    z_alias = z.copy()
    result = softmax(z_alias, out=z_alias)
    assert result is z_alias
    assert_array_equal(z_alias, expected)


def test_log_softmax_finite_where_softmax_underflows():
    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, -800.0]])
    with np.errstate(under="ignore"):
        assert (softmax(z)[:, 2] == 0.0).all()  # log of it would be -inf
    log_p = log_softmax(z)
    assert np.isfinite(log_p).all()
    assert_allclose(log_p[0], [0.0, -1000.0, -2000.0], atol=1e-12)
    assert_allclose(log_p[1], [-np.log(2), -np.log(2), -800 - np.log(2)], rtol=1e-14)
    # Where softmax does not underflow the two agree.
    z_mod, _ = _problem(("log_loss", "softmax"))
    assert_allclose(log_softmax(z_mod), np.log(softmax(z_mod)), rtol=1e-12)


@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_output_log_probabilities_match_probabilities(output):
    z, _ = _problem(("log_loss", output))
    prob, log_prob = OUTPUTS[output]
    assert_allclose(log_prob(z), np.log(prob(z)), rtol=1e-12)


def test_logistic_is_expit():
    z = np.linspace(-30, 30, 61)
    assert_allclose(logistic(z), expit(z), rtol=1e-15)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_per_sample_loss_matches_direct_formula(pair):
    z, Y = _problem(pair)
    loss = OUTPUT_LOSSES[pair](z.copy(), Y, np.empty_like(z))
    assert loss.shape == (z.shape[0],)
    assert_allclose(loss, DIRECT[pair](z, Y), rtol=1e-12)


@pytest.mark.parametrize(
    "pair", [p for p in PAIRS if p[1] != "softmax"], ids=lambda p: "-".join(p)
)
def test_binary_single_output(pair):
    # Binary problems use one logistic output; softmax needs at least two.
    z, Y = _problem(pair, n_outputs=1)
    loss = OUTPUT_LOSSES[pair](z.copy(), Y, np.empty_like(z))
    assert_allclose(loss, DIRECT[pair](z, Y), rtol=1e-12)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_delta_matches_finite_differences(pair, seed):
    z, Y = _problem(pair, seed=seed)
    loss_fn = OUTPUT_LOSSES[pair]
    delta = np.empty_like(z)
    loss_fn(z.copy(), Y, delta)

    # The loss of sample i depends only on row i of z, so perturbing column k of
    # every row at once gives d loss_i / d z_ik for all i together.
    h = 1e-6
    numerical = np.empty_like(z)
    scratch = np.empty_like(z)
    for k in range(z.shape[1]):
        z_plus, z_minus = z.copy(), z.copy()
        z_plus[:, k] += h
        z_minus[:, k] -= h
        numerical[:, k] = (
            loss_fn(z_plus, Y, scratch) - loss_fn(z_minus, Y, scratch)
        ) / (2.0 * h)
    assert_allclose(delta, numerical, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_delta_may_alias_z(pair):
    z, Y = _problem(pair)
    delta = np.empty_like(z)
    expected_loss = OUTPUT_LOSSES[pair](z.copy(), Y, delta)

    z_alias = z.copy()
    loss = OUTPUT_LOSSES[pair](z_alias, Y, z_alias)
    assert_allclose(loss, expected_loss, rtol=1e-15)
    assert_allclose(z_alias, delta, rtol=1e-15)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_loss_finite_for_confident_logits(pair):
    # Confident and wrong predictions: the loss is large but finite, from logits.
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]])
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    delta = np.empty_like(z)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss = OUTPUT_LOSSES[pair](z.copy(), Y, delta)
    assert np.isfinite(loss).all()
    assert np.isfinite(delta).all()
    if pair[0] == "log_loss":
        assert (loss >= 1000.0).all()


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_float32_preserved(pair):
    z, Y = _problem(pair, dtype=np.float32)
    delta = np.empty_like(z)
    loss = OUTPUT_LOSSES[pair](z.copy(), Y, delta)
    assert delta.dtype == np.float32
    z64, Y64 = z.astype(np.float64), Y.astype(np.float64)
    delta64 = np.empty_like(z64)
    loss64 = OUTPUT_LOSSES[pair](z64, Y64, delta64)
    assert_allclose(delta, delta64, rtol=1e-5, atol=1e-6)
    assert_allclose(loss, loss64, rtol=1e-5, atol=1e-6)


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
