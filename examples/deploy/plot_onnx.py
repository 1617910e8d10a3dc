"""
=====================================
Exporting to ONNX and serving the net
=====================================

:func:`skbp.to_onnx` writes a fitted :class:`~skbp.BPClassifier` or
:class:`~skbp.BPRegressor`, or a :class:`~sklearn.pipeline.Pipeline` ending in
one, as an `ONNX <https://onnx.ai>`_ graph: matrix products, bias additions and
the activations, then the same labels and probabilities as ``predict`` and
``predict_proba``. The graph runs in `onnxruntime <https://onnxruntime.ai>`_
(or any ONNX runtime) with neither skbp nor scikit-learn installed.

The export needs the ``skbp[onnx]`` extra (skl2onnx and onnxruntime).
"""

# %%
# Train a pipeline
# ----------------
# The scaler is part of the export: skl2onnx converts it, skbp converts the
# network. The input is float32, the dtype ONNX models are usually served in, so
# the model trains in float32 too.
import matplotlib.pyplot as plt
import numpy as np
from onnxruntime import InferenceSession
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier, to_onnx

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
clf = make_pipeline(
    StandardScaler(),
    BPClassifier(
        (32,), activation="gelu", solver="lbfgs", max_iter=100, random_state=0
    ),
)
clf.fit(X_train, y_train)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Export
# ------
# ``to_onnx`` needs a sample of the input for its dtype and width. The result is
# an ``onnx.ModelProto``; ``SerializeToString`` gives the bytes to store or ship.
onx = to_onnx(clf, X_train[:1])
onnx_bytes = onx.SerializeToString()
print(f"{len(onnx_bytes) / 1024:.0f} KiB, opset {onx.opset_import[0].version}")
print("input: ", [i.name for i in onx.graph.input])
print("output:", [o.name for o in onx.graph.output])
print("nodes: ", [node.op_type for node in onx.graph.node])

# %%
# Serve with onnxruntime
# ----------------------
# onnxruntime's ``InferenceSession`` loads the bytes (or a ``.onnx`` file) and ``run``
# returns the outputs in order: the labels, like ``predict``, and the class
# probabilities, like ``predict_proba``.
session = InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
label, proba = session.run(None, {"X": X_test})

expected = clf.predict_proba(X_test)
difference = np.abs(proba - expected).max()
print(f"labels equal to predict: {np.array_equal(label, clf.predict(X_test))}")
print(f"max |probability difference|: {difference:.1e}")

# %%
# The two sets of probabilities lie on the diagonal: differences of float32
# rounding, with the operations done in another order.
fig, (ax, ax_diff) = plt.subplots(1, 2, figsize=(9, 4))
ax.scatter(expected.ravel(), proba.ravel(), s=6, alpha=0.5)
ax.plot([0, 1], [0, 1], "k:", lw=1)
ax.set_xlabel("skbp predict_proba")
ax.set_ylabel("onnxruntime probabilities")
ax.set_title("Probabilities, skbp against onnxruntime")
ax_diff.hist((proba - expected).ravel(), bins=50, log=True)
ax_diff.set_xlabel("onnxruntime - skbp")
ax_diff.set_ylabel("count (log scale)")
ax_diff.set_title(f"Differences (max {difference:.1e})")
fig.tight_layout()
plt.show()

# %%
# Options
# -------
# - ``to_onnx(clf, X[:1].astype(np.float64))`` writes a float64 graph.
# - ``options={"zipmap": True}`` returns one ``{label: probability}`` dict per
#   sample, as skl2onnx's classifiers do by default (float32 only).
# - A :class:`~skbp.BPRegressor` exports the same way; its output has the shape
#   of ``predict``.
