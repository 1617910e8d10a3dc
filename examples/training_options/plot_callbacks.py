"""
==============================
Watching and stopping training
==============================

scikit-learn 1.9 introduced callbacks (:mod:`sklearn.callback`): objects that
an estimator calls at the beginning and end of each task of its fit. For
:class:`skbp.BPClassifier` and :class:`skbp.BPRegressor` a fit is one task, each
epoch (each iteration for L-BFGS) a subtask, and each minibatch a subtask of its
epoch. Callbacks observe training without changing it (a fit with callbacks
learns the same weights as one without), and a callback can end it early.

This example records a score after every epoch with scikit-learn's
``ScoringMonitor`` and writes a small callback of its own that stops training as
soon as the accuracy on a validation set passes a threshold. It needs
scikit-learn >= 1.9; with an older version it says so and stops.
"""

# %%
# The data
# --------
# The digits, pixels scaled to [0, 1]; 30% of the images are kept aside as the
# validation set that the stopping callback scores.
import sklearn

try:
    from sklearn.callback import ScoringMonitor
except ImportError:
    raise SystemExit(
        "This example needs scikit-learn >= 1.9 (sklearn.callback); this is "
        f'scikit-learn {sklearn.__version__}. pip install "scikit-learn>=1.9"'
    )

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skbp import BPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_val, y_train, y_val = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# %%
# A callback that stops at a target score
# ---------------------------------------
# A callback is any object with four methods: ``setup`` and ``teardown`` run once
# around the fit, ``on_fit_task_begin`` and ``on_fit_task_end`` around every task.
# The hooks declare the keyword arguments they want; one that asks for
# ``fitted_estimator`` receives, at the end of each epoch, a copy of the estimator
# that predicts with that epoch's weights. When ``on_fit_task_end`` returns True
# at the end of an epoch, training stops after that epoch, without a
# ``ConvergenceWarning``: stopping on request is not a failure to converge.


class StopAtScore:
    """Stop training once the accuracy on ``(X_val, y_val)`` reaches ``threshold``."""

    def __init__(self, X_val, y_val, threshold):
        self.X_val = X_val
        self.y_val = y_val
        self.threshold = threshold

    def setup(self, estimator, context):
        self.scores_ = []  # one validation accuracy per epoch

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name != "epoch" or fitted_estimator is None:
            return False  # the end of a minibatch, or of the whole fit
        self.scores_.append(fitted_estimator.score(self.X_val, self.y_val))
        return self.scores_[-1] >= self.threshold


# %%
# Monitoring and stopping
# -----------------------
# ``ScoringMonitor`` scores the fitted-so-far model on the training data passed
# to ``fit`` after every epoch (and once more at the end of the fit), with any
# scorers scikit-learn knows. ``set_callbacks`` returns the estimator, so it
# chains with ``fit``.
monitor = ScoringMonitor(scoring=["accuracy", "neg_log_loss"])
stop = StopAtScore(X_val, y_val, threshold=0.95)
clf = BPClassifier(hidden_layer_sizes=(64,), random_state=0)
clf.set_callbacks(monitor, stop).fit(X_train, y_train)
print(f"stopped after {clf.n_iter_} epochs (max_iter={clf.max_iter})")
print(f"validation accuracy at the stop: {stop.scores_[-1]:.3f}")

# %%
# The monitor's log has one row per epoch, and one for the end of the fit; each
# row names its task (``task_id`` counts epochs from 0) and holds the scores.
rows = monitor.get_logs().data
epoch_rows = [row for row in rows if row["task_name"] == "epoch"]
print(f"{len(rows)} rows: {len(epoch_rows)} epochs and the fit")
for row in epoch_rows[:3] + epoch_rows[-1:]:
    print(
        f"  epoch {row['task_id'] + 1:2d}: training accuracy {row['accuracy']:.3f}, "
        f"training log-loss {-row['neg_log_loss']:.3f}"
    )

# %%
# Both records side by side
# -------------------------
# Training accuracy (from the monitor) runs slightly ahead of validation
# accuracy (from the stopping callback); training ends at the first epoch whose
# validation accuracy reaches the threshold.
epochs = np.arange(1, len(epoch_rows) + 1)
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(epochs, [row["accuracy"] for row in epoch_rows], label="training (monitor)")
ax.plot(epochs, stop.scores_, label="validation (StopAtScore)")
ax.axhline(stop.threshold, color="0.5", ls=":", label="threshold")
ax.plot(epochs[-1], stop.scores_[-1], "ko", label=f"stop after epoch {epochs[-1]}")
ax.set_xlabel("epoch")
ax.set_ylabel("accuracy")
ax.set_ylim(0, 1)
ax.set_title("Digits: stopping at 95% validation accuracy")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# A progress bar
# --------------
# ``ProgressBar`` draws a live bar for the fit and each epoch in a terminal or a
# notebook (it needs rich: ``pip install rich``, the ``progress`` extra). It is
# not run here, since its output is meant for a live display::
#
#     from sklearn.callback import ProgressBar
#
#     BPClassifier(max_iter=50).set_callbacks(ProgressBar()).fit(X_train, y_train)
#
# Callbacks set on a :class:`~sklearn.pipeline.Pipeline` or
# :class:`~sklearn.model_selection.GridSearchCV` reach the network the way
# scikit-learn propagates them: ``ProgressBar(max_propagation_depth=None)`` set
# on a grid search draws the epochs of every candidate's fit. For stopping when
# a validation score stops improving, rather than at a fixed target, use the
# built-in ``early_stopping`` (see
# :ref:`sphx_glr_auto_examples_training_options_plot_dropout_early_stopping.py`).
