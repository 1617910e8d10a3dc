"""The fitted state of a backpropagation estimator, as plain data, and back.

A fitted model is plain data (arrays, numbers, strings, lists and dicts), so
that pickles and skops files hold no skbp object but the estimator. The
functions here receive what they use and return new values, which ``BaseBP``
(``skbp._base``) assigns to its attributes; none of them changes its inputs,
so a shallow snapshot of the estimator's attributes is enough to undo a fit:

* ``initial_history`` and ``continued_history`` -- the history attributes
  before the first epoch, and after one more trainer call;
* ``fitted_parameters`` -- ``coefs_`` / ``intercepts_`` from the training
  buffer, with the fingerprint (``params_digest``) that later notices edits;
* ``training_theta`` and ``restored_rng`` -- the flat training buffer and
  the random generator to continue from, for a warm start or ``partial_fit``;
* the regressor's target scaling between the units the network trains in and
  the targets' own (``fold_output_layer``, ``unfold_output_layer``,
  ``fitted_logits``), so that ``coefs_`` predict in the targets' units;
* ``prediction_attributes`` and ``model_with`` -- a copy of the estimator
  that predicts with other parameters (for scorers and callbacks);
* ``network_description`` and ``network_from`` -- the ``Network`` as plain
  attributes, and rebuilt from them in the array library of ``coefs_``.

It imports the numeric core and ``_array_api``, nothing else of skbp.
"""

import copy
import hashlib

import numpy as np

from skbp._array_api import to_numpy
from skbp._core.network import Network, fold_output_affine, unfold_output_affine
from skbp._core.training import StoppingMonitor


def params_digest(theta):
    """A fingerprint of the parameter values, to notice edits made between fits."""
    return hashlib.blake2b(
        np.ascontiguousarray(to_numpy(theta)).tobytes(), digest_size=16
    ).hexdigest()


# ------------------------------------------------------------------ history


def initial_history(early_stopping):
    """The history and resumable state of a model about to train afresh.

    Parameters
    ----------
    early_stopping : bool

    Returns
    -------
    dict
        Attribute name -> value.
    """
    return {
        "loss_curve_": [],
        "validation_scores_": [] if early_stopping else None,
        "validation_loss_curve_": [] if early_stopping else None,
        "best_validation_score_": -np.inf if early_stopping else None,
        "t_": 0,
        "_stopping_state": StoppingMonitor.initial_state(),
        "_optimizer_state": None,
        "_params_digest": None,
        "_training_params": None,
    }


def continued_history(previous, history, *, solver, early_stopping, best_loss):
    """The history attributes after one more trainer call.

    Parameters
    ----------
    previous : mapping
        The estimator's attributes: ``loss_curve_``, ``validation_scores_``,
        ``validation_loss_curve_``, ``t_`` and, once set, ``loss_``. Read only.
    history : History
        What the trainer call did.
    solver : str
    early_stopping : bool
    best_loss : float
        The stopping monitor's best training loss.

    Returns
    -------
    dict
        Attribute name -> new value. The curves are new lists, never the old
        ones extended in place: ``BaseBP._fit`` undoes a failed fit with a
        shallow snapshot, which shares the old ones.
    """
    loss_curve = [*previous["loss_curve_"], *history.loss_curve]
    if history.loss_curve:
        loss = history.loss_curve[-1]
    else:
        loss = previous.get("loss_", np.inf)
    if early_stopping:
        best = None  # the validation score decides, as in MLP
    elif solver == "lbfgs":
        best = min(loss_curve, default=loss)
    else:
        best = best_loss
    attributes = {
        "n_iter_": history.n_iter,
        "t_": previous["t_"] + history.samples_seen,
        "loss_curve_": loss_curve,
        "loss_": loss,
        "best_loss_": best,
    }
    if history.validation_scores:
        # [] for a first X_val on a warm start of a model without validation.
        scores = previous["validation_scores_"] or []
        losses = previous["validation_loss_curve_"] or []
        attributes["validation_scores_"] = [*scores, *history.validation_scores]
        attributes["validation_loss_curve_"] = [*losses, *history.validation_losses]
        attributes["best_validation_score_"] = max(attributes["validation_scores_"])
    return attributes


# --------------------------------------------------------------- parameters


def fitted_parameters(net, theta, affine):
    """``coefs_`` / ``intercepts_`` and their bookkeeping after training.

    Parameters
    ----------
    net : Network
    theta : array of shape (net.layout.size,)
        The trained parameters, in the units the network trains in.
    affine : tuple of arrays or None
        ``(scale, shift)`` to fold into the output layer (see
        ``fold_output_layer``), or None.

    Returns
    -------
    dict
        Attribute name -> value: ``coefs_`` and ``intercepts_`` (views of one
        buffer in the fitted units), ``_params_digest`` (its fingerprint) and
        ``_training_params`` (a copy of ``theta`` when the two differ, so that
        the next warm start resumes exactly; else None).
    """
    fitted = fold_output_layer(net, theta, affine)
    coefs, intercepts = net.layout.views(fitted)
    return {
        "coefs_": coefs,
        "intercepts_": intercepts,
        "_params_digest": params_digest(fitted),
        "_training_params": None if fitted is theta else net.namespace.copy(theta),
    }


