"""Gradient checks: ``Network.loss_and_grad`` against central finite differences.

One grid over every (loss, output) pair of ``skbp._core.losses.OUTPUT_LOSSES``,
each with the target layouts of its output function (``TARGETS``): every hidden
activation, with and without sample weights and L2, through two hidden layers
and through none, on tiny float64 networks (the ``network_problem`` fixture). A
newly registered pair is in the grid at once; a pair with a new output function
fails the collection until ``TARGETS`` says what its targets look like.

The finite differences are taken of the loss ``loss_and_grad`` returns itself,
and compared block by block (each layer's weights and biases), as
``skbp.check_gradients`` reports them; that tool has its own tests in
``test_gradcheck.py``. The oracle test against scikit-learn's ``MLPClassifier``
is in ``test_network.py``, the gradients with dropout masks in ``test_dropout.py``.
"""

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skbp._core.activations import ACTIVATIONS
from skbp._core.losses import (
    CLASSIFICATION_LOSSES,
    OUTPUT_LOSSES,
    REGRESSION_LOSSES,
    output_function_for,
    regression_output_for,
)
from skbp._core.network import Network
from skbp._tools.gradcheck import check_network_gradients

ACTIVATION_NAMES = sorted(ACTIVATIONS)
#: Largest entry of a gradient (block) that counts as flat.
FLAT = 1e-4

#: Output function -> the target layouts its networks are checked on:
#: (id, n_outputs, kind of targets of the ``network_problem`` fixture).
TARGETS = {
    "softmax": [("multiclass", 3, "onehot")],
    "logistic": [
        ("binary", 1, "indicator"),
        ("multiclass", 3, "onehot"),
        ("multilabel", 3, "indicator"),
    ],
    "identity": [("1-output", 1, "real"), ("3-outputs", 3, "real")],
    "exp": [("1-output", 1, "counts"), ("3-outputs", 3, "counts")],
}

#: (pair, n_outputs, targets) for every pair of OUTPUT_LOSSES.
CASES = [
    pytest.param(pair, n_outputs, targets, id=f"{pair[0]}-{pair[1]}-{name}")
    for pair in sorted(OUTPUT_LOSSES)
    for name, n_outputs, targets in TARGETS[pair[1]]
]

#: (loss, output) pairs of a regressor: one per regression loss.
REGRESSION_PAIRS = [(loss, regression_output_for(loss)) for loss in REGRESSION_LOSSES]
REGRESSION_TARGETS = {"exp": "counts", "identity": "real"}


def _numerical_grad(net, theta, X, Y, sample_weight, alpha, eps=1e-5):
    """Central differences of the loss, evaluated through loss_and_grad itself.

    ``eps = 1e-5``: the rounding error of the differences (about 1e-11 here)
    stays far below 1e-6 of the smallest block (a bias block can be 2e-5), and
    the truncation error (``eps**2``) too; every kink is at least ``MARGIN =
    1e-3`` away.
    """
    scratch = np.empty_like(theta)
    numerical = np.empty_like(theta)
    for j in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[j] += eps
        minus[j] -= eps
        loss_plus = net.loss_and_grad(plus, X, Y, sample_weight, alpha, scratch)
        loss_minus = net.loss_and_grad(minus, X, Y, sample_weight, alpha, scratch)
        numerical[j] = (loss_plus - loss_minus) / (2.0 * eps)
    return numerical


def _assert_gradient_ok(net, theta, X, Y, sample_weight, alpha):
    grad = np.empty_like(theta)
    theta_before = theta.copy()
    net.loss_and_grad(theta, X, Y, sample_weight, alpha, grad)
    assert_array_equal(theta, theta_before)  # theta is read only
    numerical = _numerical_grad(net, theta, X, Y, sample_weight, alpha)
    assert np.abs(numerical).max() > FLAT  # the check would be vacuous on a flat loss
    # The relative error of the whole vector, and of each layer's weights and
    # biases (a small block is not drowned by a large one). A block flatter than
    # FLAT (dead relu units give exact zeros) is measured against FLAT: below
    # it the differences' rounding noise (about 1e-11) is all there is to see.
    layout = net.layout
    for block in [slice(None), *layout.weight_slices, *layout.bias_slices]:
        scale = max(np.abs(numerical[block]).max(), FLAT)
        error = np.abs(grad[block] - numerical[block]).max() / scale
        assert error < 1e-6, (block, error)


