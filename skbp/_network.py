"""The network: parameter layout on one flat buffer, forward pass, backprop.

Every parameter lives in one contiguous 1-D array ``theta``: all weight matrices in
layer order, then all biases (scikit-learn's L-BFGS packing order). ``Layout``
hands out reshaped *views* into it, so optimisers work on one array, the L2
penalty covers exactly the weight prefix, and L-BFGS needs no copies.

``Network.loss_and_grad`` is the single function that SGD, Adam, L-BFGS and the
gradient tests all call. Notation (the same everywhere in skbp):

* ``W[i]`` of shape ``(n_in, n_out)`` and ``b[i]`` of shape ``(n_out,)``;
* ``z[i] = a[i] @ W[i] + b[i]`` pre-activations, ``a[0] = X``,
  ``a[i + 1] = f_i(z[i])`` for hidden layers; the last ``z`` are the logits;
* ``delta[i] = dL/dz[i]``, propagated backwards by
  ``delta[i - 1] = (delta[i] @ W[i].T) * f'(z[i - 1])``;
* ``dL/dW[i] = a[i].T @ delta[i]`` and ``dL/db[i] = sum over samples of delta[i]``.

This module must not import scikit-learn, ``_training`` or ``_classifier``.
"""

from functools import partial

import numpy as np

from skbp._activations import ACTIVATIONS
from skbp._blas import add_scaled, blas
from skbp._losses import OUTPUT_LOSSES

#: Rows per block when predicting on many samples (see ``Network.logits``).
PREDICT_BLOCK = 2048


