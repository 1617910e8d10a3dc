"""What the tools may know about a fitted estimator, in one place.

The tools of ``skbp._tools`` (ONNX export, gradient check, ...) are built on the
estimators' public API. The few facts a public attribute does not tell them are
read here, so that the estimators' private attributes are named only in the
estimator layer and a change to them changes this module and no tool.
"""

import numpy as np

from skbp._array_api import to_numpy
from skbp._core.namespace import NUMPY
from skbp._fitted_state import unfold_output_layer


def hidden_activation_names(model):
    """The canonical activation name of each hidden layer of a fitted model."""
    return list(model._layer_activations)


def is_multilabel(model):
    """Whether a fitted classifier predicts an indicator matrix of labels."""
    return bool(model._is_multilabel)


def output_kind(model):
    """A fitted classifier's output kind (``skbp._core.outputs``)."""
    return model._output_kind


def prediction_ndim(model):
    """1 when a fitted regressor's ``predict`` returns a vector, else 2."""
    return int(model._y_ndim)


def gradient_problem(estimator, X, y, sample_weight):
    """The loss that ``fit`` minimises, at the fitted parameters, in float64.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor
        A fitted estimator.
    X : ndarray or sparse matrix of shape (n_samples, n_features), float64
    y : ndarray
        Targets as ``fit`` takes them.
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    network : Network
        The fitted network, on NumPy.
    theta : ndarray
        The flat parameters in the units the network trains in (the
        regressor's target scaling unfolded).
    Y : ndarray of shape (n_samples, n_outputs)
        The encoded targets the loss compares the outputs with.
    sample_weight : ndarray or None
        The weights ``fit`` uses (``class_weight`` multiplied in).
    """
    network = estimator._network_for(NUMPY)
    if X.shape[1] != network.layout.layer_sizes[0]:
        raise ValueError(
            f"X has {X.shape[1]} features, but the estimator was fitted with "
            f"{network.layout.layer_sizes[0]}."
        )
    sample_weight = estimator._training_sample_weight(
        X.shape[0], np.float64, y, sample_weight, incremental=False
    )
    Y = np.asarray(estimator._encode_targets(y, np.float64), dtype=np.float64)
    theta = network.layout.pack(
        [to_numpy(c) for c in estimator.coefs_],
        [to_numpy(b) for b in estimator.intercepts_],
        np.float64,
    )
    unfold_output_layer(network, theta, estimator._logit_affine())
    return network, theta, Y, sample_weight
