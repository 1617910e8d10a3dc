"""Sphinx configuration for the skbp documentation.

Build with ``make docs`` from the repository root: it installs the ``docs``
extra into the project venv and builds ``docs/_build/html`` from scratch with
warnings as errors.
"""

import os
import sys
from importlib.util import find_spec

import numpy  # noqa: F401  (loads BLAS, which threadpoolctl can then limit)
from threadpoolctl import threadpool_limits

# The package is normally installed (``pip install -e .``); the path makes a plain
# checkout work too.
sys.path.insert(0, os.path.abspath(".."))

import skbp  # noqa: E402

# sphinx-gallery runs the examples in this process. They multiply small matrices,
# where several BLAS threads only compete with each other (on a busy two-core
# machine a script gets several times slower), so use one. numpy is imported first
# because threadpoolctl only limits libraries that are already loaded.
threadpool_limits(limits=1, user_api="blas")

# -- Project -------------------------------------------------------------------

project = "skbp"
author = "The skbp developers"
copyright = "The skbp developers, BSD-3-Clause"
release = skbp.__version__
version = ".".join(release.split(".")[:2])

# -- General -------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

autosummary_generate = True
autodoc_typehints = "none"

# Methods are listed by the autosummary template, not by numpydoc, so that each
# class page is not generated twice.
numpydoc_show_class_members = False
numpydoc_xref_param_type = False

# -- sphinx-gallery -----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "plot_",
    # The gallery's sections are the subfolders of examples/, each with its own
    # GALLERY_HEADER.rst; they appear in this order (any other section last, "*"),
    # and the examples within a section by file name.
    "subsection_order": [
        "../examples/getting_started",
        "../examples/how_the_network_learns",
        "../examples/training_options",
        "../examples/regression",
        "../examples/deploy",
        "*",
    ],
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    # Written next to the sources otherwise; the build stays out of the tree.
    "write_computation_times": False,
    "backreferences_dir": None,
}

# -- HTML ----------------------------------------------------------------------

if find_spec("pydata_sphinx_theme") is not None:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
    }
else:
    html_theme = "alabaster"

html_title = f"skbp {release}"

# -- numpydoc validation ---------------------------------------------------------

# Every public docstring is checked as the pages are built; with ``-W`` a
# violation fails the build. "all" but:
# - SA01 (a See Also section everywhere): on methods it would only repeat the
#   class page's;
# - ES01 (an extended summary everywhere): many methods say all in one line;
# - RT02 (a bare type on the Returns line): scikit-learn's convention, which
#   skbp follows, names single return values (``self : BPClassifier``).
numpydoc_validation_checks = {"all", "SA01", "ES01", "RT02"}
# Dataclass-generated __init__ methods have no docstring of their own; the class
# docstring documents their parameters.
numpydoc_validation_exclude = {r"\.__init__$"}
