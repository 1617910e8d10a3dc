"""
=======================================
Training on data that stays on the disk
=======================================

:func:`skbp.fit_stream` trains a :class:`~skbp.BPClassifier` or
:class:`~skbp.BPRegressor` on data too large for memory: it reads a chunk of
rows, calls ``partial_fit`` on it, and moves on, for as many epochs as you ask.
The optimiser state carries over from chunk to chunk, so the result is ordinary
minibatch training that only shuffles differently (chunks in a random order,
rows shuffled within each chunk).

Here the data is the digits dataset saved as a ``.npy`` file and opened as a
memory map, read 300 rows at a time. Its held-out accuracy after each epoch is
compared with an in-memory ``fit`` of the same network for the same number of
epochs.
"""

# %%
# The data, on the disk
# ---------------------
# ``np.load(..., mmap_mode="r")`` maps the file without reading it; rows are read
# from the disk when training touches them. The rows of a file for streaming
# should be stored in random order: ``fit_stream`` shuffles the order of the
# chunks and the estimator the rows within a chunk, but rows never move between
# chunks. ``train_test_split`` shuffles them here.
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skbp import BPClassifier, fit_stream

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)  # pixels in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

directory = tempfile.TemporaryDirectory()
np.save(Path(directory.name) / "X.npy", X_train)
np.save(Path(directory.name) / "y.npy", y_train)
X_disk = np.load(Path(directory.name) / "X.npy", mmap_mode="r")
y_disk = np.load(Path(directory.name) / "y.npy", mmap_mode="r")
print(type(X_disk).__name__, X_disk.shape, X_disk.dtype)

# %%
# Streaming and in-memory training
# --------------------------------
# Both models start from the same weights (``random_state=0``). With a
# validation set, ``fit_stream`` scores the model after every epoch into
# ``stream_history_``; ``fit`` records the same scores in
# ``validation_scores_``. The test set serves as the validation set here only
# to draw the curves; to choose an epoch, hold out a separate validation set.
# ``tol=0.0`` makes ``fit`` run all its epochs, and warn that it reached
# ``max_iter``; that warning is expected here.
n_epochs = 30
params = dict(hidden_layer_sizes=(64,), learning_rate=3e-3, random_state=0)

streamed = fit_stream(
    BPClassifier(**params),
    X_disk,
    y_disk,
    epochs=n_epochs,
    chunk_size=300,
    random_state=0,
    X_val=X_test,
    y_val=y_test,
)
in_memory = BPClassifier(**params, max_iter=n_epochs, tol=0.0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    in_memory.fit(X_train, y_train, X_val=X_test, y_val=y_test)

history = streamed.stream_history_
print(
    f"{history['n_chunks'][0]} chunks of at most 300 rows per epoch; "
    f"test accuracy after {n_epochs} epochs: fit_stream "
    f"{history['validation_score'][-1]:.3f}, fit {in_memory.validation_scores_[-1]:.3f}"
)

# %%
# Accuracy per epoch
# ------------------
fig, ax = plt.subplots(figsize=(6, 4))
epochs = history["epoch"]
ax.plot(epochs, history["validation_score"], marker="o", ms=3, label="fit_stream")
ax.plot(epochs, in_memory.validation_scores_, marker="s", ms=3, label="fit (in memory)")
ax.set_xlabel("epoch")
ax.set_ylabel("held-out accuracy")
ax.set_title("Digits: 300-row chunks from a memmap vs. all rows in memory")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# The two curves end at the same accuracy, up to the noise of the shuffling:
# streaming changes how the rows are visited, not what is learned. The stream
# starts faster for a small reason: each chunk of about 251 rows is cut into
# minibatches of 200 and 51 rows, so an epoch takes 10 optimiser steps instead
# of ``fit``'s 7. With chunks much larger than ``batch_size``, as in real
# out-of-core work, the difference vanishes.
#
# Early stopping
# --------------
# The estimator's own ``early_stopping`` holds out a fraction of the data, which
# a stream cannot do; ``fit_stream`` takes a validation set instead, stops once
# more than ``n_iter_no_change`` epochs in a row have not improved its score (the
# rule of the estimator's own ``early_stopping``), and gives back the model of
# the best epoch.
X_fit, X_val, y_fit, y_val = train_test_split(
    X_train, y_train, test_size=0.2, stratify=y_train, random_state=0
)
stopped = fit_stream(
    BPClassifier(**params),
    X_fit,
    y_fit,
    epochs=100,
    chunk_size=300,
    random_state=0,
    X_val=X_val,
    y_val=y_val,
    early_stopping=True,
    n_iter_no_change=5,
)
print(
    f"ran {len(stopped.stream_history_['epoch'])} epochs, kept epoch "
    f"{stopped.stream_best_epoch_} (validation accuracy "
    f"{stopped.stream_best_score_:.3f}); test accuracy "
    f"{stopped.score(X_test, y_test):.3f}"
)

# %%
# The memory map must be released before its file can be removed.
del X_disk, y_disk
directory.cleanup()
