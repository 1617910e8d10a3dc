"""Export fitted BPClassifier / BPRegressor models (and pipelines) to ONNX.

The export goes through skl2onnx's converter registry: each estimator class gets
a shape calculator and a converter (the classifier also skl2onnx's standard
classifier parser, which adds the ``zipmap`` / ``nocl`` / ``output_class_labels``
options), so a ``Pipeline(StandardScaler(), BPClassifier())`` converts as a
whole, scaler included. The converter writes the forward pass of
``skbp._core.network`` with ONNX operators and the outputs of ``predict`` and
``predict_proba`` / the regressor's ``predict``, formula for formula.

skl2onnx and onnx (the ``skbp[onnx]`` extra) are imported inside the functions
only: ``import skbp`` never needs them. This is an integration module on top of
the estimators; nothing in skbp imports it except ``skbp/__init__.py``.
"""

import math
from numbers import Integral

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from skbp._array_api import to_numpy
from skbp._classifier import BPClassifier
from skbp._core.activations import ELU_ALPHA, LEAKY_RELU_SLOPE
from skbp._core.outputs import CLASSIFIER_OUTPUTS
from skbp._introspect import (
    hidden_activation_names,
    is_multilabel,
    output_kind,
    prediction_ndim,
)
from skbp._regressor import BPRegressor
from skbp._tools import import_optional

__all__ = ["to_onnx"]

#: The ai.onnx opset written when the caller names none. Opset 17 is run by
#: onnxruntime >= 1.13 and known to every skl2onnx that supports scikit-learn
#: 1.6; a fixed number keeps the graph the same whichever skl2onnx is installed
#: (skl2onnx's own default is the newest opset it was tested with).
DEFAULT_TARGET_OPSET = 17
#: The oldest ai.onnx opset the converters write: Erf (GELU) is opset 9.
MIN_TARGET_OPSET = 9

_INSTALL_HINT = (
    'skbp.to_onnx needs skl2onnx and onnx: pip install "skl2onnx>=1.19.1" '
    "onnxruntime (what the skbp[onnx] extra installs)"
)

#: Options of the classifier converter, as skl2onnx's classifiers declare them.
_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
    "output_class_labels": [False, True],
}


# ---------------------------------------------------------------- the graph


