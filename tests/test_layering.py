"""The import layering of the package, enforced instead of only documented.

Layers, from the bottom: the numeric core (NumPy and SciPy only), the
scikit-learn glue that both estimators share, the two estimators, and the
programs on top. A module may import from its own layer and the ones below it,
never from above; only ``_compat`` touches scikit-learn's private names.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "skbp"

#: Module name (without the package) -> layer; every module must be listed.
LAYERS = {
    # 0: the numeric core -- no scikit-learn, no estimator.
    "_version": 0,
    "_docstrings": 0,
    "_exceptions": 0,
    "_blas": 0,
    "_namespace": 0,
    "_activations": 0,
    "_losses": 0,
    "_initializers": 0,
    "_optimizers": 0,
    "_network": 0,
    "_online": 0,
    "_training": 0,
    # 1: scikit-learn glue shared by both estimators.
    "_compat": 1,
    "_array_api": 1,
    "_callbacks": 1,
    "_base": 1,
    "_validation": 1,
    "_fitted_state": 1,
    "_mlp_convert": 1,
    "_gradcheck": 1,
    "_display": 1,
    # 2: the estimators.
    "_classifier": 2,
    "_regressor": 2,
    # 3: what users run.
    "__init__": 3,
    # Integrations on top of the estimators' public API.
    "_onnx": 3,
    "_stream": 3,
    "__main__": 3,
    "_demo": 3,
}
CORE = 0


def _modules(package=PACKAGE):
    return sorted(path.stem for path in package.glob("*.py"))


def _imports(module, package=PACKAGE):
    """``(imported module, imported names)`` of every import statement."""
    source = (package / f"{module}.py").read_text()
    for node in ast.walk(ast.parse(source, filename=module)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, tuple(alias.name for alias in node.names)


def upward_imports(module, package=PACKAGE):
    """Imports of skbp modules from a higher layer than ``module``'s."""
    return [
        imported
        for imported, _ in _imports(module, package)
        if imported.startswith("skbp.")
        and LAYERS[imported.split(".")[1]] > LAYERS[module]
    ]


def scikit_learn_imports(module, package=PACKAGE):
    return [
        imported for imported, _ in _imports(module, package) if _is_sklearn(imported)
    ]


def private_scikit_learn_imports(module, package=PACKAGE):
    found = []
    for imported, names in _imports(module, package):
        if not _is_sklearn(imported):
            continue
        private_module = any(part.startswith("_") for part in imported.split("."))
        private_names = [name for name in names if name.startswith("_")]
        if private_module or private_names:
            found.append((imported, private_names))
    return found


def _is_sklearn(imported):
    return imported == "sklearn" or imported.startswith("sklearn.")


def test_every_module_has_a_layer():
    assert set(_modules()) == set(LAYERS)


@pytest.mark.parametrize("module", _modules())
def test_imports_go_down_the_layers(module):
    assert upward_imports(module) == [], f"skbp.{module} imports from above"


@pytest.mark.parametrize(
    "module", [name for name, layer in LAYERS.items() if layer == CORE]
)
def test_the_numeric_core_imports_no_scikit_learn(module):
    assert scikit_learn_imports(module) == [], f"skbp.{module} is numeric core"


@pytest.mark.parametrize("module", sorted(set(LAYERS) - {"_compat"}))
def test_private_scikit_learn_names_only_through_compat(module):
    assert private_scikit_learn_imports(module) == [], "import them via _compat"


def test_the_rules_catch_violations(tmp_path):
    # The checks read source files: prove they see bad imports.
    (tmp_path / "_network.py").write_text(
        "import sklearn\n"
        "from sklearn.utils._param_validation import Interval\n"
        "from sklearn.base import _fit_context\n"
        "from skbp._classifier import BPClassifier\n"
    )
    assert upward_imports("_network", tmp_path) == ["skbp._classifier"]
    assert len(scikit_learn_imports("_network", tmp_path)) == 3
    assert private_scikit_learn_imports("_network", tmp_path) == [
        ("sklearn.utils._param_validation", []),
        ("sklearn.base", ["_fit_context"]),
    ]
