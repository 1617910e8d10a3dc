"""Conversion between skbp's estimators and scikit-learn's MLPs, both ways.

``from_mlp(cls, mlp)`` builds a fitted ``BPClassifier`` / ``BPRegressor`` from a
fitted ``MLPClassifier`` / ``MLPRegressor``; ``to_mlp(estimator)`` does the
reverse. The weights are the same numbers in both (skbp's ``coefs_`` and
``intercepts_`` use scikit-learn's shapes), so predictions agree to rounding.
The MLPs' private attributes are read and written only through ``_compat``.

This module sits next to the estimator modules: it imports ``_fitted_state``
(for the plain fitted state) but no estimator module imports anything from it but its
two functions.
"""

import copy

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skbp._array_api import to_numpy
from skbp._compat import (
    mlp_label_binarizer,
    mlp_no_improvement_count,
    mlp_regression_losses,
    set_mlp_private_state,
    validate_params,
)
from skbp._core.network import Network
from skbp._core.training import StoppingMonitor
from skbp._fitted_state import network_description, params_digest

#: Parameters with the same meaning in skbp (key) and scikit-learn's MLP (value);
#: ``activation`` is translated separately and ``init`` has no MLP counterpart.
MLP_PARAMS = {
    "solver": "solver",
    "learning_rate": "learning_rate_init",
    "learning_rate_schedule": "learning_rate",
    "power_t": "power_t",
    "alpha": "alpha",
    "batch_size": "batch_size",
    "max_iter": "max_iter",
    "momentum": "momentum",
    "nesterovs_momentum": "nesterovs_momentum",
    "beta_1": "beta_1",
    "beta_2": "beta_2",
    "epsilon": "epsilon",
    "tol": "tol",
    "n_iter_no_change": "n_iter_no_change",
    "early_stopping": "early_stopping",
    "validation_fraction": "validation_fraction",
    "shuffle": "shuffle",
    "random_state": "random_state",
    "verbose": "verbose",
    "warm_start": "warm_start",
    "max_fun": "max_fun",
}

#: Canonical skbp activation name -> scikit-learn's name, for those it has.
TO_MLP_ACTIVATION = {
    "sigmoid": "logistic",
    "tanh": "tanh",
    "relu": "relu",
    "identity": "identity",
}
FROM_MLP_ACTIVATION = {mlp: ours for ours, mlp in TO_MLP_ACTIVATION.items()}


def is_classifier(obj):
    """Whether an skbp estimator or estimator class is the classifier."""
    cls = obj if isinstance(obj, type) else type(obj)
    return issubclass(cls, ClassifierMixin)


def _mlp_class(obj):
    return MLPClassifier if is_classifier(obj) else MLPRegressor


def binarizer_for(classes, multilabel):
    """A fitted LabelBinarizer for ``classes`` (label indices when multilabel)."""
    binarizer = LabelBinarizer()
    if multilabel:
        # An indicator matrix with one column per label (and 2 rows, so that a
        # single label is still read as multilabel).
        binarizer.fit(np.vstack([np.eye(len(classes), dtype=int)] * 2))
    else:
        binarizer.fit(classes)
    return binarizer


