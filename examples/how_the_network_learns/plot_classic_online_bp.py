"""
=====================================================
The classic online backpropagation network
=====================================================

Textbook write-ups of backpropagation train a network of sigmoid units on the
squared error, one sample at a time, starting from weights drawn from U(-1, 1):

.. code-block:: text

    hidden = f(x . V)                 out = f(hidden . W)
    delta_out    = (target - out) * out * (1 - out)
    delta_hidden = (delta_out . W^T) * hidden * (1 - hidden)
    W += lr * hidden^T . delta_out    V += lr * x^T . delta_hidden

with ``f`` the sigmoid. :class:`skbp.BPClassifier` reproduces this rule (plus a
bias per unit) with ``activation='sigmoid'``, ``loss='squared_error'``,
``init='uniform'``, ``solver='sgd'``, ``momentum=0``, ``batch_size=1`` and
``alpha=0``. skbp descends the gradient: its output delta is
:math:`\\partial L / \\partial z = (a - y)\\,a\\,(1 - a)`, the negative of the
classic ``delta_out``, and its update :math:`-\\mathrm{lr}\\,\\partial L / \\partial W`
is the classic increment.

This example checks one online step against the update written out by hand, trains
the classic network on the digits, and compares it with skbp's defaults.
"""

# %%
# Data
# ----
# The digits' pixels are integers from 0 to 16; dividing by 16 puts them in [0, 1],
# the scaling the classic network expects. A quarter of the images is held out.
# The network is 64-30-10: the classic write-up used 100 hidden units, 30 keep
# this example fast.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
classes = np.unique(y)

classic_params = dict(
    hidden_layer_sizes=(30,),
    activation="sigmoid",
    loss="squared_error",
    init="uniform",
    solver="sgd",
    learning_rate=0.1,
    momentum=0.0,
    batch_size=1,
    alpha=0.0,
    random_state=0,
)

# %%
# One online step, by hand
# ------------------------
# ``partial_fit`` on a single sample performs exactly one update. Take the weights
# after a first step, apply the classic rule to the next sample in numpy, and
# compare with what skbp does. skbp's layers also have biases; the rule below
# updates them like weights on an extra input fixed at 1.
clf = BPClassifier(**classic_params)
clf.partial_fit(X_train[:1], y_train[:1], classes=classes)
V, W = (coef.copy() for coef in clf.coefs_)
b_V, b_W = (intercept.copy() for intercept in clf.intercepts_)

x = X_train[1:2]  # (1, 64)
target = (classes == y_train[1]).astype(float)[None, :]  # (1, 10), one-hot
lr = classic_params["learning_rate"]


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


hidden = sigmoid(x @ V + b_V)  # (1, 30)
out = sigmoid(hidden @ W + b_W)  # (1, 10)
delta_out = (target - out) * out * (1 - out)
delta_hidden = (delta_out @ W.T) * hidden * (1 - hidden)
W += lr * hidden.T @ delta_out
b_W += lr * delta_out[0]
V += lr * x.T @ delta_hidden
b_V += lr * delta_hidden[0]

clf.partial_fit(X_train[1:2], y_train[1:2])
for name, by_hand, by_skbp in [
    ("V", V, clf.coefs_[0]),
    ("W", W, clf.coefs_[1]),
    ("b_V", b_V, clf.intercepts_[0]),
    ("b_W", b_W, clf.intercepts_[1]),
]:
    print(f"{name:>3}: max |by hand - skbp| = {np.abs(by_hand - by_skbp).max():.1e}")

# %%
# Training the classic network
# ----------------------------
# Fifteen epochs of online updates (about 20,000 steps). ``max_iter`` is kept small
# so the example runs in seconds; the warning that training was cut short is
# expected.
classic = BPClassifier(max_iter=15, **classic_params)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    classic.fit(X_train, y_train)
print(f"classic network: held-out accuracy {classic.score(X_test, y_test):.3f}")

fig, ax = plt.subplots(figsize=(6, 6))
ConfusionMatrixDisplay.from_estimator(classic, X_test, y_test, ax=ax, colorbar=False)
ax.set_title("Classic online backpropagation, held-out digits")
plt.show()

# %%
# The loss is half the squared error summed over the ten sigmoid outputs, averaged
# over samples. ``predict_proba`` divides the ten outputs by their sum so that each
# row is a probability distribution.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.arange(1, classic.n_iter_ + 1), classic.loss_curve_, "o-")
ax.set_xlabel("epoch")
ax.set_ylabel("mean squared-error loss")
ax.set_title("Classic network, training loss")
fig.tight_layout()
plt.show()

# %%
# The modern defaults
# -------------------
# skbp's defaults replace each classic choice: ReLU hidden units with He
# initialisation, a softmax output with the log-loss, Adam on minibatches of 200
# and an L2 penalty, with standardised inputs. The network keeps the same 30 hidden
# units; ``max_iter`` is raised from 200 to 500 because Adam's small default step
# needs about 250 epochs here. Training stops by itself when the loss stops
# improving.
modern = make_pipeline(
    StandardScaler(),
    BPClassifier(hidden_layer_sizes=(30,), max_iter=500, random_state=0),
)
modern.fit(X_train, y_train)
print(
    f"modern defaults: held-out accuracy {modern.score(X_test, y_test):.3f} "
    f"after {modern[-1].n_iter_} epochs"
)

# %%
# On a dataset this easy both reach high accuracy. The differences show on harder
# problems and deeper networks: the classic network's sigmoid slopes (at most 1/4)
# and the squared error's extra :math:`a (1 - a)` factor both shrink the gradient,
# while the log-loss with a softmax gives the output delta :math:`a - y` with no
# such factor.
