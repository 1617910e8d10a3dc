"""skbp._core.optimizers: updates written out by hand, schedules, state."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skbp._core.optimizers import MIN_ADAPTIVE_LEARNING_RATE, SCHEDULES, SGD, Adam

SIZE = 7


def _vectors(seed, dtype=np.float64):
    """A starting theta and two gradients."""
    rng = np.random.RandomState(seed)
    theta0, g1, g2 = (rng.randn(SIZE).astype(dtype) for _ in range(3))
    return theta0, g1, g2


def test_schedules_tuple():
    assert set(SCHEDULES) == {"constant", "invscaling", "adaptive"}


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_without_momentum_is_plain_gradient_step(nesterov, seed):
    theta0, g1, g2 = _vectors(seed)
    lr = 0.3
    opt = SGD(SIZE, np.float64, lr, momentum=0.0, nesterov=nesterov)
    theta = theta0.copy()
    opt.step(theta, g1.copy())
    # theta1 = theta0 - lr * g1, bit for bit.
    theta1 = theta0 - lr * g1
    assert_array_equal(theta, theta1)
    opt.step(theta, g2.copy())
    assert_array_equal(theta, theta1 - lr * g2)


def test_sgd_classical_momentum_two_steps(seed):
    theta0, g1, g2 = _vectors(seed)
    lr, mu = 0.1, 0.9
    opt = SGD(SIZE, np.float64, lr, momentum=mu, nesterov=False)
    theta = theta0.copy()

    opt.step(theta, g1.copy())
    v1 = -lr * g1  # v1 = mu * 0 - lr * g1
    theta1 = theta0 + v1
    assert_allclose(theta, theta1, rtol=1e-14, atol=1e-14)
    assert_allclose(opt.velocity, v1, rtol=1e-14, atol=1e-14)

    opt.step(theta, g2.copy())
    v2 = mu * v1 - lr * g2
    theta2 = theta1 + v2
    assert_allclose(theta, theta2, rtol=1e-14, atol=1e-14)
    assert_allclose(opt.velocity, v2, rtol=1e-14, atol=1e-14)


def test_sgd_nesterov_momentum_two_steps(seed):
    theta0, g1, g2 = _vectors(seed)
    lr, mu = 0.1, 0.9
    opt = SGD(SIZE, np.float64, lr, momentum=mu, nesterov=True)
    theta = theta0.copy()

    opt.step(theta, g1.copy())
    v1 = -lr * g1
    theta1 = theta0 + mu * v1 - lr * g1  # scikit-learn's Nesterov form
    assert_allclose(theta, theta1, rtol=1e-14, atol=1e-14)
    assert_allclose(opt.velocity, v1, rtol=1e-14, atol=1e-14)

    opt.step(theta, g2.copy())
    v2 = mu * v1 - lr * g2
    theta2 = theta1 + mu * v2 - lr * g2
    assert_allclose(theta, theta2, rtol=1e-14, atol=1e-14)
    assert_allclose(opt.velocity, v2, rtol=1e-14, atol=1e-14)


def test_adam_two_steps(seed):
    theta0, g1, g2 = _vectors(seed)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    opt = Adam(SIZE, np.float64, lr, beta_1=b1, beta_2=b2, epsilon=eps)
    theta = theta0.copy()

    opt.step(theta, g1.copy())
    m1 = (1 - b1) * g1
    v1 = (1 - b2) * g1**2
    lr_1 = lr * math.sqrt(1 - b2**1) / (1 - b1**1)
    theta1 = theta0 - lr_1 * m1 / (np.sqrt(v1) + eps)
    assert opt.t == 1
    assert_allclose(opt.m, m1, rtol=1e-14, atol=1e-14)
    assert_allclose(opt.v, v1, rtol=1e-14, atol=1e-14)
    assert_allclose(theta, theta1, rtol=1e-13, atol=1e-14)
    # Simplified: the first bias-corrected step is lr * sign(g), softened by eps:
    # lr * g / (|g| + eps / sqrt(1 - b2)).
    assert_allclose(
        theta0 - theta, lr * g1 / (np.abs(g1) + eps / math.sqrt(1 - b2)), rtol=1e-12
    )

    opt.step(theta, g2.copy())
    m2 = b1 * m1 + (1 - b1) * g2
    v2 = b2 * v1 + (1 - b2) * g2**2
    lr_2 = lr * math.sqrt(1 - b2**2) / (1 - b1**2)
    theta2 = theta1 - lr_2 * m2 / (np.sqrt(v2) + eps)
    assert opt.t == 2
    assert_allclose(opt.m, m2, rtol=1e-14, atol=1e-14)
    assert_allclose(opt.v, v2, rtol=1e-14, atol=1e-14)
    assert_allclose(theta, theta2, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("t", [0, 1, 10, 1234])
@pytest.mark.parametrize("power_t", [0.5, 0.25])
def test_invscaling_schedule(t, power_t):
    lr0 = 0.2
    opt = SGD(SIZE, np.float64, lr0, schedule="invscaling", power_t=power_t)
    opt.end_epoch(t)
    assert opt.learning_rate == pytest.approx(lr0 / (t + 1) ** power_t, rel=1e-15)
    # Each epoch recomputes from the initial rate; it does not compound.
    opt.end_epoch(t)
    assert opt.learning_rate == pytest.approx(lr0 / (t + 1) ** power_t, rel=1e-15)


@pytest.mark.parametrize("schedule", ["constant", "adaptive"])
def test_end_epoch_keeps_rate(schedule):
    opt = SGD(SIZE, np.float64, 0.2, schedule=schedule)
    opt.end_epoch(500)
    assert opt.learning_rate == 0.2


@pytest.mark.parametrize("schedule", ["constant", "invscaling"])
def test_plateau_stops_non_adaptive_sgd(schedule):
    opt = SGD(SIZE, np.float64, 0.2, schedule=schedule)
    assert opt.on_plateau() is True
    assert opt.learning_rate == 0.2


def test_adaptive_schedule_divides_by_five_until_floor():
    opt = SGD(SIZE, np.float64, 1e-3, schedule="adaptive")
    rates = []
    while not opt.on_plateau():
        rates.append(opt.learning_rate)
        assert len(rates) < 20
    # 1e-3 / 5^k while the rate before dividing is still above 1e-6.
    assert_allclose(rates, [2e-4, 4e-5, 8e-6, 1.6e-6, 3.2e-7], rtol=1e-12)
    assert opt.learning_rate <= MIN_ADAPTIVE_LEARNING_RATE
    assert opt.learning_rate == rates[-1]
    # Once at the floor, every plateau stops.
    assert opt.on_plateau() is True


def test_adam_has_no_schedule():
    opt = Adam(SIZE, np.float64, 0.01)
    opt.end_epoch(1000)
    assert opt.learning_rate == 0.01
    assert opt.on_plateau() is True


def _make(kind, dtype=np.float64):
    if kind == "sgd_plain":
        return SGD(SIZE, dtype, 0.1, momentum=0.0)
    if kind == "sgd_momentum":
        return SGD(SIZE, dtype, 0.1, momentum=0.8, nesterov=False)
    if kind == "sgd_nesterov_adaptive":
        return SGD(SIZE, dtype, 0.1, momentum=0.8, nesterov=True, schedule="adaptive")
    return Adam(SIZE, dtype, 0.01)


KINDS = ["sgd_plain", "sgd_momentum", "sgd_nesterov_adaptive", "adam"]


@pytest.mark.parametrize("kind", KINDS)
def test_state_round_trip_reproduces_steps(kind, seed):
    rng = np.random.RandomState(seed)
    grads = [rng.randn(SIZE) for _ in range(6)]
    theta = rng.randn(SIZE)

    opt = _make(kind)
    for g in grads[:3]:
        opt.step(theta, g.copy())
    opt.on_plateau()  # changes the adaptive rate, which the state must carry
    state = opt.state()
    theta_at_snapshot = theta.copy()
    for g in grads[3:]:
        opt.step(theta, g.copy())

    # Had the snapshot been a view of the live state, the later steps would have
    # leaked into it and the replay below would differ.
    restored = _make(kind)
    restored.load_state(state)
    theta_restored = theta_at_snapshot.copy()
    for g in grads[3:]:
        restored.step(theta_restored, g.copy())
    assert_array_equal(theta_restored, theta)
    assert restored.learning_rate == opt.learning_rate


@pytest.mark.parametrize("kind", KINDS)
def test_float32_state_and_theta(kind):
    opt = _make(kind, np.float32)
    theta0, g1, g2 = _vectors(0, np.float32)
    theta = theta0.copy()
    opt.step(theta, g1.copy())
    opt.step(theta, g2.copy())
    opt.end_epoch(10)
    opt.step(theta, g1.copy())
    assert theta.dtype == np.float32
    assert np.isfinite(theta).all()
    assert not np.array_equal(theta, theta0)
    for value in opt.state().values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32

    # The float32 trajectory follows the float64 one.
    opt64 = _make(kind, np.float64)
    theta64 = theta0.astype(np.float64)
    for g in (g1, g2):
        opt64.step(theta64, g.astype(np.float64).copy())
    opt64.end_epoch(10)
    opt64.step(theta64, g1.astype(np.float64).copy())
    assert_allclose(theta, theta64, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(SIZE, np.float64, 0.1, momentum=0.9),
        lambda: Adam(SIZE, np.float64, 0.1),
    ],
)
def test_step_uses_grad_as_scratch(make):
    """The gradient buffer is recomputed every batch, so step may overwrite it;
    the trainer relies on that to avoid a parameter-sized scratch buffer."""
    theta, g, _ = _vectors(0)
    before = g.copy()
    make().step(theta, g)
    assert not np.array_equal(g, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_updates_a_strided_theta_in_place(dtype):
    # The last update is a BLAS axpy, which works in place only on contiguous
    # arrays; on any other theta it must still land in theta.
    theta0, g1, g2 = _vectors(0, dtype)
    contiguous = theta0.copy()
    storage = np.zeros(2 * SIZE, dtype=dtype)
    strided = storage[::2]
    strided[...] = theta0
    opt_a, opt_b = Adam(SIZE, dtype, 0.01), Adam(SIZE, dtype, 0.01)
    for g in (g1, g2):
        opt_a.step(contiguous, g.copy())
        opt_b.step(strided, g.copy())
    assert not np.array_equal(contiguous, theta0)
    assert_array_equal(strided, contiguous)
    assert_array_equal(storage[1::2], 0.0)  # the gaps are untouched
