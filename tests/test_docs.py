"""The documentation's claims that code can check.

The parameter table of docs/coming_from_mlp.rst names every parameter of both
estimators with its default, next to scikit-learn's MLP counterparts: it is
read here and compared with the estimators. Every row of docs/errors.rst is run
here: its code must raise the exception named, with a message that begins as
shown. Neither page can drift from the code.
"""

import ast
import re
import warnings
from pathlib import Path

import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skbp import BPClassifier, BPRegressor
from skbp._compat import ARRAY_API_SUPPORTED

PAGE = Path(__file__).resolve().parent.parent / "docs" / "coming_from_mlp.rst"

#: Qualifier in the skbp column -> the estimators the row applies to.
APPLIES_TO = {
    None: [(BPClassifier, MLPClassifier), (BPRegressor, MLPRegressor)],
    "classifier": [(BPClassifier, MLPClassifier)],
    "regressor": [(BPRegressor, MLPRegressor)],
}


def _table_rows():
    """The parameter table's rows as lists of cell texts (header excluded)."""
    text = PAGE.read_text()
    table = text[text.index(":class: parameter-table") :]
    table = table[: table.index("\n\n``fit``")]
    rows = []
    for chunk in re.split(r"\n   \* - ", table)[1:]:
        cells = re.split(r"\n     - ", chunk)
        rows.append([" ".join(cell.split()) for cell in cells])
    return rows[1:]


def _literal(cell):
    """The Python value of a cell like ``'relu'`` or ``(100,)``; None for -."""
    inner = cell.strip("`")
    if inner == "-":
        return None
    return ast.literal_eval(inner)


def _name(cell):
    """``(name, qualifier)`` from a cell like ``loss`` (regressor)."""
    match = re.fullmatch(r"``(\w+|-)``(?: \((classifier|regressor)\))?", cell)
    assert match, f"unexpected parameter cell {cell!r}"
    return match.group(1), match.group(2)


def test_the_table_was_found():
    rows = _table_rows()
    assert len(rows) > 25
    assert all(len(row) == 5 for row in rows), [r for r in rows if len(r) != 5]


@pytest.mark.parametrize("row", _table_rows(), ids=lambda row: row[0])
def test_each_row_matches_the_estimators(row):
    ours, our_default, theirs, their_default, _ = row
    name, qualifier = _name(ours)
    their_name, _ = _name(theirs)
    for estimator, mlp in APPLIES_TO[qualifier]:
        assert estimator().get_params()[name] == _literal(our_default), name
        their_params = mlp().get_params()
        if their_name == "-":
            assert name not in their_params or name == "loss"
        elif their_name in their_params:
            assert their_params[their_name] == _literal(their_default)
        else:  # MLPRegressor's loss is from scikit-learn 1.7 on
            assert (their_name, mlp) == ("loss", MLPRegressor)


@pytest.mark.parametrize("estimator", [BPClassifier, BPRegressor])
def test_every_parameter_is_in_the_table(estimator):
    documented = set()
    for row in _table_rows():
        name, qualifier = _name(row[0])
        if estimator in [pair[0] for pair in APPLIES_TO[qualifier]]:
            documented.add(name)
    assert documented == set(estimator().get_params())


# ------------------------------------------------ docs/errors.rst, row by row

ERRORS_PAGE = PAGE.parent / "errors.rst"


def _error_rows():
    """``(case, code, exception name, message start)`` of every error table."""
    text = ERRORS_PAGE.read_text()
    rows = []
    for table in text.split(":class: error-table")[1:]:
        table = table.split("\n\n", 2)[1]  # the body, after the options
        for chunk in re.split(r"\n   \* - ", "\n" + table)[1:]:
            cells = [" ".join(c.split()) for c in re.split(r"\n     - ", chunk)]
            rows.append(cells)
    # Drop each table's header row; unescape the reST in the messages.
    rows = [row for row in rows if row[0] != "case"]
    return [
        (case, code.strip("`"), kind.strip("`"), re.sub(r"\\(.)", r"\1", message))
        for case, code, kind, message in rows
    ]


@pytest.fixture(scope="module")
def error_namespace():
    import numpy as np
    from sklearn.datasets import make_classification, make_regression
    from sklearn.neural_network import MLPClassifier

    from skbp import fit_stream

    X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    _, yr = make_regression(n_samples=80, n_features=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = BPClassifier((8, 4), max_iter=5, random_state=0).fit(X, y)
    namespace = {
        "np": np,
        "X": X,
        "y": y,
        "yr": yr,
        "clf": clf,
        "BPClassifier": BPClassifier,
        "BPRegressor": BPRegressor,
        "MLPClassifier": MLPClassifier,
        "fit_stream": fit_stream,
    }
    if ARRAY_API_SUPPORTED:  # the "Array libraries" rows' setup
        import array_api_strict as xps
        import sklearn

        Xs, ys = xps.asarray(X), xps.asarray(y)
        with sklearn.config_context(array_api_dispatch=True):
            strict_clf = BPClassifier((8, 4), max_iter=5, random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                strict_clf.fit(Xs, ys)
        namespace.update(xps=xps, sklearn=sklearn, Xs=Xs, ys=ys, strict_clf=strict_clf)
    return namespace


def test_the_error_tables_were_found():
    rows = _error_rows()
    assert len(rows) >= 40
    assert len({case for case, *_ in rows}) == len(rows)


@pytest.mark.parametrize("row", _error_rows(), ids=lambda row: row[0])
def test_each_documented_error_is_raised(row, error_namespace):
    _, code, kind, message = row
    if re.search(r"\b(Xs|strict_clf)\b", code) and not ARRAY_API_SUPPORTED:
        pytest.skip("array API dispatch needs scikit-learn >= 1.8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(Exception) as raised:
            exec(code, dict(error_namespace))
    assert type(raised.value).__name__ == kind
    start = message.removesuffix(" …")
    assert str(raised.value).startswith(start), str(raised.value)


GUIDE = PAGE.parent / "user_guide.rst"


def _code_blocks_of_section(title):
    """The ``.. code-block:: python`` blocks of one user-guide section."""
    text = GUIDE.read_text()
    start = text.index(f"\n{title}\n") + 1
    following = re.search(r"\n\n[^\n]+\n-{3,}\n", text[start + len(title) + 2 :])
    section = text[start : start + len(title) + 2 + following.start()]
    blocks = []
    block = r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)"
    for match in re.finditer(block, section):
        lines = match.group(1).splitlines()
        blocks.append("\n".join(line[4:] for line in lines))
    return blocks


def test_the_array_api_snippet_runs(capsys):
    """The GPU section's snippet runs as written (on the CPU without a GPU)."""
    pytest.importorskip("torch")
    if not ARRAY_API_SUPPORTED:
        pytest.skip("array API dispatch needs scikit-learn >= 1.8")
    (snippet,) = _code_blocks_of_section("Running on GPU and other array libraries")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        exec(compile(snippet, "user_guide.rst", "exec"), {})
    printed = capsys.readouterr().out.split()
    assert printed[0] == "Tensor"
    assert printed[-2:] == ["torch.Size([2000,", "2])"]


def test_the_pipeline_validation_set_snippet_runs(capsys):
    """The snippet that routes X_val through a Pipeline's preprocessing runs as
    written, and early stopping then scores what the pipeline scores."""
    (snippet,) = _code_blocks_of_section("Validation sets and ``scoring``")
    try:
        exec(compile(snippet, "user_guide.rst", "exec"), {})
    finally:
        sklearn.set_config(enable_metadata_routing=False)
    best, score = capsys.readouterr().out.split()
    assert float(best) == float(score) > 0.9
