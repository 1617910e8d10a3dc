"""The package's layers, enforced by folder instead of only documented.

From the bottom:

* ``skbp/_core/``: the numeric core. NumPy and SciPy only (and threadpoolctl
  for the BLAS thread policy); it imports nothing
  from skbp outside ``_core`` and nothing from scikit-learn, so it runs in a
  REPL on plain arrays.
* ``skbp/_compat.py``: the only module that names private scikit-learn things.
* the estimator layer, the other modules at the package's top (``_base``,
  ``_classifier``, ``_regressor``, ``_holdout``, ``_fitted_state``,
  ``_interop``, ...): scikit-learn's public API, ``_compat`` and ``_core``;
  never ``_tools``.
* ``skbp/_tools/``: built on the estimators' public API (and ``_core``).
* ``skbp/__init__.py`` and ``skbp/__main__.py``: what users import and run.

Private scikit-learn names are caught whether they are imported, accessed as
attributes (``self._validate_params``), defined as overrides, or written in
messages (``sklearn.utils._array_api``).
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

import skbp

PACKAGE = Path(skbp.__file__).resolve().parent
SYSTEM = {"core", "compat", "estimators", "tools", "entry"}

#: Private attributes of the estimators that a tool reads, each with its reason.
TOOLS_PRIVATE_ALLOWED = {}


def layer_of(path, package=PACKAGE):
    """The layer of a module file, from its folder (and name, at the top)."""
    relative = path.relative_to(package)
    if relative.parts[0] == "_core":
        return "core"
    if relative.parts[0] == "_tools":
        return "tools"
    if relative.name in ("__init__.py", "__main__.py"):
        return "entry"
    if relative.name == "_compat.py":
        return "compat"
    return "estimators"


def module_files(package=PACKAGE):
    return sorted(package.rglob("*.py"))


def _module_ids(package=PACKAGE):
    return [str(path.relative_to(package)) for path in module_files(package)]


def _tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def imports(path):
    """``(imported module, imported names)`` of every import statement."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, tuple(alias.name for alias in node.names)


def _is_sklearn(imported):
    return imported == "sklearn" or imported.startswith("sklearn.")


def forbidden_imports(path, package=PACKAGE):
    """Imports that break the rules of the module's layer."""
    layer = layer_of(path, package)
    found = []
    for imported, _ in imports(path):
        top = imported.split(".")[0]
        if layer == "core":
            if _is_sklearn(imported) or (
                top == "skbp" and not imported.startswith("skbp._core")
            ):
                found.append(imported)
        elif layer == "compat":
            if top == "skbp":
                found.append(imported)
        elif layer == "estimators":
            if imported.startswith("skbp._tools") or imported == "skbp":
                found.append(imported)
    return found


def private_sklearn_imports(path):
    found = []
    for imported, names in imports(path):
        if not _is_sklearn(imported):
            continue
        private_module = any(part.startswith("_") for part in imported.split("."))
        private_names = [name for name in names if name.startswith("_")]
        if private_module or private_names:
            found.append((imported, private_names))
    return found


def sklearn_private_names():
    """Private names that scikit-learn defines on what skbp's estimators inherit.

    Their base classes' private methods and attributes (``_validate_params``,
    ``_doc_link_module``, ``_init_callback_context``, ...) and the
    ``_skl_*`` attributes its callback machinery sets on estimators.
    """
    classes = [BaseEstimator, ClassifierMixin, RegressorMixin]
    try:
        from sklearn.callback import CallbackSupportMixin
    except ImportError:
        pass
    else:
        classes.append(CallbackSupportMixin)
    names = set()
    for cls in classes:
        for klass in cls.__mro__:
            if klass.__module__.startswith("sklearn"):
                names |= {n for n in vars(klass) if n.startswith("_") and n[1:2] != "_"}
    # The callback machinery's attributes on the estimator (1.9+), named
    # whatever the installed version is.
    names |= {"_skl_callbacks", "_callback_fit_ctx", "_parent_callback_ctx"}
    return names


_PRIVATE_PATH = re.compile(r"sklearn(\.\w+)*\._\w+")


