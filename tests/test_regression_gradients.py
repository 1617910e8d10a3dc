"""Gradient checks of whole networks with a regression output layer.

Each (loss, output) pair of a regressor gets the test that the classifier's pairs
get in ``test_network.py``: ``Network.loss_and_grad`` against central finite
differences of the loss it returns itself, through hidden layers, with and without
sample weights and L2, for one and three outputs.
"""

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skbp._core.activations import ACTIVATIONS
from skbp._core.losses import OUTPUT_LOSSES, REGRESSION_LOSSES, regression_output_for
from skbp._core.namespace import NUMPY_OPS
from skbp._core.network import Network
from skbp._tools.gradcheck import check_network_gradients

#: (loss, output) pairs of a regressor: one per regression loss.
REGRESSION_PAIRS = [(loss, regression_output_for(loss)) for loss in REGRESSION_LOSSES]
ACTIVATION_NAMES = ["tanh", "sigmoid", "relu", "gelu"]
KINKED = {"relu", "leaky_relu"}
THRESHOLD = 0.5  # Huber threshold
MARGIN = 1e-3  # distance of every kink from where the finite differences look


def _pre_activations(net, theta, X):
    """Hidden pre-activations ``z[i]`` and the output logits, in plain numpy."""
    W, b = net.layout.views(theta)
    a, zs = X, []
    for i, name in enumerate(net.activations):
        z = a @ W[i] + b[i]
        zs.append(z)
        a = ACTIVATIONS[name].forward(NUMPY_OPS, z)
    return zs, a @ W[-1] + b[-1]


def _away_from_kinks(values, kinks):
    return all(np.abs(np.abs(values) - kink).min() > MARGIN for kink in kinks)


def _problem(pair, activation, n_outputs, seed, n_samples=5):
    """A tiny network (3 features, hidden (4, 3)) with data for one pair.

    ``n_samples`` is odd: the unweighted absolute error's output-bias gradient is
    a mean of signs, exactly 0 for as many positive as negative residuals, and
    the relative error of an exactly zero block measures only rounding noise.

    Kinks are kept ``MARGIN`` away from every point the finite differences
    evaluate (``eps = 1e-6`` moves a pre-activation by far less): the relu kink
    at a hidden pre-activation of 0 by redrawing ``theta`` (as
    ``test_network._random_theta`` does), and the kinks of the absolute error
    (residual 0) and of the Huber loss's second derivative (``|residual| = t``)
    by choosing the targets as the logits minus residuals drawn away from them,
    alternately inside and outside the threshold.
    """
    loss, output = pair
    rng = np.random.RandomState(seed)
    loss_params = {"threshold": THRESHOLD} if loss == "huber" else None
    net = Network(
        (3, 4, 3, n_outputs), (activation,) * 2, output, loss, loss_params=loss_params
    )
    X = rng.randn(n_samples, 3)
    while True:
        theta = 0.5 * rng.randn(net.layout.size)
        hidden, logits = _pre_activations(net, theta, X)
        if not KINKED & {activation} or all(_away_from_kinks(z, [0.0]) for z in hidden):
            break
    if loss == "poisson":
        Y = rng.poisson(np.exp(logits) + 0.5).astype(float)  # counts, some 0
    else:
        magnitude = np.where(
            np.arange(logits.size).reshape(logits.shape) % 2 == 0,
            rng.uniform(0.05, THRESHOLD - 0.05, logits.shape),
            rng.uniform(THRESHOLD + 0.05, 3.0, logits.shape),
        )
        residual = rng.choice([-1.0, 1.0], logits.shape) * magnitude
        assert _away_from_kinks(residual, [0.0, THRESHOLD])
        Y = logits - residual
    sample_weight = rng.uniform(0.2, 2.0, n_samples)
    return net, theta, X, Y, sample_weight


def test_every_regression_loss_has_a_pair():
    assert len(REGRESSION_PAIRS) == len(REGRESSION_LOSSES) == 4
    assert set(REGRESSION_PAIRS) <= set(OUTPUT_LOSSES)


