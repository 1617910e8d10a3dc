"""BPClassifier: labels, class weights and class predictions on the shared base.

Everything both estimators share (parameters, the fit skeleton, solvers,
validation sets, history, callbacks, the prediction input path) is in ``_base``
and the modules it wires up; this module adds what is
particular to classification: label binarisation for binary, multiclass and
multilabel targets, ``class_weight``, the output function, and ``predict`` /
``predict_proba`` / ``predict_log_proba``.

Labels follow scikit-learn's rules for array API classifiers (``LogisticRegression``
in scikit-learn 1.9): they are encoded on the host, ``classes_`` lives in the
namespace and on the device of the ``y`` given to ``fit``, and ``predict`` returns
numeric labels in the namespace and on the device of ``X`` (string labels stay a
NumPy array).
"""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d, compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from skbp._array_api import namespace_and_device, to_numpy
from skbp._base import BaseBP, stochastic_solver
from skbp._compat import StrOptions, _fit_context, is_numpy_namespace, move_to
from skbp._core.losses import CLASSIFICATION_LOSSES, output_function_for
from skbp._core.namespace import NUMPY
from skbp._core.outputs import (
    class_indices,
    class_log_probabilities,
    class_probabilities,
    classifier_output_kind,
)
from skbp._docstrings import fill_doc
from skbp._interop import from_mlp, to_mlp


