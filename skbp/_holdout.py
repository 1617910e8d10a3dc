"""The validation set of the stochastic solvers: held out or given, and scored.

``check_validation_set`` checks the ``X_val`` / ``y_val`` a user passed to
``fit`` like the training data; without them, ``early_stopping=True`` has
``split_validation`` hold out ``validation_fraction`` of the training data
(stratified for classifiers). Either way ``make_validator`` builds
the ``validate(theta) -> (score, loss)`` function that the trainer calls after
every epoch. The score is the estimator's default (accuracy, R²), minus the
validation loss (``scoring="loss"``), or a scikit-learn scorer called on a copy
of the estimator that predicts with the current weights.

Each function receives what it uses (arrays, settings, and the estimator's
target encoding and scores as callables); none of them calls back into the
estimator. ``BaseBP`` (``skbp._base``) wires them up; this module imports no
estimator module.
"""

import math
from dataclasses import replace

import numpy as np
from sklearn.metrics import get_scorer_names
from sklearn.model_selection import train_test_split

from skbp._array_api import check_same_namespace, to_numpy
from skbp._compat import check_sample_weight
from skbp._fit_data import ValidationSet
from skbp._fitted_state import fitted_logits


def _check_split_size(n_samples, fraction, stratify):
    """Raise unless holding out ``fraction`` of ``n_samples`` leaves both parts
    usable (at least one sample of each class in each, when stratified)."""
    # train_test_split's own size: ceil(fraction * n) rows. Checked first,
    # since its errors for a too small split do not say what to change.
    n_val = math.ceil(fraction * n_samples)
    n_needed = 2
    if stratify is not None:
        labels, counts = np.unique(stratify, return_counts=True)
        if counts.min() < 2:
            raise ValueError(
                "early_stopping=True holds out a validation split stratified "
                f"by class, and class(es) {labels[counts < 2].tolist()} have "
                "a single sample, which cannot be in both parts; pass X_val "
                "and y_val, or use more data."
            )
        n_needed = max(2, len(labels))
    if n_val < n_needed:
        held_out = "" if stratify is None else ", at least one of each class"
        raise ValueError(
            f"early_stopping=True would hold out {n_val} sample(s) for "
            f"validation (validation_fraction={fraction} of "
            f"{n_samples}), but needs {n_needed}{held_out}; increase "
            "validation_fraction, use more data, or pass X_val and y_val."
        )


def split_validation(data, *, fraction, stratify, rng):
    """Hold out ``fraction`` of the training data for early stopping.

    Parameters
    ----------
    data : FitData
        The training data (``X``, ``y``, ``Y``, ``sample_weight``).
    fraction : float
        ``validation_fraction``, in (0, 1).
    stratify : ndarray of shape (n_samples,) or None
        Labels to stratify the split by.
    rng : numpy.random.RandomState
        Draws the split.

    Returns
    -------
    train : FitData
        ``data`` with only the training rows.
    held_out : ValidationSet
        The held-out rows (``X`` in the network's array library).
    """
    _check_split_size(data.X.shape[0], fraction, stratify)
    X, y, Y, sample_weight = data.X, data.y, data.Y, data.sample_weight
    # train_test_split takes the rows in each array's own library.
    arrays = [X, y, Y] if sample_weight is None else [X, y, Y, sample_weight]
    parts = train_test_split(
        *arrays, test_size=fraction, random_state=rng, stratify=stratify
    )
    X_train, X_val, y_train, y_val, Y_train, _ = parts[:6]
    sw_train, sw_val = (None, None) if sample_weight is None else parts[6:]
    if sample_weight is not None and not float(to_numpy(sw_train).sum()) > 0:
        # (An all-zero validation part is caught by make_validator.)
        raise ValueError(
            "early_stopping=True split the data so that every training "
            "sample has sample_weight 0, leaving nothing to train on; give "
            "more samples a positive weight, change validation_fraction or "
            "random_state, or pass X_val and y_val."
        )
    train = replace(data, X=X_train, y=y_train, Y=Y_train, sample_weight=sw_train)
    return train, ValidationSet(X_val, y_val, sw_val)


