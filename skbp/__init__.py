"""skbp: a scikit-learn multilayer perceptron trained by backpropagation in numpy."""

from skbp._classifier import BPClassifier
from skbp._version import __version__

__all__ = ["BPClassifier", "__version__"]
