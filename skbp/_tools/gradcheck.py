"""Check the hand-written backpropagation gradient against finite differences.

``check_network_gradients`` works on the core alone (a ``Network``, a flat
``theta`` and plain arrays); ``check_gradients`` accepts a ``BPClassifier`` or
``BPRegressor`` and prepares those arguments the way ``fit`` does. Both compute
in float64 whatever the model's dtype: central differences in float32 are too
coarse to tell a right gradient from a wrong one.

Like the estimator modules, this module sits on top of the core and may import
scikit-learn's public API; it uses the estimators through their base class's
hooks and imports no estimator module.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from skbp._array_api import to_numpy
from skbp._introspect import gradient_problem

__all__ = ["GradientCheck", "check_gradients", "check_network_gradients"]

_TINY = float(np.finfo(np.float64).tiny)


@dataclass(repr=False)
class GradientCheck:
    """Result of a gradient check.

    :func:`check_gradients` and :func:`check_network_gradients` return it; it
    prints as a table of the relative error per layer.

    Parameters
    ----------
    max_relative_error : float
        Largest relative error over all weight and bias blocks.
    per_layer : list of dict, default=[]
        One dict per layer with keys ``"layer"`` (int), ``"weights"`` and
        ``"biases"`` (relative errors of that layer's ``W`` and ``b``).
    analytic : ndarray of shape (n_params,), default=None
        Flat gradient from backpropagation, in ``theta``'s packing order.
    numeric : ndarray of shape (n_params,), default=None
        Flat gradient from central finite differences.

    Attributes
    ----------
    max_relative_error : float
        As given.
    per_layer : list of dict
        As given.
    analytic : ndarray of shape (n_params,)
        As given.
    numeric : ndarray of shape (n_params,)
        As given.

    Examples
    --------
    >>> import numpy as np
    >>> from skbp import GradientCheck
    >>> result = GradientCheck(
    ...     2e-9,
    ...     [{"layer": 0, "weights": 2e-9, "biases": 1e-9}],
    ...     np.ones(3),
    ...     np.ones(3),
    ... )
    >>> print(result)
                weights    biases
    layer 0     2.0e-09   1.0e-09
    max relative error 2.0e-09
    """

    max_relative_error: float
    per_layer: list = field(default_factory=list)
    analytic: np.ndarray = None
    numeric: np.ndarray = None

    def __str__(self):
        lines = [f"{'':8s}{'weights':>10s}{'biases':>10s}"]
        for row in self.per_layer:
            lines.append(
                f"layer {row['layer']:<2d}{row['weights']:10.1e}{row['biases']:10.1e}"
            )
        lines.append(f"max relative error {self.max_relative_error:.1e}")
        return "\n".join(lines)

    def __repr__(self):
        return (
            f"GradientCheck(max_relative_error={self.max_relative_error:.3g}, "
            f"n_layers={len(self.per_layer)}, n_params={self.analytic.size})\n{self}"
        )


def _relative_error(analytic, numeric):
    """``max |analytic - numeric| / max |numeric|`` (0 for an empty block)."""
    if analytic.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(numeric))), _TINY)
    return float(np.max(np.abs(analytic - numeric))) / scale


def check_network_gradients(
    network, theta, X, Y, *, sample_weight=None, alpha=0.0, eps=1e-6
):
    """Compare ``network.loss_and_grad`` with central finite differences.

    Every parameter ``theta[j]`` is moved by ``+eps`` and ``-eps`` and the
    numeric derivative ``(L(theta + eps e_j) - L(theta - eps e_j)) / (2 eps)``
    is taken from the loss that ``loss_and_grad`` itself returns, so the check
    covers exactly the objective the optimisers see (L2 term included). This
    costs two loss evaluations per parameter: use small networks.

    Parameters
    ----------
    network : Network
        The network (layer sizes, activations, output, loss).
    theta : ndarray of shape (network.layout.size,)
        Flat parameters; copied to float64, never modified.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        0/1 targets.
    sample_weight : ndarray of shape (n_samples,), default=None
        Sample weights; must not sum to zero.
    alpha : float, default=0.0
        L2 penalty.
    eps : float, default=1e-6
        Finite-difference step.

    Returns
    -------
    result : GradientCheck
        Relative errors per layer, the largest one, and both flat gradients.

    Notes
    -----
    The relative error of a block (one layer's weights or biases) is
    :math:`\\max_j |g_j - \\hat g_j| / \\max_j |\\hat g_j|` with :math:`g` the
    analytic and :math:`\\hat g` the numeric gradient. A correct gradient gives
    about 1e-9 with smooth activations; kinks (relu) within ``eps`` of a
    pre-activation can give larger errors.

    Examples
    --------
    >>> import numpy as np
    >>> from skbp._core.network import Network
    >>> from skbp import check_network_gradients
    >>> rng = np.random.RandomState(0)
    >>> net = Network((3, 4, 2), ("tanh",), "softmax", "log_loss")
    >>> theta = rng.randn(net.layout.size)
    >>> X, Y = rng.randn(10, 3), np.eye(2)[rng.randint(2, size=10)]
    >>> result = check_network_gradients(net, theta, X, Y, alpha=0.1)
    >>> result.max_relative_error < 1e-6
    True
    >>> [row["layer"] for row in result.per_layer]
    [0, 1]
    """
    layout = network.layout
    theta = np.array(theta, dtype=np.float64)  # a private copy to perturb
    if theta.shape != (layout.size,):
        raise ValueError(
            f"theta has shape {theta.shape}; this network needs ({layout.size},)."
        )
    X = X.astype(np.float64) if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    if sp.issparse(X):
        X = X.tocsr()
    Y = np.asarray(Y, dtype=np.float64)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
    alpha = float(alpha)
    eps = float(eps)

    analytic = np.empty_like(theta)
    network.loss_and_grad(theta, X, Y, sample_weight, alpha, analytic)
    numeric = np.empty_like(theta)
    scratch = np.empty_like(theta)
    for j in range(theta.size):
        saved = theta[j]
        theta[j] = saved + eps
        loss_plus = network.loss_and_grad(theta, X, Y, sample_weight, alpha, scratch)
        theta[j] = saved - eps
        loss_minus = network.loss_and_grad(theta, X, Y, sample_weight, alpha, scratch)
        theta[j] = saved
        numeric[j] = (loss_plus - loss_minus) / (2.0 * eps)
    network.clear_caches()  # the float64 work buffers are not needed any more

    per_layer = []
    for i, (w_slice, b_slice) in enumerate(
        zip(layout.weight_slices, layout.bias_slices)
    ):
        per_layer.append(
            {
                "layer": i,
                "weights": _relative_error(analytic[w_slice], numeric[w_slice]),
                "biases": _relative_error(analytic[b_slice], numeric[b_slice]),
            }
        )
    worst = max(max(row["weights"], row["biases"]) for row in per_layer)
    return GradientCheck(worst, per_layer, analytic, numeric)


def check_gradients(estimator, X, y, *, sample_weight=None, eps=1e-6, random_state=0):
    """Check a ``BPClassifier``'s or ``BPRegressor``'s backpropagation gradient.

    The gradient of the training loss at the estimator's current weights
    (``coefs_`` and ``intercepts_``) is compared with central finite differences,
    in float64 even for a float32 model.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor
        A fitted estimator, whose current weights are checked. An unfitted one is
        not modified: a clone is fitted for one epoch (``max_iter=1``, warnings
        silenced) and the gradient is checked at its weights.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data at which the loss is evaluated; keep it small, each parameter costs
        two passes over it.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Labels from the classes the estimator was fitted on, or regression
        targets (compared in the scaled units the regressor trains in).
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights; the estimator's ``class_weight`` is multiplied in, as in
        ``fit``.
    eps : float, default=1e-6
        Finite-difference step.
    random_state : int, RandomState instance or None, default=0
        Seeds the clone fitted for an unfitted estimator whose own
        ``random_state`` is None; otherwise unused.

    Returns
    -------
    result : GradientCheck
        Relative error of each layer's weights and biases, the largest one, and
        the flat analytic and numeric gradients.

    See Also
    --------
    check_network_gradients : The same check on a ``Network`` and a flat
        ``theta``, without an estimator.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skbp import BPClassifier
    >>> from skbp import check_gradients
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = BPClassifier(hidden_layer_sizes=(5,), activation="tanh")
    >>> result = check_gradients(clf, X[::10], y[::10])
    >>> result.max_relative_error < 1e-6
    True
    >>> print(result)  # doctest: +SKIP
                weights    biases
    layer 0     9.8e-09   1.8e-08
    layer 1     6.6e-10   7.4e-10
    max relative error 1.8e-08
    """
    try:
        check_is_fitted(estimator)
    except NotFittedError:  # train a copy for one epoch
        estimator = clone(estimator).set_params(max_iter=1)
        if estimator.random_state is None:
            estimator.set_params(random_state=random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(X, y, sample_weight=sample_weight)

    # On the host in float64, wherever the model was fitted: finite differences
    # need float64, which some devices lack.
    X = check_array(to_numpy(X), accept_sparse=["csr", "csc"], dtype=np.float64)
    y = np.asarray(to_numpy(y))
    sample_weight = to_numpy(sample_weight)
    if is_classifier(estimator) and y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    # The same targets and weight vector fit uses (class_weight multiplied in),
    # at the parameters in the units the network trains in.
    network, theta, Y, sample_weight = gradient_problem(estimator, X, y, sample_weight)
    return check_network_gradients(
        network,
        theta,
        X,
        Y,
        sample_weight=sample_weight,
        alpha=float(estimator.alpha),
        eps=eps,
    )
