"""
=======================================================
Dropout and early stopping on your own validation set
=======================================================

A network with far more weights than training samples can learn the training set
by heart: its training loss goes to zero while its error on new data stops
improving and its validation loss climbs. Two remedies work on different ends:

- **early stopping** watches a validation set after every epoch, stops when its
  score has not improved for ``n_iter_no_change`` epochs and restores the weights
  of the best epoch;
- **dropout** makes memorising harder in the first place: during training each
  hidden unit is switched off with probability ``dropout`` (a new random mask for
  every sample of every minibatch), so no unit can rely on particular others.

``fit(X, y, X_val=..., y_val=...)`` scores a validation set you choose, rather
than one carved out of the training data by ``validation_fraction``; after every
epoch it records the score in ``validation_scores_`` and the validation loss in
``validation_loss_curve_``, and :class:`skbp.TrainingCurveDisplay` draws them
next to the training loss.
"""

# %%
# Few samples, a big network
# --------------------------
# 150 digits to train on, 400 to validate on and the remaining 1247 to test:
# two hidden layers of 256 units (about 85,000 weights) for 150 images.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skbp import BPClassifier, TrainingCurveDisplay

X, y = load_digits(return_X_y=True)
X = X / 16.0


def split(seed):
    """150 training, 400 validation and the remaining test samples, stratified."""
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, train_size=150, stratify=y, random_state=seed
    )
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, train_size=400, stratify=y_rest, random_state=seed
    )
    return X_train, y_train, X_val, y_val, X_test, y_test


def fit(dropout, X_train, y_train, X_val, y_val):
    """Early stopping on the validation accuracy, patience 20 epochs."""
    clf = BPClassifier(
        hidden_layer_sizes=(256, 256),
        alpha=0.0,
        learning_rate=0.01,
        batch_size=50,
        max_iter=300,
        early_stopping=True,
        n_iter_no_change=20,
        dropout=dropout,
        random_state=0,
    )
    return clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)


X_train, y_train, X_val, y_val, X_test, y_test = split(seed=0)
models = {rate: fit(rate, X_train, y_train, X_val, y_val) for rate in [0.0, 0.5]}
for rate, clf in models.items():
    best = int(np.argmax(clf.validation_scores_))
    print(
        f"dropout={rate}: {clf.n_iter_} epochs, best epoch {best + 1} "
        f"(validation accuracy {clf.best_validation_score_:.3f}), "
        f"test accuracy {clf.score(X_test, y_test):.3f}"
    )

# %%
# The training curves
# -------------------
# Each panel shows the training loss, the validation loss (dashed) and the
# validation accuracy (dotted, right axis); the grey line marks the best epoch,
# whose weights the fitted model keeps.
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for (rate, clf), ax in zip(models.items(), axes):
    display = TrainingCurveDisplay.from_estimator(clf, ax=ax)
    display.ax_score_.set_ylim(0, 1)
    lines = list(display.lines_.values())
    ax.legend(lines, [line.get_label() for line in lines], loc="center right")
    best = int(np.argmax(clf.validation_scores_)) + 1
    ax.axvline(best, color="0.6", lw=1)
    ax.set_title(f"dropout={rate}: best epoch {best} of {clf.n_iter_}")
axes[0].set_ylim(0, 2)
fig.tight_layout()
plt.show()

# %%
# Without dropout the training loss is practically zero after ten epochs: the
# network has memorised its 150 images, their gradients vanish and nothing more
# is learned, so the validation curves freeze. Early stopping ends training 20
# epochs after the best validation accuracy and keeps that epoch's weights,
# instead of running on to ``max_iter``.
#
# With dropout the training loss cannot reach zero (every step trains a randomly
# thinned network), so the training images keep teaching something and the
# validation accuracy goes on creeping up for many more epochs. The validation
# *loss*, however, rises after its early minimum: the log-loss grows with every
# confident mistake, even while the share of correct answers improves. Which
# curve to stop on is a choice: the default ``scoring=None`` watches accuracy,
# ``scoring="loss"`` watches the validation loss (better when you need
# well-calibrated probabilities), and any scorer name works.
#
# More than one split
# -------------------
# With 150 training samples, a single split is a noisy judge. Two more splits of
# the data (different training, validation and test samples) show whether the
# difference holds: compare the lowest validation loss reached and the test
# accuracy.
print("split  dropout  lowest validation loss  test accuracy")
for seed in [0, 1, 2]:
    data = split(seed)
    for rate in [0.0, 0.5]:
        clf = models[rate] if seed == 0 else fit(rate, *data[:4])
        print(
            f"{seed:5d}  {rate:7.1f}  {min(clf.validation_loss_curve_):22.3f}  "
            f"{clf.score(*data[4:]):13.3f}"
        )

# %%
# Here dropout gives the better test accuracy on each of the three splits, by 0.6
# to 2.5 points, and a lower lowest validation loss on two of them (about equal on
# the first). With 150 training samples, margins of this size are ones that another
# split can reverse, so a choice like this is best made by cross-validation
# (:ref:`sphx_glr_auto_examples_getting_started_plot_cross_validation.py`).
# Dropout costs epochs, since each update trains only part of the network.
#
# Rates from 0.2 to 0.5 are usual; one rate per hidden layer is also accepted
# (``dropout=(0.2, 0.5)``). At prediction time all units are used: skbp's dropout
# is "inverted", scaling the kept units up by ``1 / (1 - dropout)`` during
# training, so nothing needs rescaling when it is switched off.
