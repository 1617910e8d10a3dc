"""Online backpropagation (``batch_size=1``): single-sample speed variants.

``skbp._core.network`` holds the readable algorithm, written for a batch. On one
sample at a time, as in the classic online delta rule, the bookkeeping around the
arithmetic costs as much as the arithmetic, so the trainer takes these variants
instead:

* ``loss_and_grad_one``: ``Network.loss_and_grad`` on 1-D vectors, where weight
  gradients are outer products and the delta propagation is a matrix-vector
  product (for SGD with momentum, Adam);
* ``online_sgd_step``: the fused online SGD step (plain SGD, the classic rule),
  which updates ``theta`` in place by one rank-1 BLAS call per layer and never
  forms a gradient vector.

Both compute exactly what ``Network.loss_and_grad`` computes on a batch of one
row (followed by ``theta -= lr * grad`` for the fused step), and
``tests/test_online.py`` proves it for every activation and (loss, output) pair.
They read the network's private parts (``_forward``, ``_hidden``, ``_loss_fn``,
``_workspace``): this module is that class's companion, not a client.

This module must not import scikit-learn, the trainer (``_training``) or any
estimator module; it imports only NumPy and the core modules below.
"""

import numpy as np

from skbp._core.blas import blas


def loss_and_grad_one(net, theta, x, y, weight, alpha, grad):
    """``Network.loss_and_grad`` for one sample, on 1-D vectors.

    The forward pass is the network's own ``_forward``, which works on 1-D
    vectors as well. The backward pass is the batch recurrence with the sample
    axis dropped: ``dL/dW[i] = outer(a[i], delta[i])`` and ``delta[i - 1] =
    (W[i] @ delta[i]) * f'(z[i - 1])``. A single sample's weight cancels in the
    weighted mean; it only scales the L2 term. Skipping the batch axis removes
    most per-step overhead when ``batch_size=1``.

    Parameters
    ----------
    net : Network
    theta : ndarray of shape (net.layout.size,)
        Flat parameters.
    x : ndarray of shape (n_features,)
        One dense sample.
    y : ndarray of shape (n_outputs,)
        Its targets.
    weight : float
        Its sample weight, positive.
    alpha : float
        L2 penalty.
    grad : ndarray of shape (net.layout.size,)
        Written with the gradient.

    Returns
    -------
    loss : float
    """
    ws = net._workspace(0, theta.dtype)  # 0 rows: the 1-D buffers
    W, b = net.layout.views(theta)
    gW, gb = net.layout.views(grad)
    a, z = [x, *ws.a], ws.z  # a[L] is spare: it receives the output delta
    logits = net._forward(W, b, a, z, ws.ones)
    delta = a[-1]
    loss = float(net._loss_fn(logits, y, delta))
    penalty = alpha / weight
    ger = blas("ger", theta.dtype)
    for i in range(net.layout.n_layers - 1, -1, -1):
        if penalty:
            # penalty * W[i], then BLAS adds outer(a[i], delta) in place (W.T is
            # the Fortran-ordered view ger updates): the L2 term costs no extra
            # pass over the gradient.
            np.multiply(W[i], penalty, out=gW[i])
            ger(1.0, delta, a[i], a=gW[i].T, overwrite_a=True)
        else:
            np.multiply.outer(a[i], delta, out=gW[i])
        np.copyto(gb[i], delta)
        if i > 0:
            slope = net._hidden[i - 1].derivative(z[i - 1], a[i], z[i - 1])
            delta = np.matmul(W[i], delta, out=a[i])
            delta *= slope
    if alpha:
        weights = theta[: net.layout.n_weights]
        loss += 0.5 * alpha * float(weights @ weights) / weight
    return loss


def online_sgd_step(net, theta, alpha, learning_rate):
    """Build the fused online SGD step ``step(x, y, weight) -> loss``.

    The classic write-up's update, generalised: forward, deltas propagated back
    through the old weights, then ``W <- W - lr * outer(a[i], delta[i])``
    applied in place by one rank-1 BLAS call (``ger``) per layer. No gradient
    vector is formed. Everything that does not change between samples (views,
    buffers, functions) is looked up once here, and the forward pass is written
    out inline: on the 64-100-10 sigmoid network of the classic digits setting
    (about 21 us per sample), calling ``Network._forward`` instead made the step
    3% slower.

    Parameters
    ----------
    net : Network
    theta : ndarray of shape (net.layout.size,)
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
    layout = net.layout
    ws = net._workspace(0, theta.dtype)
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
    # a[i] is the buffer of activation a[i + 1] (a[0] is the sample).
    z, a = ws.z, ws.a
    hidden = net._hidden
    loss_fn = net._loss_fn
    ger = blas("ger", theta.dtype)
    last = layout.n_layers - 1
    lr = float(learning_rate)
    alpha = float(alpha)

    def step(x, y, weight):
        a_i = x
        for i in range(last):
            np.matmul(a_i, W[i], out=z[i])  # z[i] = a[i] @ W[i] + b[i]
            z[i] += b[i]
            a_i = hidden[i].forward(z[i], a[i])  # a[i + 1] = f(z[i])
        np.matmul(a_i, W[last], out=z[last])
        z[last] += b[last]
        loss = float(loss_fn(z[last], y, deltas[last]))
        for i in range(last, 0, -1):
            # delta[i - 1] = (W[i] @ delta[i]) * f'(z[i - 1]), through the old
            # W[i]: the updates below come after all deltas.
            slope = hidden[i - 1].derivative(z[i - 1], a[i - 1], z[i - 1])
            np.matmul(W[i], deltas[i], out=deltas[i - 1])
            deltas[i - 1] *= slope
        if alpha:
            loss += 0.5 * alpha * float(weights @ weights) / weight
            # The L2 gradient (alpha / weight) * W is taken at the old
            # weights: W <- (1 - lr * alpha / weight) * W - lr * outer(...).
            np.multiply(weights, 1.0 - lr * alpha / weight, out=weights)
        for i in range(last + 1):
            # W.T += -lr * outer(delta, a[i]), i.e. W -= lr * outer(a[i], delta)
            ger(-lr, deltas[i], x if i == 0 else a[i - 1], a=W_T[i], overwrite_a=True)
        np.subtract(biases, lr * delta_flat, out=biases)
        return loss

    return step
