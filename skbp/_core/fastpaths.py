"""Measured NumPy specialisations of the readable core, each tested equal to it.

``skbp._core.network`` and ``skbp._core.losses`` hold the algorithm, written once
for every array library. On NumPy, a few of its steps have a faster form; only
those live here, each with the measurement that earns its place (1 BLAS thread,
NumPy 2.4, OpenBLAS 0.3 on AVX-512, ``timeit`` minimum of 5 repeats), and each
held against the readable version by ``tests/test_fastpaths.py``:

========================  =====================================  ==================
specialisation            readable form                          measured
========================  =====================================  ==================
``add_bias_ger``          ``z += b``                             bias add (256, 256)
                                                                 float64 28.8 ->
                                                                 12.6 us, float32
                                                                 13.2 -> 6.7 us
``column_sums_ones``      ``sum(delta, axis=0)``                 (256, 256) float64
                                                                 18.3 -> 9.8 us;
                                                                 (200, 100) 10.2 ->
                                                                 3.5 us
``add_l2_axpy``           ``g += penalty * W``                   94k weights float64
                                                                 73.7 -> 23.5 us,
                                                                 float32 22.4 ->
                                                                 10.6 us
``softmax_log_loss``      ``losses.softmax_log_loss``            (256, 10) float64
                                                                 55.1 -> 30.2 us,
                                                                 float32 55.5 ->
                                                                 22.5 us
``_softmax_log_loss_one`` the same on one sample's 10 logits     16.0 -> 2.0 us
                                                                 (Haswell; 3.8 us
                                                                 with NumPy's
                                                                 reductions)
``_logistic_squared_``     ``losses.logistic_squared_error`` on   12.9 -> 6.2 us; the
``error_one``             one sample's 10 logits                 seed's online step
                                                                 (sigmoid, squared
                                                                 error) 25 -> 15 us
``online_sgd_step``       ``Network.loss_and_grad`` on a 1-row   the classic online
                          batch, then ``theta -= lr * grad``     83 -> 17 us a
                                                                 sample (Haswell);
                                                                 28.5 us before its
                                                                 vector calls went
                                                                 to SciPy's BLAS
========================  =====================================  ==================

Other specialisations were measured and dropped: ReLU's float32 loop against a
zeros array (17.0 us against 17.0 us for the scalar form on NumPy 2.4), and the
single-sample gradient for momentum and Adam (rarely used with
``batch_size=1``; those take the batch path on one-row batches).

This module must not import scikit-learn or any skbp module but the core's
namespace, BLAS helpers, activations and losses.
"""

import math

import numpy as np

from skbp._core.activations import ACTIVATIONS
from skbp._core.blas import add_scaled, blas
from skbp._core.losses import OUTPUT_LOSSES
from skbp._core.namespace import NUMPY_OPS

#: Hidden activations whose forward function is one NumPy ufunc call.
_FORWARD_UFUNCS = {
    ACTIVATIONS["sigmoid"].forward: NUMPY_OPS.expit,
    ACTIVATIONS["tanh"].forward: np.tanh,
}


def add_bias_ger(z, b, ones):
    """``z += b`` on every row of ``z``, as one rank-1 BLAS update.

    On a C-contiguous batch, ``z += ones b^T`` is one BLAS ``ger`` call on
    ``z.T`` (the Fortran-ordered view that ``ger`` updates in place), twice as
    fast as NumPy's broadcast addition, which runs one short inner loop per row.
    The sums are the same (``ger`` adds ``1 * b``). A single row (``ones`` is
    None) is one inner loop anyway, and NumPy's call is cheaper there.
    """
    if ones is not None and z.ndim == 2 and z.shape[0] > 1 and z.flags.c_contiguous:
        blas("ger", z.dtype)(1.0, b, ones, a=z.T, overwrite_a=True)
    else:
        z += b
    return z


def column_sums_ones(ops, delta, ones, out):
    """``out = ones @ delta``: the column sums as a BLAS matrix-vector product.

    NumPy reduces along the rows of a C-ordered array one row at a time; the
    product with a ones vector is 2-3x faster on a batch.
    """
    return np.matmul(ones, delta, out=out)


