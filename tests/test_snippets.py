"""Every code block of README.md and docs/*.rst runs as written, on its own.

**Which blocks are Python.** In README.md, a ```` ```python ```` fence (or
``py``, ``python3``, ``pycon``). In docs/*.rst, ``.. code-block:: python`` (or
``py``, ``python3``, ``pycon``) and the ``code`` / ``sourcecode`` spellings of
the directive, and a ``::`` literal block whose text compiles as Python: Sphinx
highlights ``::`` blocks as Python when they lex as Python (the default
``highlight_language``), so a literal block that reads as Python is run and one
that does not (the benchmark tables of docs/performance.rst) is text. A
``pycon`` block, or a Python or ``::`` block whose first line starts with
``>>>``, is a doctest.
Every other language (``console``, ``text``, ...) is not Python: shell blocks
are checked, not run (see below).

**How a Python block runs.** Written to ``snippet.py`` in an empty temporary
directory (files it writes land there) and run as ``python snippet.py`` by this
interpreter in a subprocess: a fresh process, as a reader running the block as a
script would, so the block must carry its own imports and data (and a script
that starts worker processes needs its ``if __name__ == "__main__":`` guard).
matplotlib gets the Agg backend. ``SCIPY_ARRAY_API`` (which tests/conftest.py
sets for the suite) is removed, unless the block's first line says how to run
it, like ``# SCIPY_ARRAY_API=1 python this_script.py``: the ``NAME=value``
words of that comment are set. A doctest runs through :mod:`doctest` with
ELLIPSIS and NORMALIZE_WHITESPACE in the same kind of subprocess.

**Printed output.** A comment ``# prints <expected>`` (at the end of a line or
on a line of its own, usually after a ``print``) says what the block prints:
each such expectation, in order, must match a later line of the output. ``...``
in it matches any text; a number matches a printed number within one unit of
its last written decimal (``0.48`` matches 0.47 to 0.49, ``2000`` only 2000);
the rest must appear as written, runs of spaces alike.

**Markers.** An rst comment right before a block (``.. name: value``; in
Markdown ``<!-- name: value -->``) applies to it:

- ``skip-snippet: <reason>``: the block cannot run in CI (it needs a GPU, a
  running cluster, ...); it is reported as skipped with the reason;
- ``snippet-requires: scikit-learn>=1.9, torch``: the block runs only where
  these distributions are installed, at these versions (``make test-oldest``
  has scikit-learn 1.6 and no torch); elsewhere it is skipped with the reason.

An unmarked block that fails fails its test, as does a marker that is followed
by no Python block.

**Shell blocks and install lines.** Not run. Every ``pip install`` in
README.md and the docs (in a block or inline) must work from a clone of this
repository: ``pip install -e .`` or ``pip install -e ".[extras]"``, or the wheel
built from the clone (``dist/skbp-<this version>-py3-none-any.whl``, extras
allowed), with extras that pyproject.toml defines; PyTorch only as its CPU
wheel (``--index-url https://download.pytorch.org/whl/cpu``); and the package
index's ``pip install "skbp[...]"`` only in the paragraph that says what
changes once skbp is published. Every ``make <target>`` names a target of the
Makefile.

**Width.** Every line of a code block is at most 80 characters, so that no
block scrolls sideways in the rendered docs (the benchmark tables that
benchmarks/bench_speed.py writes into docs/performance.rst excepted), and no
docs page repeats the "On this page" box that the theme draws (``.. contents::``).
"""

import os
import re
import shlex
import subprocess
import sys
import textwrap
import tokenize
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from io import StringIO
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst"))]