@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("pair", REGRESSION_PAIRS, ids=lambda p: "-".join(p))
def test_regression_gradient_matches_finite_differences(
    pair, activation, weighted, alpha, n_outputs, seed
):
    net, theta, X, Y, sample_weight = _problem(pair, activation, n_outputs, seed)
    result = check_network_gradients(
        net,
        theta,
        X,
        Y,
        sample_weight=sample_weight if weighted else None,
        alpha=alpha,
    )
    assert np.abs(result.numeric).max() > 1e-4  # not vacuous on a flat loss
    assert result.max_relative_error < 1e-6, str(result)


@pytest.mark.parametrize("pair", REGRESSION_PAIRS, ids=lambda p: "-".join(p))
def test_multi_output_loss_and_gradient_are_one_function(pair, seed):
    """What L-BFGS minimises and the gradient it receives belong together.

    ``loss_and_grad`` returns the weighted mean over samples of the per-sample
    loss *summed* over the three outputs (plus L2), and its gradient is the
    gradient of exactly that number: the finite differences are taken of the
    loss it returns. (scikit-learn's ``MLPRegressor`` reports the squared error
    averaged over outputs but backpropagates the gradient of the sum, so for
    several outputs its L-BFGS sees a loss and a gradient that disagree by the
    factor ``n_outputs``.)
    """
    net, theta, X, Y, sample_weight = _problem(pair, "tanh", 3, seed)
    alpha = 0.1
    grad = np.empty_like(theta)
    loss = net.loss_and_grad(theta, X, Y, sample_weight, alpha, grad)

    # The objective written out: per-sample losses summed over outputs.
    _, logits = _pre_activations(net, theta, X)
    r = logits - Y
    per_output = {
        "squared_error": 0.5 * r**2,
        "poisson": np.exp(logits) - Y * logits - Y + Y * np.log(np.where(Y > 0, Y, 1)),
        "huber": np.where(
            np.abs(r) <= THRESHOLD,
            0.5 * r**2,
            THRESHOLD * (np.abs(r) - 0.5 * THRESHOLD),
        ),
        "absolute_error": np.abs(r),
    }[pair[0]]
    assert per_output.shape == (X.shape[0], 3)
    weights = theta[: net.layout.n_weights]
    objective = (
        per_output.sum(axis=1) @ sample_weight + 0.5 * alpha * weights @ weights
    ) / sample_weight.sum()
    assert_allclose(loss, objective, rtol=1e-13)

    result = check_network_gradients(
        net, theta, X, Y, sample_weight=sample_weight, alpha=alpha
    )
    assert_allclose(result.analytic, grad, rtol=1e-15)
    assert result.max_relative_error < 1e-6, str(result)


@pytest.mark.parametrize("pair", REGRESSION_PAIRS, ids=lambda p: "-".join(p))
def test_batch_of_one_row_matches_weighted_batch(pair, seed):
    # momentum and Adam with batch_size=1 run one-row batches through
    # loss_and_grad (its one-row buffers, no bias broadcast by BLAS): the same
    # loss and gradient as a larger batch that gives the other rows no weight.
    net, theta, X, Y, _ = _problem(pair, "tanh", 3, seed)
    grad_one = np.empty_like(theta)
    loss_one = net.loss_and_grad(theta, X[:1], Y[:1], None, 0.1, grad_one)
    grad_batch = np.empty_like(theta)
    loss_batch = net.loss_and_grad(
        theta, X[:2], Y[:2], np.array([1.0, 0.0]), 0.1, grad_batch
    )
    assert isinstance(loss_one, float)
    assert_allclose(loss_one, loss_batch, rtol=1e-13)
    assert_allclose(grad_one, grad_batch, rtol=1e-12, atol=1e-15)
    # On a network that has seen the larger batch first, the one row borrows
    # the leading row of its buffers (the last batch of an epoch does).
    fresh = copy.deepcopy(net)
    fresh.loss_and_grad(theta, X[:2], Y[:2], None, 0.1, np.empty_like(theta))
    grad_again = np.full_like(theta, np.nan)
    loss_again = fresh.loss_and_grad(theta, X[:1], Y[:1], None, 0.1, grad_again)
    assert loss_again == loss_one
    assert_array_equal(grad_again, grad_one)
    # And the one-row gradient is the gradient of the one-row loss.
    result = check_network_gradients(net, theta, X[:1], Y[:1], alpha=0.1)
    assert_allclose(result.analytic, grad_one, rtol=1e-15)
    assert result.max_relative_error < 1e-6, str(result)