def private_sklearn_uses(path, names):
    """Private scikit-learn names used without an import: attributes, overrides
    (methods or class attributes of that name) and dotted paths in strings."""
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Attribute) and node.attr in names:
            found.append(node.attr)
        elif isinstance(node, ast.FunctionDef) and node.name in names:
            found.append(f"def {node.name}")
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in names:
                    found.append(f"{target.id} =")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in names:
                found.append(repr(node.value))
            found.extend(match.group(0) for match in _PRIVATE_PATH.finditer(node.value))
    return found


def estimator_private_names():
    """Private attributes and methods of fitted skbp estimators."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    names = set()
    for model in (
        skbp.BPClassifier(max_iter=2, random_state=0),
        skbp.BPRegressor(max_iter=2, random_state=0),
    ):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y.astype(float) if "Regressor" in type(model).__name__ else y)
        names |= {n for n in vars(model) if n.startswith("_") and n[1:2] != "_"}
        for klass in type(model).__mro__:
            if klass.__module__.startswith("skbp"):
                names |= {n for n in vars(klass) if n.startswith("_") and n[1:2] != "_"}
    return names


def attribute_reads(path, names):
    return sorted(
        {
            node.attr
            for node in ast.walk(_tree(path))
            if isinstance(node, ast.Attribute)
            and node.attr in names
            and not (isinstance(node.value, ast.Name) and node.value.id == "self")
        }
    )


# ----------------------------------------------------------------------- tests


def test_every_module_is_in_a_known_layer():
    layers = {layer_of(path) for path in module_files()}
    assert layers <= SYSTEM
    assert {"core", "tools", "estimators"} <= layers


@pytest.mark.parametrize("module", _module_ids())
def test_imports_follow_the_layers(module):
    path = PACKAGE / module
    assert forbidden_imports(path) == [], f"{module} ({layer_of(path)})"


@pytest.mark.parametrize(
    "module", [m for m in _module_ids() if m != "_compat.py"], ids=str
)
def test_private_scikit_learn_names_only_in_compat(module):
    path = PACKAGE / module
    assert private_sklearn_imports(path) == [], "import them via _compat"
    assert private_sklearn_uses(path, sklearn_private_names()) == [], (
        "name them only in _compat"
    )


def test_the_core_runs_without_scikit_learn():
    # Blocking scikit-learn makes any import of it fail; skbp/__init__ imports
    # the estimators, so the core's package is loaded on its own.
    code = (
        "import sys, types\n"
        f"package = types.ModuleType('skbp'); package.__path__ = [{str(PACKAGE)!r}]\n"
        "sys.modules['skbp'] = package\n"
        "sys.modules['sklearn'] = None\n"
        "import importlib, pkgutil, skbp._core as core\n"
        "for info in pkgutil.iter_modules(core.__path__):\n"
        "    importlib.import_module('skbp._core.' + info.name)\n"
        "assert not any(m.startswith('skbp.') and not m.startswith('skbp._core')\n"
        "               for m in sys.modules), sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "module",
    [str(p.relative_to(PACKAGE)) for p in (PACKAGE / "_tools").glob("*.py")],
)
def test_tools_use_the_estimators_public_api(module):
    reads = attribute_reads(PACKAGE / module, estimator_private_names())
    unexplained = [name for name in reads if name not in TOOLS_PRIVATE_ALLOWED]
    assert unexplained == [], f"{module} reads private estimator attributes"


def test_the_rules_catch_violations(tmp_path):
    # The checks read source files: prove they see each kind of violation.
    core = tmp_path / "_core"
    core.mkdir()
    (core / "network.py").write_text(
        "import sklearn\n"
        "from sklearn.utils._param_validation import Interval\n"
        "from sklearn.base import _fit_context\n"
        "from skbp._classifier import BPClassifier\n"
        "from skbp._core.losses import OUTPUT_LOSSES\n"
    )
    assert forbidden_imports(core / "network.py", tmp_path) == [
        "sklearn",
        "sklearn.utils._param_validation",
        "sklearn.base",
        "skbp._classifier",
    ]
    assert private_sklearn_imports(core / "network.py") == [
        ("sklearn.utils._param_validation", []),
        ("sklearn.base", ["_fit_context"]),
    ]
    (tmp_path / "_base.py").write_text(
        "from skbp._tools.onnx import to_onnx\n"
        "class B:\n"
        "    _doc_link_module = 'skbp'\n"
        "    def _validate_params(self):\n"
        "        return self._repr_html_inner()\n"
        "MESSAGE = 'see sklearn.utils._array_api.move_estimator_to'\n"
    )
    assert forbidden_imports(tmp_path / "_base.py", tmp_path) == ["skbp._tools.onnx"]
    assert sorted(
        private_sklearn_uses(tmp_path / "_base.py", sklearn_private_names())
    ) == [
        "_doc_link_module =",
        "_repr_html_inner",
        "def _validate_params",
        "sklearn.utils._array_api",
    ]
    (tmp_path / "tool.py").write_text("def f(model):\n    return model._network\n")
    assert attribute_reads(tmp_path / "tool.py", {"_network"}) == ["_network"]


def test_html_representation_links_to_skbp_api_page():
    from sklearn.utils import estimator_html_repr

    for estimator in (skbp.BPClassifier(), skbp.BPRegressor()):
        name = type(estimator).__name__
        html = estimator_html_repr(estimator)
        assert f"generated/skbp.{name}.html" in html


# ------------------------------------------------------------- house sizes

MAX_MODULE_LINES = 800
MAX_BODY_LINES = 60
MAX_PARAMETERS = 8


def _public_names():
    """Functions and methods a user calls, exempt from the parameter limit."""
    names = set(skbp.__all__)
    for estimator in (skbp.BPClassifier, skbp.BPRegressor):
        names |= {n for n in dir(estimator) if not n.startswith("_")}
    return names


def size_violations(path, public=frozenset()):
    """Modules, function bodies (without docstring) and parameter lists that
    break the house limits; ``__init__`` and public functions may take more
    parameters (scikit-learn reads the estimators' parameters from
    ``__init__``)."""
    source = path.read_text()
    found = []
    if source.count("\n") > MAX_MODULE_LINES:
        found.append(f"{path.name}: {source.count(chr(10))} lines")
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        lines = body[-1].end_lineno - body[0].lineno + 1 if body else 0
        if lines > MAX_BODY_LINES:
            found.append(f"{node.name}: a body of {lines} lines")
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        count = len(params) + bool(args.vararg) + bool(args.kwarg)
        count -= bool(params) and params[0].arg in ("self", "cls")
        exempt = node.name == "__init__" or node.name in public
        if count > MAX_PARAMETERS and not exempt:
            found.append(f"{node.name}: {count} parameters")
    return found


@pytest.mark.parametrize("module", _module_ids())
def test_house_sizes(module):
    assert size_violations(PACKAGE / module, _public_names()) == []


def test_house_sizes_catch_violations(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    (tmp_path / "big.py").write_text(
        f"def f(a, b, c, d, e, f, g, h, i):\n    pass\n\ndef g():\n{body}\n"
    )
    assert size_violations(tmp_path / "big.py") == [
        "f: 9 parameters",
        "g: a body of 61 lines",
    ]


class _Metadata:
    def __init__(self, urls):
        self._urls = urls

    def get_all(self, name):
        return self._urls if name == "Project-URL" else None


@pytest.mark.parametrize(
    "urls, expected",
    [
        (
            ["Source, https://example.org/src", "Documentation, https://d.org/x/"],
            "https://d.org/x/generated/skbp.{estimator_name}.html",
        ),
        (["Source, https://example.org/src"], ""),
        (None, ""),
        ("missing", ""),
    ],
    ids=["documentation", "no-documentation-url", "no-urls", "not-installed"],
)
def test_api_page_url_comes_from_the_package_metadata(monkeypatch, urls, expected):
    from importlib import metadata

    from skbp import _docstrings

    def fake_metadata(name):
        assert name == "skbp"
        if urls == "missing":
            raise metadata.PackageNotFoundError(name)
        return _Metadata(urls)

    monkeypatch.setattr(_docstrings.metadata, "metadata", fake_metadata)
    assert _docstrings.api_page_url_template() == expected