def from_mlp(cls, mlp):
    """A fitted ``cls`` (BPClassifier or BPRegressor) with ``mlp``'s weights.

    Parameters
    ----------
    cls : type
        ``BPClassifier`` or ``BPRegressor``.
    mlp : MLPClassifier or MLPRegressor
        A fitted MLP of the matching kind.

    Returns
    -------
    estimator : cls
    """
    mlp_class = _mlp_class(cls)
    if not isinstance(mlp, mlp_class):
        raise TypeError(
            f"{cls.__name__}.from_mlp expects a fitted sklearn.neural_network."
            f"{mlp_class.__name__}, got {type(mlp).__name__}."
        )
    check_is_fitted(mlp)
    coefs = [np.array(c) for c in mlp.coefs_]  # copies, dtype kept
    intercepts = [np.array(b) for b in mlp.intercepts_]
    hidden_sizes = tuple(int(c.shape[1]) for c in coefs[:-1])
    params = {ours: getattr(mlp, theirs) for ours, theirs in MLP_PARAMS.items()}
    activation = FROM_MLP_ACTIVATION[mlp.activation]
    if is_classifier(cls):
        loss = "log_loss"
    else:
        loss = getattr(mlp, "loss", "squared_error")
        # The MLP trained on the targets as they are.
        params["normalize_y"] = False
    estimator = cls(
        hidden_layer_sizes=hidden_sizes,
        activation=activation,
        loss=loss,
        init="glorot_uniform",
        **params,
    )
    validate_params(estimator)

    estimator.n_features_in_ = int(mlp.n_features_in_)
    if hasattr(mlp, "feature_names_in_"):
        estimator.feature_names_in_ = np.array(mlp.feature_names_in_, copy=True)
    _copy_targets_from_mlp(estimator, mlp)

    layer_sizes = (estimator.n_features_in_, *hidden_sizes, coefs[-1].shape[1])
    net = Network(
        layer_sizes, (activation,) * len(hidden_sizes), mlp.out_activation_, loss
    )
    theta = net.layout.pack(coefs, intercepts, coefs[0].dtype)
    estimator.coefs_, estimator.intercepts_ = net.layout.views(theta)
    estimator.n_layers_ = int(mlp.n_layers_)
    estimator.n_outputs_ = int(mlp.n_outputs_)
    estimator.out_activation_ = mlp.out_activation_
    for name, value in network_description(net).items():
        setattr(estimator, name, value)
    _copy_history_from_mlp(estimator, mlp)

    # A fresh optimiser, resuming from these weights (see training_theta).
    estimator._optimizer_state = None
    estimator._params_digest = params_digest(theta)
    estimator._training_params = None
    estimator._rng_state = check_random_state(estimator.random_state).get_state()
    return estimator


def _copy_targets_from_mlp(estimator, mlp):
    """The target encoding: the MLP's labels, or no target scaling."""
    if is_classifier(estimator):
        binarizer = mlp_label_binarizer(mlp)
        if binarizer is None:
            multilabel = mlp.out_activation_ == "logistic" and mlp.n_outputs_ > 1
            binarizer = binarizer_for(mlp.classes_, multilabel)
        estimator._label_binarizer = copy.deepcopy(binarizer)
        estimator.classes_ = np.array(mlp.classes_, copy=True)
    else:
        estimator._logit_scale = None
        estimator._logit_shift = None
        estimator._y_ndim = 1 if mlp.n_outputs_ == 1 else 2


def _copy_history_from_mlp(estimator, mlp):
    """Training history, in skbp's conventions (the MLP leaves some unset)."""
    estimator.loss_curve_ = [float(v) for v in getattr(mlp, "loss_curve_", None) or []]
    if hasattr(mlp, "loss_"):
        estimator.loss_ = float(mlp.loss_)
    if estimator.early_stopping:
        estimator.best_loss_ = None  # the validation score decides, as in the MLP
        estimator.validation_scores_ = [
            float(v) for v in getattr(mlp, "validation_scores_", None) or []
        ]
        best_score = getattr(mlp, "best_validation_score_", None)
        estimator.best_validation_score_ = float(
            -np.inf if best_score is None else best_score
        )
    else:
        best_loss = getattr(mlp, "best_loss_", None)
        if best_loss is None:
            best_loss = min(
                estimator.loss_curve_, default=getattr(estimator, "loss_", np.inf)
            )
        estimator.best_loss_ = float(best_loss)
        estimator.validation_scores_ = None
        estimator.best_validation_score_ = None
    # The MLP measures no validation loss: NaN for each scored epoch keeps the
    # list aligned with validation_scores_ and extendable by a warm start.
    estimator.validation_loss_curve_ = (
        [float("nan")] * len(estimator.validation_scores_)
        if estimator.early_stopping
        else None
    )
    estimator.n_iter_ = int(mlp.n_iter_)
    estimator.t_ = int(getattr(mlp, "t_", 0))
    estimator._stopping_state = {
        **StoppingMonitor.initial_state(),
        "best_loss": float(
            min(estimator.loss_curve_, default=getattr(estimator, "loss_", np.inf))
            if estimator.best_loss_ is None
            else estimator.best_loss_
        ),
        "best_score": float(
            estimator.best_validation_score_ if estimator.early_stopping else -np.inf
        ),
        "no_improvement_count": mlp_no_improvement_count(mlp),
    }


