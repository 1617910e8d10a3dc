"""The fitted state of a backpropagation estimator, and training resumed from it.

``FittedStateMixin`` is a part of ``BaseBP`` (``skbp._base``). The fitted state
is plain data (arrays, numbers, strings, lists and dicts), so that pickles and
skops files hold no skbp objects but the estimator:

* ``_store`` copies a trainer's result into the fitted attributes (``coefs_``,
  ``intercepts_``, the curves, the RNG, optimiser and stopping states) and
  fingerprints the parameters (``params_digest``);
* ``_training_theta`` rebuilds the flat training buffer from ``coefs_`` /
  ``intercepts_`` for a warm start or ``partial_fit``, and drops the optimiser
  state when the weights were edited since;
* the regressor's target scaling is folded into the output layer on the way
  out and unfolded on the way back in (``_fold_output_layer``,
  ``_unfold_output_layer``), so that ``coefs_`` predict in the target's units;
* the ``Network`` is rebuilt from the plain description on demand
  (``_network``), in the array library and on the device of ``coefs_``.

It relies on ``BaseBP``'s hook ``_logit_affine`` and parameters.
"""

import copy
import hashlib

import numpy as np

from skbp._array_api import namespace_of_fitted, to_numpy
from skbp._core.network import Network, fold_output_affine, unfold_output_affine
from skbp._core.training import StoppingMonitor


def params_digest(theta):
    """A fingerprint of the parameter values, to notice edits made between fits."""
    return hashlib.blake2b(
        np.ascontiguousarray(to_numpy(theta)).tobytes(), digest_size=16
    ).hexdigest()


