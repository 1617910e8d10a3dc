"""The minibatches of one epoch: row slices of the training data, gathered.

``Minibatches`` hands the trainer ``(X_b, Y_b, sw_b, weight)`` for each slice of
an epoch's sample order, for NumPy and every array API namespace alike:

* rows in stored order are views (no copies);
* shuffled rows are gathered with ``take``. On NumPy into buffers reused from
  batch to batch (``mode="clip"``: with the default ``"raise"`` NumPy gathers
  into a temporary and copies it to ``out``; the rows come from a permutation,
  so clipping never changes one); elsewhere on the device, with the order moved
  there once per epoch;
* each batch's total weight is summed on the host from a host copy of the
  sample weights (the same sums in every library), so no batch waits for a
  device.

This module must not import scikit-learn or any skbp module but the core's
namespace.
"""

import numpy as np


def batch_slices(n_samples, batch_size):
    """Consecutive slices of at most ``batch_size`` samples covering all samples."""
    return [
        slice(start, min(start + batch_size, n_samples))
        for start in range(0, n_samples, batch_size)
    ]


class Minibatches:
    """The minibatches of ``data`` (a ``TrainingData``) in its array library.

    Parameters
    ----------
    namespace : ArrayNamespace
        The library and device of the data.
    data : TrainingData
    batch_size : int
    """

    def __init__(self, namespace, data, batch_size):
        self.namespace = namespace
        self.data = data
        self.batch_size = batch_size
        sw = data.sample_weight
        self.sw_host = None if sw is None else namespace.to_host(sw)
        self._buffers = None  # NumPy: (X, Y, sw) gather buffers, made on first use
        self._order = self._order_device = None

    def take(self, batch, order):
        """``(X_b, Y_b, sw_b, weight)`` of the rows ``order[batch]``.

        ``order`` (on the host) None takes the rows in stored order;
        ``weight`` is the batch's total sample weight, a float.
        """
        data = self.data
        if order is None:
            X_b, Y_b = data.X[batch, ...], data.Y[batch, ...]
            sw = data.sample_weight
            sw_b = None if sw is None else sw[batch]
            host_rows = batch
        else:
            host_rows = order[batch]
            X_b, Y_b, sw_b = self._gather(batch, order, host_rows)
        if sw_b is None:
            return X_b, Y_b, None, float(X_b.shape[0])
        return X_b, Y_b, sw_b, float(self.sw_host[host_rows].sum())

    def _gather(self, batch, order, host_rows):
        """The rows of a shuffled batch, gathered (see the module docstring)."""
        data, ns = self.data, self.namespace
        arrays = (data.X, data.Y, data.sample_weight)
        if not ns.is_numpy:
            if order is not self._order:
                self._order, self._order_device = order, ns.to_device(order)
            rows = self._order_device[batch]
            return tuple(
                None if a is None else ns.xp.take(a, rows, axis=0) for a in arrays
            )
        if self._buffers is None:
            self._buffers = tuple(
                None
                if a is None or not isinstance(a, np.ndarray)
                else np.empty((self.batch_size, *a.shape[1:]), dtype=a.dtype)
                for a in arrays
            )
        k = len(host_rows)
        return tuple(
            None
            if a is None
            else a[host_rows]
            if buffer is None  # sparse X
            else a.take(host_rows, axis=0, out=buffer[:k], mode="clip")
            for a, buffer in zip(arrays, self._buffers)
        )