PYTHON = {"python", "py", "python3", "pycon"}
NOT_PYTHON = {"console", "bash", "sh", "shell", "text", "none", "markdown"}
SHELL = {"console", "bash", "sh", "shell"}
MARKERS = ("skip-snippet", "snippet-requires")
MARKER_NAMES = "|".join(MARKERS)
MAX_WIDTH = 80
TIMEOUT = 300  # seconds, per block
PUBLISHED_NOTE = "once skbp is published"


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the block's first code line
    language: str  # "python", "pycon", "console", "text", ... ("" for ::)
    code: str
    markers: dict = field(default_factory=dict)

    @property
    def name(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def is_doctest(self):
        prompt = self.code.lstrip().startswith(">>>")
        return self.language == "pycon" or (prompt and self.language in PYTHON | {""})

    @property
    def is_python(self):
        if self.language in PYTHON or self.is_doctest:
            return True
        if self.language:  # any other named language
            return False
        try:  # a ``::`` literal block: Python if it compiles
            compile(self.code, self.name, "exec")
        except SyntaxError:
            return False
        return True


# ------------------------------------------------------------------ extraction


def _marker(text):
    """``(name, value)`` of a marker comment's text, or None."""
    match = re.fullmatch(rf"\s*({MARKER_NAMES}):\s*(.*?)\s*", text)
    return (match.group(1), match.group(2)) if match else None


def markdown_blocks(text, path):
    """The fenced blocks of a Markdown file, with the markers before each."""
    blocks, pending = [], {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        comment = re.fullmatch(r"\s*<!--(.*)-->\s*", line)
        fence = re.fullmatch(r"(\s*)(```+|~~~+)\s*([\w+-]*).*", line)
        if comment and _marker(comment.group(1)):
            name, value = _marker(comment.group(1))
            pending[name] = value
        elif fence:
            indent, ticks, language = fence.groups()
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(ticks):
                body.append(lines[i])
                i += 1
            code = textwrap.dedent("\n".join(body)) + "\n"
            start = i - len(body) + 1
            blocks.append(Block(path, start, language.lower(), code, pending))
            pending = {}
        i += 1
    return blocks


def _indent(line):
    return len(line) - len(line.lstrip())


def _indented_body(lines, i, indent):
    """The lines from ``i`` on indented deeper than ``indent`` (blank lines
    inside included), their first index and the index after them."""
    start, body = i, []
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
        body.append(lines[i])
        i += 1
    while body and not body[-1].strip():
        body.pop()
    return body, start, i


def rst_blocks(text, path):
    """The code-block directives and ``::`` literal blocks of an rst file, with
    the markers (rst comments) before each."""
    blocks, pending = [], {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        indent = _indent(line)
        directive = re.fullmatch(
            r"\s*\.\. (code-block|code|sourcecode)::\s*(\S*)\s*", line
        )
        comment = re.fullmatch(r"\s*\.\. (.*)", line)
        if directive:
            language = directive.group(2).lower() or ""
            i += 1
            while i < len(lines) and re.match(r"\s+:\w[\w-]*:", lines[i]):
                i += 1  # the directive's options
            body, start, i = _indented_body(lines, i, indent)
        elif comment and _marker(comment.group(1)):
            name, value = _marker(comment.group(1))
            pending[name] = value
            i += 1
            continue
        elif line.rstrip().endswith("::") and not comment:
            # A paragraph ending in "::" (or "::" alone) opens a literal block.
            language = ""
            body, start, i = _indented_body(lines, i + 1, indent)
            if not body:
                continue
        else:
            i += 1
            continue
        first = next(n for n, text in enumerate(body) if text.strip())
        code = textwrap.dedent("\n".join(body[first:])) + "\n"
        blocks.append(Block(path, start + first + 1, language, code, pending))
        pending = {}
    return blocks


def all_blocks():
    blocks = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".md":
            blocks += markdown_blocks(text, path)
        else:
            blocks += rst_blocks(text, path)
    return blocks


BLOCKS = all_blocks()
PYTHON_BLOCKS = [block for block in BLOCKS if block.is_python]


# --------------------------------------------------------- printed output


def expectations(code):
    """The ``# prints ...`` comments of a block, in order."""
    found = []
    tokens = tokenize.generate_tokens(StringIO(code).readline)
    for token in tokens:
        if token.type == tokenize.COMMENT:
            match = re.fullmatch(r"#\s*prints\s+(.*?)\s*", token.string)
            if match:
                found.append(match.group(1))
    return found


NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"


def _tolerance(written):
    """One unit of the last written decimal of a number (0 for an integer)."""
    mantissa, _, exponent = written.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    if "." not in mantissa and not exponent:
        return 0.0
    return 10.0 ** (int(exponent or 0) - decimals)


def matches(expected, line):
    """Whether a printed ``line`` matches an ``expected`` template."""
    pattern, numbers = "", []
    for piece in re.split(rf"(\.\.\.|{NUMBER}|\s+)", expected.strip()):
        if not piece:
            continue
        if piece == "...":
            pattern += ".*?"
        elif re.fullmatch(NUMBER, piece):
            pattern += f"({NUMBER})"
            numbers.append(piece)
        elif piece.isspace():
            pattern += r"\s+"
        else:
            pattern += re.escape(piece)
    match = re.fullmatch(pattern, line.strip())
    if not match:
        return False
    return all(
        abs(float(got) - float(want)) <= _tolerance(want) * (1 + 1e-9)
        for got, want in zip(match.groups(), numbers)
    )


def check_output(expected, output):
    """Each expectation matches a line of ``output``, in order; an error
    message, or None."""
    lines = output.splitlines()
    position = 0
    for template in expected:
        for n in range(position, len(lines)):
            if matches(template, lines[n]):
                position = n + 1
                break
        else:
            return f"no line of the output (after line {position}) matches {template!r}"
    return None


# ------------------------------------------------------------------ running


def _environment(block):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SCIPY_ARRAY_API", "PYTHONSTARTUP", "MPLBACKEND"}
    }
    env["MPLBACKEND"] = "Agg"
    first = block.code.lstrip().splitlines()[0]
    how = re.fullmatch(r"#\s*((?:\w+=\S*\s+)+)python\b.*", first.strip())
    if how:
        env.update(word.split("=", 1) for word in how.group(1).split())
    return env


def _missing_requirement(spec):
    """Why ``spec`` (``name>=version``, comma-separated) is not met, or None."""
    for text in spec.split(","):
        requirement = Requirement(text.strip())
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            return f"needs {requirement.name} (not installed)"
        if not requirement.specifier.contains(installed, prereleases=True):
            return f"needs {requirement}, not {installed}"
    return None


DOCTEST_RUNNER = """
import doctest, sys
text = open("snippet.txt", encoding="utf-8").read()
test = doctest.DocTestParser().get_doctest(text, {}, "snippet", "snippet.txt", 0)
flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
runner = doctest.DocTestRunner(optionflags=flags)
runner.run(test)
sys.exit(1 if runner.failures else 0)
"""


def run_block(block, directory):
    """Run ``block`` in a subprocess in ``directory``: the completed process."""
    if block.is_doctest:
        (directory / "snippet.txt").write_text(block.code, encoding="utf-8")
        command = [sys.executable, "-c", DOCTEST_RUNNER]
    else:
        (directory / "snippet.py").write_text(block.code, encoding="utf-8")
        command = [sys.executable, "snippet.py"]
    return subprocess.run(
        command,
        cwd=directory,
        env=_environment(block),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_the_blocks_were_found():
    names = {block.path.name for block in PYTHON_BLOCKS}
    assert len(PYTHON_BLOCKS) >= 15, [block.name for block in PYTHON_BLOCKS]
    assert {"README.md", "quick_start.rst", "deploying.rst"} <= names
    # Every block is either run or known not to be Python.
    for block in BLOCKS:
        assert block.is_python or block.language in NOT_PYTHON | {""}, block.name


def test_every_marker_is_followed_by_a_python_block():
    for block in BLOCKS:
        if block.markers:
            assert block.is_python, f"{block.name}: a marker before a non-Python block"
        for name, value in block.markers.items():
            assert value, f"{block.name}: {name} needs a reason or requirements"
    for path in FILES:  # none is left over, after a file's last block
        text = path.read_text(encoding="utf-8")
        pattern = rf"^\s*(?:\.\.|<!--)\s*(?:{MARKER_NAMES}):"
        written = len(re.findall(pattern, text, re.M))
        attached = sum(len(block.markers) for block in BLOCKS if block.path == path)
        assert written == attached, f"{path.name}: a marker applies to no block"


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda block: block.name)
def test_each_python_block_runs_on_its_own(block, tmp_path):
    if "skip-snippet" in block.markers:
        pytest.skip(block.markers["skip-snippet"])
    if "snippet-requires" in block.markers:
        reason = _missing_requirement(block.markers["snippet-requires"])
        if reason:
            pytest.skip(reason)
    done = run_block(block, tmp_path)
    report = (
        f"{block.name} exited with {done.returncode}\n--- code\n{block.code}"
        f"--- stdout\n{done.stdout[-3000:]}--- stderr\n{done.stderr[-3000:]}"
    )
    assert done.returncode == 0, report
    expected = [] if block.is_doctest else expectations(block.code)
    problem = check_output(expected, done.stdout)
    assert problem is None, f"{problem}\n{report}"


# ------------------------------------------------------ install lines, make


def _extras():
    """The extras that pyproject.toml defines."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.optional-dependencies]", 1)[1]
    section = re.split(r"^\[", section, flags=re.M)[0]
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*=", section, flags=re.M))


def _make_targets():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:", text, flags=re.M))


def _command(text):
    """A pip install or make command in ``text`` (a ``$`` prompt and a ``#``
    comment removed), or None."""
    text = re.sub(r"^\s*\$\s", "", text)
    text = re.split(r"\s#", text)[0].strip()
    if re.match(r"(\S*/)?(python -m )?pip install\s|make\s", text):
        return " ".join(text.split())
    return None


def install_lines():
    """``(file, paragraph, command)`` of every pip install and make command:
    in an inline literal (with the paragraph around it) or a shell block."""
    found = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"```.*?```", "", text, flags=re.S)  # Markdown's blocks
        for paragraph in re.split(r"\n\s*\n", text):
            for double, single in re.findall(r"``([^`]+)``|`([^`]+)`", paragraph):
                found.append((path, paragraph, _command(double or single)))
    for block in BLOCKS:
        if block.language in SHELL:
            for line in block.code.splitlines():
                found.append((block.path, block.code, _command(line)))
    return [(path, paragraph, command) for path, paragraph, command in found if command]


def _install_problem(command, paragraph):
    """What is wrong with a ``pip install`` command, or None."""
    import skbp

    words = shlex.split(command)
    words = words[words.index("install") + 1 :]
    wheel = f"dist/skbp-{skbp.__version__}-py3-none-any.whl"
    if words[:1] == ["torch"]:
        if words[1:] != ["--index-url", "https://download.pytorch.org/whl/cpu"]:
            return "install PyTorch as its CPU wheel (--index-url .../whl/cpu)"
        return None
    editable = words[:1] in (["-e"], ["--editable"])
    targets = words[1:] if editable else words
    if len(targets) != 1 or targets[0].startswith("-"):
        return "expected one target: -e ., -e '.[extras]' or the wheel"
    target, extras = re.fullmatch(r"([^\[]+)(?:\[([^\]]*)\])?", targets[0]).groups()
    unknown = {e.strip() for e in (extras or "").split(",") if e} - _extras()
    if unknown:
        return f"extras {sorted(unknown)} are not in pyproject.toml"
    if target == "." or (target == wheel and not editable):
        return None
    if target.startswith("dist/"):
        return f"the wheel of this version is {wheel}"
    if target == "skbp" and PUBLISHED_NOTE in " ".join(paragraph.lower().split()):
        return None  # the note of what changes once skbp is on PyPI
    return "skbp is on no package index: install it from the repository"


@pytest.mark.parametrize(
    "path, paragraph, command",
    install_lines(),
    ids=[f"{path.name}: {command}" for path, _, command in install_lines()],
)
def test_each_install_line_works_from_the_repository(path, paragraph, command):
    if command.startswith("make"):
        target = command.split()[1]
        assert target in _make_targets(), f"{path.name}: no make target {target}"
    else:
        assert _install_problem(command, paragraph) is None, (
            f"{path.name}: {command}: {_install_problem(command, paragraph)}"
        )


def test_the_install_lines_were_found():
    commands = [command for _, _, command in install_lines()]
    assert sum("pip install -e" in command for command in commands) >= 5
    assert any("make docs" in command for command in commands)


def test_shell_blocks_hold_only_commands_that_are_checked():
    """pip install and make lines are checked above; a shell block may also
    build the wheel, but nothing else goes unchecked."""
    for block in BLOCKS:
        if block.language not in SHELL:
            continue
        for line in block.code.splitlines():
            command = re.sub(r"^\$\s", "", line.strip()).split("#")[0].strip()
            if command:
                assert re.match(
                    r"pip install\s|make\s|pip wheel --no-deps -w dist \.$", command
                ), f"{block.name}: unchecked shell command {command!r}"


# ------------------------------------------------------------------ display


def _generated_table_lines(path):
    """Line numbers of the table that bench_speed.py writes (not ours to wrap)."""
    text = path.read_text(encoding="utf-8")
    if ".. BEGIN BENCH TABLE" not in text:
        return range(0)
    before, inside = text.split(".. BEGIN BENCH TABLE", 1)
    start = before.count("\n") + 1
    return range(start, start + inside.split(".. END BENCH TABLE")[0].count("\n") + 1)


def test_every_block_fits_in_80_columns():
    too_wide = [
        f"{block.name}: {max(len(line) for line in block.code.splitlines())}"
        for block in BLOCKS
        if block.line not in _generated_table_lines(block.path)
        and max(len(line) for line in block.code.splitlines()) > MAX_WIDTH
    ]
    assert not too_wide, f"lines wider than {MAX_WIDTH} characters: {too_wide}"


def test_no_page_repeats_the_themes_table_of_contents():
    for path in FILES[1:]:
        text = path.read_text(encoding="utf-8")
        assert ".. contents::" not in text, (
            f"{path.name}: the theme's sidebar already shows 'On this page'"
        )


# -------------------------------------------------------- the parsers, tested


def test_the_parsers_find_each_kind_of_block():
    rst = textwrap.dedent(
        """\
        Text::

            x = 1

        Table::

            a   b   c

        .. skip-snippet: needs a CUDA device

        .. code-block:: python
           :caption: c

           import torch

        .. code-block:: pycon

           >>> 1 + 1
           2

        .. code-block:: console

           $ make test
        """
    )
    blocks = rst_blocks(rst, ROOT / "x.rst")
    assert [(b.language, b.is_python) for b in blocks] == [
        ("", True),
        ("", False),
        ("python", True),
        ("pycon", True),
        ("console", False),
    ]
    assert [b.line for b in blocks] == [3, 7, 14, 18, 23]
    assert blocks[2].markers == {"skip-snippet": "needs a CUDA device"}
    assert blocks[3].is_doctest and blocks[2].code == "import torch\n"
    md = "<!-- snippet-requires: torch -->\n```python\nx = 1\n```\n"
    md += "```console\nmake\n```\n"
    blocks = markdown_blocks(md, ROOT / "x.md")
    assert [(b.language, b.line, b.code, b.markers) for b in blocks] == [
        ("python", 3, "x = 1\n", {"snippet-requires": "torch"}),
        ("console", 6, "make\n", {}),
    ]


def test_the_output_templates():
    assert expectations(
        "print(1)  # prints 1.0\n# prints a ... b\n'# prints no'\n"
    ) == [
        "1.0",
        "a ... b",
    ]
    assert matches("0.48", "0.4812") and matches("0.48", "0.47")
    assert not matches("0.48", "0.4699") and not matches("0.48", "0.5")
    assert matches(
        "Tensor ... torch.Size([2000, 2])", "Tensor cuda:0 torch.Size([2000, 2])"
    )
    assert not matches("torch.Size([2000, 2])", "torch.Size([2001, 2])")
    assert matches("[0 1 2]  True", "[0 1 2] True") and not matches("True", "False")
    assert check_output(["1", "2"], "1\n2\n") is None
    assert check_output(["2", "1"], "1\n2\n") is not None
