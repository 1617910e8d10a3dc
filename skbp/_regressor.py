"""BPRegressor: real-valued targets on the shared base.

What is particular to regression: the regression losses and their output
functions (identity, or the log link of the Poisson deviance), 1-D or 2-D
targets, and the target scaling of ``normalize_y``, which the network trains on
and which is folded into the output layer of the fitted ``coefs_`` /
``intercepts_`` (so that they, and ``to_mlp``, predict in the targets' units).
"""

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from skbp._array_api import to_numpy
from skbp._base import BaseBP, stochastic_solver
from skbp._compat import Interval, StrOptions, _fit_context
from skbp._core.losses import REGRESSION_LOSSES, regression_output_for
from skbp._core.namespace import NUMPY
from skbp._core.outputs import OUTPUT_FUNCTIONS
from skbp._docstrings import fill_doc
from skbp._interop import from_mlp, to_mlp


def _weighted_mean_and_std(Y, sample_weight):
    """Column means and standard deviations of ``Y``, weighted, in float64."""
    Y = np.asarray(Y, dtype=np.float64)
    weights = None if sample_weight is None else np.asarray(sample_weight, float)
    mean = np.average(Y, axis=0, weights=weights)
    # Deviations divided by the largest one: the squares of targets beyond
    # 1e154 would overflow. Samples of weight 0 count for nothing.
    deviation = Y - mean
    if weights is not None:
        deviation, weights = deviation[weights > 0], weights[weights > 0]
    peak = np.abs(deviation).max(axis=0)
    peak[peak == 0] = 1.0
    std = np.sqrt(np.average((deviation / peak) ** 2, axis=0, weights=weights))
    std *= peak
    # The computed mean of identical values can miss them by a rounding error,
    # which leaves a constant column a tiny variance (0.1 repeated has a standard
    # deviation of ~1e-17): dividing by it would scale rounding noise up to unit
    # size. A variance within the rounding error of the mean is zero (the bound
    # of scikit-learn's StandardScaler, var <= n eps var + (n mean eps)^2, taken
    # as std <= n eps |mean|: its squares could overflow).
    eps = np.finfo(np.float64).eps
    std[std <= Y.shape[0] * eps * np.abs(mean)] = 0.0
    return mean, std


#: The median absolute deviation of normal data times this is its standard
#: deviation (1 / Phi^-1(3/4)).
MAD_TO_STD = 1.482602218505602

#: Losses whose target scaling must not be inflated by outliers.
ROBUST_LOSSES = ("huber", "absolute_error")


def _weighted_median(Y, sample_weight):
    """Column medians of ``Y``, weighted; at an exact half, the mean of the two
    middle values (as ``np.median``, so integer weights equal repetition)."""
    Y = np.asarray(Y, dtype=np.float64)
    if sample_weight is None:
        return np.median(Y, axis=0)
    weights = np.asarray(sample_weight, dtype=np.float64)
    Y, weights = Y[weights > 0], weights[weights > 0]
    half = weights.sum() / 2.0
    medians = np.empty(Y.shape[1])
    for j in range(Y.shape[1]):
        order = np.argsort(Y[:, j], kind="stable")
        values, cumulative = Y[order, j], np.cumsum(weights[order])
        k = int(np.searchsorted(cumulative, half * (1.0 - 1e-12)))
        at_half = abs(cumulative[k] - half) <= 1e-12 * half and k + 1 < len(values)
        medians[j] = (values[k] + values[k + 1]) / 2.0 if at_half else values[k]
    return medians


def _robust_center_and_scale(Y, sample_weight):
    """Weighted medians and scaled median absolute deviations of ``Y``'s columns.

    Outliers move neither, so the Huber threshold (in these units) keeps its
    meaning on contaminated targets; a column whose MAD is 0 (more than half of
    it one value) falls back to its standard deviation.
    """
    center = _weighted_median(Y, sample_weight)
    scale = MAD_TO_STD * _weighted_median(np.abs(Y - center), sample_weight)
    _, std = _weighted_mean_and_std(Y, sample_weight)
    # A MAD that is 0 next to the standard deviation, up to rounding, would
    # blow the other values up (by 1e300 for a MAD of 5e-324).
    return center, np.where(scale > np.finfo(np.float64).eps * std, scale, std)


