"""The array library the numeric core computes in: NumPy, or any array API namespace.

NumPy arrays take the core's fast paths: arithmetic in place into preallocated
buffers (``out=``), BLAS calls, the single-sample online step. Arrays of any other
library that implements the `array API standard
<https://data-apis.org/array-api/>`_ (array-api-strict, PyTorch, CuPy, ...) run
the same algorithm written with standard calls (``xp.matmul``, ``xp.exp``, ...),
on the device the arrays live on. The standard has no ``out=``, so that path
allocates its results.

The core never imports scikit-learn. The estimator finds the namespace and device
of its input with scikit-learn's helpers and hands the core an ``ArrayNamespace``
built from them, with the two functions that move arrays to the host and to the
device. Little crosses that boundary: the starting weights and the random
sample orders and dropout masks (drawn on the host, so that a ``random_state``
gives the same model in every library), and L-BFGS's iterate and gradient
(SciPy's line search runs on the host).

This module must not import scikit-learn or any other skbp module. The
activation and loss modules import ``constant`` from it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class ArrayNamespace:
    """An array namespace, the device to compute on, and the way to and from it.

    Attributes
    ----------
    xp : module
        The namespace: ``numpy`` itself for the fast paths, otherwise an array
        API namespace (array-api-compat's wrapper where the library needs one).
    device : object, default=None
        Where new arrays are made (``xp.zeros(..., device=device)``).
    to_host : callable, default=numpy.asarray
        ``to_host(array) -> numpy.ndarray``: an array of any library on the host.
    to_device : callable, default=numpy.asarray
        ``to_device(array) -> array``: an array of any library (NumPy's
        included) as one of ``xp`` on ``device``; unchanged if it is one.
    name : str, default="numpy"
        The library's name, for messages.
    """

    xp: Any
    device: Any = None
    to_host: Callable = np.asarray
    to_device: Callable = np.asarray
    name: str = "numpy"

    def __deepcopy__(self, memo):
        # Immutable, and it holds a module, which cannot be copied.
        return self

    @property
    def is_numpy(self) -> bool:
        """Whether the core's NumPy fast paths apply."""
        return self.xp is np

    def zeros(self, shape, dtype):
        """A new array of zeros on the device."""
        if self.is_numpy:
            return np.zeros(shape, dtype=dtype)
        return self.xp.zeros(shape, dtype=dtype, device=self.device)

    def copy(self, array):
        """A copy of ``array`` in the same namespace and on the same device."""
        if self.is_numpy:
            return array.copy()
        return self.xp.asarray(array, copy=True)

    def host_dtype(self, dtype):
        """The NumPy dtype of a floating dtype of this namespace."""
        if self.is_numpy:
            return np.dtype(dtype)
        return np.dtype(np.float32 if dtype == self.xp.float32 else np.float64)

    def as_dtype(self, host_array, dtype):
        """``host_array`` on the device, cast to ``dtype`` on the host first.

        Casting before the transfer keeps float64 off devices that lack it.
        """
        return self.to_device(np.asarray(host_array, dtype=self.host_dtype(dtype)))

    def astype(self, array, dtype):
        """``array`` (of this namespace) in ``dtype``; unchanged if it is already."""
        if self.is_numpy:
            return array.astype(dtype, copy=False)
        return self.xp.astype(array, dtype, copy=False)

    def all_finite(self, array) -> bool:
        """Whether every entry of ``array`` is finite (one device round trip)."""
        xp = self.xp
        return bool(xp.all(xp.isfinite(array)))


def constant(xp, value, like):
    """``value`` as a 0-d array of ``like``'s dtype, on ``like``'s device.

    For a scalar that is a function's argument rather than an operator's operand
    (``xp.maximum(z, 0)``): PyTorch's functions and the standard's older
    versions take no Python scalar there, and a float64 constant would promote
    a float32 array.
    """
    return xp.asarray(value, dtype=like.dtype, device=like.device)


#: NumPy, with every fast path.
NUMPY = ArrayNamespace(np)
