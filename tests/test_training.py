"""Tests for skbp._core.training: the stopping monitor, the epoch loop and L-BFGS.

Includes the worked example: one online step of the classic squared-error
backpropagation rule, computed by hand.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.datasets import make_blobs

from skbp._core.fastpaths import online_sgd_step
from skbp._core.initializers import init_params, layer_schemes
from skbp._core.network import Network
from skbp._core.optimizers import SGD, Adam
from skbp._core.training import (
    History,
    SolverState,
    StoppingMonitor,
    TrainingData,
    TrainingHooks,
    TrainingOptions,
    fit_lbfgs,
    fit_stochastic,
    minibatches,
    run_epoch,
)

# --- StoppingMonitor ----------------------------------------------------------


def test_monitor_plateau_only_after_more_than_n_iter_no_change():
    monitor = StoppingMonitor(tol=0.1, n_iter_no_change=2)
    # Epoch 1 always improves on +inf. Then every epoch improves by 0.05 < tol,
    # which does not count as an improvement: counts 1, 2, 3; plateau when > 2.
    decisions = [monitor.update(loss) for loss in [1.0, 0.95, 0.90, 0.85]]
    assert decisions == [(False, False), (False, False), (False, False), (True, False)]
    assert monitor.no_improvement_count == 3
    assert monitor.best_loss == 0.85


def test_monitor_improvement_beyond_tol_resets_count():
    monitor = StoppingMonitor(tol=0.1, n_iter_no_change=2)
    plateaus = [monitor.update(loss)[0] for loss in [1.0, 0.95, 0.93, 0.7, 0.69]]
    # 0.7 < 0.93 - 0.1 is an improvement and resets the count to 0.
    assert plateaus == [False] * 5
    assert monitor.no_improvement_count == 1


@pytest.mark.parametrize("tol, expect_plateau", [(0.1, True), (0.01, False)])
def test_monitor_tol_respected(tol, expect_plateau):
    monitor = StoppingMonitor(tol=tol, n_iter_no_change=1)
    plateaus = [monitor.update(loss)[0] for loss in [1.0, 0.95, 0.90]]
    assert plateaus[-1] is expect_plateau
    assert not any(plateaus[:-1])


def test_monitor_validation_scores_higher_is_better():
    monitor = StoppingMonitor(tol=0.05, n_iter_no_change=1)
    scores = [0.5, 0.7, 0.72, 0.71, 0.9]
    losses = [1.0, 0.9, 0.8, 0.7, 0.6]
    decisions = [monitor.update(loss, s) for loss, s in zip(losses, scores)]
    # is_best: strictly better than every earlier score, whatever tol.
    assert [best for _, best in decisions] == [True, True, True, False, True]
    # 0.72 and 0.71 are not >= 0.7 + tol: counts 1, 2 -> plateau at 0.71.
    assert [plateau for plateau, _ in decisions] == [False, False, False, True, False]
    assert monitor.best_score == 0.9
    assert monitor.best_loss == 0.6


# --- Helpers ------------------------------------------------------------------


def _blobs(n_samples=40, seed=0, scale=1.0):
    X, y = make_blobs(
        n_samples=n_samples,
        centers=[[-2.0, -2.0], [2.0, 2.0]],
        cluster_std=0.8,
        random_state=seed,
    )
    return X * scale, y[:, None].astype(float)


def _network_and_theta(n_features=2, hidden=(5,), activation="tanh", seed=0):
    net = Network(
        (n_features, *hidden, 1), (activation,) * len(hidden), "logistic", "log_loss"
    )
    theta = np.empty(net.layout.size)
    schemes = layer_schemes("auto", net.activations)
    init_params(theta, net.layout, schemes, np.random.RandomState(seed))
    return net, theta


def _fit(net, theta, X, Y, sw=None, **kwargs):
    """``fit_stochastic`` with test defaults; kwargs may name options, solver
    state (``optimizer``, ``monitor``, ``rng``, ``samples_seen``) or the
    ``validate`` and ``hooks`` arguments."""
    options = {"alpha": 1e-4, "batch_size": 10, "max_iter": 20, "shuffle": False}
    state = {
        "optimizer": SGD(theta.size, theta.dtype, 0.1, momentum=0.9),
        "rng": np.random.RandomState(0),
        "monitor": StoppingMonitor(tol=1e-4, n_iter_no_change=1000),
    }
    arguments = {}
    for key, value in kwargs.items():
        if key in TrainingOptions.__dataclass_fields__:
            options[key] = value
        elif key in ("validate", "hooks"):
            arguments[key] = value
        else:
            state[key] = value
    return fit_stochastic(
        net,
        theta,
        TrainingData(X, Y, sw),
        TrainingOptions(**options),
        SolverState(**state),
        **arguments,
    )


# --- fit_stochastic -----------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_fit_stochastic_reduces_loss(optimizer, shuffle):
    X, Y = _blobs()
    net, theta = _network_and_theta()
    grad = np.empty_like(theta)
    initial_loss = net.loss_and_grad(theta, X, Y, None, 0.0, grad)
    opt = (
        SGD(theta.size, theta.dtype, 0.1, momentum=0.9)
        if optimizer == "sgd"
        else Adam(theta.size, theta.dtype, 0.05)
    )
    history = _fit(net, theta, X, Y, optimizer=opt, shuffle=shuffle)

    assert isinstance(history, History)
    assert history.n_iter == 20 == len(history.loss_curve)
    assert history.samples_seen == history.n_iter * X.shape[0]
    assert not history.converged
    assert not history.diverged
    assert history.validation_scores == []
    assert history.loss_curve[-1] < 0.5 * history.loss_curve[0]
    assert net.loss_and_grad(theta, X, Y, None, 0.0, grad) < 0.2 * initial_loss


def test_fit_stochastic_converged_on_plateau():
    X, Y = _blobs()
    net, theta = _network_and_theta()
    # With a huge tol no epoch after the first counts as an improvement:
    # counts 1, 2, 3 after epochs 2, 3, 4, and 3 > n_iter_no_change=2 stops.
    monitor = StoppingMonitor(tol=1e3, n_iter_no_change=2)
    history = _fit(net, theta, X, Y, monitor=monitor, max_iter=50)
    assert history.converged
    assert history.n_iter == 4
    assert history.samples_seen == 4 * X.shape[0]
    assert "did not improve" in history.message


def test_fit_stochastic_adaptive_schedule_lowers_rate_then_stops():
    X, Y = _blobs()
    net, theta = _network_and_theta()
    opt = SGD(theta.size, theta.dtype, 1e-3, momentum=0.0, schedule="adaptive")
    monitor = StoppingMonitor(tol=1e3, n_iter_no_change=0)
    history = _fit(net, theta, X, Y, optimizer=opt, monitor=monitor, max_iter=50)
    # Plateaus after epochs 2..6 divide the rate by 5 (1e-3 -> 3.2e-7); the
    # plateau after epoch 7 finds it at or below 1e-6 and stops.
    assert history.converged
    assert history.n_iter == 7
    assert opt.learning_rate == pytest.approx(3.2e-7, rel=1e-12)


def test_fit_stochastic_invscaling_counts_earlier_samples():
    X, Y = _blobs(n_samples=10)
    net, theta = _network_and_theta()
    opt = SGD(theta.size, theta.dtype, 0.5, momentum=0.0, schedule="invscaling")
    _fit(net, theta, X, Y, optimizer=opt, max_iter=2, samples_seen=100)
    assert opt.learning_rate == pytest.approx(0.5 / (100 + 2 * 10 + 1) ** 0.5)


def test_fit_stochastic_restores_best_validation_epoch():
    X, Y = _blobs()
    net, theta = _network_and_theta()
    scores = iter([0.2, 0.9, 0.5, 0.4, 0.3])  # best at epoch 2
    snapshots = []

    def validate(current_theta):
        snapshots.append(current_theta.copy())
        score = next(scores)
        return score, 1.0 - score

    history = _fit(
        net, theta, X, Y, max_iter=5, validate=validate, stop_on_validation=True
    )
    assert history.n_iter == 5
    assert history.validation_scores == [0.2, 0.9, 0.5, 0.4, 0.3]
    # The trainer returns the validation losses it measured, in step.
    assert history.validation_losses == pytest.approx([0.8, 0.1, 0.5, 0.6, 0.7])
    assert len(snapshots) == 5
    assert not np.array_equal(snapshots[1], snapshots[-1])  # training moved on
    assert_array_equal(theta, snapshots[1])


def test_fit_stochastic_validation_plateau_stops_and_restores_best():
    X, Y = _blobs()
    net, theta = _network_and_theta()
    scores = iter([0.5, 0.8, 0.7, 0.6, 0.5, 0.4])
    snapshots = []

    def validate(current_theta):
        snapshots.append(current_theta.copy())
        return next(scores), 0.0

    monitor = StoppingMonitor(tol=1e-4, n_iter_no_change=2)
    history = _fit(
        net,
        theta,
        X,
        Y,
        max_iter=6,
        monitor=monitor,
        validate=validate,
        stop_on_validation=True,
    )
    # Epochs 3, 4, 5 do not improve on 0.8: plateau after epoch 5.
    assert history.converged
    assert history.n_iter == 5
    assert "Validation score" in history.message
    assert_array_equal(theta, snapshots[1])


def test_fit_stochastic_divergence_keeps_last_finite_parameters():
    X, Y = _blobs(n_samples=60, scale=1e3)  # unscaled features
    X += 500.0
    net, theta = _network_and_theta(activation="relu")
    theta_start = theta.copy()

    def fit(theta, max_iter):
        opt = SGD(theta.size, theta.dtype, 1e6, momentum=0.0)
        # Overflow is the point of this test: silence numpy's RuntimeWarnings.
        with np.errstate(over="ignore", invalid="ignore"):
            return _fit(net, theta, X, Y, optimizer=opt, max_iter=max_iter)

    history = fit(theta, max_iter=50)
    assert history.diverged
    assert not history.converged
    assert "diverged" in history.message
    assert np.isfinite(theta).all()
    assert history.n_iter < 50
    assert len(history.loss_curve) == history.n_iter
    assert np.isfinite(history.loss_curve).all()
    assert history.samples_seen == history.n_iter * X.shape[0]

    # theta holds the parameters after the last finite epoch: the same as training
    # for exactly that many epochs (the run is deterministic without shuffling).
    theta_ref = theta_start.copy()
    fit(theta_ref, max_iter=history.n_iter)
    assert_array_equal(theta, theta_ref)


def test_fit_stochastic_skips_zero_weight_minibatch():
    X, Y = _blobs(n_samples=30)
    sw = np.ones(30)
    sw[10:20] = 0.0  # exactly the second batch of 10
    net, theta = _network_and_theta()
    theta_removed = theta.copy()

    history = _fit(net, theta, X, Y, sw, max_iter=5)
    assert np.isfinite(history.loss_curve).all()
    assert np.isfinite(theta).all()

    # Skipping the batch equals training without those rows (same batches).
    keep = sw > 0
    history_removed = _fit(net, theta_removed, X[keep], Y[keep], None, max_iter=5)
    assert_allclose(theta, theta_removed, rtol=1e-12, atol=1e-14)
    assert_allclose(history.loss_curve, history_removed.loss_curve, rtol=1e-12)


def test_fit_stochastic_full_batch_shuffle_matches_stored_order():
    # With one batch per epoch the gradient does not depend on the row order,
    # which exercises the gatherer path against the slicing path.
    X, Y = _blobs()
    sw = np.random.RandomState(0).uniform(0.5, 2.0, X.shape[0])
    net, theta = _network_and_theta()
    theta_shuffled = theta.copy()
    _fit(net, theta, X, Y, sw, batch_size=X.shape[0], max_iter=5, shuffle=False)
    _fit(net, theta_shuffled, X, Y, sw, batch_size=X.shape[0], max_iter=5, shuffle=True)
    assert_allclose(theta_shuffled, theta, rtol=1e-10, atol=1e-12)


def test_fit_stochastic_sparse_matches_dense_with_shuffle():
    X, Y = _blobs()
    X[np.abs(X) < 1.0] = 0.0
    net, theta = _network_and_theta()
    theta_sparse = theta.copy()
    history = _fit(net, theta, X, Y, shuffle=True, max_iter=5)
    history_sparse = _fit(
        net, theta_sparse, sp.csr_matrix(X), Y, shuffle=True, max_iter=5
    )
    assert_allclose(theta_sparse, theta, rtol=1e-10, atol=1e-12)
    assert_allclose(history_sparse.loss_curve, history.loss_curve, rtol=1e-10)


def test_fit_stochastic_float32():
    X, Y = _blobs()
    net, theta64 = _network_and_theta()
    theta = theta64.astype(np.float32)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    opt = SGD(theta.size, np.float32, 0.1, momentum=0.9)
    history = _fit(net, theta, X32, Y32, optimizer=opt)
    assert theta.dtype == np.float32
    assert opt.velocity.dtype == np.float32
    assert history.loss_curve[-1] < 0.5 * history.loss_curve[0]


def test_fit_stochastic_verbose_prints_one_line_per_epoch(capsys):
    X, Y = _blobs()
    net, theta = _network_and_theta()
    _fit(net, theta, X, Y, max_iter=3, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert all(
        line.startswith(f"Iteration {i + 1}, loss = ") for i, line in enumerate(lines)
    )


# --- fit_lbfgs ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_lbfgs_reaches_small_loss(dtype):
    X, Y = _blobs()
    net, theta64 = _network_and_theta()
    theta = theta64.astype(dtype)
    X, Y = X.astype(dtype), Y.astype(dtype)
    options = TrainingOptions(alpha=1e-5, max_iter=200, max_fun=15000, tol=1e-6)
    history = fit_lbfgs(net, theta, TrainingData(X, Y), options)
    assert theta.dtype == dtype
    assert np.isfinite(theta).all()
    assert not history.diverged
    assert 0 < history.n_iter <= 200
    assert len(history.loss_curve) == history.n_iter
    assert history.samples_seen >= history.n_iter * X.shape[0]
    assert history.message
    grad = np.empty_like(theta)
    final_loss = net.loss_and_grad(theta, X, Y, None, 1e-5, grad)
    assert final_loss < 0.02
    assert_allclose(history.loss_curve[-1], final_loss, rtol=1e-3, atol=1e-6)


def test_fit_lbfgs_sample_weight_zero_equals_removal():
    X, Y = _blobs()
    sw = np.ones(X.shape[0])
    sw[::4] = 0.0
    net, theta = _network_and_theta()
    theta_removed = theta.copy()
    options = TrainingOptions(alpha=1e-3, max_iter=30, max_fun=15000, tol=1e-8)
    fit_lbfgs(net, theta, TrainingData(X, Y, sw), options)
    keep = sw > 0
    fit_lbfgs(net, theta_removed, TrainingData(X[keep], Y[keep]), options)
    assert_allclose(theta, theta_removed, rtol=1e-6, atol=1e-8)


# --- The worked example: one online step of the classic delta rule -----------


def _worked_example():
    x = np.array([1.0, 0.5, -1.0])  # one sample, 3 features
    V = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.2]])  # input -> hidden (3, 2)
    b1 = np.array([0.1, -0.1])
    W = np.array([[0.2, -0.3], [0.4, 0.1]])  # hidden -> output (2, 2)
    b2 = np.array([0.05, -0.05])
    target = np.array([1.0, 0.0])
    net = Network((3, 2, 2), ("sigmoid",), "logistic", "squared_error")
    theta = net.layout.pack([V, W], [b1, b2], np.float64)
    return net, theta, x, V, b1, W, b2, target


def _classic_increments(x, V, b1, W, b2, target, lr):
    """The textbook online rule, step by step (values rounded to 6 digits)."""
    # hidden = sigmoid(x . V + b1)
    #   z_h[0] = 1*0.1 + 0.5*0.3 + (-1)*(-0.5) + 0.1 = 0.85
    #   z_h[1] = 1*(-0.2) + 0.5*0.4 + (-1)*0.2 - 0.1 = -0.3
    #   hidden = [sigmoid(0.85), sigmoid(-0.3)] = [0.700567, 0.425557]
    hidden = expit(x @ V + b1)
    assert_allclose(hidden, [0.700567, 0.425557], atol=5e-7)
    # out = sigmoid(hidden . W + b2)
    #   z_o[0] = 0.700567*0.2 + 0.425557*0.4 + 0.05 = 0.360336
    #   z_o[1] = 0.700567*(-0.3) + 0.425557*0.1 - 0.05 = -0.217614
    #   out = [0.589122, 0.445810]
    out = expit(hidden @ W + b2)
    assert_allclose(out, [0.589122, 0.445810], atol=5e-7)
    # delta_out = (target - out) * out * (1 - out)
    #   [0.410878 * 0.589122 * 0.410878, -0.445810 * 0.445810 * 0.554190]
    #   = [0.099456, -0.110143]
    delta_out = (target - out) * out * (1.0 - out)
    assert_allclose(delta_out, [0.099456, -0.110143], atol=5e-7)
    # delta_hidden = (delta_out . W^T) * hidden * (1 - hidden)
    #   delta_out . W^T = [0.099456*0.2 + (-0.110143)*(-0.3),
    #                      0.099456*0.4 + (-0.110143)*0.1] = [0.052934, 0.028768]
    #   hidden * (1 - hidden) = [0.209773, 0.244458]
    #   delta_hidden = [0.011104, 0.007033]
    delta_hidden = (delta_out @ W.T) * hidden * (1.0 - hidden)
    assert_allclose(delta_hidden, [0.011104, 0.007033], atol=5e-7)
    # Increments (lr = 0.1), added to the weights:
    #   dW  = lr * outer(hidden, delta_out) = [[0.006968, -0.007716],
    #                                          [0.004232, -0.004687]]
    #   dV  = lr * outer(x, delta_hidden)   = [[0.001110, 0.000703],
    #                                          [0.000555, 0.000352],
    #                                          [-0.001110, -0.000703]]
    #   db2 = lr * delta_out    = [0.009946, -0.011014]
    #   db1 = lr * delta_hidden = [0.001110, 0.000703]
    dW = lr * np.outer(hidden, delta_out)
    dV = lr * np.outer(x, delta_hidden)
    assert_allclose(dW, [[0.006968, -0.007716], [0.004232, -0.004687]], atol=5e-7)
    assert_allclose(
        dV,
        [[0.001110, 0.000703], [0.000555, 0.000352], [-0.001110, -0.000703]],
        atol=5e-7,
    )
    loss = 0.5 * np.sum((target - out) ** 2)  # 0.183784
    return dV, dW, lr * delta_hidden, lr * delta_out, loss


def _assert_classic_step(net, theta_before, theta_after, increments):
    dV, dW, db1, db2, _ = increments
    (V0, W0), (b10, b20) = net.layout.views(theta_before)
    (V1, W1), (b11, b21) = net.layout.views(theta_after)
    assert_allclose(V1 - V0, dV, rtol=1e-12)
    assert_allclose(W1 - W0, dW, rtol=1e-12)
    assert_allclose(b11 - b10, db1, rtol=1e-12)
    assert_allclose(b21 - b20, db2, rtol=1e-12)


def test_worked_example_run_epoch():
    net, theta, x, V, b1, W, b2, target = _worked_example()
    increments = _classic_increments(x, V, b1, W, b2, target, lr=0.1)
    theta_before = theta.copy()
    loss, first_loss = run_epoch(
        net,
        theta,
        np.empty_like(theta),
        minibatches(net, TrainingData(x[None, :], target[None, :]), 1),
        TrainingOptions(alpha=0.0, max_iter=1, batch_size=1),
        SolverState(SGD(theta.size, theta.dtype, 0.1, momentum=0.0), None, None),
        order=None,
        hooks=None,
    )
    _assert_classic_step(net, theta_before, theta, increments)
    assert loss == pytest.approx(increments[-1], rel=1e-12)
    # One sample: the epoch's mean loss is the loss before its only update.
    assert first_loss == loss


def test_worked_example_fit_stochastic():
    net, theta, x, V, b1, W, b2, target = _worked_example()
    increments = _classic_increments(x, V, b1, W, b2, target, lr=0.1)
    theta_before = theta.copy()
    history = _fit(
        net,
        theta,
        x[None, :],
        target[None, :],
        optimizer=SGD(theta.size, theta.dtype, 0.1, momentum=0.0),
        alpha=0.0,
        batch_size=1,
        max_iter=1,
        shuffle=False,
    )
    _assert_classic_step(net, theta_before, theta, increments)
    assert history.n_iter == 1
    assert history.samples_seen == 1
    assert history.loss_curve == [pytest.approx(increments[-1], rel=1e-12)]


# --- online (batch_size=1) paths ----------------------------------------------


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("with_weights", [False, True])
def test_online_epoch_matches_generic_batch_path(momentum, with_weights):
    """Dense batch_size=1 (the 1-D online path, fused for plain SGD) equals the
    generic minibatch path, which CSR input takes, step for step."""
    X, Y = _blobs(n_samples=30)
    sw = np.random.RandomState(1).randint(0, 3, size=30).astype(float)
    sw = sw if with_weights else None
    thetas = []
    for data in (X, sp.csr_matrix(X)):
        net, theta = _network_and_theta()
        history = _fit(
            net,
            theta,
            data,
            Y,
            sw,
            batch_size=1,
            max_iter=3,
            shuffle=True,
            alpha=0.01,
            optimizer=SGD(theta.size, theta.dtype, 0.05, momentum=momentum),
        )
        thetas.append((theta, history.loss_curve))
    (dense_theta, dense_curve), (sparse_theta, sparse_curve) = thetas
    assert_allclose(dense_theta, sparse_theta, rtol=1e-10, atol=1e-12)
    assert_allclose(dense_curve, sparse_curve, rtol=1e-10)


class _StopAfterBatches(TrainingHooks):
    """Counts the minibatch steps and ends the epoch after ``limit`` of them."""

    def __init__(self, limit):
        self.limit, self.begun, self.ended = limit, 0, 0

    def batch_begin(self):
        self.begun += 1

    def batch_end(self):
        self.ended += 1
        return self.ended >= self.limit


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_online_sgd_epoch_reports_each_sample_and_can_end_early(weighted):
    # The fused online step with hooks: one begin/end pair per sample, and a
    # batch_end returning True ends the epoch after that sample, at the same
    # parameters as three fused steps on the first three samples.
    net, theta = _network_and_theta()
    X, Y = _blobs(n_samples=10)
    sw = np.linspace(0.5, 2.0, len(X)) if weighted else None
    hooks = _StopAfterBatches(3)
    optimizer = SGD(theta.size, theta.dtype, 0.1, momentum=0.0)
    expected = theta.copy()
    step = online_sgd_step(net, expected, 1e-4, 0.1)
    for i in range(3):
        step(X[i], Y[i], 1.0 if sw is None else sw[i])
    run_epoch(
        net,
        theta,
        np.empty_like(theta),
        minibatches(net, TrainingData(X, Y, sw), 1),
        TrainingOptions(alpha=1e-4, max_iter=1, batch_size=1),
        SolverState(optimizer, None, None),
        order=None,
        hooks=hooks,
    )
    assert hooks.begun == hooks.ended == 3
    assert_allclose(theta, expected, rtol=1e-13)