class _Graph:
    """Adds nodes and constants to skl2onnx's container, all in one float dtype.

    Parameters
    ----------
    scope, container : skl2onnx Scope and ModelComponentContainer
        What skl2onnx passes a converter.
    dtype : {numpy.float32, numpy.float64}
        dtype of the computation: weights, constants and outputs.
    """

    def __init__(self, scope, container, dtype):
        from onnx import TensorProto

        self.scope = scope
        self.container = container
        self.dtype = np.dtype(dtype)
        self.proto = TensorProto
        self.float_proto = (
            TensorProto.DOUBLE if self.dtype == np.float64 else TensorProto.FLOAT
        )

    @property
    def is_double(self):
        return self.dtype == np.float64

    def const(self, value, dtype=None):
        """A constant (initializer) in ``dtype`` (default: the graph's), by name."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        name = self.scope.get_unique_variable_name("c")
        if array.dtype.kind == "U":
            proto, content = self.proto.STRING, [s.encode("utf-8") for s in array]
        elif array.dtype == np.int64:
            proto, content = self.proto.INT64, array.ravel()
        else:
            proto, content = self.float_proto, array.ravel()
        self.container.add_initializer(name, proto, list(array.shape), content)
        return name

    def op(self, op_type, *inputs, output=None, **attrs):
        """Add one node; return its output name (a fresh one unless given)."""
        if output is None:
            output = self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type,
            list(inputs),
            output,
            name=self.scope.get_unique_operator_name(op_type),
            **attrs,
        )
        return output


# ------------------------------------------------ hidden-layer activations
# One function per canonical name of skbp._core.activations. A float32 graph uses
# the single ONNX operator; onnxruntime's CPU provider has no float64 kernel
# for Softplus, Softsign, Elu, LeakyRelu (opset >= 16) or Erf, so a float64
# graph writes those out with operators it runs in float64.


def _relu(g, z):
    return g.op("Relu", z)


def _sigmoid(g, z):
    return g.op("Sigmoid", z)


def _tanh(g, z):
    return g.op("Tanh", z)


def _identity(g, z):
    return z


def _softsign(g, z):
    if not g.is_double:
        return g.op("Softsign", z)
    return g.op("Div", z, g.op("Add", g.const(1.0), g.op("Abs", z)))


def _leaky_relu(g, z):
    if not g.is_double:
        return g.op("LeakyRelu", z, alpha=LEAKY_RELU_SLOPE)
    # max(z, slope * z), skbp's own formula (slope < 1).
    return g.op("Max", z, g.op("Mul", z, g.const(LEAKY_RELU_SLOPE)))


def _elu(g, z):
    if not g.is_double:
        return g.op("Elu", z, alpha=ELU_ALPHA)
    # relu(z) + alpha * (exp(min(z, 0)) - 1): the second term is 0 for z >= 0.
    expm1 = g.op("Sub", g.op("Exp", g.op("Min", z, g.const(0.0))), g.const(1.0))
    return g.op("Add", g.op("Relu", z), g.op("Mul", expm1, g.const(ELU_ALPHA)))


def _softplus(g, z):
    if not g.is_double:
        return g.op("Softplus", z)  # onnxruntime's is overflow-safe (tested)
    # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): exp never overflows.
    tail = g.op(
        "Log", g.op("Add", g.const(1.0), g.op("Exp", g.op("Neg", g.op("Abs", z))))
    )
    return g.op("Add", g.op("Relu", z), tail)


def _gelu(g, z):
    # Exact GELU, z * Phi(z) = 0.5 * z * (1 + erf(z / sqrt(2))).
    u = g.op("Mul", z, g.const(math.sqrt(0.5)))
    if g.is_double:  # no float64 Erf in onnxruntime: erf in float32
        u = g.op("Cast", u, to=g.proto.FLOAT)
        erf = g.op("Cast", g.op("Erf", u), to=g.proto.DOUBLE)
    else:
        erf = g.op("Erf", u)
    half_z = g.op("Mul", z, g.const(0.5))
    return g.op("Mul", half_z, g.op("Add", g.const(1.0), erf))


#: Canonical activation name -> writer ``fn(graph, z) -> name of f(z)``.
ONNX_ACTIVATIONS = {
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "relu": _relu,
    "softsign": _softsign,
    "identity": _identity,
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "softplus": _softplus,
    "gelu": _gelu,
}


# ------------------------------------------------------- forward and outputs


def _check_opset(container):
    opset = container.target_opset
    if opset is not None and opset < MIN_TARGET_OPSET:
        raise ValueError(
            f"skbp's ONNX converters write ai.onnx opset >= {MIN_TARGET_OPSET} "
            f"(GELU's Erf is opset 9); got target_opset={opset}."
        )


def _graph_dtype(variable_type):
    """float64 for a double input, float32 otherwise (as skl2onnx's MLP does)."""
    from skl2onnx.common.data_types import DoubleTensorType

    return np.float64 if isinstance(variable_type, DoubleTensorType) else np.float32


def _logits(g, model, X_name, X_type):
    """The forward pass up to the output logits, ``z = a[-1] @ W[-1] + b[-1]``."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    a = X_name
    if not isinstance(X_type, (FloatTensorType, DoubleTensorType)):
        a = g.op("Cast", a, to=g.float_proto)  # integer or boolean input
    n_layers = len(model.coefs_)
    activations = hidden_activation_names(model)
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        # Host copies: a model fitted under array API dispatch keeps its
        # parameters on its device.
        W, b = to_numpy(W), to_numpy(b)
        z = g.op("Add", g.op("MatMul", a, g.const(W)), g.const(b))  # (n, fan_out)
        if i < n_layers - 1:
            a = ONNX_ACTIVATIONS[activations[i]](g, z)
    return z


def _label_table(classes):
    """``classes_`` as the values of the ONNX label output: int64 or str."""
    classes = np.asarray(classes)
    values = classes.tolist()
    if classes.dtype.kind in "biu" or all(isinstance(v, Integral) for v in values):
        return classes.astype(np.int64)
    # scikit-learn accepts float labels only when they are integral.
    if classes.dtype.kind == "f" and np.array_equal(classes, np.round(classes)):
        return classes.astype(np.int64)
    if all(isinstance(label, str) for label in values):
        return classes.astype(str)
    raise ValueError(
        "ONNX classifiers output integer or string labels; this model's classes "
        f"are {values!r}. Refit on integer or string labels (e.g. through "
        "sklearn.preprocessing.LabelEncoder)."
    )


def _lookup_table(scope, clf):
    """The label values, or the class indices under skl2onnx's ``nocl`` option."""
    options = scope.get_options(clf, dict(nocl=False))
    if options["nocl"]:
        return np.arange(clf.classes_.shape[0], dtype=np.int64)
    return _label_table(to_numpy(clf.classes_))


def _check_zipmap(scope, clf, dtype):
    options = scope.get_options(clf, dict(zipmap=True))
    if options["zipmap"] is True and dtype == np.float64:
        raise ValueError(
            "zipmap=True needs float32 probabilities (ONNX's ZipMap takes "
            "tensor(float) only), but X_sample is float64. Pass float32 input, "
            "or zipmap=False or 'columns'."
        )
    if options["zipmap"] and is_multilabel(clf):
        # skl2onnx would declare the label output 1-D (onnxruntime warns and
        # runs it anyway); refuse rather than write a wrong declaration.
        raise ValueError(
            "zipmap pairs one label per sample with its probabilities; a "
            "multilabel model's labels are an indicator matrix. Use zipmap=False."
        )


def convert_classifier(scope, operator, container):
    """skl2onnx converter of BPClassifier: outputs ``label`` and ``probabilities``.

    The graph follows the model's output kind in
    ``skbp._core.outputs.CLASSIFIER_OUTPUTS``, the table ``predict`` and
    ``predict_proba`` read:

    - ``mirror`` (binary, one logit): the scores ``[-z, z]``;
    - ``log_logistic_first`` (normalised logistic): ``log_sigmoid(scores) =
      -softplus(-scores)``, which survives rows whose sigmoids all underflow;
    - ``normalise``: probabilities ``softmax`` of the scores, else ``sigmoid``;
    - ``clip`` (multilabel): probabilities clipped into ``[tiny, 1 - epsneg]``;
    - ``indicator`` (multilabel): labels ``z > 0`` as int64; otherwise the
      label is the class of the ``ArgMax`` of the (mirrored) logits.
    """
    _check_opset(container)
    clf = operator.raw_operator
    dtype = _graph_dtype(operator.inputs[0].type)
    _check_zipmap(scope, clf, dtype)
    spec = CLASSIFIER_OUTPUTS[output_kind(clf)]
    g = _Graph(scope, container, dtype)
    z = _logits(g, clf, operator.inputs[0].full_name, operator.inputs[0].type)
    label_name = operator.outputs[0].full_name
    proba_name = operator.outputs[1].full_name
    scores = g.op("Concat", g.op("Neg", z), z, axis=1) if spec.mirror else z
    if spec.indicator:
        positive = g.op("Greater", z, g.const(0.0))
        g.op("Cast", positive, to=g.proto.INT64, output=label_name)
    else:
        # ArgMax keeps the first of tied maxima, as numpy's argmax does.
        index = g.op("ArgMax", scores, axis=1, keepdims=0)  # (n,)
        table = _lookup_table(scope, clf)
        g.op("Gather", g.const(table, dtype=table.dtype), index, output=label_name)
    if spec.log_logistic_first:
        scores = g.op("Neg", _softplus(g, g.op("Neg", scores)))
    if spec.normalise:
        g.op("Softmax", scores, axis=1, output=proba_name)
    elif spec.clip:
        info = np.finfo(g.dtype)
        proba = g.op("Min", g.op("Sigmoid", scores), g.const(1.0 - info.epsneg))
        g.op("Max", proba, g.const(info.tiny), output=proba_name)
    else:
        g.op("Sigmoid", scores, output=proba_name)


def convert_regressor(scope, operator, container):
    """skl2onnx converter of BPRegressor: ``predict`` as one output ``variable``.

    The identity output, or ``exp(z)`` for ``loss='poisson'`` (the log link);
    any target scaling is already folded into ``coefs_`` / ``intercepts_``.
    The shape is ``predict``'s: (n,) for a model fitted on 1-D ``y``, else
    (n, n_outputs).
    """
    _check_opset(container)
    reg = operator.raw_operator
    g = _Graph(scope, container, _graph_dtype(operator.inputs[0].type))
    y = _logits(g, reg, operator.inputs[0].full_name, operator.inputs[0].type)
    if reg.out_activation_ == "exp":
        y = g.op("Exp", y)
    output = operator.outputs[0].full_name
    if prediction_ndim(reg) == 1:
        g.op("Reshape", y, g.const([-1], dtype=np.int64), output=output)
    else:
        g.op("Identity", y, output=output)


# ------------------------------------------------------- shape calculators


def _tensor_type(variable_type):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    return (
        DoubleTensorType
        if isinstance(variable_type, DoubleTensorType)
        else FloatTensorType
    )


def calculate_classifier_shapes(operator):
    """Types of ``label`` (n,) or (n, n_labels) and ``probabilities`` (n, n_classes)."""
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType
    from skl2onnx.common.utils import check_input_and_output_numbers

    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=2)
    clf = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    n_classes = clf.classes_.shape[0]
    if is_multilabel(clf):
        label_type = Int64TensorType([n, n_classes])
    else:
        table = _lookup_table(operator.scope_inst, clf)
        string = table.dtype.kind == "U"
        label_type = (StringTensorType if string else Int64TensorType)([n])
    operator.outputs[0].type = label_type
    operator.outputs[1].type = _tensor_type(operator.inputs[0].type)([n, n_classes])


