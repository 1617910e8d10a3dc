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

Those three read like the formulas, and they are written once for every array
library. Each step is a call of the network's building blocks (``_NumpyOps`` or
``_ArrayAPIOps``, chosen by the ``ArrayNamespace`` the network is made for) and
of its activations and loss. For NumPy they compute in place into preallocated
work buffers (``_Workspace``), and each step that was measured to be faster in
another form calls a small helper named for what it computes (``_matmul``,
``_add_bias``, ``_weight_gradient``, ``_add_l2_gradient``), with the
measurement next to it. For any other array API namespace they are the
standard's calls, which return new arrays; every step uses its result, so the
same loop serves both. Single-sample variants for ``batch_size=1`` on NumPy (1-D
vectors, the fused online SGD step) live in ``skbp._core.fastpaths``, each tested equal
to ``loss_and_grad``.

This module must not import scikit-learn, ``skbp._core.fastpaths``, the trainer
(``_training``) or any estimator module; it imports only NumPy and the
namespace, activation, loss and BLAS modules.
"""

from functools import partial

import numpy as np

from skbp._core.activations import ACTIVATIONS
from skbp._core.blas import add_scaled, blas
from skbp._core.losses import OUTPUT_LOSSES, OUTPUT_LOSSES_XP
from skbp._core.namespace import NUMPY

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


def _weighted_mean(per_sample, sample_weight, weight_sum=None):
    """``(weighted mean of per_sample, sum of the weights)``; None means all 1."""
    if sample_weight is None:
        weight_sum = float(per_sample.shape[0])
        return float(per_sample.sum()) / weight_sum, weight_sum
    if weight_sum is None:
        weight_sum = float(sample_weight.sum())
    return float(per_sample @ sample_weight) / weight_sum, weight_sum


class _NumpyOps:
    """The passes' building blocks for NumPy: in place, into the given buffers.

    Each writes its result into ``out`` (or into its first argument) and returns
    it; the BLAS helpers above are used where they were measured faster.
    """

    matmul = staticmethod(_matmul)  # out = a @ W
    add_bias = staticmethod(_add_bias)  # z += b on every row
    weight_gradient = staticmethod(_weight_gradient)  # out = a.T @ delta

    @staticmethod
    def column_sums(delta, ones, out):
        """``out = ones @ delta``: faster than add.reduce on a batch."""
        return np.matmul(ones, delta, out=out)

    @staticmethod
    def add_l2_gradient(theta, grad, layout, penalty):
        """``grad[:n] += penalty * theta[:n]`` on the weight prefix (BLAS axpy)."""
        _add_l2_gradient(theta, grad, layout, penalty)

    @staticmethod
    def squared_norm(w):
        """``w @ w`` as a float."""
        return float(w @ w)

    weighted_mean = staticmethod(_weighted_mean)


class _ArrayAPIOps:
    """The passes' building blocks for any array API namespace ``xp``.

    The standard has no ``out=``: each returns a new array, except the two that
    fill the views of the caller's flat gradient (``weight_gradient``,
    ``column_sums``), which assign into them. The loss and penalty stay 0-d
    arrays on the device, so that a GPU is not made to wait for each batch.
    """

    def __init__(self, xp):
        self.xp = xp

    def matmul(self, a, W, out):
        return self.xp.matmul(a, W)

    def add_bias(self, z, b, ones):
        z += b  # z is the new array of matmul
        return z

    def weight_gradient(self, a, delta, out):
        out[...] = self.xp.matmul(a.T, delta)
        return out

    def column_sums(self, delta, ones, out):
        out[...] = self.xp.sum(delta, axis=0)
        return out

    def add_l2_gradient(self, theta, grad, layout, penalty):
        n = layout.n_weights
        weight_grad = grad[:n]
        weight_grad += penalty * theta[:n]

    def squared_norm(self, w):
        # Not vecdot: array-api-compat's PyTorch vecdot took 160 us on S3's
        # 94k weights, the product and sum 30 us.
        return self.xp.sum(w * w)

    def weighted_mean(self, per_sample, sample_weight, weight_sum=None):
        xp = self.xp
        if sample_weight is None:
            weight_sum = float(per_sample.shape[0])
            return xp.sum(per_sample) / weight_sum, weight_sum
        if weight_sum is None:
            weight_sum = float(xp.sum(sample_weight))
        return xp.vecdot(per_sample, sample_weight) / weight_sum, weight_sum


class _ArrayAPIActivation:
    """An activation with NumPy's signatures, computed by its array API versions.

    ``out`` is ignored: the result is a new array.
    """

    def __init__(self, activation, xp):
        self._forward_xp = activation.forward_xp
        self._derivative_xp = activation.derivative_xp
        self._xp = xp

    def forward(self, z, out):
        return self._forward_xp(self._xp, z)

    def derivative(self, z, a, out):
        return self._derivative_xp(self._xp, z, a)


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
        xp = namespace.xp
        self.layout = Layout(layer_sizes, xp=None if namespace.is_numpy else xp)
        if len(activations) != self.layout.n_layers - 1:
            raise ValueError(
                f"Need one activation per hidden layer: got {len(activations)} for "
                f"{self.layout.n_layers - 1} hidden layers."
            )
        self.activations = tuple(activations)
        self.output = output
        self.loss_name = loss
        self.loss_params = dict(loss_params or {})
        if namespace.is_numpy:
            self._ops = _NumpyOps
            self._hidden = [ACTIVATIONS[name] for name in self.activations]
            self._loss_fn = OUTPUT_LOSSES[(loss, output)]
        else:
            self._ops = _ArrayAPIOps(xp)
            self._hidden = [
                _ArrayAPIActivation(ACTIVATIONS[name], xp) for name in self.activations
            ]
            self._loss_fn = partial(OUTPUT_LOSSES_XP[(loss, output)], xp)
        if self.loss_params:
            self._loss_fn = partial(self._loss_fn, **self.loss_params)
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

    def _loss_and_delta(self, logits, Y, delta):
        """``(per-sample loss, dL/dz)``; NumPy writes the delta into ``delta``."""
        if self.namespace.is_numpy:
            return self._loss_fn(logits, Y, delta), delta
        return self._loss_fn(logits, Y)

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

    def __getstate__(self):
        # Work buffers are a cache: pickling them would only bloat saved models.
        state = self.__dict__.copy()
        state["_workspaces"] = {}
        return state

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
        with np.errstate(invalid="ignore"):
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
        ops, hidden = self._ops, self._hidden
        last = len(W) - 1
        for i in range(last):
            z[i] = ops.matmul(a[i], W[i], z[i])  # z[i] = a[i] @ W[i] + b[i]
            z[i] = ops.add_bias(z[i], b[i], ones)
            a[i + 1] = hidden[i].forward(z[i], a[i + 1])  # a[i + 1] = f(z[i])
            if dropout_masks is not None:
                # a[i + 1] = m * f(z[i]), so dL/dz[i] needs m * f'(z[i]), which
                # must be taken before masking (sigmoid's and tanh's derivatives
                # are read from f(z)). It goes into z[i], which the backward pass
                # then reads in place of f'(z[i]).
                z[i] = hidden[i].derivative(z[i], a[i + 1], z[i])
                z[i] *= dropout_masks[i]
                a[i + 1] *= dropout_masks[i]
            if i == layer:
                return a[i + 1]
        z[last] = ops.matmul(a[last], W[last], z[last])  # the logits
        return ops.add_bias(z[last], b[last], ones)

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
        per_sample, delta = self._loss_and_delta(logits, Y, a[-1])
        loss, weight_sum = self._ops.weighted_mean(
            per_sample, sample_weight, weight_sum
        )
        if sample_weight is None:
            delta *= 1.0 / weight_sum
        else:
            delta *= (sample_weight / weight_sum)[:, None]  # (n_samples, 1)

        self._backward(W, a, z, delta, gW, gb, ws.ones, dropout_masks is not None)
        if alpha:
            # dL/dW[i] += (alpha / S) * W[i] and the penalty itself, weights only.
            self._ops.add_l2_gradient(theta, grad, self.layout, alpha / weight_sum)
            weights = theta[: self.layout.n_weights]
            loss += 0.5 * alpha * self._ops.squared_norm(weights) / weight_sum
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
        ops, hidden = self._ops, self._hidden
        for i in range(self.layout.n_layers - 1, -1, -1):
            ops.weight_gradient(a[i], delta, gW[i])  # a[i].T @ delta[i]
            ops.column_sums(delta, ones, gb[i])  # sum over rows of delta[i]
            if i > 0:
                if masked:
                    slope = z[i - 1]
                else:
                    slope = hidden[i - 1].derivative(z[i - 1], a[i], z[i - 1])
                delta = ops.matmul(delta, W[i].T, a[i])
                delta *= slope  # delta[i - 1]

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
        if self.namespace.is_numpy:
            per_sample = self._loss_fn(logits, Y, np.empty_like(logits))
        else:
            per_sample = self._loss_fn(logits, Y)[0]
        return float(self._ops.weighted_mean(per_sample, sample_weight)[0])
