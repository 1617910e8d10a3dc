"""The sdist and the wheel: they build, hold what they should, and the wheel installs.

The distributions are built as ``python -m build`` builds them (``make dist``),
from a copy of the checkout in a temporary folder (no ``build/`` or
``*.egg-info`` left in the checkout, nothing stale from it in the wheel): the
sdist by setuptools' PEP 517 hook, then the wheel from that sdist by
``pip wheel --no-deps``, so a file missing from the sdist breaks the wheel. Both
run in a fresh venv that holds ``[build-system] requires`` and nothing else,
which is what build isolation gives, so ``--no-build-isolation`` is as strict
and saves a second set-up. ``build`` and ``twine`` are not needed (they are not
in the ``tests`` extra); ``make dist`` runs ``twine check --strict``.

The wheel is then installed with its dependencies into another fresh venv (pip
resolves them from the package index, through pip's cache), and that venv's
python, run outside the checkout, imports skbp.

Slow (about a minute, mostly pip installing numpy, SciPy and scikit-learn) but
not marked to skip: ``make test`` and CI run it. Leave it out of a quick local
run with ``--ignore tests/test_dist.py``.
"""

import email.parser
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

try:
    import tomllib
except ImportError:  # Python 3.10: pytest's own dependency
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
#: setuptools' default ``license-files`` patterns (PEP 639).
LICENSE_PATTERNS = ("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*")
#: Never copied to the build folder: version control, venvs, build output, caches.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.py[cod]",
    ".*cache",
    ".hypothesis",
    "_build",  # sphinx-build's output, which MANIFEST.in leaves out anyway
    "auto_examples",
)
#: Subprocesses see no PYTHONPATH (nothing from the checkout) and no user site.
ENV = {
    **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")},
    "PYTHONNOUSERSITE": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


def _run(*args, cwd):
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=ENV, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def _venv(path):
    """A fresh venv without pip: this interpreter's pip installs into it."""
    _run(sys.executable, "-m", "venv", "--without-pip", path, cwd=path.parent)
    return path / "bin" / "python"


def _pip(python, *args, cwd):
    return _run(sys.executable, "-m", "pip", "--python", python, *args, cwd=cwd)


def _package_modules():
    """Every module of the checkout's skbp package, as paths like skbp/_core/x.py."""
    return {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "skbp").rglob("*.py")
        if "__pycache__" not in path.parts
    }


def _checkout_version():
    """The version the checkout declares (``skbp/_version.py``)."""
    namespace = {}
    exec((REPO / "skbp" / "_version.py").read_text(), namespace)
    return namespace["__version__"]


def _license_files():
    return sorted({p.name for pattern in LICENSE_PATTERNS for p in REPO.glob(pattern)})


@pytest.fixture(scope="module")
def sdist_and_wheel(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dist")
    source = tmp / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    python = _venv(tmp / "build-env")
    _pip(python, "install", "--quiet", *PYPROJECT["build-system"]["requires"], cwd=tmp)
    out = tmp / "out"
    hook = "import sys; from setuptools import build_meta; "
    hook += "print(build_meta.build_sdist(sys.argv[1]))"
    sdist = out / _run(python, "-c", hook, out, cwd=source).splitlines()[-1]
    wheel_options = ["--quiet", "--no-deps", "--no-build-isolation", "-w", out]
    _pip(python, "wheel", *wheel_options, sdist, cwd=tmp)
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def _wheel_metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(name).decode())


def test_sdist_holds_the_package_and_project_files(sdist_and_wheel):
    sdist, _ = sdist_and_wheel
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        names = {n.partition("/")[2] for n in archive.getnames()}
        pkg_info = archive.extractfile(f"{top}/PKG-INFO").read().decode()
    assert top == f"skbp-{_checkout_version()}"
    expected = {"PKG-INFO", "pyproject.toml", "README.md", "CHANGELOG.md"}
    expected |= _package_modules() | set(_license_files())
    assert expected <= names, sorted(expected - names)
    assert "tests/conftest.py" in names  # the tests run from an unpacked sdist
    junk = [n for n in names if "__pycache__" in n or n.startswith((".venv", ".git"))]
    assert not junk
    assert email.parser.Parser().parsestr(pkg_info)["Version"] == _checkout_version()


def test_wheel_holds_exactly_the_package(sdist_and_wheel):
    _, wheel = sdist_and_wheel
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    dist_info = f"skbp-{_checkout_version()}.dist-info/"
    package = {n for n in names if not n.startswith(dist_info)}
    assert package == _package_modules()
    licenses = {n for n in names if n.startswith(f"{dist_info}licenses/")}
    assert licenses == {f"{dist_info}licenses/{name}" for name in _license_files()}


def test_wheel_metadata(sdist_and_wheel):
    _, wheel = sdist_and_wheel
    metadata = _wheel_metadata(wheel)
    assert metadata["Name"] == PROJECT["name"]
    assert metadata["Version"] == _checkout_version()
    assert metadata["Requires-Python"] == PROJECT["requires-python"]
    assert metadata["License-Expression"] == PROJECT["license"]
    assert sorted(metadata.get_all("License-File") or []) == _license_files()
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().strip() == (REPO / "README.md").read_text().strip()
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL"))
    assert urls == PROJECT["urls"]
    extras = PROJECT["optional-dependencies"]
    assert set(metadata.get_all("Provides-Extra")) == set(extras)
    expected = {str(Requirement(r)) for r in PROJECT["dependencies"]}
    expected |= {
        str(Requirement(f'{r}; extra == "{extra}"'))
        for extra, requirements in extras.items()
        for r in requirements
    }
    assert {str(Requirement(r)) for r in metadata.get_all("Requires-Dist")} == expected


#: Run by the fresh venv's python: what it imported, from where.
IMPORT_CHECK = """
import importlib, importlib.metadata, json, pkgutil, sys
import skbp
for name in skbp.__all__:
    exec(f"from skbp import {name}")
modules = sorted(
    m.name for m in pkgutil.walk_packages(skbp.__path__, "skbp.")
    if m.name != "skbp.__main__"  # runs the demo
)
for module in modules:
    importlib.import_module(module)
print(json.dumps({
    "file": skbp.__file__,
    "prefix": sys.prefix,
    "version": skbp.__version__,
    "metadata_version": importlib.metadata.version("skbp"),
    "modules": modules,
}))
"""


def test_wheel_installs_in_a_fresh_venv(sdist_and_wheel, tmp_path):
    _, wheel = sdist_and_wheel
    python = _venv(tmp_path / "venv")
    _pip(python, "install", "--quiet", wheel, cwd=tmp_path)
    # From a folder outside the checkout, so that only the venv's copy can import.
    found = json.loads(_run(python, "-c", IMPORT_CHECK, cwd=tmp_path))
    assert Path(found["prefix"]).resolve() == (tmp_path / "venv").resolve()
    installed = Path(found["file"]).resolve()
    assert "site-packages" in installed.parts
    assert installed.is_relative_to((tmp_path / "venv").resolve())
    assert not installed.is_relative_to(REPO)
    assert found["version"] == found["metadata_version"] == _checkout_version()
    assert found["version"] == _wheel_metadata(wheel)["Version"]
    # Every subpackage and module of the checkout imported from the venv.
    expected = {
        name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for name in _package_modules()
    } - {"skbp", "skbp.__main__"}
    assert set(found["modules"]) == expected