def add_l2_axpy(ops, grad_weights, weights, penalty):
    """``grad_weights += penalty * weights`` in one pass, by BLAS ``axpy``.

    NumPy needs two passes (the product into a temporary, then the sum), and
    over a network's worth of parameters each pass is bound by memory traffic.
    BLAS may round ``a * x + y`` once (a fused multiply-add): equal to within a
    rounding.
    """
    add_scaled(grad_weights, penalty, weights)
    return grad_weights


def softmax_log_loss(ops, z, Y, out=None):
    """``losses.softmax_log_loss`` with NumPy's fast reductions.

    NumPy reduces along a short last axis (the few output columns) one row at a
    time, several times slower than these equivalents: row sums as a product
    with a ones column, and the row maximum as a column-wise maximum of the
    transposed copy (an elementwise maximum of a few long rows). 1-D logits (one
    sample) take ``_softmax_log_loss_one``.
    """
    if z.ndim == 1:
        return _softmax_log_loss_one(z, Y, out)
    delta = np.empty_like(z) if out is None else out
    # Y.z is read before delta, which may alias z, is written.
    ones = np.ones((z.shape[-1], 1), dtype=delta.dtype)
    target_logit = np.matmul(Y * z, ones)[:, 0]
    z_max = np.ascontiguousarray(z.T).max(axis=0)[:, None]  # (n_samples, 1)
    np.subtract(z, z_max, out=delta)
    np.exp(delta, out=delta)
    total = np.matmul(delta, ones)
    delta /= total  # softmax(z)
    np.log(total, out=total)
    total += z_max
    loss = total[..., 0] - target_logit
    delta -= Y
    return loss, delta


def _softmax_log_loss_one(z, y, out=None):
    """``losses.softmax_log_loss`` for one sample's 1-D logits, scalar reductions.

    Same formulas; on ten logits the cost is the calls, not the arithmetic, so
    the reductions and updates are SciPy's BLAS level-1 calls, which take 0.2
    us where NumPy's take 0.4-1.2 (``dot`` for the target logit, ``asum`` for
    the sum of the exponentials, which are not negative, ``scal`` and ``axpy``
    for the softmax and ``- y``). The row maximum is subtracted only when it
    must be: ``exp(z)`` is used as it is unless its sum overflows or
    underflows, which saves two array calls and changes the result only by
    rounding.
    """
    dot, asum, scal, axpy = _level1(z.dtype)
    delta = np.empty_like(z) if out is None else out
    n = z.shape[0]
    target_logit = float(dot(y, z))
    if delta is not z:  # z must survive the attempt for the fallback below
        np.exp(z, out=delta)
        total = float(asum(delta))
        if 0.0 < total < math.inf:
            scal(1.0 / total, delta)
            axpy(y, delta, n, -1.0)
            return math.log(total) - target_logit, delta
    z_max = float(np.maximum.reduce(z))
    np.subtract(z, z_max, out=delta)
    np.exp(delta, out=delta)
    total = float(asum(delta))
    scal(1.0 / total, delta)
    axpy(y, delta, n, -1.0)
    return math.log(total) + z_max - target_logit, delta


def _logistic_squared_error_one(z, y, out=None):
    """``losses.logistic_squared_error`` for one sample's 1-D logits.

    The classic write-up's loss (half the squared error of sigmoid outputs)
    with the reduction as one BLAS ``dot``: the readable version's sum along
    the last axis took half of a classic online step (10 of 20 us).
    """
    dot = _level1(z.dtype)[0]
    a = NUMPY_OPS.expit(z)
    error = np.subtract(a, y)
    delta = np.subtract(1.0, a, out=out)
    delta *= a
    delta *= error  # (a - y) * a * (1 - a)
    return 0.5 * float(dot(error, error)), delta


_LEVEL1 = {}


def _level1(dtype):
    """SciPy's ``dot``, ``asum``, ``scal`` and ``axpy`` for ``dtype``."""
    routines = _LEVEL1.get(dtype)
    if routines is None:
        routines = _LEVEL1[dtype] = tuple(
            blas(name, dtype) for name in ("dot", "asum", "scal", "axpy")
        )
    return routines


