"""Stochastic optimisers on the flat parameter vector, and learning-rate schedules.

An optimiser updates ``theta`` in place from ``grad`` in ``step``. Its state
(velocity, Adam moments, step count, current learning rate) is a dict of plain
arrays and numbers (``state`` / ``load_state``), so it survives pickling and can be
carried across ``partial_fit`` and ``warm_start`` calls.

Schedules (stochastic gradient descent only, as in scikit-learn's MLP):

* ``constant``: ``lr_t = learning_rate``;
* ``invscaling``: ``lr_t = learning_rate / (t + 1) ** power_t`` after each epoch,
  ``t`` the number of samples seen;
* ``adaptive``: ``lr_t`` stays constant while training improves; each time the
  stopping monitor reports a plateau it is divided by 5, and training stops once it
  is at or below 1e-6.

The state lives in the parameters' array library and on their device (the
``namespace`` argument, see ``skbp._core.namespace``). The updates are written with
in-place operators, which every array API namespace has; only NumPy's few
``out=`` calls and Adam's BLAS ``axpy`` have array API twins, which allocate.

This module must not import scikit-learn or any other skbp module but the
core's ``blas`` (for Adam's one-pass final update) and ``namespace``.
"""

import math

from skbp._core.blas import add_scaled
from skbp._core.namespace import NUMPY

SCHEDULES = ("constant", "invscaling", "adaptive")

#: An adaptive schedule stops training once the rate falls to this value.
MIN_ADAPTIVE_LEARNING_RATE = 1e-6


class SGD:
    """Stochastic gradient descent with optional (Nesterov) momentum.

    With velocity ``v`` and momentum ``mu``::

        v <- mu * v - lr * grad
        theta <- theta + v                       (classical momentum)
        theta <- theta + mu * v - lr * grad      (Nesterov, as in scikit-learn)

    With ``mu = 0`` both reduce to ``theta <- theta - lr * grad``, the classic
    backpropagation update.

    Parameters
    ----------
    size : int
        Number of parameters.
    dtype : numpy dtype
    learning_rate : float
    momentum : float
    nesterov : bool
    schedule : {"constant", "invscaling", "adaptive"}
    power_t : float
    namespace : ArrayNamespace, default=NUMPY
        Where the state lives: the parameters' array library and device.
    """

    def __init__(
        self,
        size,
        dtype,
        learning_rate,
        momentum=0.9,
        nesterov=True,
        schedule="constant",
        power_t=0.5,
        namespace=NUMPY,
    ):
        self.learning_rate_init = float(learning_rate)
        self.learning_rate = float(learning_rate)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov) and self.momentum > 0
        self.schedule = schedule
        self.power_t = float(power_t)
        self.namespace = namespace
        self.velocity = namespace.zeros(size, dtype)

    def step(self, theta, grad):
        """Update ``theta`` in place from ``grad``.

        ``grad`` serves as scratch space and is overwritten: it is recomputed
        for every batch, and borrowing it saves a parameter-sized buffer.
        """
        step = grad
        step *= -self.learning_rate
        if self.momentum == 0.0:
            theta += step
            return
        v = self.velocity
        v *= self.momentum
        v += step
        if self.nesterov:
            # theta += mu * v - lr * grad, in two in-place additions.
            theta += step
            theta += self.namespace.ops.multiply(v, self.momentum, out=step)
        else:
            theta += v

    def end_epoch(self, samples_seen):
        """Apply the ``invscaling`` schedule after an epoch."""
        if self.schedule == "invscaling":
            self.learning_rate = (
                self.learning_rate_init / (samples_seen + 1) ** self.power_t
            )

    def on_plateau(self):
        """React to a plateau; return True when training should stop."""
        if (
            self.schedule != "adaptive"
            or self.learning_rate <= MIN_ADAPTIVE_LEARNING_RATE
        ):
            return True
        self.learning_rate /= 5.0
        return False

    def state(self):
        """Plain-data snapshot of the optimiser state."""
        return {
            "velocity": self.namespace.copy(self.velocity),
            "learning_rate": self.learning_rate,
            "learning_rate_init": self.learning_rate_init,
        }

    def load_state(self, state):
        """Restore a snapshot made by ``state``.

        The scheduled rate is restored only if the initial rate is unchanged: a
        user who sets a new ``learning_rate`` between calls gets that rate.
        """
        self.velocity[...] = self.namespace.to_device(state["velocity"])
        if state.get("learning_rate_init") == self.learning_rate_init:
            self.learning_rate = float(state["learning_rate"])


