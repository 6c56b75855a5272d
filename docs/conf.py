"""Sphinx configuration of the documentation site: Markdown pages (MyST), the API reference from the package's
docstrings (autodoc + napoleon read their Google-style sections and reStructuredText roles). Build it with
``sphinx-build -W --keep-going docs build/docs`` (strict: a broken reference fails) and serve it with
``python -m http.server -d build/docs``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

project = "sentence-transformers-glot"
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]
html_theme = "furo"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
myst_heading_anchors = 4
suppress_warnings = ["myst.header"]
