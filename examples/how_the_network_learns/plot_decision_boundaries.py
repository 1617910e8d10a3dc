"""
===================================
Decision boundaries by activation
===================================

The same two-hidden-layer network is trained on the two interleaved half circles of
:func:`~sklearn.datasets.make_moons` with a different hidden-layer activation each
time. ``'identity'`` makes the whole network linear, so its boundary is a straight
line; every non-linear activation bends it, each in its own way: sigmoid and tanh
give smooth curves, the ReLU family gives piecewise-linear ones.
"""

# %%
# Data
# ----
# Two classes, 300 points with some noise; a quarter is held out to score each
# model on points it has not seen.
import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split

from skbp import BPClassifier

X, y = make_moons(n_samples=300, noise=0.25, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# One model per activation
# ------------------------
# Adam with a step size of 0.01 and two hidden layers of 16 units. The inputs are
# already centred and of unit scale, so no scaler is needed here.
activations = ["identity", "sigmoid", "tanh", "relu", "elu", "gelu"]

fig, axes = plt.subplots(2, 3, figsize=(11, 7), sharex=True, sharey=True)
for activation, ax in zip(activations, axes.ravel()):
    clf = BPClassifier(
        hidden_layer_sizes=(16, 16),
        activation=activation,
        learning_rate=0.01,
        max_iter=500,
        random_state=0,
    ).fit(X_train, y_train)
    DecisionBoundaryDisplay.from_estimator(
        clf,
        X,
        response_method="predict_proba",
        cmap="RdBu",
        alpha=0.7,
        ax=ax,
        grid_resolution=150,
    )
    ax.scatter(*X_train.T, c=y_train, cmap="RdBu", edgecolor="k", s=18)
    ax.scatter(*X_test.T, c=y_test, cmap="RdBu", edgecolor="k", s=18, marker="^")
    ax.set_title(
        f"{activation}: test accuracy {clf.score(X_test, y_test):.2f}\n"
        f"({clf.n_iter_} epochs)"
    )
fig.suptitle("Probability of class 1 (circles: training, triangles: test)")
fig.tight_layout()
plt.show()

# %%
# The colour is the predicted probability of the second class, so the white band
# is the decision boundary ``predict_proba = 0.5``. Training stops on its own once
# the training loss has not improved by at least ``tol`` for more than
# ``n_iter_no_change`` epochs, which is why the number of epochs differs between
# activations.
#
# The sigmoid network stops on a plateau close to the linear solution: sigmoid
# units pass back at most a quarter of the gradient (their slope is at most 1/4)
# and two such layers learn slowly, so the loss stops improving for a while and
# the stopping rule ends training (scikit-learn's ``MLPClassifier`` with
# ``activation='logistic'`` also stops after about 80 epochs here). A larger
# ``n_iter_no_change`` (50, say) or ``solver='lbfgs'`` gets past the plateau.
