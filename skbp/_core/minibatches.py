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
        self._X = None  # NumPy: X as shuffled batches read it (see _row_major)
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
            self._X = _row_major(data.X)
        k = len(host_rows)
        X_b = _gather_rows(self._X, host_rows, self._buffers[0])
        return X_b, *(
            None
            if a is None
            else a.take(host_rows, axis=0, out=buffer[:k], mode="clip")
            for a, buffer in zip(arrays[1:], self._buffers[1:])
        )


#: An X not in C order up to this size is copied to C order for shuffled
#: batches; a larger Fortran-ordered one is gathered through its transpose
#: (``_gather_rows``), any other as it is.
ROW_MAJOR_COPY_BYTES = 256 * 2**20


def _row_major(X):
    """``X`` in C order when it is an array of at most ``ROW_MAJOR_COPY_BYTES``
    in any other layout, else ``X`` itself.

    ``ColumnTransformer`` hands its last step a Fortran-ordered array, which
    stores each column contiguously: a shuffled batch then reads every value of
    a row from a different cache line, 16 times the memory traffic of C order
    (4,000 x 784 float32, 200 rows: 3.8 ms a batch, against 29 us from C
    order). A strided view (every other column of a wider array) reads twice
    the memory and takes NumPy's slow path (2.6x the C-ordered fit). One copy
    per fit call costs about what two batches would (5 ms there) and makes
    every batch a C-order gather; it doubles X's memory while the fit runs, so
    larger arrays are not copied.
    """
    if (
        isinstance(X, np.ndarray)
        and not X.flags.c_contiguous
        and X.nbytes <= ROW_MAJOR_COPY_BYTES
    ):
        return np.ascontiguousarray(X)
    return X


def _fortran_only(X):
    return X.ndim == 2 and X.flags.f_contiguous and not X.flags.c_contiguous


def _gather_rows(X, rows, buffer):
    """``X[rows]``, into ``buffer`` (NumPy) when X is an array.

    A Fortran-ordered ``X`` too large to copy (``_row_major``) has a C-ordered
    transpose: its rows are gathered as columns of the transpose, one
    contiguous column at a time, into the transposed buffer (4,000 x 784
    float32, 200 rows: 220 us, against 3.8 ms by rows). The batch is that
    buffer's transpose, a Fortran-ordered view that BLAS reads as it is.
    """
    if buffer is None:  # sparse X
        return X[rows]
    k = len(rows)
    if _fortran_only(X):
        buffer_T = buffer.reshape(buffer.shape[::-1])  # (n_features, batch_size)
        return X.T.take(rows, axis=1, out=buffer_T[:, :k], mode="clip").T
    return X.take(rows, axis=0, out=buffer[:k], mode="clip")