def check_validation_set(validation, ns, dtype, *, validate_input, check_targets):
    """Check a user's validation set like the training data.

    Parameters
    ----------
    validation : ValidationSet
        ``X_val``, ``y_val`` and ``sample_weight_val`` as given to ``fit``.
    ns : ArrayNamespace
        The array library (and device) the network trains in.
    dtype : dtype
        The training dtype, in ``ns``.
    validate_input : callable
        ``validate_input(X, y) -> (X, y)``: the estimator's input validation
        against the fitted number of features (``y`` comes back as NumPy).
    check_targets : callable
        ``check_targets(y)``: raises for targets the fitted encoding lacks.

    Returns
    -------
    ValidationSet
        ``X`` in ``ns`` and ``dtype``, ``y`` a NumPy array, the weights in
        ``ns`` (or None).
    """
    check_same_namespace(ns, validation.X, "X_val")
    X_val, y_val = validate_input(validation.X, validation.y)
    check_targets(y_val)
    sw_val = validation.sample_weight
    if sw_val is not None:
        sw_val = ns.to_device(
            check_sample_weight(
                to_numpy(sw_val), X_val.shape[0], dtype=ns.host_dtype(dtype)
            )
        )
    return ValidationSet(ns.astype(X_val, dtype), y_val, sw_val)


def check_scoring_name(scoring):
    """An unknown ``scoring`` name fails at ``fit``, used or not."""
    if isinstance(scoring, str) and scoring != "loss":
        names = sorted(get_scorer_names())
        if scoring not in names:
            raise ValueError(
                f"scoring={scoring!r} is not a valid scoring value. Use "
                f"None (the default score), 'loss', a callable, or one of "
                f"{names}."
            )


def make_validator(net, held_out, *, encode, affine, scoring, score_logits, model_for):
    """``validate(theta) -> (score, loss)`` on a validation set, for the trainer.

    Parameters
    ----------
    net : Network
        The network being trained.
    held_out : ValidationSet
        Checked: ``X`` in the network's array library and the training dtype.
    encode : callable
        ``encode(y, dtype) -> Y``: the estimator's target encoding (a NumPy
        array of the NumPy ``dtype``).
    affine : tuple of arrays or None
        ``(scale, shift)`` from the network's logits to the fitted units
        (the regressor's target scaling), or None.
    scoring : None, 'loss' or callable
        None: ``score_logits``; ``'loss'``: minus the validation loss; else a
        scorer ``scoring(model, X, y[, sample_weight=...])``.
    score_logits : callable
        ``score_logits(logits, y, sample_weight) -> float``: the estimator's
        default score of NumPy logits in the fitted units.
    model_for : callable
        ``model_for(theta)``: a copy of the estimator that predicts with
        ``theta`` (for a scorer).

    Returns
    -------
    callable
    """
    ns = net.namespace
    X_val, y_val, sw_val = held_out.X, held_out.y, held_out.sample_weight
    sw_val_host = to_numpy(sw_val)
    if sw_val is not None and not float(sw_val_host.sum()) > 0:
        raise ValueError(
            "The validation samples' weights sum to zero, so no validation "
            "score or loss is defined. Give some validation samples a "
            "positive weight (sample_weight_val), or, for the early_stopping "
            "split, change validation_fraction or random_state."
        )
    Y_val = encode(y_val, ns.host_dtype(X_val.dtype))
    if not ns.is_numpy:
        Y_val = ns.as_dtype(Y_val, X_val.dtype)
    # A scorer compares predict's output (numbers in X's namespace) with y_val:
    # give it y_val there too, unless the labels are strings.
    y_val_scorer = y_val
    if callable(scoring) and not ns.is_numpy and y_val.dtype.kind in "biuf":
        y_val_scorer = ns.to_device(y_val)
    scorer_kwargs = {} if sw_val is None else {"sample_weight": sw_val}

    def validate(theta):
        W, b = net.layout.views(theta)
        logits = net.logits(W, b, X_val)
        loss = net.data_loss(logits, Y_val, sw_val)
        if scoring is None:
            # On the host: a small (n_val, n_outputs) array per epoch.
            fitted = to_numpy(fitted_logits(logits, ns, affine))
            score = score_logits(fitted, y_val, sw_val_host)
        elif scoring == "loss":
            score = -loss
        else:
            score = scoring(model_for(theta), X_val, y_val_scorer, **scorer_kwargs)
        return score, loss

    return validate
