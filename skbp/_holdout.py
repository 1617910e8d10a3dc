"""The validation set of the stochastic solvers: held out or given, and scored.

``ValidationSetMixin`` is a part of ``BaseBP`` (``skbp._base``): with
``early_stopping=True`` it holds out ``validation_fraction`` of the training
data (stratified for classifiers), or it checks the ``X_val`` / ``y_val`` a
user passed to ``fit`` like the training data; either way it builds the
``validate(theta) -> (score, loss)`` function that the trainer calls after
every epoch. The score is the estimator's default (``_score_logits``), minus
the validation loss (``scoring="loss"``), or a scikit-learn scorer called on a
copy of the estimator that predicts with the current weights.

It relies on ``BaseBP``'s hooks (``_stratify``, ``_encode_targets``,
``_check_validation_targets``, ``_score_logits``), its input validation
(``_validate_input``) and its fitted state (``_fitted_logits``,
``_model_with``, in ``skbp._fitted_state``).
"""

import math

import numpy as np
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import train_test_split

from skbp._array_api import check_same_namespace, to_numpy
from skbp._compat import check_sample_weight


class ValidationSetMixin:
    """Early-stopping split, user validation sets and the per-epoch validator."""

    def _split_validation(self, X, y, Y, sample_weight, rng):
        """Hold out ``validation_fraction`` of the data for early stopping."""
        stratify = self._stratify(y)
        # train_test_split's own size: ceil(fraction * n) rows. Checked first,
        # since its errors for a too small split do not say what to change.
        n_val = math.ceil(self.validation_fraction * X.shape[0])
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
                f"validation (validation_fraction={self.validation_fraction} of "
                f"{X.shape[0]}), but needs {n_needed}{held_out}; increase "
                "validation_fraction, use more data, or pass X_val and y_val."
            )
        # train_test_split takes the rows in each array's own library.
        arrays = [X, y, Y] if sample_weight is None else [X, y, Y, sample_weight]
        parts = train_test_split(
            *arrays,
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=stratify,
        )
        X_train, X_val, _, y_val, Y_train, _ = parts[:6]
        sw_train, sw_val = (None, None) if sample_weight is None else parts[6:]
        if sample_weight is not None and not float(to_numpy(sw_train).sum()) > 0:
            # (An all-zero validation part is caught by _validator.)
            raise ValueError(
                "early_stopping=True split the data so that every training "
                "sample has sample_weight 0, leaving nothing to train on; give "
                "more samples a positive weight, change validation_fraction or "
                "random_state, or pass X_val and y_val."
            )
        return X_train, Y_train, sw_train, (X_val, y_val, sw_val)

    def _validate_validation_set(self, X_val, y_val, sample_weight_val, dtype, ns):
        """Check a user's validation set like the training data."""
        check_same_namespace(ns, X_val, "X_val")
        X_val, y_val = self._validate_input(X_val, y_val, reset=False, xp=ns.xp)
        self._check_validation_targets(y_val)
        if sample_weight_val is not None:
            sample_weight_val = ns.to_device(
                check_sample_weight(
                    to_numpy(sample_weight_val),
                    X_val.shape[0],
                    dtype=ns.host_dtype(dtype),
                )
            )
        return ns.astype(X_val, dtype), y_val, sample_weight_val

    def _check_scoring_name(self):
        """An unknown ``scoring`` name fails at ``fit``, used or not."""
        if isinstance(self.scoring, str) and self.scoring != "loss":
            names = sorted(get_scorer_names())
            if self.scoring not in names:
                raise ValueError(
                    f"scoring={self.scoring!r} is not a valid scoring value. Use "
                    f"None (the default score), 'loss', a callable, or one of "
                    f"{names}."
                )

    def _validator(self, net, X_val, y_val, sw_val):
        """``validate(theta) -> (score, loss)`` on a validation set, for the trainer."""
        ns = net.namespace
        sw_val_host = to_numpy(sw_val)
        if sw_val is not None and not float(sw_val_host.sum()) > 0:
            raise ValueError(
                "The validation samples' weights sum to zero, so no validation "
                "score or loss is defined. Give some validation samples a "
                "positive weight (sample_weight_val), or, for the early_stopping "
                "split, change validation_fraction or random_state."
            )
        Y_val = self._encode_targets(y_val, ns.host_dtype(X_val.dtype))
        if not ns.is_numpy:
            Y_val = ns.as_dtype(Y_val, X_val.dtype)
        scorer = None
        if self.scoring not in (None, "loss"):
            scorer = check_scoring(self, scoring=self.scoring)
            # A scorer compares predict's output (numbers in X's namespace) with
            # y_val: give it y_val there too, unless the labels are strings.
            y_val_scorer = y_val
            if not ns.is_numpy and y_val.dtype.kind in "biuf":
                y_val_scorer = ns.to_device(y_val)

        def validate(theta):
            W, b = net.layout.views(theta)
            logits = net.logits(W, b, X_val)
            loss = net.data_loss(logits, Y_val, sw_val)
            if self.scoring is None:
                # On the host: a small (n_val, n_outputs) array per epoch.
                fitted = to_numpy(self._fitted_logits(logits, ns))
                score = self._score_logits(fitted, y_val, sw_val_host)
            elif self.scoring == "loss":
                score = -loss
            else:
                # A scikit-learn scorer calls predict or predict_proba: give it a
                # copy of this estimator that predicts with the current weights.
                kwargs = {} if sw_val is None else {"sample_weight": sw_val}
                model = self._model_with(theta, net)
                score = scorer(model, X_val, y_val_scorer, **kwargs)
            return score, loss

        return validate
