"""Weight initialisation schemes and the ``init="auto"`` rule.

* ``glorot_uniform``: U(-b, b) with ``b = sqrt(6 / (fan_in + fan_out))`` keeps the
  variance of activations and gradients roughly constant through layers with
  activations that are linear around 0 (Glorot & Bengio, 2010).
* ``he_uniform``: ``b = sqrt(6 / fan_in)`` compensates for ReLU-like units
  discarding about half their input (He et al., 2015).
* ``uniform``: U(-1, 1), the classic write-up's choice.

Biases are drawn from the same distribution as the weights of their layer, as in
scikit-learn's ``MLPClassifier``.

This module must not import scikit-learn or any other skbp module.
"""

import math

INITS = ("auto", "glorot_uniform", "he_uniform", "uniform")

#: Activations (canonical names) for which ``init="auto"`` picks He, not Glorot.
HE_ACTIVATIONS = frozenset({"relu", "leaky_relu", "elu", "softplus", "gelu"})


def init_bound(scheme: str, fan_in: int, fan_out: int) -> float:
    """Half-width ``b`` of the uniform distribution U(-b, b) for one layer.

    Parameters
    ----------
    scheme : {"glorot_uniform", "he_uniform", "uniform"}
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.

    Returns
    -------
    float
    """
    if scheme == "glorot_uniform":
        return math.sqrt(6.0 / (fan_in + fan_out))
    if scheme == "he_uniform":
        return math.sqrt(6.0 / fan_in)
    if scheme == "uniform":
        return 1.0
    raise ValueError(f"Unknown init scheme {scheme!r}; choose one of {INITS}.")


def layer_schemes(init: str, activations) -> list:
    """Resolve ``init`` into one scheme per layer (hidden layers, then output).

    With ``"auto"``, a layer feeding a ReLU-family activation gets He, all others
    (sigmoid, tanh, softsign, identity and the output layer) Glorot.

    Parameters
    ----------
    init : str
    activations : sequence of str
        Canonical activation name of each hidden layer.

    Returns
    -------
    list of str, of length ``len(activations) + 1``
    """
    if init != "auto":
        return [init] * (len(activations) + 1)
    schemes = [
        "he_uniform" if name in HE_ACTIVATIONS else "glorot_uniform"
        for name in activations
    ]
    return schemes + ["glorot_uniform"]


def init_params(theta, layout, schemes, rng) -> None:
    """Fill the flat parameter vector ``theta`` in place.

    Parameters
    ----------
    theta : ndarray of shape (layout.size,)
    layout : Layout
        Offsets and shapes of the parameter views.
    schemes : sequence of str
        One scheme per layer.
    rng : numpy.random.RandomState
        Source of randomness; weights of each layer are drawn before its biases.
    """
    W, b = layout.views(theta)
    for W_i, b_i, scheme in zip(W, b, schemes):
        fan_in, fan_out = W_i.shape
        bound = init_bound(scheme, fan_in, fan_out)
        W_i[...] = rng.uniform(-bound, bound, W_i.shape)
        b_i[...] = rng.uniform(-bound, bound, b_i.shape)