#: (loss, output) -> the 1-D (one sample) specialisation of the online step.
_ONE_ROW_LOSSES = {
    ("log_loss", "softmax"): _softmax_log_loss_one,
    ("squared_error", "logistic"): _logistic_squared_error_one,
}

#: (loss, output) -> NumPy specialisation of ``losses.OUTPUT_LOSSES``.
NUMPY_LOSSES = {("log_loss", "softmax"): softmax_log_loss}


def numpy_loss(loss, output):
    """The loss-and-delta function of a pair on NumPy: fast where measured."""
    return NUMPY_LOSSES.get((loss, output), OUTPUT_LOSSES[(loss, output)])


def _numpy_forward(activation):
    """``f(z, out)`` of a hidden activation: its NumPy ufunc where it is one
    (sigmoid, tanh), which saves the two Python calls of ``forward(ops, ...)``
    in a step of a few microseconds."""
    ufunc = _FORWARD_UFUNCS.get(activation.forward)
    if ufunc is not None:
        return ufunc
    return lambda z, out: activation.forward(NUMPY_OPS, z, out)


class _OnlineLayers:
    """What each layer of the fused online step reads and writes: views of
    ``theta`` and 1-D buffers, laid out once per fit (see ``online_sgd_step``).
    """

    def __init__(self, net, theta):
        layout, dtype = net.layout, theta.dtype
        ws = net._workspace(0, dtype)  # 0 rows: 1-D buffers
        W, b = layout.views(theta)
        self.weights = theta[: layout.n_weights]
        self.biases = theta[layout.n_weights :]
        # All deltas in one vector laid out like the biases, so that every bias
        # is updated by one BLAS call: b <- b - lr * delta.
        self.delta_flat = np.empty(self.biases.shape, dtype=dtype)
        delta = [
            self.delta_flat[s.start - layout.n_weights : s.stop - layout.n_weights]
            for s in layout.bias_slices
        ]
        last = layout.n_layers - 1
        z, self.outputs = ws.z, ws.a[:-1]  # outputs[i] = a[i + 1] = f(z[i])
        hidden = [_numpy_forward(f) for f in net._hidden]
        sizes = layout.layer_sizes[1:]
        # W.T is each weight matrix's Fortran-ordered view: BLAS gemv reads it
        # as it is and ger updates it in place.
        W_T = [W_i.T for W_i in W]
        # Per hidden layer: (W.T, b, z, width, f, a[i + 1]).
        self.forward = list(
            zip(W_T[:last], b[:last], z[:last], sizes, hidden, self.outputs)
        )
        self.output = (W_T[last], b[last], z[last], delta[last], sizes[-1])
        # Per hidden layer from the top: (f', z[i - 1], a[i], W[i].T, delta[i],
        # delta[i - 1]); f'(z[i - 1]) is read from a[i], written over z[i - 1].
        self.backward = [
            (net._hidden[i - 1].derivative, z[i - 1], self.outputs[i - 1])
            + (W_T[i], delta[i], delta[i - 1])
            for i in range(last, 0, -1)
        ]
        # W <- W - lr * outer(a[i], delta[i]), as a rank-1 update of W.T.
        self.updates = list(zip(W_T, delta))


def _online_output_loss(net):
    """``loss(logits, y, out) -> (loss, delta)`` on one sample's 1-D logits."""
    loss_fn = numpy_loss(net.loss_name, net.output)
    one_row = _ONE_ROW_LOSSES.get((net.loss_name, net.output))
    if one_row is not None and not net.loss_params:
        return one_row
    loss_params = net.loss_params

    def output_loss(logits, y, out):
        return loss_fn(NUMPY_OPS, logits, y, out, **loss_params)

    return output_loss


