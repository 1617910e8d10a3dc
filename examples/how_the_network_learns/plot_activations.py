"""
=================================
Activation functions and slopes
=================================

Every hidden-layer activation in skbp is a pair of functions kept side by side:
``forward(ops, z, out)`` computes :math:`f(z)` and ``derivative(ops, z, a, out)``
computes :math:`f'(z)` from the pre-activation ``z`` and the activation
``a = f(z)``; ``ops`` is the array library's functions (NumPy's here, with
SciPy's special functions), so the same code runs on any array API library. The
backward pass multiplies by :math:`f'(z)` at every hidden layer,
``delta[i - 1] = (delta[i] @ W[i].T) * f'(z[i - 1])``, so the shape of the slope
decides how well gradients travel through a deep network.

This example plots each activation and its derivative, and checks the derivative
against central finite differences. It reads skbp's private registry
``skbp._core.activations.ACTIVATIONS``, which is fine for a teaching plot but
is not a public API.
"""

# %%
# The registry
# ------------
# ``ACTIVATIONS`` maps each canonical name to its forward map, its derivative and a
# one-line formula. ``'logistic'`` is accepted as an alias of ``'sigmoid'``.
import matplotlib.pyplot as plt
import numpy as np

from skbp._core.activations import ACTIVATIONS, ALIASES
from skbp._core.namespace import NUMPY_OPS as ops

for name, activation in ACTIVATIONS.items():
    print(f"{name:>10}: f(z) = {activation.formula}")
print("aliases:", ALIASES)

# %%
# Shapes and slopes
# -----------------
# The forward functions write into ``out`` and the derivatives may overwrite their
# first argument, so each call gets fresh arrays.
z = np.linspace(-4, 4, 801)

fig, axes = plt.subplots(3, 3, figsize=(10, 9), sharex=True)
for (name, activation), ax in zip(ACTIVATIONS.items(), axes.ravel()):
    a = activation.forward(ops, z.copy(), np.empty_like(z))
    slope = activation.derivative(ops, z.copy(), a, np.empty_like(z))
    ax.plot(z, a, label="f(z)")
    ax.plot(z, slope, "--", label="f'(z)")
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0, color="0.8", lw=0.8, zorder=0)
    ax.set_title(name)
    ax.set_ylim(-1.6, 2.6)
axes[0, 0].legend(loc="upper left")
for ax in axes[-1]:
    ax.set_xlabel("z")
fig.suptitle("Hidden-layer activations (solid) and their derivatives (dashed)")
fig.tight_layout()
plt.show()

# %%
# A few things to read off the plots:
#
# - ``sigmoid``'s slope is at most 1/4 (at 0) and vanishes on both sides; a chain
#   of sigmoid layers shrinks the gradient at every layer.
# - ``tanh`` is a rescaled sigmoid, ``2 * sigmoid(2 z) - 1``, with slope 1 at 0.
# - ``softsign``, ``z / (1 + |z|)``, also saturates at -1 and 1, but its slope
#   ``1 / (1 + |z|) ** 2`` decays polynomially rather than exponentially.
# - ``relu`` has slope 0 or 1; units whose inputs are all negative stop learning.
#   ``leaky_relu`` keeps a slope of 0.01 there and ``elu`` (with alpha 1) a slope of
#   ``exp(z)``.
# - ``softplus`` is a smooth ReLU whose slope is the sigmoid.
# - ``gelu`` is the exact :math:`z \Phi(z)` (with ``erf``, not the tanh
#   approximation); it dips slightly below zero around ``z = -0.75``.
#
# Checking the derivatives
# ------------------------
# A central difference :math:`(f(z + h) - f(z - h)) / 2h` approximates
# :math:`f'(z)` with an error of order :math:`h^2`. Points near the kink at 0 of
# ``relu``, ``leaky_relu`` and ``elu`` are left out, since the finite difference
# straddles two pieces there.
h = 1e-5
z_check = z[np.abs(z) > 1e-3]
for name, activation in ACTIVATIONS.items():
    plus = activation.forward(ops, z_check + h)
    minus = activation.forward(ops, z_check - h)
    numeric = (plus - minus) / (2 * h)
    a = activation.forward(ops, z_check.copy())
    analytic = activation.derivative(ops, z_check.copy(), a, np.empty_like(z_check))
    print(
        f"{name:>10}: max |analytic - numeric| = {np.abs(analytic - numeric).max():.1e}"
    )
