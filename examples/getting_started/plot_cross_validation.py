"""
==============================
Pipelines and cross-validation
==============================

A network trained by gradient descent is sensitive to the scale of its inputs: a
feature in the thousands gets weight updates thousands of times larger than one
around 0.1, and a single step size cannot suit both. The usual cure is a
:class:`~sklearn.preprocessing.StandardScaler` in front of the network, and the
right place for it is inside a :class:`~sklearn.pipeline.Pipeline`: then
:func:`~sklearn.model_selection.cross_val_score` refits the scaler on the training
part of every fold, so the held-out part never leaks into the preprocessing, and
the whole pipeline is one estimator to tune, score and save.

This example scores :class:`skbp.BPClassifier` on the breast cancer dataset by
5-fold cross-validation, with and without the scaler.
"""

# %%
# Features on very different scales
# ---------------------------------
# The 30 features describe cell nuclei: some are areas in the hundreds or
# thousands, others smoothness or concavity ratios below 1.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier

data = load_breast_cancer()
X, y = data.data, data.target
spread = X.std(axis=0)
widest, narrowest = (
    data.feature_names[spread.argmax()],
    data.feature_names[spread.argmin()],
)
print(f"{X.shape[0]} samples, {X.shape[1]} features")
print(f"largest standard deviation:  {spread.max():9.4f} ({widest})")
print(f"smallest standard deviation: {spread.min():9.4f} ({narrowest})")

# %%
# The same network, with and without a scaler
# -------------------------------------------
# Both models get the same folds (shuffled and stratified, ``random_state=0``)
# and the same starting weights. ``max_iter=1000`` leaves both enough epochs to
# stop on their own. ``make_pipeline`` names each step after its class, so the
# network's parameters are reachable as ``bpclassifier__<name>`` (see
# :ref:`sphx_glr_auto_examples_getting_started_plot_grid_search.py`).
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
models = {
    "unscaled": BPClassifier(max_iter=1000, random_state=0),
    "StandardScaler + network": make_pipeline(
        StandardScaler(), BPClassifier(max_iter=1000, random_state=0)
    ),
}
fold_scores = {}
for name, model in models.items():
    fold_scores[name] = cross_val_score(model, X, y, cv=cv)
    scores = fold_scores[name]
    print(
        f"{name:>24}: folds {np.array2string(scores, precision=3)}, "
        f"mean {scores.mean():.3f} +/- {scores.std():.3f}"
    )

# %%
# Per-fold scores
# ---------------
# Each line joins the two models' scores on the same fold: the comparison is
# paired, and the scaled pipeline wins on every fold.
fig, ax = plt.subplots(figsize=(6, 4))
names = list(fold_scores)
ax.boxplot(
    [fold_scores[name] for name in names], widths=0.4, showmeans=True, whis=(0, 100)
)
ax.set_xticks([1, 2], names)
for fold in range(cv.get_n_splits()):
    ax.plot(
        [1, 2],
        [fold_scores[name][fold] for name in names],
        "o-",
        color="0.5",
        alpha=0.6,
    )
ax.set_ylabel("held-out accuracy")
ax.set_title("Breast cancer, 5-fold cross-validation")
fig.tight_layout()
plt.show()

# %%
# Why the scaler belongs in the pipeline
# --------------------------------------
# Scaling ``X`` once before cross-validation would compute the means and
# standard deviations on all samples, the held-out ones included. Inside the
# pipeline, each fold's scaler sees only that fold's training samples, just as
# the final model will only ever have seen the training data. The same holds for
# :class:`~sklearn.model_selection.GridSearchCV` and for a model saved to disk:
# the pipeline carries the scaler's statistics along with the network's weights,
# so ``predict`` on raw data applies exactly the preprocessing used in training.