class Layout:
    """Offsets and shapes of every weight matrix and bias vector in ``theta``.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_features, *hidden_layer_sizes, n_outputs)``.
    """

    def __init__(self, layer_sizes):
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.weight_shapes = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))
        offset = 0
        self.weight_slices = []
        for n_in, n_out in self.weight_shapes:
            self.weight_slices.append(slice(offset, offset + n_in * n_out))
            offset += n_in * n_out
        #: Number of weights; ``theta[:n_weights]`` is what L2 penalises.
        self.n_weights = offset
        self.bias_slices = []
        for n_out in self.layer_sizes[1:]:
            self.bias_slices.append(slice(offset, offset + n_out))
            offset += n_out
        self.size = offset
        self._view_cache = {}

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers + output layer)."""
        return len(self.weight_shapes)

    def views(self, theta):
        """Return lists ``(W, b)`` of views into ``theta``.

        The views of the last few buffers are cached: a trainer asks for the views
        of the same ``theta`` and ``grad`` thousands of times, and building them
        costs more than a whole online step's arithmetic on small networks.
        """
        cached = self._view_cache.get(id(theta))
        if cached is not None and cached[0] is theta:
            return cached[1], cached[2]
        W = [
            theta[s].reshape(shape)
            for s, shape in zip(self.weight_slices, self.weight_shapes)
        ]
        b = [theta[s] for s in self.bias_slices]
        if len(self._view_cache) >= 4:
            self._view_cache.clear()
        # Holding theta keeps its id from being reused by another array.
        self._view_cache[id(theta)] = (theta, W, b)
        return W, b

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_view_cache"] = {}
        return state

    def pack(self, coefs, intercepts, dtype):
        """Copy lists of weight matrices and bias vectors into a new flat vector."""
        theta = np.empty(self.size, dtype=dtype)
        W, b = self.views(theta)
        for W_i, b_i, coef, intercept in zip(W, b, coefs, intercepts):
            W_i[...] = coef
            b_i[...] = intercept
        return theta


def _matmul(a, W, out):
    """``out = a @ W`` for dense or sparse ``a``; ``out`` is C-contiguous."""
    # isinstance(a, np.ndarray), not scipy.sparse.issparse, which costs a few
    # microseconds: this runs for every layer of every batch.
    if isinstance(a, np.ndarray):
        np.matmul(a, W, out=out)
    else:
        out[...] = a @ W
    return out


def _add_bias(z, b, ones):
    """``z += b`` on every row of ``z``; ``ones`` holds a 1 per row (or is None).

    On a C-contiguous batch this is the rank-1 update ``z += ones b^T``, one BLAS
    ``ger`` call on ``z.T`` (the Fortran-ordered view that ``ger`` updates in
    place). NumPy's broadcast addition runs one short inner loop per row and takes
    about twice as long on a (256, 256) batch; the sums are the same (``ger`` adds
    ``1 * b``). A single row is one inner loop anyway, and NumPy's call is cheaper.
    """
    if ones is not None and z.ndim == 2 and z.shape[0] > 1 and z.flags.c_contiguous:
        blas("ger", z.dtype)(1.0, b, ones, a=z.T, overwrite_a=True)
    else:
        z += b
    return z


def _weight_gradient(a, delta, out):
    """``out = a.T @ delta``: the data part of ``dL/dW`` (L2 is added later)."""
    if isinstance(a, np.ndarray):
        np.matmul(a.T, delta, out=out)
    else:
        out[...] = a.T @ delta
    return out


def _add_l2_gradient(theta, grad, layout, penalty):
    """Add the L2 part ``penalty * W`` of ``dL/dW`` to every weight gradient.

    One BLAS ``axpy`` (``y += a * x`` in a single pass) over the weight prefix of
    the flat buffers, instead of ``gW += penalty * W`` per layer, which builds a
    layer-sized temporary and makes three passes over memory. (BLAS may round
    ``a * x + y`` once, with a fused multiply-add: equal to within a rounding.)
    """
    n = layout.n_weights
    add_scaled(grad[:n], penalty, theta[:n])


def _weighted_mean(per_sample, sample_weight):
    """``(weighted mean of per_sample, sum of the weights)``; None means all 1."""
    if sample_weight is None:
        weight_sum = float(per_sample.shape[0])
        return float(per_sample.sum()) / weight_sum, weight_sum
    weight_sum = float(sample_weight.sum())
    return float(per_sample @ sample_weight) / weight_sum, weight_sum


class _Workspace:
    """Preallocated pre-activation and activation buffers for ``n_rows`` samples.

    ``n_rows=0`` makes the 1-D buffers of the single-sample path.
    """

    def __init__(self, layout, n_rows, dtype):
        sizes = layout.layer_sizes[1:]
        shape = (lambda n: (n,)) if n_rows == 0 else (lambda n: (n_rows, n))
        self.n_rows = n_rows
        self.ones = np.ones(n_rows, dtype=dtype)
        self.z = [np.empty(shape(n), dtype=dtype) for n in sizes]
        # The last layer's activation buffer receives the output delta.
        self.a = [np.empty(shape(n), dtype=dtype) for n in sizes]

    def head(self, n_rows):
        """A workspace of views on the first ``n_rows`` rows of this one."""
        head = object.__new__(_Workspace)
        head.n_rows = n_rows
        head.ones = self.ones[:n_rows]
        # Leading rows of a C-ordered array are C-contiguous, as out= needs.
        head.z = [buffer[:n_rows] for buffer in self.z]
        head.a = [buffer[:n_rows] for buffer in self.a]
        return head


class Network:
    """A multilayer perceptron described by its layer sizes and functions.

    The network holds no parameters: they are passed in as the flat ``theta``, so
    the same object serves training, prediction and gradient checking.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_features, *hidden_layer_sizes, n_outputs)``.
    activations : sequence of str
        Canonical activation name of each hidden layer.
    output : {"softmax", "logistic"}
        Output function.
    loss : str
        Loss function; ``(loss, output)`` must be a key of ``OUTPUT_LOSSES``.
    loss_params : dict, optional
        Keyword arguments of the loss function (the Huber threshold).
    """

    def __init__(self, layer_sizes, activations, output, loss, loss_params=None):
        self.layout = Layout(layer_sizes)
        if len(activations) != self.layout.n_layers - 1:
            raise ValueError(
                f"Need one activation per hidden layer: got {len(activations)} for "
                f"{self.layout.n_layers - 1} hidden layers."
            )
        self.activations = tuple(activations)
        self._hidden = [ACTIVATIONS[name] for name in self.activations]
        self.output = output
        self.loss_name = loss
        self.loss_params = dict(loss_params or {})
        self._loss_fn = OUTPUT_LOSSES[(loss, output)]
        if self.loss_params:
            self._loss_fn = partial(self._loss_fn, **self.loss_params)
        self._workspaces = {}

    def _workspace(self, n_rows, dtype):
        key = (n_rows, np.dtype(dtype))
        ws = self._workspaces.get(key)
        if ws is None:
            # The last, smaller batch of an epoch borrows the leading rows of the
            # full batch's buffers instead of allocating its own.
            larger = [
                cached
                for (rows, cached_dtype), cached in self._workspaces.items()
                if cached_dtype == key[1] and rows > n_rows > 0
            ]
            if larger:
                ws = larger[0].head(n_rows)
            else:
                # Anything else is a one-off size that must not pin memory.
                if len(self._workspaces) >= 2:
                    self._workspaces.clear()
                ws = _Workspace(self.layout, n_rows, dtype)
            self._workspaces[key] = ws
        return ws

    def clear_caches(self):
        """Drop the work buffers and cached views once training is over.

        They would otherwise keep training-sized memory (and the gradient buffer)
        alive for as long as the fitted model lives.
        """
        self._workspaces.clear()
        self.layout._view_cache.clear()

    def __getstate__(self):
        # Work buffers are a cache: pickling them would only bloat saved models.
        state = self.__dict__.copy()
        state["_workspaces"] = {}
        return state

    def logits(self, coefs, intercepts, X, layer=None):
        """Forward pass for prediction.

        Large inputs are processed in blocks of ``PREDICT_BLOCK`` rows through
        reused buffers: the activations of one block stay in cache and peak memory
        no longer grows with the number of rows.

        Parameters
        ----------
        coefs, intercepts : list of ndarray
            Weight matrices ``(n_in, n_out)`` and bias vectors ``(n_out,)``.
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        layer : int, optional
            Return the activation of this hidden layer (0-based) instead of the
            output logits.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        n_samples = X.shape[0]
        if n_samples <= PREDICT_BLOCK:
            return self._logits_block(coefs, intercepts, X, layer, None)
        last = len(coefs) - 1 if layer is None else layer
        dtype = coefs[0].dtype
        out = np.empty((n_samples, coefs[last].shape[1]), dtype=dtype)
        buffers = [np.empty((PREDICT_BLOCK, W.shape[1]), dtype=dtype) for W in coefs]
        for start in range(0, n_samples, PREDICT_BLOCK):
            stop = min(start + PREDICT_BLOCK, n_samples)
            block = [buffer[: stop - start] for buffer in buffers]
            out[start:stop] = self._logits_block(
                coefs, intercepts, X[start:stop], layer, block
            )
        return out

    def _logits_block(self, coefs, intercepts, X, layer, buffers):
        """Forward pass of one block, into ``buffers`` (one per layer) if given."""
        a = X
        n_layers = len(coefs)
        ones = np.ones(X.shape[0], dtype=coefs[0].dtype) if X.shape[0] > 1 else None
        for i, (W_i, b_i) in enumerate(zip(coefs, intercepts)):
            if buffers is None:
                z = np.empty((X.shape[0], W_i.shape[1]), dtype=W_i.dtype)
            else:
                z = buffers[i]
            _matmul(a, W_i, z)
            _add_bias(z, b_i, ones)
            if i == n_layers - 1:
                return z
            a = self._hidden[i].forward(z, z)
            if i == layer:
                return a
        return a

    def _forward(self, W, b, X, ws, dropout_masks=None):
        """Forward pass into the workspace; returns the logits ``ws.z[-1]``.

        With ``dropout_masks`` (one array of 0 or ``1 / (1 - p)`` per hidden
        layer: inverted dropout), each hidden activation is multiplied by its
        mask. The derivative must then be taken before masking, so it is computed
        here, times the mask (``d(m * f(z))/dz = m * f'(z)``), into the
        pre-activation buffer, which the backward pass reads instead.
        """
        a = X
        for i in range(self.layout.n_layers):
            z = _matmul(a, W[i], ws.z[i])
            _add_bias(z, b[i], ws.ones)
            if i < self.layout.n_layers - 1:
                a = self._hidden[i].forward(z, ws.a[i])
                if dropout_masks is not None:
                    slope = self._hidden[i].derivative(z, a, z)
                    slope *= dropout_masks[i]
                    a *= dropout_masks[i]
        return ws.z[-1]

    def loss_and_grad(
        self, theta, X, Y, sample_weight, alpha, grad, dropout_masks=None
    ):
        """Loss and its gradient with respect to every parameter.

        The loss is the weighted mean over samples of the per-sample loss, plus
        ``alpha / 2 * ||W||^2 / sum(sample_weight)`` on the weights only.

        Parameters
        ----------
        theta : ndarray of shape (layout.size,)
            Flat parameters.
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Y : ndarray of shape (n_samples, n_outputs)
            0/1 targets, bool or in the dtype of ``theta``.
        sample_weight : ndarray of shape (n_samples,) or None
            Must not sum to zero.
        alpha : float
            L2 penalty.
        grad : ndarray of shape (layout.size,)
            Written with the gradient.
        dropout_masks : list of ndarray, optional
            One ``(n_samples, n_units)`` array per hidden layer with entries 0
            (dropped) or ``1 / (1 - p)`` (kept), see ``dropout_masks``. Fixed
            masks make the loss a deterministic function of ``theta``, which is
            what the gradient checks use.

        Returns
        -------
        loss : float
        """
        n_samples = X.shape[0]
        if n_samples == 1 and isinstance(X, np.ndarray) and dropout_masks is None:
            weight = 1.0 if sample_weight is None else float(sample_weight[0])
            return self.loss_and_grad_one(theta, X[0], Y[0], weight, alpha, grad)
        ws = self._workspace(n_samples, theta.dtype)
        W, b = self.layout.views(theta)
        gW, gb = self.layout.views(grad)
        logits = self._forward(W, b, X, ws, dropout_masks)

        # The output delta overwrites the last activation buffer (unused so far).
        delta = ws.a[-1]
        loss, weight_sum = _weighted_mean(
            self._loss_fn(logits, Y, delta), sample_weight
        )
        if sample_weight is None:
            delta *= 1.0 / weight_sum
        else:
            # (n_samples, 1) so each row of delta is scaled by its own weight.
            delta *= (sample_weight / weight_sum)[:, None]

        for i in range(self.layout.n_layers - 1, -1, -1):
            a_in = X if i == 0 else ws.a[i - 1]
            _weight_gradient(a_in, delta, gW[i])
            # Column sums as a matrix-vector product: faster than add.reduce.
            np.matmul(ws.ones, delta, out=gb[i])
            if i > 0:
                if dropout_masks is None:
                    # f'(z[i-1]) goes into the z buffer, no longer needed.
                    slope = self._hidden[i - 1].derivative(
                        ws.z[i - 1], ws.a[i - 1], ws.z[i - 1]
                    )
                else:  # mask * f'(z[i-1]), computed by the forward pass
                    slope = ws.z[i - 1]
                delta_in = np.matmul(delta, W[i].T, out=ws.a[i - 1])
                delta_in *= slope
                delta = delta_in

        if alpha:
            _add_l2_gradient(theta, grad, self.layout, alpha / weight_sum)
            weights = theta[: self.layout.n_weights]
            loss += 0.5 * alpha * float(weights @ weights) / weight_sum
        return loss

    def dropout_masks(self, rates, n_rows, dtype, rng):
        """Draw inverted-dropout masks for one batch.

        Parameters
        ----------
        rates : sequence of float
            Drop probability ``p`` of each hidden layer, in [0, 1).
        n_rows : int
        dtype : numpy dtype
        rng : numpy.random.RandomState

        Returns
        -------
        list of ndarray
            Per hidden layer, ``(n_rows, n_units)`` entries equal to 0 with
            probability ``p`` and ``1 / (1 - p)`` otherwise, so that activations
            keep their expected value and prediction needs no rescaling.
        """
        masks = []
        for rate, n_units in zip(rates, self.layout.layer_sizes[1:-1]):
            keep = rng.random_sample((n_rows, n_units)) >= rate
            masks.append(keep.astype(dtype) * (1.0 / (1.0 - rate)))
        return masks

    def data_loss(self, logits, Y, sample_weight=None):
        """Weighted mean per-sample loss of given logits (no L2 term).

        Parameters
        ----------
        logits : ndarray of shape (n_samples, n_outputs)
        Y : ndarray of shape (n_samples, n_outputs)
        sample_weight : ndarray of shape (n_samples,), optional

        Returns
        -------
        float
        """
        per_sample = self._loss_fn(logits, Y, np.empty_like(logits))
        return _weighted_mean(per_sample, sample_weight)[0]

    def loss_and_grad_one(self, theta, x, y, weight, alpha, grad):
        """``loss_and_grad`` for one sample, on 1-D vectors: online backprop.

        The maths is the batch version's with the sample axis dropped, so weight
        gradients are outer products and delta propagation is a matrix-vector
        product. A single sample's weight cancels in the weighted mean; it only
        scales the L2 term. Skipping the batch axis removes most per-step overhead
        when ``batch_size=1``.
        """
        ws = self._workspace(0, theta.dtype)  # 0 rows: the 1-D buffers
        W, b = self.layout.views(theta)
        gW, gb = self.layout.views(grad)
        logits = self._forward(W, b, x, ws)  # the batch forward works on 1-D too
        delta = ws.a[-1]
        loss = float(self._loss_fn(logits, y, delta))
        last = self.layout.n_layers - 1
        penalty = alpha / weight
        ger = blas("ger", theta.dtype)
        for i in range(last, -1, -1):
            a_in = x if i == 0 else ws.a[i - 1]
            if penalty:
                # penalty * W, then BLAS adds outer(a_in, delta) in place (W.T is
                # the Fortran-ordered view it updates).
                np.multiply(W[i], penalty, out=gW[i])
                ger(1.0, delta, a_in, a=gW[i].T, overwrite_a=True)
            else:
                np.multiply.outer(a_in, delta, out=gW[i])
            np.copyto(gb[i], delta)
            if i > 0:
                slope = self._hidden[i - 1].derivative(
                    ws.z[i - 1], ws.a[i - 1], ws.z[i - 1]
                )
                delta = np.matmul(W[i], delta, out=ws.a[i - 1])
                delta *= slope
        if alpha:
            weights = theta[: self.layout.n_weights]
            loss += 0.5 * alpha * float(weights @ weights) / weight
        return loss

    def online_sgd_step(self, theta, alpha, learning_rate):
        """Build the fused online SGD step ``step(x, y, weight) -> loss``.

        The classic write-up's update, generalised: forward, deltas propagated
        back through the old weights, then ``W <- W - lr * outer(a_in, delta)``
        applied in place by one rank-1 BLAS call (``ger``) per layer. No gradient
        vector is formed. Everything that does not change between samples
        (views, buffers, functions) is looked up once here, because on small
        networks that bookkeeping costs as much as the arithmetic.

        Parameters
        ----------
        theta : ndarray of shape (layout.size,)
            Parameters, updated in place by each call of the step.
        alpha : float
            L2 penalty.
        learning_rate : float

        Returns
        -------
        step : callable
            ``step(x, y, weight)`` with 1-D ``x`` and ``y`` and a positive
            ``weight``; returns the loss before the update.
        """
        layout = self.layout
        ws = self._workspace(0, theta.dtype)
        W, _ = layout.views(theta)
        W_T = [W_i.T for W_i in W]  # Fortran-ordered views, the layout BLAS updates
        weights = theta[: layout.n_weights]
        biases = theta[layout.n_weights :]
        # All deltas in one vector laid out like the biases, so that every bias is
        # updated by one vector operation: b <- b - lr * delta.
        delta_flat = np.empty(biases.shape, dtype=theta.dtype)
        deltas = [
            delta_flat[s.start - layout.n_weights : s.stop - layout.n_weights]
            for s in layout.bias_slices
        ]
        b = [theta[s] for s in layout.bias_slices]
        z, a = ws.z, ws.a
        hidden = self._hidden
        loss_fn = self._loss_fn
        ger = blas("ger", theta.dtype)
        last = layout.n_layers - 1
        lr = float(learning_rate)
        alpha = float(alpha)

        def step(x, y, weight):
            a_in = x
            for i in range(last):
                np.matmul(a_in, W[i], out=z[i])
                z[i] += b[i]
                a_in = hidden[i].forward(z[i], a[i])
            np.matmul(a_in, W[last], out=z[last])
            z[last] += b[last]
            loss = float(loss_fn(z[last], y, deltas[last]))
            for i in range(last, 0, -1):
                # Through the old W[i]: the updates below come after all deltas.
                slope = hidden[i - 1].derivative(z[i - 1], a[i - 1], z[i - 1])
                np.matmul(W[i], deltas[i], out=deltas[i - 1])
                deltas[i - 1] *= slope
            if alpha:
                loss += 0.5 * alpha * float(weights @ weights) / weight
                # The L2 gradient (alpha / weight) * W is taken at the old
                # weights: W <- (1 - lr * alpha / weight) * W - lr * outer(...).
                np.multiply(weights, 1.0 - lr * alpha / weight, out=weights)
            for i in range(last + 1):
                # W.T += -lr * outer(delta, a_in), i.e. W -= lr * outer(a_in, delta)
                ger(
                    -lr,
                    deltas[i],
                    x if i == 0 else a[i - 1],
                    a=W_T[i],
                    overwrite_a=True,
                )
            np.subtract(biases, lr * delta_flat, out=biases)
            return loss

        return step
