"""The network: parameter layout on one flat buffer, THE forward pass and backprop.

Every parameter lives in one contiguous 1-D array ``theta``: all weight matrices in
layer order, then all biases (scikit-learn's L-BFGS packing order). ``Layout``
hands out reshaped *views* into it, so optimisers work on one array, the L2
penalty covers exactly the weight prefix, and L-BFGS needs no copies.

``Network.loss_and_grad`` is the single function that SGD, Adam, L-BFGS and the
gradient tests all call; ``Network.logits`` runs the same forward pass for
prediction. Notation (the same everywhere in skbp, and in the user guide):

* ``W[i]`` of shape ``(n_in, n_out)`` and ``b[i]`` of shape ``(n_out,)``;
* ``Network._forward``: ``a[0] = X``, ``z[i] = a[i] @ W[i] + b[i]`` and
  ``a[i + 1] = f_i(z[i])`` for hidden layers; the last ``z`` are the logits;
* ``Network.loss_and_grad``: the output delta ``delta[L - 1] = dL/dz[L - 1]`` of
  the (loss, output) pair (``skbp._core.losses``), weighted per sample;
* ``Network._backward``: ``delta[i - 1] = (delta[i] @ W[i].T) * f'(z[i - 1])``,
  ``dL/dW[i] = a[i].T @ delta[i]`` and ``dL/db[i] =`` column sums of ``delta[i]``.

Those three read like the formulas and are written once, for every array
library: each step calls the namespace's ``ops`` (``skbp._core.namespace``), the
activations and the loss, and the four small steps below (``Steps``: the affine
map, the weight gradient, the column sums, the L2 gradient). For NumPy they
compute in place into preallocated work buffers (``_Workspace``), and three of
the four steps take the measured BLAS specialisations of
``skbp._core.fastpaths`` (``NumpySteps``), each tested equal to ``Steps``. The
single-sample online SGD step for ``batch_size=1`` lives in that module too.

This module must not import scikit-learn, the trainer (``training``) or any
estimator module; it imports only NumPy and the core's namespace, activations,
losses and fast paths.
"""

from contextlib import nullcontext

import numpy as np

from skbp._core import fastpaths
from skbp._core.activations import ACTIVATIONS
from skbp._core.losses import OUTPUT_LOSSES
from skbp._core.namespace import NUMPY, NUMPY_OPS, into
from skbp._core.threads import prediction_threads

#: Rows per block when predicting on many samples (see ``Network.logits``).
PREDICT_BLOCK = 2048


