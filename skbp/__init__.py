"""skbp: a scikit-learn multilayer perceptron trained by backpropagation in numpy."""

from skbp._classifier import BPClassifier
from skbp._exceptions import InconsistentVersionWarning
from skbp._regressor import BPRegressor
from skbp._tools.display import TrainingCurveDisplay
from skbp._tools.gradcheck import (
    GradientCheck,
    check_gradients,
    check_network_gradients,
)
from skbp._tools.onnx import to_onnx
from skbp._tools.stream import fit_stream
from skbp._version import __version__

__all__ = [
    "BPClassifier",
    "BPRegressor",
    "GradientCheck",
    "InconsistentVersionWarning",
    "TrainingCurveDisplay",
    "__version__",
    "check_gradients",
    "check_network_gradients",
    "fit_stream",
    "to_onnx",
]