def test_every_loss_of_the_estimators_has_a_pair():
    classifier_pairs = {
        (loss, output_function_for(loss, n_outputs, multilabel))
        for loss in CLASSIFICATION_LOSSES
        for n_outputs, multilabel in [(1, False), (3, False), (3, True)]
    }
    assert len(classifier_pairs) == 3
    assert len(REGRESSION_PAIRS) == len(REGRESSION_LOSSES) == 4
    assert classifier_pairs | set(REGRESSION_PAIRS) == set(OUTPUT_LOSSES)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("pair, n_outputs, targets", CASES)
def test_gradient_matches_finite_differences(
    network_problem, pair, n_outputs, targets, activation, weighted, alpha, seed
):
    net, theta, X, Y, sample_weight = network_problem(
        pair, n_outputs, targets, activation, seed
    )
    _assert_gradient_ok(net, theta, X, Y, sample_weight if weighted else None, alpha)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("pair, n_outputs, targets", CASES)
def test_gradient_without_hidden_layer(
    network_problem, pair, n_outputs, targets, weighted, alpha, seed
):
    net, theta, X, Y, sample_weight = network_problem(
        pair, n_outputs, targets, "tanh", seed, hidden=()
    )
    _assert_gradient_ok(net, theta, X, Y, sample_weight if weighted else None, alpha)


def test_zero_hidden_layer_softmax_network():
    net = Network((3, 2), (), "softmax", "log_loss")
    assert net.layout.n_layers == 1
    rng = np.random.RandomState(0)
    X = rng.randn(6, 3)
    Y = np.eye(2)[[0, 1, 1, 0, 1, 0]]
    theta = 0.5 * rng.randn(net.layout.size)
    (W,), (b,) = net.layout.views(theta)
    assert_allclose(net.logits([W], [b], X), X @ W + b, rtol=1e-14)
    _assert_gradient_ok(net, theta, X, Y, None, 0.0)


@pytest.mark.parametrize("pair", REGRESSION_PAIRS, ids=lambda p: "-".join(p))
def test_multi_output_loss_and_gradient_are_one_function(network_problem, pair, seed):
    """What L-BFGS minimises and the gradient it receives belong together.

    ``loss_and_grad`` returns the weighted mean over samples of the per-sample
    loss *summed* over the three outputs (plus L2), and its gradient is the
    gradient of exactly that number: the finite differences are taken of the
    loss it returns. (scikit-learn's ``MLPRegressor`` reports the squared error
    averaged over outputs but backpropagates the gradient of the sum, so for
    several outputs its L-BFGS sees a loss and a gradient that disagree by the
    factor ``n_outputs``.)
    """
    net, theta, X, Y, sample_weight = network_problem(
        pair, 3, REGRESSION_TARGETS[pair[1]], "tanh", seed
    )
    threshold = net.loss_params.get("threshold")
    alpha = 0.1
    grad = np.empty_like(theta)
    loss = net.loss_and_grad(theta, X, Y, sample_weight, alpha, grad)

    # The objective written out: per-sample losses summed over outputs.
    W, b = net.layout.views(theta)
    a = X
    for i in range(len(W) - 1):
        a = np.tanh(a @ W[i] + b[i])
    logits = a @ W[-1] + b[-1]
    r = logits - Y
    per_output = {
        "squared_error": lambda: 0.5 * r**2,
        "poisson": lambda: (
            np.exp(logits) - Y * logits - Y + Y * np.log(np.where(Y > 0, Y, 1))
        ),
        "huber": lambda: np.where(
            np.abs(r) <= threshold,
            0.5 * r**2,
            threshold * (np.abs(r) - 0.5 * threshold),
        ),
        "absolute_error": lambda: np.abs(r),
    }[pair[0]]()
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


@pytest.mark.parametrize("pair, n_outputs, targets", CASES)
def test_batch_of_one_row_matches_weighted_batch(
    network_problem, pair, n_outputs, targets, seed
):
    # momentum and Adam with batch_size=1 run one-row batches through
    # loss_and_grad (its one-row buffers, no bias broadcast by BLAS): the same
    # loss and gradient as a larger batch that gives the other rows no weight.
    net, theta, X, Y, _ = network_problem(pair, n_outputs, targets, "tanh", seed)
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
