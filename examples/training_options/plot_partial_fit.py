"""
=====================================
Learning from chunks with partial_fit
=====================================

``fit`` needs the whole training set in memory. When the data arrive in pieces
(read from files one at a time, streamed from a database, or simply too large),
``partial_fit`` trains on one chunk per call: each call is one epoch over that
chunk, continuing from the current weights and optimiser state (Adam's moments,
or the momentum buffer for ``solver='sgd'``). Looping over the chunks once is one
pass over the data; several passes make several epochs.

Here the digits stand in for a large dataset: the training images are read in
chunks of 100, for three passes, and the accuracy on a held-out set is recorded
after every chunk.
"""

# %%
# Chunks of data
# --------------
# The pixels are divided by 16, their known maximum, so every chunk is scaled the
# same way without first looking at all of the data. (Where no such bound is
# known, a :class:`~sklearn.preprocessing.StandardScaler` can learn its
# statistics in a first pass with its own ``partial_fit``.) The generator
# shuffles the training set anew on every pass, like ``fit`` shuffles it every
# epoch.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skbp import BPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
classes = np.unique(y)


def iter_chunks(X, y, chunk_size, rng):
    """Yield ``(X_chunk, y_chunk)`` in a random order, as a reader of files would."""
    order = rng.permutation(len(X))
    for start in range(0, len(X), chunk_size):
        rows = order[start : start + chunk_size]
        yield X[rows], y[rows]


small_chunk_classes = [
    len(np.unique(y_chunk))
    for _, y_chunk in iter_chunks(X_train, y_train, 20, np.random.RandomState(0))
]
print(
    f"{small_chunk_classes.count(10)} of {len(small_chunk_classes)} chunks of 20 "
    "images hold all 10 classes"
)

# %%
# Why ``classes`` is needed
# -------------------------
# A chunk need not contain every class (a small one often does not), yet the
# output layer needs one unit per class from the very first update. So the first
# call to ``partial_fit`` must list every label that will ever appear; later
# calls may pass it again or leave it out. For the same reason
# ``class_weight='balanced'``, which needs the class counts of all the data, is
# refused by ``partial_fit``: give a dict instead.
#
# Three passes over the data
# --------------------------
# A step size of 0.01 makes Adam move noticeably within one chunk; each chunk is
# split into minibatches of 50.
clf = BPClassifier(
    hidden_layer_sizes=(64,), learning_rate=0.01, batch_size=50, random_state=0
)
n_passes = 3
rng = np.random.RandomState(0)
accuracy = []
for n_pass in range(n_passes):
    for X_chunk, y_chunk in iter_chunks(X_train, y_train, 100, rng):
        clf.partial_fit(X_chunk, y_chunk, classes=classes)
        accuracy.append(clf.score(X_test, y_test))
    print(
        f"after pass {n_pass + 1}: {len(accuracy)} chunks seen, "
        f"held-out accuracy {accuracy[-1]:.3f}"
    )
chunks_per_pass = len(accuracy) // n_passes
print(f"samples seen: {clf.t_} ({n_passes} x {len(X_train)})")

# %%
# Accuracy as the chunks come in
# ------------------------------
# Most of the learning happens in the first pass; the later passes refine it.
fig, ax = plt.subplots(figsize=(7, 4))
chunks_seen = np.arange(1, len(accuracy) + 1)
ax.plot(chunks_seen, accuracy, "o-", ms=3)
for n_pass in range(1, n_passes):
    ax.axvline(n_pass * chunks_per_pass + 0.5, color="0.6", ls=":")
ax.set_xlabel("chunks of 100 images seen")
ax.set_ylabel("held-out accuracy")
ax.set_title(f"partial_fit on the digits, {n_passes} passes")
ax.set_ylim(0, 1)
fig.tight_layout()
plt.show()

# %%
# For comparison, ``fit`` on the whole training set in memory (same network and
# step size) trains until its loss stops improving, many more epochs than the
# three passes above.
full = BPClassifier(hidden_layer_sizes=(64,), learning_rate=0.01, random_state=0)
full.fit(X_train, y_train)
print(
    f"fit on all data: held-out accuracy {full.score(X_test, y_test):.3f} "
    f"after {full.n_iter_} epochs"
)