@fill_doc
class BPRegressor(RegressorMixin, BaseBP):
    # RegressorMixin goes on the left so that its tags and score take precedence.
    """Multilayer perceptron regressor trained by backpropagation written in numpy.

    The same network as :class:`BPClassifier` -- ``a[i + 1] = f(a[i] @ W[i] +
    b[i])`` through the hidden layers, gradients from the recurrence
    ``delta[i - 1] = (delta[i] @ W[i].T) * f'(z[i - 1])`` -- with an identity
    output layer (a log-link one for ``loss='poisson'``) for one or several
    real-valued targets.

    Parameters
    ----------
    %(hidden_layer_sizes)s

    %(activation)s

    loss : {'squared_error', 'poisson', 'huber', 'absolute_error'}, \
default='squared_error'
        Per-sample loss, summed over the outputs, with residual
        :math:`r = \\hat y - y`:

        - ``'squared_error'``: :math:`\\frac12 r^2`, identity output (as
          MLPRegressor);
        - ``'poisson'``: half the Poisson deviance
          :math:`y \\log(y / \\hat y) - y + \\hat y` with the log link
          :math:`\\hat y = e^z`, for counts and rates; needs ``y >= 0`` (as
          MLPRegressor from scikit-learn 1.7);
        - ``'huber'``: :math:`\\frac12 r^2` for :math:`|r| \\le \\delta`, else
          :math:`\\delta (|r| - \\delta / 2)`, robust to outliers (see
          ``huber_delta``);
        - ``'absolute_error'``: :math:`|r|`, for the conditional median.

    %(solver)s

    %(learning_rate)s

    %(learning_rate_schedule)s

    %(power_t)s

    %(momentum)s

    %(nesterovs_momentum)s

    %(beta_1)s

    %(epsilon)s

    %(alpha)s

    %(batch_size)s

    %(max_iter)s

    %(tol)s

    %(n_iter_no_change)s

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when its
        score (see ``scoring``; R² by default) stops improving, and keep the
        best weights.

    %(validation_fraction)s

    %(shuffle)s

    %(random_state)s

    %(verbose)s

    %(warm_start)s

    %(init)s

    %(max_fun)s

    scoring : str, callable or None, default=None
        What the validation set is scored by after each epoch, and so what
        early stopping monitors: None for R², ``'loss'`` for the validation
        loss (its negative, so that higher is better), or any scikit-learn
        scorer name or callable ``scorer(estimator, X, y)``.

    %(dropout)s

    huber_delta : float, default=0.5
        Threshold :math:`\\delta` of ``loss='huber'`` where the loss turns from
        quadratic to linear, in the units the network trains in: robust
        standard deviations of the target (its scaled median absolute
        deviation) with ``normalize_y=True``. The residuals of a useful fit are
        a fraction of the target's spread, so the threshold is too. Measured
        (5-fold R², defaults otherwise): 0.5 scores as the squared error does
        on clean targets (diabetes 0.446, friedman1 0.985) and 0.981 on
        friedman1 with 5% of its training targets moved by 10 standard
        deviations, where 1.0 scores 0.961, 2.0 0.916 and the squared error
        0.358.

    normalize_y : bool, default=True
        Train on scaled targets: standardised (mean 0, standard deviation 1
        per output, weighted by ``sample_weight``) for ``'squared_error'``;
        centred on the median and divided by the median absolute deviation
        (times 1.4826, the standard deviation of normal data), which outliers
        do not inflate, for ``'huber'`` and ``'absolute_error'``; divided by
        their mean for ``'poisson'``. Statistics come from
        the first fit (the first ``partial_fit`` chunk) and are kept by
        ``warm_start`` and ``partial_fit``. The scaling is folded into the
        output layer, so ``coefs_``, ``intercepts_`` and :meth:`to_mlp` predict
        in the targets' own units. Unscaled targets are MLPRegressor's most
        common trap (its R² on ``load_diabetes`` is negative); ``alpha`` and
        ``loss_curve_`` apply to the scaled targets.

    Attributes
    ----------
    %(weights)s
    out_activation_ : {'identity', 'exp'}
        Output function.
    %(history)s

    See Also
    --------
    BPClassifier : The same network for classification.
    sklearn.neural_network.MLPRegressor : The multilayer perceptron of
        scikit-learn.

    Notes
    -----
    The training loss is the weighted mean over samples of the per-sample loss,
    summed over outputs, :math:`L = \\frac{\\sum_i s_i \\ell_i}{\\sum_i s_i} +
    \\frac{\\alpha}{2 \\sum_i s_i} \\sum_l \\lVert W_l \\rVert^2`. For
    ``'squared_error'`` and one output this is MLPRegressor's loss; for several
    outputs MLPRegressor reports the mean over outputs while its gradient is
    that of the sum, which is what skbp uses for both.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbp import BPRegressor
    >>> X, y = load_diabetes(return_X_y=True)  # a target from 25 to 346
    >>> net = BPRegressor(early_stopping=True, random_state=0)
    >>> reg = make_pipeline(StandardScaler(), net)
    >>> cross_val_score(reg, X, y).mean().round(2)  # R²; MLPRegressor(): -1.0
    np.float64(0.48)
    """

    _parameter_constraints = {
        **BaseBP._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "normalize_y": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss="squared_error",
        solver="adam",
        learning_rate=0.001,
        learning_rate_schedule="constant",
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        verbose=0,
        warm_start=False,
        init="auto",
        max_fun=15000,
        scoring=None,
        dropout=0.0,
        huber_delta=0.5,
        normalize_y=True,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            loss=loss,
            solver=solver,
            learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule,
            power_t=power_t,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            shuffle=shuffle,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            init=init,
            max_fun=max_fun,
            scoring=scoring,
            dropout=dropout,
        )
        self.huber_delta = huber_delta
        self.normalize_y = normalize_y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        # The Poisson deviance is defined for y >= 0 only.
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags

    # ------------------------------------------------------------------ fitting

    @fill_doc
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 input keeps the whole model in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values; ``predict`` returns the same shape.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        %(fit_validation)s

        Returns
        -------
        self : BPRegressor
            The fitted estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from skbp import BPRegressor
        >>> X = np.linspace(-2, 2, 200)[:, None]
        >>> reg = BPRegressor((16,), solver="lbfgs", random_state=0)
        >>> reg = reg.fit(X, np.sin(X[:, 0]))
        >>> bool(reg.score(X, np.sin(X[:, 0])) > 0.99)
        True
        """
        return self._fit_with_validation_set(
            X, y, sample_weight, X_val, y_val, sample_weight_val
        )

    @available_if(stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on ``X`` and ``y``, continuing from the current state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The chunk's training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values, with as many outputs in every call.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the chunk's samples.

        Returns
        -------
        self : BPRegressor
            The estimator, trained for one more epoch.

        Examples
        --------
        >>> import numpy as np
        >>> from skbp import BPRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.randn(300, 3)
        >>> y = X @ [1.0, -2.0, 0.5]
        >>> reg = BPRegressor((8,), random_state=0)
        >>> for chunk in np.array_split(np.arange(300), 3):
        ...     reg = reg.partial_fit(X[chunk], y[chunk])
        >>> reg.n_iter_, reg.t_
        (1, 300)
        """
        if self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: it trains one "
                "epoch per call on the chunk it is given. Set early_stopping=False."
            )
        return self._fit(X, y, sample_weight, incremental=True)

    # ------------------------------------------------------ hooks of the base

    _y_numeric = True

    def _check_targets(self, y, name="y"):
        # y is a NumPy array (see BaseBP._validate_input).
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                f"Some value(s) of {name} are negative, which is not allowed for "
                "loss='poisson' (a count or rate model); use another loss or "
                "shift the targets."
            )

    def _fit_targets(self, y, sample_weight, *, first_call, incremental, classes):
        self._check_targets(y)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if not first_call:
            self._check_n_outputs(Y, "y")
            if regression_output_for(self.loss) != self.out_activation_:
                raise ValueError(
                    f"loss={self.loss!r} needs the output "
                    f"{regression_output_for(self.loss)!r}, but the model was "
                    f"fitted with {self.out_activation_!r}; set warm_start=False "
                    "to change between the Poisson loss and the others."
                )
            return
        self._y_ndim = y.ndim
        self._logit_scale = self._logit_shift = None
        if not self.normalize_y:
            return
        if self.loss in ROBUST_LOSSES:
            mean, std = _robust_center_and_scale(Y, sample_weight)
        else:
            mean, std = _weighted_mean_and_std(Y, sample_weight)
        if self.loss == "poisson":
            # Log link: dividing y by its mean shifts the logit by log(mean).
            positive = mean > 0
            self._logit_scale = np.ones_like(mean)
            self._logit_shift = np.log(np.where(positive, mean, 1.0))
        else:
            # A constant target has std 0: it is only centred.
            self._logit_scale = np.where(std > 0, std, 1.0)
            self._logit_shift = mean

    def _move_fitted_targets(self, namespace, y_space):
        # The target scaling is folded into the output layer on the device: it
        # lives there (the highest float precision the device has).
        if self._logit_scale is not None:
            self._logit_scale = namespace.to_device(self._logit_scale)
            self._logit_shift = namespace.to_device(self._logit_shift)

    def _check_n_outputs(self, Y, name):
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"{name} has {Y.shape[1]} output(s), but the model was fitted "
                f"with {self.n_outputs_}."
            )

    def _check_validation_targets(self, y_val):
        self._check_targets(y_val, "y_val")
        self._check_n_outputs(y_val.reshape(len(y_val), -1), "y_val")

    def _encode_targets(self, y, dtype):
        # Scaled in float64, then cast: a float32 model's targets may have a
        # scale (or Poisson mean) outside float32's range, e.g. 1e-60, which
        # cast first would make 0 / 0. Overflow is checked below.
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        folded = []
        affine = self._logit_affine()
        with np.errstate(over="ignore", invalid="ignore"):
            if affine is not None:
                scale, shift = (to_numpy(part) for part in affine)
                folded = [scale, shift]
                if regression_output_for(self.loss) == "exp":
                    Y = Y / np.exp(shift)
                else:
                    Y = (Y - shift) / scale
            encoded = Y.astype(dtype)
            fits = all(np.isfinite(a.astype(dtype)).all() for a in [encoded, *folded])
        if not fits:
            name = np.dtype(dtype).name
            raise ValueError(
                f"y (largest magnitude {np.abs(y).max():.3g}) is out of the range "
                f"of {name}, the dtype of X"
                + (
                    ": the model's weights cannot hold its scale or mean"
                    if folded
                    else ""
                )
                + "; "
                + ("fit on float64 X, or " if name == "float32" else "")
                + "rescale y."
            )
        return encoded

    def _output_activation(self, n_outputs):
        return regression_output_for(self.loss)

    def _loss_params(self):
        if self.loss == "huber":
            return {"threshold": float(self.huber_delta)}
        return {}

    def _logit_affine(self):
        if getattr(self, "_logit_scale", None) is None:
            return None
        return self._logit_scale, self._logit_shift

    def _score_logits(self, logits, y, sample_weight):
        return r2_score(y, self._outputs(logits), sample_weight=sample_weight)

    # --------------------------------------------------------------- predicting

    def _outputs(self, logits, ns=NUMPY):
        """Predictions from fitted-unit logits (in namespace ``ns``), in the shape
        of ``y`` in fit. The logits' buffer is computed over in place."""
        outputs = OUTPUT_FUNCTIONS[self.out_activation_](ns.ops, logits, out=logits)
        return ns.ops.reshape(outputs, (-1,)) if self._y_ndim == 1 else outputs

    def predict(self, X):
        """Predict target values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, in the shape of ``y`` in fit and the model's dtype.

        Examples
        --------
        >>> import numpy as np
        >>> from skbp import BPRegressor
        >>> X = np.arange(8.0)[:, None]
        >>> reg = BPRegressor((4,), solver="lbfgs", random_state=0)
        >>> reg.fit(X, np.column_stack([X[:, 0], -X[:, 0]])).predict(X[:3]).shape
        (3, 2)
        """
        return self._outputs(*self._logits(X, "predict"))

    # ------------------------------------------------------- beyond MLPRegressor

    @classmethod
    def from_mlp(cls, mlp):
        """Build a fitted BPRegressor from a fitted ``MLPRegressor``.

        The parameters mirror the MLP's (``learning_rate_init`` becomes
        ``learning_rate``, ``learning_rate`` becomes ``learning_rate_schedule``,
        ``'logistic'`` becomes ``'sigmoid'``; ``init`` is ``'glorot_uniform'``,
        the MLP's scheme, and ``normalize_y`` is False: the MLP trained on the
        targets as they are). The weights are copied in their dtype, so
        ``predict`` agrees with the MLP's to rounding, and the model can
        continue training with ``partial_fit`` or ``warm_start`` (with a fresh
        optimiser state).

        Parameters
        ----------
        mlp : sklearn.neural_network.MLPRegressor
            A fitted regressor.

        Returns
        -------
        reg : BPRegressor
            A new, fitted estimator.

        Raises
        ------
        NotFittedError
            If ``mlp`` is not fitted.
        TypeError
            If ``mlp`` is not an ``MLPRegressor``.

        Examples
        --------
        >>> from sklearn.neural_network import MLPRegressor
        >>> mlp = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0)
        >>> mlp = mlp.fit([[0.0], [1.0], [2.0], [3.0]], [0.0, 1.0, 2.0, 3.0])
        >>> reg = BPRegressor.from_mlp(mlp)
        >>> bool(abs(reg.predict([[1.5]]) - mlp.predict([[1.5]])).max() < 1e-12)
        True
        """
        return from_mlp(cls, mlp)

    def to_mlp(self):
        """Build a fitted ``MLPRegressor`` with this model's weights.

        The parameters are mirrored (the reverse of :meth:`from_mlp`) and the
        fitted attributes are set so that the MLP's ``predict`` and ``score``
        agree with this model's: the target scaling of ``normalize_y`` is
        already folded into ``coefs_`` and ``intercepts_``. ``init``,
        ``scoring``, ``dropout``, ``huber_delta`` and ``normalize_y`` have no
        MLPRegressor counterpart and are dropped; the optimiser state is not
        carried over.

        Returns
        -------
        mlp : sklearn.neural_network.MLPRegressor
            A new, fitted estimator; the weights are copies.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ValueError
            If the model was fitted with a loss (``'huber'``,
            ``'absolute_error'``) or an activation MLPRegressor lacks.

        Examples
        --------
        >>> reg = BPRegressor((5,), solver="lbfgs", random_state=0)
        >>> reg = reg.fit([[0.0], [1.0], [2.0], [3.0]], [0.0, 1.0, 2.0, 3.0])
        >>> mlp = reg.to_mlp()
        >>> bool(abs(reg.predict([[1.5]]) - mlp.predict([[1.5]])).max() < 1e-12)
        True
        """
        return to_mlp(self)
