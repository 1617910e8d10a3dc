"""
=======================================
Regression: target scaling and losses
=======================================

:class:`~skbp.BPRegressor` is the same network as the classifier with an
identity output layer. Two things set it apart from scikit-learn's
:class:`~sklearn.neural_network.MLPRegressor`:

- it standardises the target inside (``normalize_y=True``, folded into the
  output layer afterwards), where MLPRegressor trains on the raw target, its
  users' most common trap;
- besides the squared error it offers robust losses, ``'huber'`` and
  ``'absolute_error'``, and the Poisson deviance for counts.
"""

# %%
# Unscaled targets
# ----------------
# The diabetes target ranges from 25 to 346. MLPRegressor's defaults start with
# outputs near 0 and spend their epochs walking towards the mean; BPRegressor
# trains on the standardised target and predicts in the original units.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbp import BPRegressor

X, y = load_diabetes(return_X_y=True)
cv = KFold(5, shuffle=True, random_state=0)
models = {
    "MLPRegressor()": MLPRegressor(random_state=0),
    "BPRegressor()": BPRegressor(random_state=0),
}
with warnings.catch_warnings():
    # Both run their 200 epochs on 350 samples; that is the point here.
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name, model in models.items():
        scores = cross_val_score(make_pipeline(StandardScaler(), model), X, y, cv=cv)
        print(f"{name:16s} 5-fold R2 {scores.mean():6.3f}")

# %%
# Outliers: squared error, Huber and absolute error
# -------------------------------------------------
# A sine curve with 10% of the targets thrown far off. The squared error lets
# the outliers pull the fit towards them; Huber (quadratic within
# ``huber_delta`` target standard deviations, linear beyond) and the absolute
# error (the conditional median) stay with the bulk of the data.
rng = np.random.RandomState(0)
X_1d = np.sort(rng.uniform(-3, 3, 300))[:, None]
y_1d = np.sin(X_1d[:, 0]) + 0.1 * rng.randn(300)
outliers = rng.rand(300) < 0.1
y_1d[outliers] += rng.choice([-1, 1], outliers.sum()) * rng.uniform(
    3, 6, outliers.sum()
)

grid = np.linspace(-3, 3, 200)[:, None]
fig, ax = plt.subplots(figsize=(7, 4))
ax.scatter(X_1d[~outliers, 0], y_1d[~outliers], s=8, color="0.6", label="data")
ax.scatter(X_1d[outliers, 0], y_1d[outliers], s=12, color="C3", label="outliers")
for loss in ["squared_error", "huber", "absolute_error"]:
    reg = BPRegressor(
        (32, 32),
        activation="tanh",
        loss=loss,
        learning_rate=0.01,
        max_iter=300,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X_1d, y_1d)
    error = np.abs(reg.predict(grid) - np.sin(grid[:, 0])).mean()
    print(f"{loss:15s} mean distance to sin(x): {error:.3f}")
    ax.plot(grid[:, 0], reg.predict(grid), label=f"{loss} (error {error:.2f})")
ax.plot(grid[:, 0], np.sin(grid[:, 0]), "k--", label="sin(x)")
ax.set_ylim(-3, 3)
ax.set_xlabel("x")
ax.legend(fontsize=8)
ax.set_title("Mean distance to sin(x) on a grid, by loss")
plt.show()