@fill_doc
class BPClassifier(ClassifierMixin, BaseBP):
    # ClassifierMixin goes on the left so that its tags and score take precedence.
    """Multilayer perceptron classifier trained by backpropagation written in numpy.

    The network computes ``a[i + 1] = f(a[i] @ W[i] + b[i])`` through its hidden
    layers and a softmax (multiclass log-loss) or logistic output layer. Gradients
    come from the backpropagation recurrence
    ``delta[i - 1] = (delta[i] @ W[i].T) * f'(z[i - 1])``, written out in numpy.

    Parameters
    ----------
    %(hidden_layer_sizes)s

    %(activation)s

    loss : {'log_loss', 'squared_error'}, default='log_loss'
        ``'log_loss'``: cross-entropy with a softmax output for multiclass targets
        and logistic outputs for binary and multilabel targets. ``'squared_error'``:
        logistic outputs with :math:`\\frac12 \\sum_k (y_k - a_k)^2` per sample,
        the classic delta rule.

    %(solver)s

    %(learning_rate)s

    %(learning_rate_schedule)s

    %(power_t)s

    %(momentum)s

    %(nesterovs_momentum)s

    %(beta_1)s

    %(epsilon)s

    %(alpha)s

    %(batch_size)s

    %(max_iter)s

    %(tol)s

    %(n_iter_no_change)s

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified), stop
        when its score (see ``scoring``) stops improving, and keep the best
        weights.

    %(validation_fraction)s

    %(shuffle)s

    %(random_state)s

    %(verbose)s

    %(warm_start)s

    class_weight : dict, 'balanced' or None, default=None
        Per-class weights, multiplied into ``sample_weight``.

    %(init)s

    %(max_fun)s

    scoring : str, callable or None, default=None
        What the validation set is scored by after each epoch, and so what
        early stopping monitors: None for accuracy, ``'loss'`` for the validation
        loss (its negative, so that higher is better), or any scikit-learn
        scorer name or callable ``scorer(estimator, X, y)``.

    %(dropout)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_labels)`` for multilabel targets).
    %(weights)s
    out_activation_ : {'softmax', 'logistic'}
        Output function.
    %(history)s

    See Also
    --------
    BPRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : The multilayer perceptron of
        scikit-learn.

    Notes
    -----
    The training loss is the weighted mean over samples of the per-sample loss,
    :math:`L = \\frac{\\sum_i s_i \\ell_i}{\\sum_i s_i} +
    \\frac{\\alpha}{2 \\sum_i s_i} \\sum_l \\lVert W_l \\rVert^2`, with
    :math:`\\ell_i` the cross-entropy summed over outputs (``'log_loss'``) or
    :math:`\\frac12 \\sum_k (y_{ik} - a_{ik})^2` (``'squared_error'``). With
    ``'squared_error'``, ``predict_proba`` normalises the logistic outputs so each
    row sums to 1.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbp import BPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> net = BPClassifier(max_iter=500, random_state=0)
    >>> clf = make_pipeline(StandardScaler(), net)
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf.predict_proba(X[:1]).round(2)
    array([[1., 0., 0.]])
    """

    _parameter_constraints = {
        **BaseBP._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFICATION_LOSSES))],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss="log_loss",
        solver="adam",
        learning_rate=0.001,
        learning_rate_schedule="constant",
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        verbose=0,
        warm_start=False,
        class_weight=None,
        init="auto",
        max_fun=15000,
        scoring=None,
        dropout=0.0,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            loss=loss,
            solver=solver,
            learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule,
            power_t=power_t,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            shuffle=shuffle,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            init=init,
            max_fun=max_fun,
            scoring=scoring,
            dropout=dropout,
        )
        self.class_weight = class_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # ------------------------------------------------------------------ fitting

    @fill_doc
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 input keeps the whole model in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a binary indicator matrix for multilabel targets.
            With ``warm_start=True``, a refit needs the same classes as before.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        %(fit_validation)s

        Returns
        -------
        self : BPClassifier
            The fitted estimator.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> X = (X - X.mean(axis=0)) / X.std(axis=0)
        >>> X_val, y_val = X[::5], y[::5]
        >>> clf = BPClassifier(max_iter=500, random_state=0)
        >>> clf = clf.fit(X, y, X_val=X_val, y_val=y_val)
        >>> len(clf.validation_scores_) == clf.n_iter_
        True
        """
        return self._fit_with_validation_set(
            X, y, sample_weight, X_val, y_val, sample_weight_val
        )

    @available_if(stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``X`` and ``y``, continuing from the current state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The chunk's training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            The chunk's labels, or a binary indicator matrix for multilabel
            targets.
        classes : array-like of shape (n_classes,), default=None
            Every label that will ever appear. Required on the first call for
            1-D targets (scikit-learn's rule for incremental classifiers: a
            chunk may miss classes); may be repeated, unchanged, later.
            Multilabel indicator targets may omit it (the columns are the
            classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the chunk's samples.

        Returns
        -------
        self : BPClassifier
            The estimator, trained for one more epoch.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = BPClassifier(random_state=0)
        >>> for chunk in np.array_split(np.random.RandomState(0).permutation(150), 3):
        ...     clf = clf.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
        >>> clf.n_iter_, clf.t_
        (1, 150)
        """
        if self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: it trains one "
                "epoch per call on the chunk it is given. Set early_stopping=False."
            )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    # ------------------------------------------------------ hooks of the base

    @property
    def _is_multilabel(self):
        return self._label_binarizer.y_type_.startswith("multilabel")

    def _validate_input(self, X, y, reset, xp=np):
        X, y = super()._validate_input(X, y, reset, xp)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _training_sample_weight(self, n_samples, dtype, y, sample_weight, incremental):
        check_classification_targets(y)
        if sample_weight is not None:
            sample_weight = super()._training_sample_weight(
                n_samples, dtype, y, sample_weight, incremental
            )
        if self.class_weight is not None:
            if incremental and self.class_weight == "balanced":
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit, "
                    "which sees one chunk at a time; compute the weights once with "
                    "sklearn.utils.class_weight.compute_class_weight and pass them "
                    "as a dict."
                )
            class_sw = compute_sample_weight(self.class_weight, y).astype(dtype)
            if (class_sw < 0).any():
                raise ValueError(
                    f"class_weight={self.class_weight!r} has negative weights; "
                    "class weights must be >= 0."
                )
            sample_weight = (
                class_sw if sample_weight is None else sample_weight * class_sw
            )
            if not float(sample_weight.sum()) > 0:
                raise ValueError(
                    "The sample weights times class_weight sum to zero; at least "
                    "one sample needs a positive weight."
                )
        if sample_weight is not None and y.ndim == 1 and not incremental:
            weighted_classes = np.unique(y[sample_weight > 0])
            if weighted_classes.size < 2:
                raise ValueError(
                    "Only one class has samples with non-zero weight "
                    f"({weighted_classes.tolist()}); BPClassifier needs at least 2 "
                    "classes."
                )
        return sample_weight

    def _fit_targets(self, y, sample_weight, *, first_call, incremental, classes):
        if first_call:
            self._fit_labels(y, classes, incremental)
        else:
            self._check_labels(y, classes, incremental)

    def _fit_labels(self, y, classes, incremental):
        is_multilabel = type_of_target(y).startswith("multilabel")
        if incremental and classes is None and not is_multilabel:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: list "
                "every label that will ever appear (a chunk may miss some), e.g. "
                "partial_fit(X, y, classes=np.unique(y_all))."
            )
        binarizer = LabelBinarizer()
        if classes is None or is_multilabel:
            binarizer.fit(y)
        else:
            binarizer.fit(classes)
            unseen = np.setdiff1d(np.unique(y), binarizer.classes_)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} that are not in "
                    f"classes={binarizer.classes_.tolist()}."
                )
        if not is_multilabel and len(binarizer.classes_) < 2:
            raise ValueError(
                "BPClassifier needs samples of at least 2 classes, but the data "
                f"contains only one class: {binarizer.classes_.tolist()[0]!r}."
            )
        self._label_binarizer = binarizer
        self.classes_ = binarizer.classes_

    def _move_fitted_targets(self, namespace, y_space):
        # scikit-learn's rule: classes_ in the namespace and on the device of y.
        xp_y, device_y = y_space
        if not is_numpy_namespace(xp_y):
            self.classes_ = move_to(self.classes_, xp=xp_y, device=device_y)

    @property
    def _host_classes(self):
        """``classes_`` as a NumPy array (it may live on a device)."""
        return to_numpy(self.classes_)

    def _check_labels(self, y, classes, incremental):
        fitted = self._host_classes
        if classes is not None and not np.array_equal(np.unique(classes), fitted):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} differs from the classes of "
                f"the first partial_fit call, {fitted.tolist()}."
            )
        if self._is_multilabel:
            self._check_indicator_columns(y)
            return
        check_classification_targets(y)
        labels = np.unique(y)
        if incremental:
            unseen = np.setdiff1d(labels, fitted)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} not seen before "
                    f"(classes_={fitted.tolist()}); pass every label with "
                    "classes= on the first partial_fit call."
                )
        elif not np.array_equal(labels, fitted):
            # As MLPClassifier: a warm start continues the same model, whose
            # output units are these classes.
            raise ValueError(
                "warm_start can only be used where y has the same classes as in "
                f"the previous call to fit: previously {fitted.tolist()}, "
                f"y has {labels.tolist()}. Set warm_start=False to start afresh."
            )

    def _check_indicator_columns(self, y):
        if y.ndim != 2 or y.shape[1] != self.classes_.shape[0]:
            raise ValueError(
                f"y must be an indicator matrix with {self.classes_.shape[0]} "
                "columns, as in the first call."
            )

    def _check_validation_targets(self, y_val):
        if self._is_multilabel:
            self._check_indicator_columns(y_val)
            return
        check_classification_targets(y_val)
        fitted = self._host_classes
        unseen = np.setdiff1d(np.unique(y_val), fitted)
        if unseen.size:
            raise ValueError(
                f"y_val contains labels {unseen.tolist()} that the training data "
                f"does not have (classes_={fitted.tolist()})."
            )

    def _encode_targets(self, y, dtype):
        # 0/1 targets as bool: an eighth of float64's memory, and every loss
        # computes with them as numbers.
        return self._label_binarizer.transform(y).astype(bool)

    def _output_activation(self, n_outputs):
        return output_function_for(self.loss, n_outputs, self._is_multilabel)

    def _stratify(self, y):
        return None if self._is_multilabel else y

    def _score_logits(self, logits, y, sample_weight):
        return accuracy_score(
            y, self._labels_from_logits(logits), sample_weight=sample_weight
        )

    # --------------------------------------------------------------- predicting

    @property
    def _output_kind(self):
        """How labels and probabilities follow from the logits (a key of
        ``skbp._core.outputs.CLASSIFIER_OUTPUTS``), read from the fitted model."""
        return classifier_output_kind(
            self.out_activation_, self.n_outputs_, self._is_multilabel
        )

    def _labels_from_logits(self, logits, ns=NUMPY):
        """Predicted labels of logits in namespace ``ns`` (NumPy's by default).

        As scikit-learn's linear classifiers: the class indices are taken from
        ``classes_`` in its own namespace, and numeric labels are then moved to
        the namespace and device of ``X`` (string labels stay NumPy's).
        """
        indices = class_indices(ns.ops, self._output_kind, logits)
        if self._is_multilabel:
            return indices  # the indicator matrix itself
        if ns.is_numpy:
            return self._host_classes[indices]
        xp_c, device_c = namespace_and_device(self.classes_)
        indices = move_to(indices, xp=xp_c, device=device_c)
        labels = xp_c.take(self.classes_, indices, axis=0)
        if isinstance(labels, np.ndarray) and labels.dtype.kind not in "biuf":
            return labels
        return ns.to_device(labels)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels (an indicator matrix for multilabel targets).

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = BPClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> clf.predict(X[[0, 50, 100]])
        array([0, 1, 2])
        """
        logits, ns = self._logits(X, "predict")
        return self._labels_from_logits(logits, ns)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class (each label for multilabel targets), in the
            order of ``classes_``; rows sum to 1 except for multilabel targets.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = BPClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> clf.predict_proba(X[:2]).sum(axis=1)
        array([1., 1.])
        """
        logits, ns = self._logits(X, "predict_proba")
        # The logits are this call's own buffer: computed over in place.
        return class_probabilities(ns.ops, self._output_kind, logits, overwrite_z=True)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities, computed from the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Finite even where ``predict_proba`` rounds to 0.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = BPClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> import numpy as np
        >>> bool(np.isfinite(clf.predict_log_proba(X)).all())
        True
        """
        logits, ns = self._logits(X, "predict_log_proba")
        return class_log_probabilities(ns.ops, self._output_kind, logits)

    def score(self, X, y, sample_weight=None):
        """Accuracy of ``predict(X)`` against ``y`` (subset accuracy if multilabel).

        The labels are compared on the host, whatever array library ``X`` and
        ``y`` are in: scikit-learn's ``accuracy_score`` would need float64 on
        the device, which some devices (Apple's MPS) lack.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels for ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Mean accuracy of ``self.predict(X)`` with respect to ``y``.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skbp import BPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = BPClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> clf.score(X, y) > 0.95
        True
        """
        return float(
            accuracy_score(
                to_numpy(y),
                to_numpy(self.predict(X)),
                sample_weight=to_numpy(sample_weight),
            )
        )

    # ------------------------------------------------------ beyond MLPClassifier

    @classmethod
    def from_mlp(cls, mlp):
        """Build a fitted BPClassifier from a fitted ``MLPClassifier``.

        The parameters mirror the MLP's (``learning_rate_init`` becomes
        ``learning_rate``, ``learning_rate`` becomes ``learning_rate_schedule``,
        ``'logistic'`` becomes ``'sigmoid'``; ``init`` is ``'glorot_uniform'``,
        MLPClassifier's scheme). ``hidden_layer_sizes`` is read off the fitted
        weights. The weights are copied in their dtype, so ``predict_proba`` agrees
        with the MLP's to rounding, and the model can continue training with
        ``partial_fit`` or ``warm_start`` (with a fresh optimiser state: the MLP's
        momentum or Adam moments are not carried over).

        Parameters
        ----------
        mlp : sklearn.neural_network.MLPClassifier
            A fitted classifier.

        Returns
        -------
        clf : BPClassifier
            A new, fitted estimator.

        Raises
        ------
        NotFittedError
            If ``mlp`` is not fitted.
        TypeError
            If ``mlp`` is not an ``MLPClassifier``.

        Examples
        --------
        >>> from sklearn.neural_network import MLPClassifier
        >>> mlp = MLPClassifier((5,), solver="lbfgs", random_state=0)
        >>> mlp = mlp.fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        >>> clf = BPClassifier.from_mlp(mlp)
        >>> clf.activation, clf.hidden_layer_sizes, clf.predict([[0.0], [3.0]])
        ('relu', (5,), array([0, 1]))
        """
        return from_mlp(cls, mlp)

    def to_mlp(self):
        """Build a fitted ``MLPClassifier`` with this model's weights.

        The parameters are mirrored (the reverse of :meth:`from_mlp`) and the
        fitted attributes are set so that the MLP's ``predict``,
        ``predict_proba`` and ``score`` agree with this model's. ``init``,
        ``class_weight``, ``scoring`` and ``dropout`` have no MLPClassifier
        counterpart and are dropped; the optimiser state is not carried over.

        Returns
        -------
        mlp : sklearn.neural_network.MLPClassifier
            A new, fitted estimator; the weights are copies.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ValueError
            If the model was fitted with ``loss='squared_error'`` or with an
            activation MLPClassifier lacks.

        Examples
        --------
        >>> clf = BPClassifier((5,), solver="lbfgs", random_state=0)
        >>> clf = clf.fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        >>> mlp = clf.to_mlp()
        >>> mlp.activation, mlp.predict([[0.0], [3.0]])
        ('relu', array([0, 1]))
        """
        return to_mlp(self)