def calculate_regressor_shapes(operator):
    """Type of the prediction: (n,) for 1-D ``y`` at fit, else (n, n_outputs)."""
    from skl2onnx.common.utils import check_input_and_output_numbers

    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    reg = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    shape = [n] if prediction_ndim(reg) == 1 else [n, reg.n_outputs_]
    operator.outputs[0].type = _tensor_type(operator.inputs[0].type)(shape)


# ---------------------------------------------------------------- registry


def _bp_classes(model):
    """BPClassifier, BPRegressor and any subclass of them used in ``model``."""
    found = {BPClassifier, BPRegressor, type(model)}
    if hasattr(model, "get_params"):
        found.update(type(value) for value in model.get_params(deep=True).values())
    return {cls for cls in found if issubclass(cls, (BPClassifier, BPRegressor))}


def _register_converters(classes=(BPClassifier, BPRegressor)):
    """Register skbp's shape calculators and converters with skl2onnx.

    Idempotent. Registering the classifier with the ``zipmap`` option makes
    skl2onnx use its standard classifier parser (label + probabilities).
    """
    skl2onnx = import_optional("skl2onnx", _INSTALL_HINT)
    for cls in sorted(classes, key=lambda cls: cls.__name__):
        alias = f"Skbp{cls.__name__}"
        if issubclass(cls, BPClassifier):
            skl2onnx.update_registered_converter(
                cls,
                alias,
                calculate_classifier_shapes,
                convert_classifier,
                options=_CLASSIFIER_OPTIONS,
            )
        else:
            skl2onnx.update_registered_converter(
                cls, alias, calculate_regressor_shapes, convert_regressor
            )


