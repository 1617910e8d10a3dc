"""Warnings that skbp raises.

This module imports nothing from scikit-learn or skbp.
"""


class InconsistentVersionWarning(UserWarning):
    """A model is loaded under another skbp version than the one that saved it.

    The counterpart of scikit-learn's ``InconsistentVersionWarning``, for
    skbp's own version: pickles, joblib files and skops files record the skbp
    version that made them. A model from another version may load but behave
    differently, or fail later; refit it, or load it with the version named.

    Parameters
    ----------
    estimator_name : str
        Class name of the loaded estimator.
    current_skbp_version : str
        The skbp version that loads the model.
    original_skbp_version : str
        The skbp version that saved it (``"unknown"`` for files that predate the
        stamp).

    Attributes
    ----------
    estimator_name : str
        As given.
    current_skbp_version : str
        As given.
    original_skbp_version : str
        As given.

    Examples
    --------
    >>> from skbp import InconsistentVersionWarning
    >>> print(InconsistentVersionWarning("BPClassifier", "0.2.0", "0.1.0"))
    Trying to load BPClassifier saved by skbp 0.1.0 with skbp 0.2.0. It may \
work differently or fail; refit it, or load it with skbp 0.1.0.
    """

    def __init__(self, estimator_name, current_skbp_version, original_skbp_version):
        self.estimator_name = estimator_name
        self.current_skbp_version = current_skbp_version
        self.original_skbp_version = original_skbp_version

    def __str__(self):
        return (
            f"Trying to load {self.estimator_name} saved by skbp "
            f"{self.original_skbp_version} with skbp {self.current_skbp_version}. "
            "It may work differently or fail; refit it, or load it with skbp "
            f"{self.original_skbp_version}."
        )
