"""
==============================================
What a hidden layer sees: a 2-unit bottleneck
==============================================

Every hidden layer re-describes the input: backpropagation shapes its units so
that the layers after it can separate the classes easily. The last hidden layer
is the one the output layer reads, so for a classifier it ends up arranging the
samples by class. ``clf.hidden_activations(X, layer=-1)`` returns a hidden
layer's output for any input, to look at or to use as features.

Squeezing the network through a layer of only two units makes that
representation something we can plot. This example trains a 64-64-2-10 network
on the digits and scatters the test images by the values of the two bottleneck
units, next to the best 2-D linear view of the pixels, their first two principal
components.
"""

# %%
# A network with a 2-unit bottleneck
# ----------------------------------
# ``hidden_layer_sizes=(64, 2)``: 64 ReLU units, then two units with the
# identity activation (one activation per hidden layer), so the bottleneck's
# values are not squashed into a range and the classes can spread out. A
# bounded activation such as ``tanh`` also works, but pushes the points into the
# corners of its square.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skbp import BPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

clf = BPClassifier(
    hidden_layer_sizes=(64, 2),
    activation=("relu", "identity"),
    learning_rate=0.01,
    max_iter=500,
    random_state=0,
).fit(X_train, y_train)
print(f"64-64-2-10 network: held-out accuracy {clf.score(X_test, y_test):.3f}")

codes_train = clf.hidden_activations(X_train)  # layer=-1: the bottleneck
codes_test = clf.hidden_activations(X_test)
print(f"bottleneck output: shape {codes_test.shape}")

# %%
# How much do two numbers carry?
# ------------------------------
# A linear classifier on the two bottleneck values does about as well as the
# network's own output layer, which is also linear in them. On the first two
# principal components of the pixels, the same classifier does far worse: PCA
# keeps the directions of largest variance, which are not chosen to separate
# the digits.
pca = PCA(n_components=2, random_state=0).fit(X_train)
pcs_train, pcs_test = pca.transform(X_train), pca.transform(X_test)
for name, train, test in [
    ("bottleneck", codes_train, codes_test),
    ("first two principal components", pcs_train, pcs_test),
]:
    linear = LogisticRegression(max_iter=1000).fit(train, y_train)
    print(
        f"logistic regression on the {name}: accuracy {linear.score(test, y_test):.3f}"
    )

# %%
# The two maps
# ------------
# Each test image is drawn as its digit, coloured by its class.
fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
views = [
    (pcs_test, "First two principal components of the pixels"),
    (codes_test, "The network's 2-unit bottleneck"),
]
cmap = plt.get_cmap("tab10")
for (points, title), ax in zip(views, axes):
    for digit in range(10):
        mask = y_test == digit
        ax.scatter(*points[mask].T, s=0)  # sets the data limits for the text
        for x0, x1 in points[mask]:
            ax.text(
                x0,
                x1,
                str(digit),
                color=cmap(digit),
                fontsize=8,
                ha="center",
                va="center",
            )
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %%
# In the principal components a few digits (0, 4, 6, 7) have a region of their
# own, while the others pile up in the middle. The bottleneck lays the ten
# classes out as arms reaching out from a common centre, because the output
# layer must tell all ten apart from these two numbers alone; digits that look
# alike (3, 5, 8 and 9 here) get neighbouring arms. The test images the network
# gets wrong lie farther from the mean of their class than those it gets right:
mistakes = clf.predict(X_test) != y_test
centres = np.array([codes_test[y_test == digit].mean(axis=0) for digit in range(10)])
distance = np.linalg.norm(codes_test - centres[y_test], axis=1)
print(
    "median distance to the mean of its class: "
    f"{np.median(distance[~mistakes]):.1f} for correct, "
    f"{np.median(distance[mistakes]):.1f} for misclassified test images"
)

# %%
# A real network would not use so narrow a layer, but wider hidden layers learn
# the same kind of class-shaped representation in more dimensions;
# ``hidden_activations`` reads it from any of them (``layer=0`` is the first
# hidden layer), for example as features for another model.