def training_theta(net, dtype, coefs, intercepts, *, digest, saved, affine):
    """The flat training buffer rebuilt from ``coefs_`` / ``intercepts_``.

    After unpickling, or after a user edited ``coefs_[i]`` in place or by
    assignment, the attributes are the truth; the buffer follows them.

    Parameters
    ----------
    net : Network
        The network of this call.
    dtype : dtype
        The training dtype, in the network's array library.
    coefs, intercepts : list of arrays
        The fitted weights and biases (in the fitted units).
    digest : str or None
        ``_params_digest``: the fingerprint of the parameters the last fit left.
    saved : array or None
        ``_training_params``: the last fit's parameters in the training units,
        when they differ from the fitted ones.
    affine : tuple of arrays or None
        The target scaling folded into the fitted output layer, or None.

    Returns
    -------
    theta : array of shape (net.layout.size,)
        A new buffer, in the units the network trains in.
    edited : bool
        Whether the parameters changed since the last fit: the optimiser state
        kept from it (velocity, Adam moments) then belongs to other weights.
    """
    shapes = [np.shape(c) for c in coefs]
    bias_shapes = [np.shape(b) for b in intercepts]
    expected_bias = [(n,) for n in net.layout.layer_sizes[1:]]
    if shapes != net.layout.weight_shapes or bias_shapes != expected_bias:
        raise ValueError(
            f"The network's shape changed since the last fit (weights {shapes} "
            f"and biases {bias_shapes}, now {net.layout.weight_shapes} and "
            f"{expected_bias}). Set warm_start=False, restore "
            "hidden_layer_sizes, or give coefs_ and intercepts_ these shapes."
        )
    ns = net.namespace
    # From wherever the last fit left them to where this one runs (NumPy's
    # to_device is np.asarray: no copy before the packing copy).
    theta = net.layout.pack(
        [ns.to_device(c) for c in coefs], [ns.to_device(b) for b in intercepts], dtype
    )
    edited = params_digest(theta) != digest
    if not edited and saved is not None and saved.dtype == theta.dtype:
        # Unchanged since the last fit: resume from the parameters in the
        # units the network trains in. Unfolding coefs_ would round the
        # regressor's output bias to the precision of the target's mean (in
        # float32, steps larger than an Adam update for y ~ 1e6).
        return ns.copy(ns.to_device(saved)), edited
    unfold_output_layer(net, theta, affine)
    return theta, edited


def restored_rng(rng_state):
    """A ``RandomState`` continuing from a stored ``get_state()``."""
    rng = np.random.RandomState()
    # The state's key array is NumPy's, unless a move of the whole model
    # (move_estimator_to) took it along to another library.
    rng.set_state(tuple(to_numpy(part) for part in rng_state))
    return rng


# ------------------------------------------- output layer in fitted units


def _affine_in(ns, affine, dtype):
    """``(scale, shift)`` ready to combine with ``dtype`` arrays of ``ns``.

    NumPy takes the float64 statistics as they are (in-place arithmetic
    casts back; host copies if a fit elsewhere moved them to a device); the
    standard wants operands of the array's own dtype.
    """
    if ns.is_numpy:
        return tuple(to_numpy(part) for part in affine)
    return tuple(ns.xp.astype(ns.to_device(part), dtype) for part in affine)


def fold_output_layer(net, theta, affine):
    """Parameters in the fitted units: ``theta`` itself, or a folded copy.

    ``z_fitted = z_trained * scale + shift``, folded into the output layer,
    for ``affine = (scale, shift)``; None leaves ``theta`` as it is.
    """
    if affine is None:
        return theta
    scale, shift = _affine_in(net.namespace, affine, theta.dtype)
    fitted = net.namespace.copy(theta)
    fold_output_affine(net.layout, fitted, scale, shift)
    return fitted


def unfold_output_layer(net, theta, affine):
    """Undo ``fold_output_layer`` in place: back to the training units."""
    if affine is None:
        return
    scale, shift = _affine_in(net.namespace, affine, theta.dtype)
    unfold_output_affine(net.layout, theta, scale, shift)


def fitted_logits(logits, ns, affine):
    """Logits of the training units (arrays of ``ns``) in the fitted units."""
    if affine is None:
        return logits
    scale, shift = _affine_in(ns, affine, logits.dtype)
    return logits * scale + shift


def prediction_attributes(net, theta, affine):
    """``{"coefs_": ..., "intercepts_": ...}`` predicting with a copy of ``theta``.

    A copy, since training goes on updating ``theta`` in place; the folded
    parameters of a regressor are one already.
    """
    fitted = fold_output_layer(net, theta, affine)
    if fitted is theta:
        fitted = net.namespace.copy(theta)
    coefs, intercepts = net.layout.views(fitted)
    return {"coefs_": coefs, "intercepts_": intercepts}


def model_with(estimator, net, theta, affine):
    """A shallow copy of ``estimator`` that predicts with ``theta``."""
    model = copy.copy(estimator)
    for name, value in prediction_attributes(net, theta, affine).items():
        setattr(model, name, value)
    return model


# ------------------------------------------------------------- the network


def network_description(net):
    """The plain attributes that, with ``coefs_`` and ``out_activation_``,
    describe ``net`` (the layer sizes are the shapes of ``coefs_``)."""
    return {
        "_layer_activations": list(net.activations),
        "_fitted_loss": net.loss_name,
        "_fitted_loss_params": dict(net.loss_params),
    }


def network_from(coefs, activations, out_activation, loss, loss_params, ns):
    """The ``Network`` of a fitted model, in the array library ``ns``.

    Parameters
    ----------
    coefs : list of arrays
        The weight matrices; their shapes give the layer sizes.
    activations : list of str
        Canonical hidden activation names.
    out_activation : str
    loss : str
    loss_params : dict
    ns : ArrayNamespace
    """
    layer_sizes = (int(coefs[0].shape[0]), *(int(W.shape[1]) for W in coefs))
    return Network(
        layer_sizes, activations, out_activation, loss, loss_params, namespace=ns
    )