def _mentions_zipmap(options):
    for key, value in options.items():
        if isinstance(key, str) and (key == "zipmap" or key.endswith("__zipmap")):
            return True
        if isinstance(value, dict) and "zipmap" in value:
            return True
    return False


def to_onnx(model, X_sample, *, target_opset=None, options=None, **kwargs):
    """Convert a fitted BPClassifier, BPRegressor or Pipeline to an ONNX model.

    skbp's converters are registered with skl2onnx's converter registry and the
    model is converted by ``skl2onnx.to_onnx``, so a ``Pipeline`` whose final
    step is a skbp estimator converts as a whole (its other steps by skl2onnx's
    own converters). The graph's input is named ``"X"``; serve it with
    ``onnxruntime.InferenceSession(onx.SerializeToString()).run(None, {"X": X})``.

    Parameters
    ----------
    model : BPClassifier, BPRegressor or Pipeline
        A fitted estimator, or a fitted pipeline ending in one (any model
        skl2onnx converts once skbp's converters are registered).
    X_sample : array-like of shape (n_samples, n_features)
        A few rows of input, e.g. ``X[:1]``; only its dtype and number of
        columns are used (a DataFrame is read as one array). float32 gives a
        float32 graph, float64 a float64 graph; the weights are cast to that
        dtype (integer input is cast to float32 in the graph). None if
        ``initial_types`` is given instead.
    target_opset : int or dict, default=None
        The ai.onnx opset to write (or skl2onnx's ``{domain: opset}`` dict); None
        for ``DEFAULT_TARGET_OPSET`` = 17 (onnxruntime >= 1.13). skbp's
        converters need opset >= 9.
    options : dict, default=None
        Converter options of skl2onnx, e.g. ``{"zipmap": True}``, keyed by
        option name for the final estimator or by step (``"clf__zipmap"``),
        class or ``id``. For classifiers, skbp's default is ``zipmap=False``
        (skl2onnx's is True): outputs ``label`` and ``probabilities`` shaped
        like ``predict`` and ``predict_proba``. ``zipmap=True`` gives
        ``output_label`` and ``output_probability`` (one dict per sample) and
        needs float32 input; ``'columns'`` gives one output per class.
        ``nocl=True`` outputs class indices instead of labels.
    **kwargs
        Passed to ``skl2onnx.to_onnx`` (``name``, ``final_types``,
        ``naming``, ...).

    Returns
    -------
    onx : onnx.ModelProto
        The ONNX model. A classifier outputs ``label`` (``predict``: int64 for
        integer or boolean classes, string for strings; an int64 indicator
        matrix for multilabel targets) and ``probabilities``
        (``predict_proba``). A regressor outputs ``variable``, shaped like
        ``predict``: (n,) for a model fitted on 1-D ``y``, unlike skl2onnx's
        own regressors' (n, 1), and (n, n_outputs) otherwise.

    Raises
    ------
    ImportError
        Without skl2onnx (``pip install "skl2onnx>=1.19.1" onnxruntime``).
    NotFittedError
        If ``model`` is not fitted.
    ValueError
        For ``target_opset`` < 9, ``zipmap=True`` with float64 input, any
        ``zipmap`` for a multilabel model, or class labels that are neither
        integers nor strings.

    See Also
    --------
    skl2onnx.to_onnx : The conversion this function runs.

    Notes
    -----
    Hidden layers are ``MatMul`` + ``Add`` and the activation, all ai.onnx:
    relu ``Relu``, sigmoid ``Sigmoid``, tanh ``Tanh``, identity (nothing),
    softsign ``Softsign`` (opset 1), leaky_relu ``LeakyRelu`` with
    ``alpha=0.01`` (opset 6), elu ``Elu`` with ``alpha=1.0`` (opset 6),
    softplus ``Softplus`` (opset 1) and gelu
    :math:`\\frac{z}{2} (1 + \\operatorname{erf}(z / \\sqrt{2}))` with ``Erf``
    (opset 9, the converters' minimum). onnxruntime has no float64 kernels for
    Softsign, LeakyRelu, Elu, Softplus and Erf: float64 graphs write the first
    four with ``Abs``, ``Max``, ``Min``, ``Exp``, ``Log`` and ``Relu``, and
    evaluate GELU's ``erf`` in float32 (so a float64 GELU network agrees with
    skbp to about 1e-7, not to float64 rounding).

    The outputs follow ``predict`` and ``predict_proba``: ``Softmax`` for
    multiclass log-loss, ``Sigmoid`` of ``[-z, z]`` for binary, clipped
    ``Sigmoid`` for multilabel, ``Softmax(-Softplus(-z))`` (normalised
    logistic outputs) for multiclass squared error; labels from ``ArgMax`` and
    ``Gather``. The regressor's output is ``z`` or ``Exp(z)`` (Poisson).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbp import BPClassifier, to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> net = BPClassifier((8,), solver="lbfgs", random_state=0)
    >>> clf = make_pipeline(StandardScaler(), net).fit(X, y)
    >>> onx = to_onnx(clf, X[:1])  # doctest: +SKIP
    >>> [output.name for output in onx.graph.output]  # doctest: +SKIP
    ['label', 'probabilities']
    >>> from onnxruntime import InferenceSession  # doctest: +SKIP
    >>> session = InferenceSession(onx.SerializeToString())  # doctest: +SKIP
    >>> label, proba = session.run(None, {"X": X})  # doctest: +SKIP
    >>> bool((label == clf.predict(X)).all())  # doctest: +SKIP
    True
    >>> float(abs(proba - clf.predict_proba(X)).max()) < 1e-5  # doctest: +SKIP
    True
    """
    skl2onnx = import_optional("skl2onnx", _INSTALL_HINT)
    check_is_fitted(model)
    _register_converters(_bp_classes(model))
    if target_opset is None:
        target_opset = DEFAULT_TARGET_OPSET
    options = {} if options is None else dict(options)
    if is_classifier(model) and not _mentions_zipmap(options):
        options["zipmap"] = False
    if X_sample is not None and not hasattr(X_sample, "dtype"):
        # Lists and DataFrames: one input "X", where skl2onnx would make a
        # DataFrame into one input per column.
        X_sample = np.asarray(X_sample)
    return skl2onnx.to_onnx(
        model, X_sample, target_opset=target_opset, options=options, **kwargs
    )