def _check_convertible(estimator):
    """The scikit-learn activation name; raise if the MLP can't be this model."""
    net = estimator._network
    mlp_name = _mlp_class(estimator).__name__
    if is_classifier(estimator):
        supported = ("log_loss",)
        why = (
            "MLPClassifier only has the log-loss (its outputs are softmax or "
            "logistic probabilities trained by cross-entropy)"
        )
    else:
        supported = mlp_regression_losses()
        why = f"this scikit-learn's MLPRegressor has the losses {list(supported)}"
        if net.loss_name == "poisson" and "poisson" not in supported:
            raise ValueError(
                "MLPRegressor has loss='poisson' from scikit-learn 1.7; this "
                "scikit-learn has no Poisson MLPRegressor. Upgrade scikit-learn."
            )
    if net.loss_name not in supported:
        raise ValueError(
            f"This model was trained with loss={net.loss_name!r}, which "
            f"{mlp_name} does not have ({why}), so the converted model would not "
            f"be the same model. Refit with loss in {list(supported)}."
        )
    names = set(net.activations)
    if len(names) > 1:
        raise ValueError(
            f"This model uses different activations per hidden layer "
            f"{net.activations}; {mlp_name} has a single activation for all "
            "hidden layers."
        )
    if not names:  # no hidden layer: the activation is never used
        return "relu"
    (name,) = names
    if name not in TO_MLP_ACTIVATION:
        raise ValueError(
            f"Activation {name!r} has no {mlp_name} equivalent; {mlp_name} "
            "supports only 'logistic' (skbp's 'sigmoid'), 'tanh', 'relu' and "
            "'identity'."
        )
    return TO_MLP_ACTIVATION[name]


def to_mlp(estimator):
    """A fitted MLPClassifier / MLPRegressor with ``estimator``'s weights.

    Parameters
    ----------
    estimator : BPClassifier or BPRegressor
        A fitted estimator.

    Returns
    -------
    mlp : MLPClassifier or MLPRegressor
    """
    if not estimator.__sklearn_is_fitted__():
        check_is_fitted(estimator)
    activation = _check_convertible(estimator)
    params = {theirs: getattr(estimator, ours) for ours, theirs in MLP_PARAMS.items()}
    hidden_sizes = tuple(int(c.shape[1]) for c in estimator.coefs_[:-1])
    if not is_classifier(estimator) and len(mlp_regression_losses()) > 1:
        params["loss"] = estimator._network.loss_name
    mlp = _mlp_class(estimator)(
        hidden_layer_sizes=hidden_sizes, activation=activation, **params
    )
    # The fitted coefs_ are in the targets' units (the regressor's target
    # scaling is folded into the output layer), which is what the MLP predicts.
    # NumPy copies, from whichever array library the model was fitted in.
    mlp.coefs_ = [np.array(to_numpy(c)) for c in estimator.coefs_]
    mlp.intercepts_ = [np.array(to_numpy(b)) for b in estimator.intercepts_]
    if is_classifier(estimator):
        mlp.classes_ = np.array(to_numpy(estimator.classes_), copy=True)
    mlp.n_features_in_ = estimator.n_features_in_
    if hasattr(estimator, "feature_names_in_"):
        mlp.feature_names_in_ = np.array(estimator.feature_names_in_, copy=True)
    mlp.n_layers_ = estimator.n_layers_
    mlp.n_outputs_ = estimator.n_outputs_
    mlp.out_activation_ = estimator.out_activation_
    mlp.n_iter_ = estimator.n_iter_
    mlp.t_ = estimator.t_
    mlp.loss_ = float(estimator.loss_)
    mlp.loss_curve_ = [float(v) for v in estimator.loss_curve_]
    if estimator.early_stopping:
        # The MLP's convention, which skbp follows: best_loss_ is None here.
        mlp.best_loss_ = None
        mlp.validation_scores_ = list(estimator.validation_scores_ or [])
        mlp.best_validation_score_ = estimator.best_validation_score_
    else:
        mlp.best_loss_ = float(estimator.best_loss_)
        mlp.validation_scores_ = None
        mlp.best_validation_score_ = None
    set_mlp_private_state(
        mlp,
        no_improvement_count=estimator._stopping_state["no_improvement_count"],
        label_binarizer=copy.deepcopy(estimator._label_binarizer)
        if is_classifier(estimator)
        else None,
    )
    return mlp