class Layout:
    """Offsets and shapes of every weight matrix and bias vector in ``theta``.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_features, *hidden_layer_sizes, n_outputs)``.
    xp : module, optional
        The array API namespace of the flat vectors, when they are not NumPy's
        (its ``reshape`` and ``concat`` make the views and the packed vector).
    """

    def __init__(self, layer_sizes, xp=None):
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.xp = xp
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

    @property
    def host(self):
        """This layout for NumPy vectors (itself, when it is NumPy's)."""
        return self if self.xp is None else Layout(self.layer_sizes)

    def views(self, theta):
        """Return lists ``(W, b)`` of views into ``theta``.

        The views of the last few buffers are cached: a trainer asks for the views
        of the same ``theta`` and ``grad`` thousands of times, and building them
        costs more than a whole online step's arithmetic on small networks.
        """
        cached = self._view_cache.get(id(theta))
        if cached is not None and cached[0] is theta:
            return cached[1], cached[2]
        if self.xp is None:
            W = [
                theta[s].reshape(shape)
                for s, shape in zip(self.weight_slices, self.weight_shapes)
            ]
        else:  # the standard's arrays have no reshape method
            W = [
                self.xp.reshape(theta[s], shape)
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
        """Copy lists of weight matrices and bias vectors into a new flat vector.

        With an array API namespace they must be arrays of it, on one device.
        """
        xp = self.xp
        if xp is not None:
            flat = [xp.reshape(c, (-1,)) for c in coefs] + list(intercepts)
            return xp.concat([xp.astype(piece, dtype) for piece in flat])
        theta = np.empty(self.size, dtype=dtype)
        W, b = self.views(theta)
        for W_i, b_i, coef, intercept in zip(W, b, coefs, intercepts):
            W_i[...] = coef
            b_i[...] = intercept
        return theta


def fold_output_affine(layout, theta, scale, shift):
    """Fold ``z -> z * scale + shift`` into the output layer of ``theta``, in place.

    The output logits of the folded parameters are those of ``theta`` mapped by
    the affine map: ``W[-1] * scale`` and ``b[-1] * scale + shift``, each output
    column by its own ``scale`` and ``shift`` (arrays of shape ``(n_outputs,)``
    that combine with ``theta``'s dtype and library).

    Parameters
    ----------
    layout : Layout
    theta : array of shape (layout.size,)
    scale, shift : array of shape (n_outputs,)
    """
    W, b = layout.views(theta)
    W[-1] *= scale
    b[-1] *= scale
    b[-1] += shift


def unfold_output_affine(layout, theta, scale, shift):
    """Undo ``fold_output_affine`` in place (``scale`` must have no zeros)."""
    W, b = layout.views(theta)
    b[-1] -= shift
    b[-1] /= scale
    W[-1] /= scale


def matmul(ops, a, W, out=None):
    """``a @ W`` for an array of ``ops``'s library, or a SciPy sparse matrix ``a``.

    NumPy writes into ``out`` (C-contiguous) when it is given.
    """
    # isinstance(a, np.ndarray), not scipy.sparse.issparse, which costs a few
    # microseconds: this runs for every layer of every batch.
    if ops is NUMPY_OPS and not isinstance(a, np.ndarray):
        product = a @ W  # sparse times dense: a new ndarray
        return product if out is None else into(out, product)
    return ops.matmul(a, W, out=out)


class Steps:
    """The passes' four small steps in their readable form, for every library.

    Each writes its result into ``out`` (NumPy) or returns a new array (any
    other array API namespace) and returns it, except the three that fill views
    of the caller's flat gradient (``weight_gradient``, ``column_sums``,
    ``add_l2_gradient``), which always fill them. ``ones`` (a 1 per row, or
    None) is for the fast versions; the readable ones ignore it.
    """

    @staticmethod
    def affine(ops, a, W, b, out, ones):
        """``z = a @ W + b``, with ``b`` added to every row."""
        z = matmul(ops, a, W, out)
        return ops.add(z, b, out=z)

    @staticmethod
    def weight_gradient(ops, a, delta, out):
        """``out = a.T @ delta``: the data part of ``dL/dW`` (L2 is added later)."""
        return into(out, matmul(ops, a.T, delta, out))

    @staticmethod
    def column_sums(ops, delta, ones, out):
        """``out = sum over rows of delta``: ``dL/db``."""
        return into(out, ops.sum(delta, axis=0, out=out))

    @staticmethod
    def add_l2_gradient(ops, grad_weights, weights, penalty):
        """``grad_weights += penalty * weights`` on the weight prefix."""
        scaled = ops.multiply(weights, penalty)
        return into(grad_weights, ops.add(grad_weights, scaled, out=grad_weights))


class NumpySteps(Steps):
    """``Steps`` on NumPy, with the measured BLAS specialisations of
    ``skbp._core.fastpaths`` for three of the four (the weight gradient is
    the readable one)."""

    @staticmethod
    def affine(ops, a, W, b, out, ones):
        """``z = a @ W + b``, the bias added by one rank-1 BLAS update."""
        return fastpaths.add_bias_ger(matmul(ops, a, W, out), b, ones)

    column_sums = staticmethod(fastpaths.column_sums_ones)
    add_l2_gradient = staticmethod(fastpaths.add_l2_axpy)


class _Workspace:
    """Preallocated pre-activation and activation buffers for ``n_rows`` samples.

    ``z[i]`` holds ``z[i]``; ``a[i]`` holds the activation ``a[i + 1]`` (``a[0]``
    is the input, which is not copied), so the last entry, shaped like the
    logits, is spare: it receives the output delta. ``n_rows=0`` makes the 1-D
    buffers of the single-sample path (``skbp._core.fastpaths``).
    """

    def __init__(self, layout, n_rows, dtype):
        sizes = layout.layer_sizes[1:]
        shape = (lambda n: (n,)) if n_rows == 0 else (lambda n: (n_rows, n))
        self.n_rows = n_rows
        self.ones = np.ones(n_rows, dtype=dtype)
        self.z = [np.empty(shape(n), dtype=dtype) for n in sizes]
        # The last layer's activation buffer receives the output delta.
        self.a = [np.empty(shape(n), dtype=dtype) for n in sizes]

    @classmethod
    def unbuffered(cls, layout):
        """No buffers (array API namespaces: every step makes its own array)."""
        ws = object.__new__(cls)
        ws.n_rows = ws.ones = None
        ws.z, ws.a = [None] * layout.n_layers, [None] * layout.n_layers
        return ws

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
    namespace : ArrayNamespace, default=NUMPY
        The array library of the parameters and data (``skbp._core.namespace``).
    """

    def __init__(
        self,
        layer_sizes,
        activations,
        output,
        loss,
        loss_params=None,
        namespace=NUMPY,
    ):
        self.namespace = namespace
        self.ops = namespace.ops
        xp = None if namespace.is_numpy else namespace.xp
        self.layout = Layout(layer_sizes, xp=xp)
        if len(activations) != self.layout.n_layers - 1:
            raise ValueError(
                f"Need one activation per hidden layer: got {len(activations)} for "
                f"{self.layout.n_layers - 1} hidden layers."
            )
        self.activations = tuple(activations)
        self.output = output
        self.loss_name = loss
        self.loss_params = dict(loss_params or {})
        self._hidden = [ACTIVATIONS[name] for name in self.activations]
        if namespace.is_numpy:
            self._steps = NumpySteps
            self._loss = fastpaths.numpy_loss(loss, output)
        else:
            self._steps = Steps
            self._loss = OUTPUT_LOSSES[(loss, output)]
        self._workspaces = {}

    def __deepcopy__(self, memo):
        # A new network of the same description: the array API building
        # blocks hold their namespace, a module, which cannot be copied; the
        # work buffers are a cache.
        return Network(
            self.layout.layer_sizes,
            self.activations,
            self.output,
            self.loss_name,
            dict(self.loss_params),
            namespace=self.namespace,
        )

    def loss_and_delta(self, logits, Y, out=None):
        """``(per-sample loss, dL/dz)`` of the (loss, output) pair.

        NumPy writes the delta into ``out`` (which may be ``logits``).
        """
        return self._loss(self.ops, logits, Y, out, **self.loss_params)

    def _workspace(self, n_rows, dtype):
        if not self.namespace.is_numpy:
            return _Workspace.unbuffered(self.layout)
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

    def logits(self, coefs, intercepts, X, layer=None):
        """Forward pass for prediction: the logits, or one hidden activation.

        The same ``_forward`` as training, with each activation computed in place
        over its pre-activation (nothing is kept for a backward pass). Inputs of
        more than ``PREDICT_BLOCK`` rows are processed in blocks through one set
        of reused buffers: a block's activations stay in cache and peak memory
        does not grow with the number of rows.

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
        ndarray of shape (n_samples, n_outputs) or (n_samples, n_units)
        """
        if not self.namespace.is_numpy:
            # One pass, no blocks: the arrays of each step are new anyway, and a
            # GPU wants large batches.
            n = len(coefs) if layer is None else layer + 1
            a, z = [X, *([None] * n)], [None] * n
            return self._forward(coefs, intercepts, a, z, None, layer)
        n_samples = X.shape[0]
        n_rows = min(n_samples, PREDICT_BLOCK)
        dtype = coefs[0].dtype
        # One (n_rows, n_out) buffer per layer up to the one returned. (A plain
        # loop: on Python 3.11 a list comprehension's own frame costs 3% of a
        # one-row prediction.)
        buffers = []
        for W_i in coefs if layer is None else coefs[: layer + 1]:
            buffers.append(np.empty((n_rows, W_i.shape[1]), dtype=dtype))
        # A 1 per row for the bias addition; a single row needs none (it takes
        # NumPy's addition, see ``_add_bias``), and allocating it would add 0.8 us
        # to the 7 us of a one-row forward pass (64-100-10).
        ones = np.ones(n_rows, dtype=dtype) if n_samples > 1 else None
        # OpenBLAS kernels can leave a spurious FE_INVALID flag on finite input
        # (numpy#24067, OpenBLAS#1924), which NumPy reports as "invalid value
        # encountered in matmul": seen once in CI, on zeros times finite weights.
        # A real overflow still warns (training runs under its own errstate).
        # More than a row: SciPy's BLAS adds the biases, its pool kept at one
        # thread while NumPy's runs the products (skbp._core.threads).
        pinning = (
            nullcontext()
            if ones is None
            else prediction_threads(n_rows, max(W_i.shape[1] for W_i in coefs))
        )
        with np.errstate(invalid="ignore"), pinning:
            if n_samples == n_rows:  # one block: the result is its buffer
                return self._forward(
                    coefs, intercepts, [X, *buffers], buffers, ones, layer
                )
            out = np.empty((n_samples, buffers[-1].shape[1]), dtype=dtype)
            for start in range(0, n_samples, PREDICT_BLOCK):
                stop = min(start + PREDICT_BLOCK, n_samples)
                # Leading rows of the buffers: C-contiguous, as out= and ger need.
                z = [buffer[: stop - start] for buffer in buffers]
                a = [X[start:stop], *z]  # a[i + 1] is z[i]: activations in place
                out[start:stop] = self._forward(
                    coefs, intercepts, a, z, ones[: stop - start], layer
                )
        return out

    def _forward(self, W, b, a, z, ones, layer=None, dropout_masks=None):
        """THE forward pass: ``z[i] = a[i] @ W[i] + b[i]``, ``a[i + 1] = f(z[i])``.

        Training, prediction and the online path all run this loop; they differ
        only in the buffers they pass. Every 2-D array below may also be 1-D (one
        sample without the batch axis), as ``skbp._core.fastpaths`` passes them.

        Parameters
        ----------
        W, b : list of ndarray
            Weight matrices ``(n_in, n_out)`` and bias vectors ``(n_out,)``.
        a : list of ndarray
            ``a[0]`` is the input ``(n_rows, n_features)``, dense or sparse;
            ``a[i]`` for ``i >= 1`` receives hidden activation ``a[i]`` of shape
            ``(n_rows, layer_sizes[i])``. Entries past the last hidden layer are
            not touched.
        z : list of ndarray
            ``z[i]`` of shape ``(n_rows, layer_sizes[i + 1])`` receives the
            pre-activation ``z[i]``. Passing ``a[i + 1] is z[i]`` computes each
            activation in place (prediction); training keeps them apart because
            the backward pass needs both.
        ones : ndarray of shape (n_rows,) or None
            A 1 per row, for the bias addition (see ``_add_bias``).
        layer : int, optional
            Stop at hidden layer ``layer`` (0-based) and return ``a[layer + 1]``.
        dropout_masks : list of ndarray, optional
            One ``(n_rows, n_units)`` mask per hidden layer (0 or ``1 / (1 - p)``,
            inverted dropout) multiplied into each hidden activation.

        Returns
        -------
        ndarray of shape (n_rows, n_outputs)
            The logits ``z[L - 1]`` (the buffer ``z[-1]``), or ``a[layer + 1]``.

        Notes
        -----
        Each step stores its result in ``z`` / ``a``: NumPy's steps return the
        buffer they were given, the array API ones a new array (the entries of
        ``z`` and ``a`` may then be None on entry).
        """
        ops, steps, hidden = self.ops, self._steps, self._hidden
        last = len(W) - 1
        for i in range(last):
            z[i] = steps.affine(ops, a[i], W[i], b[i], z[i], ones)  # a[i] @ W[i] + b[i]
            a[i + 1] = hidden[i].forward(ops, z[i], a[i + 1])  # a[i + 1] = f(z[i])
            if dropout_masks is not None:
                # a[i + 1] = m * f(z[i]), so dL/dz[i] needs m * f'(z[i]), which
                # must be taken before masking (sigmoid's and tanh's derivatives
                # are read from f(z)). It goes into z[i], which the backward pass
                # then reads in place of f'(z[i]).
                z[i] = hidden[i].derivative(ops, z[i], a[i + 1], z[i])
                z[i] = ops.multiply(z[i], dropout_masks[i], out=z[i])
                a[i + 1] = ops.multiply(a[i + 1], dropout_masks[i], out=a[i + 1])
            if i == layer:
                return a[i + 1]
        z[last] = steps.affine(ops, a[last], W[last], b[last], z[last], ones)
        return z[last]  # the logits

    def loss_and_grad(
        self,
        theta,
        X,
        Y,
        sample_weight,
        alpha,
        grad,
        dropout_masks=None,
        weight_sum=None,
    ):
        """Loss and its gradient with respect to every parameter.

        The loss is the weighted mean over samples of the per-sample loss, plus
        ``alpha / 2 * ||W||^2 / sum(sample_weight)`` on the weights only. This is
        the batch algorithm for any number of rows; the trainer's ``batch_size=1``
        path uses the single-sample variants of ``skbp._core.fastpaths`` instead, which
        the tests prove equal to this function.

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
        weight_sum : float, optional
            ``sum(sample_weight)`` when the caller knows it (the trainer sums
            the batch's weights on the host, which spares a GPU a round trip).

        Returns
        -------
        loss : float
            A 0-d array of the namespace for array API namespaces (``float()``
            it), so that a GPU need not wait for every batch.
        """
        ws = self._workspace(X.shape[0], theta.dtype)
        W, b = self.layout.views(theta)
        gW, gb = self.layout.views(grad)
        # a[0] = X, a[1..L-1] the hidden activations; a[L] (n_samples, n_outputs)
        # is spare and receives the output delta.
        a, z = [X, *ws.a], list(ws.z)
        logits = self._forward(W, b, a, z, ws.ones, dropout_masks=dropout_masks)

        # delta[L-1] = dL/dz[L-1] of the (loss, output) pair, each row times
        # sample_weight / sum(sample_weight): the derivative of the weighted mean.
        ops = self.ops
        per_sample, delta = self.loss_and_delta(logits, Y, a[-1])
        loss, weight_sum = self._weighted_mean(per_sample, sample_weight, weight_sum)
        if sample_weight is None:
            delta = ops.multiply(delta, 1.0 / weight_sum, out=delta)
        else:
            row_factor = (sample_weight / weight_sum)[:, None]  # (n_samples, 1)
            delta = ops.multiply(delta, row_factor, out=delta)

        self._backward(W, a, z, delta, gW, gb, ws.ones, dropout_masks is not None)
        if alpha:
            # dL/dW[i] += (alpha / S) * W[i] and the penalty itself, weights only.
            n = self.layout.n_weights
            weights = theta[:n]
            self._steps.add_l2_gradient(ops, grad[:n], weights, alpha / weight_sum)
            squared_norm = self.namespace.scalar(ops.matmul(weights, weights))
            loss += 0.5 * alpha * squared_norm / weight_sum
        return loss

    def _backward(self, W, a, z, delta, gW, gb, ones, masked=False):
        """THE backprop recurrence, from the output delta down to the input.

        For ``i = L - 1, ..., 0``: ``dL/dW[i] = a[i].T @ delta[i]``, ``dL/db[i] =``
        column sums of ``delta[i]``, then ``delta[i - 1] = (delta[i] @ W[i].T) *
        f'(z[i - 1])``. Each buffer is overwritten once it has been read for the
        last time: ``f'(z[i - 1])`` goes into ``z[i - 1]``, ``delta[i - 1]`` into
        ``a[i]``.

        Parameters
        ----------
        W : list of ndarray
            Weight matrices ``(n_in, n_out)``.
        a, z : list of ndarray
            Activations and pre-activations as the forward pass left them.
        delta : ndarray of shape (n_samples, n_outputs)
            The output delta ``dL/dz[L - 1]``, already weighted.
        gW, gb : list of ndarray
            Views of the gradient, written with the data part of it.
        ones : ndarray of shape (n_samples,)
            A 1 per row: the column sums are ``ones @ delta[i]``.
        masked : bool
            The forward pass ran with dropout masks and left ``m * f'(z)`` in
            ``z``, which replaces ``f'(z)``.
        """
        ops, steps, hidden = self.ops, self._steps, self._hidden
        for i in range(self.layout.n_layers - 1, -1, -1):
            steps.weight_gradient(ops, a[i], delta, gW[i])  # a[i].T @ delta[i]
            steps.column_sums(ops, delta, ones, gb[i])  # sum over rows of delta[i]
            if i > 0:
                if masked:
                    slope = z[i - 1]
                else:
                    slope = hidden[i - 1].derivative(ops, z[i - 1], a[i], z[i - 1])
                delta = matmul(ops, delta, W[i].T, a[i])
                delta = ops.multiply(delta, slope, out=delta)  # delta[i - 1]

    def dropout_masks(self, rates, n_rows, dtype, rng):
        """Draw inverted-dropout masks for one batch.

        Parameters
        ----------
        rates : sequence of float
            Drop probability ``p`` of each hidden layer, in [0, 1).
        n_rows : int
        dtype : dtype
            The parameters' dtype (of the network's namespace).
        rng : numpy.random.RandomState

        Returns
        -------
        list of ndarray
            Per hidden layer, ``(n_rows, n_units)`` entries equal to 0 with
            probability ``p`` and ``1 / (1 - p)`` otherwise, so that activations
            keep their expected value and prediction needs no rescaling. Drawn
            on the host and moved to the device for array API namespaces, so
            that a ``random_state`` drops the same units in every library.
        """
        ns = self.namespace
        host_dtype = ns.host_dtype(dtype)
        masks = []
        for rate, n_units in zip(rates, self.layout.layer_sizes[1:-1]):
            keep = rng.random_sample((n_rows, n_units)) >= rate
            masks.append(ns.to_device(keep.astype(host_dtype) * (1.0 / (1.0 - rate))))
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
        per_sample, _ = self.loss_and_delta(logits, Y)
        return float(self._weighted_mean(per_sample, sample_weight)[0])

    def _weighted_mean(self, per_sample, sample_weight, weight_sum=None):
        """``(weighted mean of per_sample, sum of the weights)``; None means all 1.

        The mean is a Python float for NumPy, a 0-d array elsewhere (see
        ``ArrayNamespace.scalar``); the weight sum is always a float.
        """
        ops = self.ops
        if sample_weight is None:
            weight_sum = float(per_sample.shape[0])
            total = ops.sum(per_sample)
        else:
            if weight_sum is None:
                weight_sum = float(ops.sum(sample_weight))
            total = ops.matmul(per_sample, sample_weight)
        return self.namespace.scalar(total) / weight_sum, weight_sum
