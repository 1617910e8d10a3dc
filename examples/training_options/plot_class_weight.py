"""
================================
Imbalanced classes: class_weight
================================

When one class is rare, a classifier trained to minimise the average loss can
score a high accuracy by mostly ignoring it: with 5% positives, always answering
"negative" is already 95% accurate. If the rare class is the one that matters (a
fault, a fraud, a disease), accuracy is the wrong yardstick and the training loss
should care more about the rare samples.

``class_weight`` multiplies each sample's weight in the loss by the weight of its
class. ``class_weight="balanced"`` uses ``n_samples / (n_classes * count)``, so
that every class contributes the same total weight; a dict such as
``{0: 1, 1: 10}`` sets the weights by hand. This example compares the network
with and without ``class_weight="balanced"`` on a two-class problem with 5%
positives.
"""

# %%
# Data
# ----
# Two overlapping clouds of points in the plane, so that the decision boundary
# can be drawn: 1900 samples of class 0 spread around the origin and 100 of
# class 1, a tighter cloud at (2, 2) inside the edge of the first. The test
# quarter keeps the class proportions (``stratify=y``).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    balanced_accuracy_score,
    recall_score,
)
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight

from skbp import BPClassifier

X, y = make_blobs(
    n_samples=[1900, 100],
    centers=[(0, 0), (2, 2)],
    cluster_std=[1.5, 1.0],
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
print(f"training samples per class: {np.bincount(y_train)}")
weights = compute_class_weight("balanced", classes=np.unique(y), y=y_train)
print(f'class_weight="balanced" gives the classes the weights {weights.round(2)}')

# %%
# Two models
# ----------
# The same network and starting weights, with and without class weights. Besides
# accuracy, look at the *recall* of the rare class (the share of its samples that
# are found) and the *balanced accuracy* (the mean recall over both classes,
# which is 0.5 for a model that always answers "negative").
models = {}
for class_weight in [None, "balanced"]:
    clf = BPClassifier(
        hidden_layer_sizes=(16,),
        learning_rate=0.01,
        max_iter=1000,
        class_weight=class_weight,
        random_state=0,
    )
    models[class_weight] = clf.fit(X_train, y_train)
    y_pred = clf.predict(X_test)
    print(
        f"class_weight={class_weight!s:>8}: accuracy {clf.score(X_test, y_test):.3f}, "
        f"recall of class 1 {recall_score(y_test, y_pred):.3f}, "
        f"balanced accuracy {balanced_accuracy_score(y_test, y_pred):.3f}"
    )

# %%
# Decision boundaries and confusion matrices
# ------------------------------------------
# Top: the predicted class over the plane, with the test samples (rare class in
# orange). Bottom: the confusion matrices on the test set; rows are the true
# classes, columns the predictions.
fig, axes = plt.subplots(2, 2, figsize=(9, 8.5))
for (class_weight, clf), (ax_top, ax_bottom) in zip(models.items(), axes.T):
    DecisionBoundaryDisplay.from_estimator(
        clf, X, response_method="predict", cmap="coolwarm", alpha=0.3, ax=ax_top
    )
    for label, color, size in [(0, "C0", 10), (1, "C1", 25)]:
        mask = y_test == label
        ax_top.scatter(*X_test[mask].T, s=size, color=color, edgecolor="k", lw=0.3)
    ax_top.set_title(f"class_weight={class_weight}")
    ConfusionMatrixDisplay.from_estimator(
        clf, X_test, y_test, ax=ax_bottom, colorbar=False
    )
fig.tight_layout()
plt.show()

# %%
# Without weights the network claims for class 1 only the corner where it
# outnumbers class 0, and finds a quarter of the rare test samples (6 of 25):
# where the clouds overlap, the common class is denser, and giving up the rare
# samples there costs little average loss. With balanced weights each rare
# sample counts 19 times as much as a common one (10 against 0.53): the region
# predicted as class 1 grows into the overlap, 23 of the 25 rare samples are
# found, and the price is more false alarms among the common class, hence the
# lower plain accuracy.
#
# Which trade-off is right depends on what a missed rare case costs compared with
# a false alarm. ``class_weight`` changes what the network learns; to keep the
# network and move only the decision threshold on ``predict_proba``, see
# :class:`~sklearn.model_selection.TunedThresholdClassifierCV`. The weights are
# multiplied into ``sample_weight`` if you pass both. ``partial_fit`` cannot
# compute "balanced" weights from one chunk, so it needs a dict.