class FittedStateMixin:
    """Storing, resuming and predicting from the plain fitted state."""

    def _reset_history(self):
        self.loss_curve_ = []
        self.validation_scores_ = [] if self.early_stopping else None
        self.validation_loss_curve_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self.t_ = 0
        self._stopping_state = StoppingMonitor.initial_state()
        self._optimizer_state = None
        self._params_digest = None
        self._training_params = None

    def _training_theta(self, net, dtype):
        """The flat training buffer rebuilt from ``coefs_`` / ``intercepts_``.

        After unpickling, or after a user edited ``coefs_[i]`` in place or by
        assignment, the attributes are the truth; the buffer follows them. The
        optimiser state kept from the last fit (velocity, Adam moments) belongs
        to the weights it was built on: if they were changed from outside since,
        it no longer applies and is started afresh.
        """
        shapes = [np.shape(c) for c in self.coefs_]
        bias_shapes = [np.shape(b) for b in self.intercepts_]
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
            [ns.to_device(c) for c in self.coefs_],
            [ns.to_device(b) for b in self.intercepts_],
            dtype,
        )
        if params_digest(theta) != self._params_digest:
            self._optimizer_state = None
        else:
            # Unchanged since the last fit: resume from the parameters in the
            # units the network trains in. Unfolding coefs_ would round the
            # regressor's output bias to the precision of the target's mean (in
            # float32, steps larger than an Adam update for y ~ 1e6).
            saved = getattr(self, "_training_params", None)
            if saved is not None and saved.dtype == theta.dtype:
                return ns.copy(ns.to_device(saved))
        self._unfold_output_layer(net, theta)
        return theta

    def _restored_rng(self):
        rng = np.random.RandomState()
        # The state's key array is NumPy's, unless a move of the whole model
        # (move_estimator_to) took it along to another library.
        rng.set_state(tuple(to_numpy(part) for part in self._rng_state))
        return rng

    def _store(self, net, theta, history, rng):
        fitted = self._fold_output_layer(net, theta)
        self.coefs_, self.intercepts_ = net.layout.views(fitted)
        self._params_digest = params_digest(fitted)
        # The regressor's fitted weights are a folded copy: keep the training
        # units too, so that the next warm start resumes exactly.
        self._training_params = None if fitted is theta else net.namespace.copy(theta)
        self._rng_state = rng.get_state()
        self.n_iter_ = history.n_iter
        self.t_ += history.samples_seen
        # New lists, never extended in place: the snapshot in ``_fit`` is
        # shallow and shares the old ones.
        self.loss_curve_ = [*self.loss_curve_, *history.loss_curve]
        if history.loss_curve:
            self.loss_ = history.loss_curve[-1]
        elif not hasattr(self, "loss_"):
            self.loss_ = np.inf
        if self.early_stopping:
            self.best_loss_ = None  # the validation score decides, as in MLP
        elif self.solver == "lbfgs":
            self.best_loss_ = min(self.loss_curve_, default=self.loss_)
        else:
            self.best_loss_ = self._stopping_state["best_loss"]
        if history.validation_scores:
            if self.validation_scores_ is None:  # a first X_val on a warm start
                self.validation_scores_, self.validation_loss_curve_ = [], []
            self.validation_scores_ = [
                *self.validation_scores_,
                *history.validation_scores,
            ]
            self.validation_loss_curve_ = [
                *self.validation_loss_curve_,
                *history.validation_losses,
            ]
            self.best_validation_score_ = max(self.validation_scores_)

    # ------------------------------------------- output layer in fitted units

    def _fold_output_layer(self, net, theta):
        """Parameters in fitted units: ``theta`` itself, or a folded copy."""
        affine = self._logit_affine()
        if affine is None:
            return theta
        scale, shift = self._affine_in(net.namespace, affine, theta.dtype)
        fitted = net.namespace.copy(theta)
        fold_output_affine(net.layout, fitted, scale, shift)
        return fitted

    def _unfold_output_layer(self, net, theta):
        """Undo ``_fold_output_layer`` in place: back to training units."""
        affine = self._logit_affine()
        if affine is None:
            return
        scale, shift = self._affine_in(net.namespace, affine, theta.dtype)
        unfold_output_affine(net.layout, theta, scale, shift)

    @staticmethod
    def _affine_in(ns, affine, dtype):
        """``(scale, shift)`` ready to combine with ``dtype`` arrays of ``ns``.

        NumPy takes the float64 statistics as they are (in-place arithmetic
        casts back; host copies if a fit elsewhere moved them to a device); the
        standard wants operands of the array's own dtype.
        """
        if ns.is_numpy:
            return tuple(to_numpy(part) for part in affine)
        return tuple(ns.xp.astype(ns.to_device(part), dtype) for part in affine)

    def _fitted_logits(self, logits, ns):
        """Logits of the training units mapped to the fitted units."""
        affine = self._logit_affine()
        if affine is None:
            return logits
        scale, shift = self._affine_in(ns, affine, logits.dtype)
        return logits * scale + shift

    def _fitted_attributes(self, theta, net=None):
        """What a copy of this estimator needs to predict with ``theta``.

        ``net`` is the network being trained (by default the fitted one).
        """
        net = self._network if net is None else net
        # A copy, since training goes on updating theta in place; the folded
        # parameters of a regressor are one already.
        fitted = self._fold_output_layer(net, theta)
        if fitted is theta:
            fitted = net.namespace.copy(theta)
        coefs, intercepts = net.layout.views(fitted)
        return {"coefs_": coefs, "intercepts_": intercepts}

    def _model_with(self, theta, net):
        """A shallow copy of this estimator that predicts with ``theta``."""
        model = copy.copy(self)
        for name, value in self._fitted_attributes(theta, net).items():
            setattr(model, name, value)
        return model

    # ------------------------------------------------------------- the network

    def _set_network(self, net):
        """Record the network's description as plain attributes (and cache it)."""
        self._layer_sizes = list(net.layout.layer_sizes)
        self._layer_activations = list(net.activations)
        self._fitted_loss = net.loss_name
        self._fitted_loss_params = dict(net.loss_params)
        self._network_cache = net

    @property
    def _network(self):
        """The ``Network`` of the fitted model, rebuilt from plain attributes."""
        return self._network_for(namespace_of_fitted(self.coefs_[0]))

    def _network_for(self, ns):
        """The fitted model's ``Network`` in namespace ``ns`` (where coefs_ are).

        The cached one unless it computes elsewhere: a model moved to another
        library or device (move_estimator_to) carries its old cache along.
        """
        net = self.__dict__.get("_network_cache")
        if (
            net is None
            or net.namespace.xp is not ns.xp
            or net.namespace.device != ns.device
        ):
            net = Network(
                self._layer_sizes,
                self._layer_activations,
                self.out_activation_,
                self._fitted_loss,
                self._fitted_loss_params,
                namespace=ns,
            )
            self._network_cache = net
        return net
