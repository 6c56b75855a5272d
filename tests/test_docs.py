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


def test_the_rendered_pages_show_their_headings_tables_images_and_code(tmp_path):
    """The home page, the API reference and the configuration page as a browser renders them (headless Chromium,
    Debian's ``chromium``): their headings, the generated option table, no broken image, code blocks; screenshots
    are saved beside the built site for a person to look at."""
    import re
    import shutil

    pytest.importorskip("sphinx", reason="the docs extra builds the site")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless Chromium (apt-get install chromium): run this check before every release")
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", str(ROOT / "docs"), str(site)], check=True)
    expected = {"index": ["sentence-transformers-glot"], "api": ["API reference", "GlotPooling", "load_glot_model"],
                "options": ["GlotPooling options", "Training settings", "max_grad_norm"]}
    for page, words in expected.items():
        url = (site / f"{page}.html").as_uri()
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,1600"]
        dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
        assert all(word in dom for word in words), (page, [w for w in words if w not in dom])
        for source in re.findall(r'<img[^>]+src="([^"]+)"', dom):
            assert source.startswith(("http", "data:")) or (site / source).is_file(), (page, source)
        subprocess.run([browser, *flags, f"--screenshot={site / f'{page}.png'}", url], capture_output=True,
                       timeout=120)
        assert (site / f"{page}.png").stat().st_size > 10_000
    options = (site / "options.html").read_text(encoding="utf-8")
    assert options.count("<tr") > 30  # both generated tables, a row per option and setting
    assert "<pre>" in (site / "cli.html").read_text(encoding="utf-8")
