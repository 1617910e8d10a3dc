"""
==========================
Saving and loading a model
==========================

A fitted :class:`skbp.BPClassifier` is a plain Python object: its weights, its
optimiser state (Adam's moments or the momentum buffer), the stopping monitor and
its random generator are all attributes, so a saved model predicts exactly as the
original and, reloaded, trains on exactly as if it had never been saved.

There are two ways to save it, for two situations:

- :mod:`joblib` (or :mod:`pickle`) for your own files. ``joblib.load`` and
  ``pickle.load`` **run code from the file**: a file crafted by someone else can
  do anything your account can do. Load only files you wrote yourself or fully
  trust.
- `skops <https://skops.readthedocs.io>`_ (``pip install skops``, or the
  ``skops`` extra) for files from elsewhere (a colleague, a model hub, a
  download). ``skops.io.load`` rebuilds the object without executing code from
  the file, and refuses every type you have not trusted explicitly.
"""

# %%
# A model to save
# ---------------
# A small network on the digits, stopped after 15 epochs with ``warm_start=True``
# so that a later ``fit`` continues where this one stopped. Stopping at
# ``max_iter`` warns that training has not converged; that is intended here and
# the warning is silenced.
import tempfile
import warnings
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
import skops.io as sio
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skbp import BPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

clf = BPClassifier(
    hidden_layer_sizes=(32,), max_iter=15, warm_start=True, random_state=0
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf.fit(X_train, y_train)
print(f"after {clf.n_iter_} epochs: held-out accuracy {clf.score(X_test, y_test):.3f}")

# %%
# joblib: for your own files
# --------------------------
# ``joblib.dump`` writes the object, ``joblib.load`` reads it back. Files go into
# a temporary directory that is removed at the end of this example.
workdir = tempfile.TemporaryDirectory()
joblib_path = Path(workdir.name) / "digits.joblib"
joblib.dump(clf, joblib_path)
from_joblib = joblib.load(joblib_path)  # runs code from the file: trust it first
same = np.array_equal(from_joblib.predict_proba(X_test), clf.predict_proba(X_test))
print(f"joblib: {joblib_path.stat().st_size} bytes, identical probabilities: {same}")

# %%
# skops: for files from elsewhere
# -------------------------------
# ``skops.io.dump`` writes a zip of JSON and numpy arrays. Before loading, ask
# which types the file would create that skops does not trust by default
# (scikit-learn's own estimators, numpy and SciPy types are trusted). For an
# skbp model the answer is only the estimator class: check that it is what you
# expect and pass exactly that list as ``trusted``. Anything else in the list is
# a reason to stop and look. (The name is the class's module path, which may
# change between skbp versions.)
skops_path = Path(workdir.name) / "digits.skops"
sio.dump(clf, skops_path)
untrusted = sio.get_untrusted_types(file=skops_path)
print("untrusted types in the file:", untrusted)

expected = ["skbp._classifier.BPClassifier"]
if untrusted != expected:
    raise RuntimeError(f"unexpected types in {skops_path.name}: {untrusted}")
from_skops = sio.load(skops_path, trusted=expected)
same = np.array_equal(from_skops.predict_proba(X_test), clf.predict_proba(X_test))
print(f"skops: {skops_path.stat().st_size} bytes, identical probabilities: {same}")

# %%
# Training continues identically
# ------------------------------
# The loaded copy keeps Adam's moments and step count, the stopping monitor and
# the random generator that shuffles the minibatches. Fifteen more epochs on the
# original and on the skops copy give the same weights, and the same weights as a
# single uninterrupted run of 30 epochs. (``partial_fit`` continues from a
# loaded model in the same way.)
uninterrupted = BPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    uninterrupted.fit(X_train, y_train)
    clf.fit(X_train, y_train)
    from_skops.fit(X_train, y_train)
workdir.cleanup()

for name, model in [("original", clf), ("skops copy", from_skops)]:
    same = all(
        np.array_equal(a, b)
        for a, b in zip(
            model.coefs_ + model.intercepts_,
            uninterrupted.coefs_ + uninterrupted.intercepts_,
        )
    )
    print(
        f"{name:>10}: {len(model.loss_curve_)} epochs in loss_curve_, "
        f"weights equal to the uninterrupted run: {same}, "
        f"accuracy {model.score(X_test, y_test):.3f}"
    )

fig, ax = plt.subplots(figsize=(7, 4))
epochs = np.arange(1, 31)
ax.plot(
    epochs, uninterrupted.loss_curve_, color="0.7", lw=6, label="30 epochs in one run"
)
ax.plot(epochs[:15], from_skops.loss_curve_[:15], "o-", label="15 epochs, then saved")
ax.plot(
    epochs[15:], from_skops.loss_curve_[15:], "s-", label="15 more after skops load"
)
ax.axvline(15.5, color="k", ls=":", lw=1)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (log scale)")
ax.set_title("Training resumed from a saved model")
ax.legend()
fig.tight_layout()
plt.show()