class Adam:
    """Adam (Kingma & Ba, 2014) with scikit-learn's bias-correction form.

    ``m <- b1 m + (1 - b1) g``; ``v <- b2 v + (1 - b2) g^2``;
    ``lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)``;
    ``theta <- theta - lr_t * m / (sqrt(v) + eps)``.

    The moments are stored rescaled, ``u = m / (1 - b1)`` and
    ``w = v / (1 - b2)``, so that their updates ``u <- b1 u + g`` and
    ``w <- b2 w + g^2`` need no multiplication of ``g``. The step is the same:
    ``m / (sqrt(v) + eps) = c * u / (sqrt(w) + eps / sqrt(1 - b2))`` with
    ``c = (1 - b1) / sqrt(1 - b2)``. ``m`` and ``v`` are available as properties.
    With the final ``theta += -lr_t * c * ratio`` done by one ``axpy``, a step
    makes nine passes over the parameters instead of twelve.

    Parameters
    ----------
    size : int
    dtype : numpy dtype
    learning_rate : float
    beta_1, beta_2 : float
    epsilon : float
    namespace : ArrayNamespace, default=NUMPY
        Where the state lives: the parameters' array library and device.
    """

    def __init__(
        self,
        size,
        dtype,
        learning_rate,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        namespace=NUMPY,
    ):
        self.learning_rate_init = float(learning_rate)
        self.learning_rate = float(learning_rate)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.namespace = namespace
        self.t = 0
        self.u = namespace.zeros(size, dtype)
        self.w = namespace.zeros(size, dtype)

    @property
    def m(self):
        """First moment estimate."""
        return (1.0 - self.beta_1) * self.u

    @property
    def v(self):
        """Second moment estimate."""
        return (1.0 - self.beta_2) * self.w

    def step(self, theta, grad):
        """Update ``theta`` in place from ``grad``.

        ``grad`` serves as scratch space and is overwritten (see ``SGD.step``).
        """
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        u, w, tmp = self.u, self.w, grad
        u *= b1
        u += tmp
        w *= b2
        tmp *= tmp  # g^2
        w += tmp
        lr_t = self.learning_rate * math.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        scale = (1.0 - b1) / math.sqrt(1.0 - b2)
        eps = self.epsilon / math.sqrt(1.0 - b2)
        ops = self.namespace.ops
        tmp = ops.sqrt(w, out=tmp)
        tmp = ops.add(tmp, eps, out=tmp)
        tmp = ops.divide(u, tmp, out=tmp)
        # On NumPy one BLAS axpy pass. SGD keeps plain arithmetic: its step is
        # tested bit for bit against ``theta - lr * grad``, which a fused
        # multiply-add can miss.
        add_scaled(theta, -lr_t * scale, tmp, ops)

    def end_epoch(self, samples_seen):
        """Adam uses no schedule."""

    def on_plateau(self):
        """A plateau always stops Adam."""
        return True

    def state(self):
        """Plain-data snapshot of the optimiser state."""
        # The rescaled moments themselves, so that a round trip is exact.
        copy = self.namespace.copy
        return {"u": copy(self.u), "w": copy(self.w), "t": self.t}

    def load_state(self, state):
        """Restore a snapshot made by ``state``."""
        self.u[...] = self.namespace.to_device(state["u"])
        self.w[...] = self.namespace.to_device(state["w"])
        self.t = int(state["t"])
