"""Tests for skbp._core.network: the layout, the forward pass and the gradient.

The oracle here is scikit-learn's ``MLPClassifier``, whose one full-batch SGD
step reveals its gradient; the finite-difference checks of every (loss, output)
pair are in ``test_gradients.py``.
"""

import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skbp._core.activations import ACTIVATIONS, resolve_activation
from skbp._core.losses import OUTPUT_LOSSES
from skbp._core.namespace import NUMPY_OPS
from skbp._core.network import Layout, Network

ACTIVATION_NAMES = sorted(ACTIVATIONS)

#: Output kind -> ((loss, output), n_outputs, targets of ``network_problem``).
KINDS = {
    "binary-log_loss": (("log_loss", "logistic"), 1, "indicator"),
    "multiclass-log_loss": (("log_loss", "softmax"), 3, "onehot"),
    "multilabel-log_loss": (("log_loss", "logistic"), 3, "indicator"),
    "binary-squared_error": (("squared_error", "logistic"), 1, "indicator"),
    "multiclass-squared_error": (("squared_error", "logistic"), 3, "onehot"),
    "multilabel-squared_error": (("squared_error", "logistic"), 3, "indicator"),
}


@pytest.fixture
def problem(network_problem):
    """``problem(kind, activation, seed, n_samples=5, hidden=(4, 3))``."""

    def make(kind, activation, seed, n_samples=5, hidden=(4, 3)):
        pair, n_outputs, targets = KINDS[kind]
        return network_problem(
            pair,
            n_outputs,
            targets,
            activation,
            seed,
            hidden=hidden,
            n_samples=n_samples,
        )

    return make


def test_layout_offsets_weights_first_then_biases():
    layout = Layout((3, 4, 2))
    assert layout.layer_sizes == (3, 4, 2)
    assert layout.n_layers == 2
    assert layout.weight_shapes == [(3, 4), (4, 2)]
    assert layout.weight_slices == [slice(0, 12), slice(12, 20)]
    assert layout.n_weights == 20
    assert layout.bias_slices == [slice(20, 24), slice(24, 26)]
    assert layout.size == 26

    theta = np.arange(layout.size, dtype=float)
    W, b = layout.views(theta)
    assert [w.shape for w in W] == [(3, 4), (4, 2)]
    assert [v.shape for v in b] == [(4,), (2,)]
    # Row-major (n_in, n_out) blocks, in layer order, then the biases.
    assert_array_equal(W[0], np.arange(12.0).reshape(3, 4))
    assert_array_equal(W[1], np.arange(12.0, 20.0).reshape(4, 2))
    assert_array_equal(b[0], [20.0, 21.0, 22.0, 23.0])
    assert_array_equal(b[1], [24.0, 25.0])


