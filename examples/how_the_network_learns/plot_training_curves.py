"""
=========================================
Training curves by solver and schedule
=========================================

``loss_curve_`` holds the training loss of every epoch (every iteration for
L-BFGS). This example trains the same network on the digits dataset with SGD under
each learning-rate schedule, with Adam, and with L-BFGS, and plots the curves.
"""

# %%
# Data
# ----
# 1797 images of 8x8 pixels, 10 classes. Standardising the pixels makes a single
# step size suit every input.
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)

# %%
# SGD schedules and Adam
# ----------------------
# All SGD runs use momentum 0.9 with Nesterov's correction (the defaults) and start
# from the same weights (``random_state=0``).
#
# - ``'constant'`` keeps the step size; training stops once the loss has not
#   improved by at least ``tol`` for more than ``n_iter_no_change`` epochs.
# - ``'invscaling'`` uses ``learning_rate / (t + 1) ** power_t`` after each epoch,
#   with ``t`` the number of *samples* seen: after one epoch of 1797 samples the
#   rate is already divided by about 42, so it needs a larger initial rate.
# - ``'adaptive'`` keeps the rate while the loss improves and divides it by 5 at
#   each plateau instead of stopping, until the rate is down to 1e-6.
# - Adam (``solver='adam'``, the default) scales each parameter's step by running
#   estimates of the gradient's first and second moments.
runs = {
    "sgd, constant, lr=0.1": dict(solver="sgd", learning_rate=0.1),
    "sgd, invscaling, lr=0.1": dict(
        solver="sgd", learning_rate=0.1, learning_rate_schedule="invscaling"
    ),
    "sgd, invscaling, lr=1.0": dict(
        solver="sgd", learning_rate=1.0, learning_rate_schedule="invscaling"
    ),
    "sgd, adaptive, lr=0.1": dict(
        solver="sgd", learning_rate=0.1, learning_rate_schedule="adaptive"
    ),
    "adam, lr=0.001": dict(solver="adam", learning_rate=0.001),
    "adam, lr=0.01": dict(solver="adam", learning_rate=0.01),
}


def fit_quietly(**params):
    """Fit on the digits with a budget of 60 epochs.

    Runs that are still improving after 60 epochs warn that they did not converge,
    which is expected here.
    """
    clf = BPClassifier(hidden_layer_sizes=(32,), max_iter=60, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


fig, ax = plt.subplots(figsize=(8, 5))
for label, params in runs.items():
    clf = fit_quietly(**params)
    # The constant and adaptive runs overlap until the first plateau: draw the
    # constant one wide and mark the epoch where it stopped.
    style = dict(lw=5, alpha=0.4) if "constant" in label else dict(lw=1.5)
    (line,) = ax.plot(clf.loss_curve_, label=f"{label} ({clf.n_iter_} epochs)", **style)
    if clf.n_iter_ < 60:
        ax.plot(clf.n_iter_ - 1, clf.loss_curve_[-1], "o", color=line.get_color())
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (log scale)")
ax.set_title("Digits, one hidden layer of 32 ReLU units")
ax.legend()
fig.tight_layout()

# %%
# The constant and adaptive schedules follow the same curve until the constant run
# meets its first plateau and stops (the dot); the adaptive run lowers its rate
# there and keeps going. With ``lr=0.1``, the inverse scaling schedule shrinks the
# step too fast and crawls; ten times the initial rate makes it competitive.
#
# L-BFGS
# ------
# L-BFGS uses the full batch and a quasi-Newton direction. skbp records its loss at
# every iteration in ``loss_curve_`` (scikit-learn's ``MLPClassifier`` leaves the
# attribute unset for L-BFGS). An iteration is one step of the optimiser, not a
# pass over minibatches, so the x axis differs from the plot above.
lbfgs = BPClassifier(hidden_layer_sizes=(32,), solver="lbfgs", random_state=0)
lbfgs.fit(X, y)

fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(lbfgs.loss_curve_, color="k")
ax.set_yscale("log")
ax.set_xlabel("L-BFGS iteration")
ax.set_ylabel("training loss (log scale)")
ax.set_title(f"L-BFGS: {lbfgs.n_iter_} iterations, final loss {lbfgs.loss_:.2g}")
fig.tight_layout()
plt.show()
