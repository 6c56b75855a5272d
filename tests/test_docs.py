"""The documentation pages generated from the code are up to date, and the site builds strictly (when Sphinx is
installed: the ``docs`` extra; CI installs it)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from helpers import ROOT


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["options.md", "cli.md"])
def test_a_generated_page_matches_the_code(name, monkeypatch):
    generator = _generator()
    committed = (ROOT / "docs" / name).read_text(encoding="utf-8")
    version = f"(Python {sys.version_info.major}.{sys.version_info.minor})"
    if name == "cli.md" and version not in committed:
        pytest.skip("docs/cli.md was generated with another Python, whose argparse lays help out differently")
    assert generator.PAGES[name]() == committed, f"docs/{name} is stale: run `python docs/generate.py`"


def test_every_option_and_setting_and_command_is_on_its_page():
    import argparse
    import dataclasses

    from sentence_transformers_glot.cli import build_parser
    from sentence_transformers_glot.options import GlotOptions
    from sentence_transformers_glot.training.config import TrainConfig

    options = (ROOT / "docs" / "options.md").read_text(encoding="utf-8")
    for cls in (GlotOptions, TrainConfig):
        for spec in dataclasses.fields(cls):
            assert f"| `{spec.name}` |" in options
    cli = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert all(f"## `glot {name}`" in cli for name in commands)


def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("sphinx", reason="the docs extra (pip install -e '.[docs]') builds the site")
    pytest.importorskip("myst_parser")
    done = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", str(ROOT / "docs"),
                           str(tmp_path / "site")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "site" / "api.html").is_file() and (tmp_path / "site" / "options.html").is_file()
    assert "GlotPooling" in (tmp_path / "site" / "api.html").read_text(encoding="utf-8")