def test_layout_views_share_memory_with_theta():
    layout = Layout((3, 4, 3, 2))
    theta = np.zeros(layout.size)
    W, b = layout.views(theta)
    for view in W + b:
        assert np.shares_memory(view, theta)
    # Writing through a view writes theta, and the other way round.
    W[1][2, 1] = 7.0
    assert theta[layout.weight_slices[1]].reshape(4, 3)[2, 1] == 7.0
    theta[layout.bias_slices[2]] = 3.0
    assert_array_equal(b[2], [3.0, 3.0])
    assert theta.sum() == 7.0 + 6.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layout_pack_round_trip(dtype):
    layout = Layout((3, 4, 3, 2))
    rng = np.random.RandomState(0)
    coefs = [rng.randn(*shape) for shape in layout.weight_shapes]
    intercepts = [rng.randn(n) for n in layout.layer_sizes[1:]]
    theta = layout.pack(coefs, intercepts, dtype)
    assert theta.dtype == dtype
    assert theta.shape == (layout.size,)
    W, b = layout.views(theta)
    for got, expected in zip(W + b, coefs + intercepts):
        assert_array_equal(got, expected.astype(dtype))
    assert_array_equal(layout.pack(W, b, dtype), theta)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_prediction_forward_matches_training_loss(problem, activation):
    """``logits`` (prediction, in place) and ``loss_and_grad`` (training, into
    work buffers) compute the same forward pass: the loss rebuilt from the
    prediction logits equals the training loss."""
    for kind in KINDS:
        net, theta, X, Y, sample_weight = problem(kind, activation, 0)
        W, b = net.layout.views(theta)
        logits = net.logits(W, b, X)
        per_sample, _ = OUTPUT_LOSSES[(net.loss_name, net.output)](NUMPY_OPS, logits, Y)
        weights_l2 = float(
            theta[: net.layout.n_weights] @ theta[: net.layout.n_weights]
        )
        for sw, alpha in [(None, 0.0), (sample_weight, 0.3)]:
            w = np.ones(len(X)) if sw is None else sw
            from_prediction = (per_sample @ w + 0.5 * alpha * weights_l2) / w.sum()
            grad = np.empty_like(theta)
            expected = net.loss_and_grad(theta, X, Y, sw, alpha, grad)
            assert_allclose(
                from_prediction,
                expected,
                rtol=1e-13,
                err_msg=f"{kind}, weighted={sw is not None}, alpha={alpha}",
            )


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_logits_hidden_layer_activation(problem, activation):
    net, theta, X, _, _ = problem("multiclass-log_loss", activation, 0)
    W, b = net.layout.views(theta)
    f = ACTIVATIONS[activation].forward
    # Plain numpy forward pass with separate output buffers.
    z0 = X @ W[0] + b[0]
    a1 = f(NUMPY_OPS, z0, np.empty_like(z0))
    z1 = a1 @ W[1] + b[1]
    a2 = f(NUMPY_OPS, z1, np.empty_like(z1))
    logits = a2 @ W[2] + b[2]
    assert_allclose(net.logits(W, b, X, layer=0), a1, rtol=1e-13, atol=1e-15)
    assert_allclose(net.logits(W, b, X, layer=1), a2, rtol=1e-13, atol=1e-15)
    assert_allclose(net.logits(W, b, X), logits, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("kind", list(KINDS))
def test_float32_theta_gives_float32_grad(problem, kind):
    net, theta64, X64, Y64, sw64 = problem(kind, "tanh", 0)
    grad64 = np.empty_like(theta64)
    loss64 = net.loss_and_grad(theta64, X64, Y64, sw64, 0.3, grad64)

    theta = theta64.astype(np.float32)
    X, Y, sw = (v.astype(np.float32) for v in (X64, Y64, sw64))
    grad = np.empty_like(theta)
    loss = net.loss_and_grad(theta, X, Y, sw, 0.3, grad)
    assert theta.dtype == np.float32
    assert grad.dtype == np.float32
    assert isinstance(loss, float)
    assert_allclose(loss, loss64, rtol=1e-5)
    assert_allclose(grad, grad64, rtol=1e-4, atol=1e-5 * np.abs(grad64).max())


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_sparse_csr_matches_dense(problem, kind, weighted):
    net, theta, X, Y, sample_weight = problem(kind, "relu", 0, n_samples=8)
    X[np.abs(X) < 0.7] = 0.0  # make it actually sparse
    sw = sample_weight if weighted else None
    grad_dense = np.empty_like(theta)
    grad_sparse = np.empty_like(theta)
    loss_dense = net.loss_and_grad(theta, X, Y, sw, 0.3, grad_dense)
    loss_sparse = net.loss_and_grad(theta, sp.csr_matrix(X), Y, sw, 0.3, grad_sparse)
    assert_allclose(loss_sparse, loss_dense, rtol=1e-13)
    assert_allclose(grad_sparse, grad_dense, rtol=1e-12, atol=1e-15)
    W, b = net.layout.views(theta)
    assert_allclose(net.logits(W, b, sp.csr_matrix(X)), net.logits(W, b, X))


def test_repeated_calls_with_several_batch_sizes_agree(problem):
    # The workspace cache holds at most two batch sizes; results must not depend
    # on what was computed before.
    net, theta, X, Y, sw = problem("multiclass-log_loss", "tanh", 0, n_samples=9)
    expected = {}
    for n in (9, 4, 1):
        grad = np.empty_like(theta)
        expected[n] = (net.loss_and_grad(theta, X[:n], Y[:n], sw[:n], 0.1, grad), grad)
    for n in (1, 9, 4, 9, 1):
        grad = np.empty_like(theta)
        loss = net.loss_and_grad(theta, X[:n], Y[:n], sw[:n], 0.1, grad)
        assert loss == expected[n][0]
        assert_array_equal(grad, expected[n][1])


def test_copies_drop_the_caches_and_compute_the_same(problem):
    # Work buffers and cached views are caches: a deep copy of the network (or
    # a pickle of its layout) carries neither, and computes the same.
    import copy as copying
    import pickle

    net, theta, X, Y, sw = problem("multiclass-log_loss", "tanh", 0, n_samples=5)
    grad = np.empty_like(theta)
    loss = net.loss_and_grad(theta, X, Y, sw, 0.1, grad)
    assert net._workspaces and net.layout._view_cache
    assert pickle.loads(pickle.dumps(net.layout))._view_cache == {}
    copy = copying.deepcopy(net)
    assert copy._workspaces == {} and copy.layout._view_cache == {}
    grad_copy = np.empty_like(theta)
    assert copy.loss_and_grad(theta, X, Y, sw, 0.1, grad_copy) == loss
    assert_array_equal(grad_copy, grad)


@pytest.mark.parametrize(
    "layer_sizes, activations",
    [((3, 4, 2), ("relu", "relu")), ((3, 4, 3, 2), ("relu",)), ((3, 2), ("tanh",))],
)
def test_mismatched_activation_count_raises(layer_sizes, activations):
    with pytest.raises(ValueError, match="one activation per hidden layer"):
        Network(layer_sizes, activations, "softmax", "log_loss")


# --- Oracle: scikit-learn's MLPClassifier ------------------------------------

_SKLEARN_HAS_SAMPLE_WEIGHT = (
    "sample_weight" in inspect.signature(MLPClassifier.fit).parameters
)


def _sklearn_loss_and_grad(activation, coefs, intercepts, X, y, alpha, sw=None):
    """Loss and gradient of MLPClassifier at the given weights.

    One full-batch SGD epoch with momentum 0 and no shuffling moves every
    parameter by ``-lr * grad``, and ``loss_`` is the loss at the starting
    weights. A first ``fit`` creates the fitted attributes; the weights are then
    overwritten and a second ``fit`` with ``warm_start=True`` takes the step.
    """
    lr = 1.0
    mlp = MLPClassifier(
        hidden_layer_sizes=tuple(c.shape[1] for c in coefs[:-1]),
        activation=activation,
        solver="sgd",
        alpha=alpha,
        batch_size=X.shape[0],
        learning_rate="constant",
        learning_rate_init=lr,
        momentum=0.0,
        nesterovs_momentum=False,
        shuffle=False,
        max_iter=1,
        warm_start=True,
        random_state=0,
    )
    fit_params = {} if sw is None else {"sample_weight": sw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y, **fit_params)
        mlp.coefs_ = [c.copy() for c in coefs]
        mlp.intercepts_ = [b.copy() for b in intercepts]
        mlp.fit(X, y, **fit_params)
    coef_grads = [(old - new) / lr for old, new in zip(coefs, mlp.coefs_)]
    intercept_grads = [
        (old - new) / lr for old, new in zip(intercepts, mlp.intercepts_)
    ]
    return mlp.loss_, coef_grads, intercept_grads


@pytest.mark.parametrize(
    "weighted",
    [
        False,
        pytest.param(
            True,
            marks=pytest.mark.skipif(
                not _SKLEARN_HAS_SAMPLE_WEIGHT,
                reason="MLPClassifier.fit takes sample_weight from 1.7 on",
            ),
        ),
    ],
    ids=["unweighted", "weighted"],
)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sklearn_activation", ["relu", "tanh", "logistic"])
def test_loss_and_grad_match_sklearn(sklearn_activation, n_classes, weighted, seed):
    rng = np.random.RandomState(seed)
    n_samples, n_features, hidden = 20, 3, (4, 3)
    X = rng.randn(n_samples, n_features)
    y = np.arange(n_samples) % n_classes  # every class present
    rng.shuffle(y)
    sw = rng.uniform(0.2, 2.0, n_samples) if weighted else None
    alpha = 1e-4

    # MLPClassifier: one logistic output for 2 classes, softmax for more.
    n_outputs = 1 if n_classes == 2 else n_classes
    Y = y[:, None].astype(float) if n_classes == 2 else np.eye(n_classes)[y]
    output = "logistic" if n_classes == 2 else "softmax"
    activation = resolve_activation(sklearn_activation)  # "logistic" -> "sigmoid"
    net = Network(
        (n_features, *hidden, n_outputs), (activation,) * 2, output, "log_loss"
    )
    theta = 0.5 * rng.randn(net.layout.size)
    coefs, intercepts = (list(v) for v in net.layout.views(theta.copy()))
    grad = np.empty_like(theta)
    loss = net.loss_and_grad(theta, X, Y, sw, alpha, grad)

    sk_loss, sk_coef_grads, sk_intercept_grads = _sklearn_loss_and_grad(
        sklearn_activation, coefs, intercepts, X, y, alpha, sw
    )
    sk_grad = net.layout.pack(sk_coef_grads, sk_intercept_grads, np.float64)
    assert_allclose(loss, sk_loss, rtol=1e-10)
    assert_allclose(grad, sk_grad, rtol=1e-6, atol=1e-12 * np.abs(sk_grad).max())


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("layer", [None, 0, 1])
def test_blocked_prediction_equals_one_pass(monkeypatch, sparse, layer):
    """Inputs longer than PREDICT_BLOCK go through reused per-block buffers."""
    import skbp._core.network as network_module

    rng = np.random.RandomState(0)
    net = Network((5, 4, 3, 2), ("tanh", "relu"), "softmax", "log_loss")
    theta = rng.randn(net.layout.size)
    W, b = net.layout.views(theta)
    X = rng.randn(23, 5)
    data = sp.csr_matrix(X) if sparse else X
    expected = net.logits(W, b, data, layer=layer)
    monkeypatch.setattr(network_module, "PREDICT_BLOCK", 7)
    blocked = net.logits(W, b, data, layer=layer)
    assert blocked.shape == expected.shape
    assert_allclose(blocked, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_into_strided_buffer(problem, dtype):
    # The L2 term is added by a BLAS axpy, in place only on contiguous memory;
    # a strided gradient buffer must still receive it.
    net, theta, X, Y, sw = problem("multiclass-log_loss", "relu", 0, n_samples=6)
    theta, X, Y, sw = (v.astype(dtype) for v in (theta, X, Y, sw))
    expected = np.empty_like(theta)
    loss = net.loss_and_grad(theta, X, Y, sw, 0.3, expected)
    storage = np.zeros(2 * theta.size, dtype=dtype)
    strided = storage[::2]
    assert net.loss_and_grad(theta, X, Y, sw, 0.3, strided) == loss
    assert_array_equal(strided, expected)
    assert_array_equal(storage[1::2], 0.0)