def online_sgd_step(net, theta, alpha, learning_rate):
    """Build the fused online SGD step ``step(x, y, weight) -> loss``.

    The classic write-up's update, generalised: the forward pass, the deltas
    propagated back through the old weights, then ``W <- W - lr * outer(a[i],
    delta[i])`` applied in place by one rank-1 BLAS call (``ger``) per layer: no
    gradient vector is formed. It computes what ``Network.loss_and_grad`` on a
    one-row batch followed by ``theta -= lr * grad`` computes, with the sample
    axis dropped: everything that does not change between samples (views,
    buffers, functions) is looked up once here. On the 64-100-10 sigmoid network
    of the classic digits setting this is about 5x faster per sample than the
    one-row batch. The indexing is the network's: ``a[0]`` is the sample,
    ``a[i + 1] = f(z[i])``.

    Parameters
    ----------
    net : Network
        A NumPy network.
    theta : ndarray of shape (net.layout.size,)
        Parameters, updated in place by each call of the step.
    alpha : float
        L2 penalty.
    learning_rate : float

    Returns
    -------
    step : callable
        ``step(x, y, weight)`` with 1-D ``x`` and ``y`` and a positive
        ``weight`` (which only scales the L2 term: a single sample's weight
        cancels in the weighted mean); returns the loss before the update.
    """
    ops, dtype = NUMPY_OPS, theta.dtype
    layers = _OnlineLayers(net, theta)
    forward_layers, backward_layers = layers.forward, layers.backward
    updates, outputs = layers.updates, layers.outputs
    W_out_T, b_out, z_out, delta_out, n_out = layers.output
    weights, biases, delta_flat = layers.weights, layers.biases, layers.delta_flat
    output_loss = _online_output_loss(net)
    ger, gemv = blas("ger", dtype), blas("gemv", dtype)
    dot, _, scal, axpy = _level1(dtype)
    n_biases, lr, alpha = biases.shape[0], float(learning_rate), float(alpha)

    def step(x, y, weight):
        # BLAS calls by position, as f2py parses keywords 0.3 us slower:
        # gemv(alpha, a, x, beta, y, offx, incx, offy, incy, trans,
        # overwrite_y) computes y = alpha * op(a) @ x + beta * y in place;
        # W.T is W's Fortran-ordered view, so op(W.T) = W.T is "x @ W".
        a_i = x
        for W_T, b_i, z_i, n_i, f, a_next in forward_layers:
            gemv(1.0, W_T, a_i, 0.0, z_i, 0, 1, 0, 1, 0, 1)  # z[i] = a[i] @ W[i]
            axpy(b_i, z_i, n_i, 1.0)  # z[i] += b[i]
            f(z_i, a_next)  # a[i + 1] = f(z[i])
            a_i = a_next
        gemv(1.0, W_out_T, a_i, 0.0, z_out, 0, 1, 0, 1, 0, 1)
        axpy(b_out, z_out, n_out, 1.0)
        loss = float(output_loss(z_out, y, delta_out)[0])
        for derivative, z_below, a_below, W_T, delta_i, delta_below in backward_layers:
            # delta[i - 1] = (W[i] @ delta[i]) * f'(z[i - 1]), through the old
            # W[i]: the updates below come after all deltas.
            slope = derivative(ops, z_below, a_below, z_below)
            gemv(1.0, W_T, delta_i, 0.0, delta_below, 0, 1, 0, 1, 1, 1)
            delta_below *= slope
        if alpha:
            loss += 0.5 * alpha * float(dot(weights, weights)) / weight
            # The L2 gradient (alpha / weight) * W is taken at the old
            # weights: W <- (1 - lr * alpha / weight) * W - lr * outer(...).
            scal(1.0 - lr * alpha / weight, weights)
        a_i = x
        for (W_T, delta_i), a_next in zip(updates, outputs + [None]):
            # W.T += -lr * outer(delta[i], a[i]); arguments by position
            # (alpha, x, y, incx, incy, a, overwrite_x, overwrite_y,
            # overwrite_a): f2py parses keywords 0.3 us slower per call.
            ger(-lr, delta_i, a_i, 1, 1, W_T, 0, 0, 1)
            a_i = a_next
        axpy(delta_flat, biases, n_biases, -lr)  # b <- b - lr * delta
        return loss

    return step
