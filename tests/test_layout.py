"""The package layout's promises: the core imports no tooling, the command line loads no torch to parse, CLI
flags come from the config dataclasses (with help, defaults and choices), and plotting fails clearly without
matplotlib."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sentence_transformers_glot.cli import build_parser
from sentence_transformers_glot.cli_args import add_dataclass_arguments, dataclass_kwargs, field_help
from sentence_transformers_glot.options import GlotOptions
from sentence_transformers_glot.training.config import TrainConfig

PACKAGE = Path(__file__).resolve().parents[1] / "sentence_transformers_glot"
TOOLING = ("training", "evaluation", "data", "backbones", "cli")


def _loaded_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    return json.loads(out.stdout.splitlines()[-1])


def test_core_imports_no_tooling():
    loaded = _loaded_after("from sentence_transformers_glot import GlotPooling; import sentence_transformers_glot.nn")
    tooling = [m for m in loaded if m.split(".")[0] == "sentence_transformers_glot"
               and len(m.split(".")) > 1 and m.split(".")[1] in TOOLING]
    assert tooling == [], f"the pooling core imported tooling: {tooling}"


def test_parsing_the_command_line_loads_no_torch():
    loaded = _loaded_after("from sentence_transformers_glot.cli import build_parser\n"
                           "build_parser().parse_args(['train', '--conv', 'gat', '--epochs', '2'])")
    assert "torch" not in loaded and "sentence_transformers" not in loaded


def test_glot_options_mirror_glotpooling_keywords():
    from sentence_transformers_glot.pooling import GlotPooling

    signature = inspect.signature(GlotPooling.__init__).parameters
    keywords = {name: p.default for name, p in signature.items() if name not in ("self", "word_embedding_dimension")}
    assert {f.name: f.default for f in dataclasses.fields(GlotOptions)} == keywords
    assert GlotPooling(8, **dataclasses.asdict(GlotOptions())).get_config_dict() == GlotPooling(8).get_config_dict()


def test_every_config_field_has_help_from_the_docstring():
    for cls, skip in ((TrainConfig, ()), (GlotOptions, ())):
        helps = field_help(cls)
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in skip and not helps.get(f.name)]
        assert missing == [], f"{cls.__name__} fields without an Attributes entry: {missing}"
    assert "3 epochs" in field_help(TrainConfig)["lr"]  # a multi-name entry ("epochs, batch_size, lr, ...")


def _options(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from ((f"{name} {flag}", a, sub) for flag, a in _flags(sub))


def _flags(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            yield action.option_strings[0], action


def test_every_subcommand_option_has_help_and_shows_its_default():
    parser = build_parser()
    for where, action, sub in _options(parser):
        assert action.help, f"{where} has no help text"
        text = sub.format_help()
        if action.default not in (None, False, argparse.SUPPRESS):
            assert f"default: {action.default}" in " ".join(text.split()) or "default" in action.help, where


def test_generated_flags_check_choices_and_pass_on_only_what_was_given(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--conv", "gatt"])
    assert "invalid choice: 'gatt'" in capsys.readouterr().err
    args = parser.parse_args(["train", "--conv", "gat", "--top-k", "4", "--lr", "1e-3", "--max-train", "10"])
    assert dataclass_kwargs(args, GlotOptions) == {"conv": "gat", "top_k": 4}
    assert args.lr == 1e-3 and args.max_train == 10 and args.epochs == TrainConfig.epochs


def test_list_fields_take_several_values():
    parser = argparse.ArgumentParser()
    add_dataclass_arguments(parser, GlotOptions, only=("layers", "threshold"))
    args = parser.parse_args(["--layers", "0", "3", "6"])
    assert args.layers == [0, 3, 6] and args.threshold == 0.8


def test_plots_without_matplotlib_name_the_extra(monkeypatch, tmp_path, caplog):
    from sentence_transformers_glot.evaluation import report, suite_report

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"sentence-transformers-glot\[eval\]"):
        report.pyplot()
    rows = [{"backbone": "b", "task": "t", "layer": -1, "method": m, "lr": 2e-4, "seed": s, "metric": "accuracy",
             "validation": 50.0 + s, "test": 50.0 + s + (m == "glot"), "run": f"{m}{s}"}
            for m in ("glot", "mean") for s in (0, 1)]
    with caplog.at_level("WARNING"):
        suite_report.write_results(rows, tmp_path, "cmd")  # tables and JSON still written
    assert (tmp_path / "suite.md").is_file() and not (tmp_path / "suite.png").exists()
    assert "matplotlib" in caplog.text


def test_package_is_typed():
    assert (PACKAGE / "py.typed").is_file()


def test_version_flag(capsys):
    from sentence_transformers_glot import __version__

    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"glot {__version__}"


def test_errors_are_one_line_unless_a_traceback_is_asked_for(monkeypatch, capsys, tmp_path):
    from sentence_transformers_glot.cli import main

    assert main(["encode", "--output", str(tmp_path / "x.json"), "a"]) == 2
    assert capsys.readouterr().err.startswith("glot: error: --output")
    monkeypatch.setenv("GLOT_TRACEBACK", "1")
    with pytest.raises(ValueError, match="the extension picks the format"):
        main(["encode", "--output", str(tmp_path / "x.json"), "a"])


def test_ruff_finds_nothing():
    """The lint configured in pyproject.toml (pycodestyle with the 120-column limit, pyflakes, import order)."""
    pytest.importorskip("ruff")
    from ruff.__main__ import find_ruff_bin

    root = PACKAGE.parent
    run = subprocess.run([find_ruff_bin(), "check", "sentence_transformers_glot", "tests", "benchmarks"], cwd=root,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-1000:]


def test_glot_options_check_themselves_without_torch():
    loaded = _loaded_after("from sentence_transformers_glot.options import GlotOptions\n"
                           "import numpy\n"
                           "options = GlotOptions(top_k=numpy.int64(4), threshold=numpy.float32(0.5))\n"
                           "assert type(options.top_k) is int and type(options.threshold) is float\n"
                           "for bad in ({'conv': 'x'}, {'threshold': 2}, {'num_layers': 0, 'sequence_window': 2}):\n"
                           "    try:\n"
                           "        GlotOptions(**bad)\n"
                           "    except ValueError as err:\n"
                           "        assert 'GlotPooling: ' in str(err)\n"
                           "    else:\n"
                           "        raise AssertionError(bad)")
    assert "torch" not in loaded
    from sentence_transformers_glot.options import OPTION_NAMES
    from sentence_transformers_glot.pooling import GlotPooling

    assert GlotPooling.config_keys == ["word_embedding_dimension", *OPTION_NAMES]


def _imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """The package modules ``path`` imports anywhere (functions included, ``TYPE_CHECKING`` blocks left out)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            node.body = []
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sentence_transformers_glot"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in modules and name != module}


def test_the_core_is_in_no_import_cycle():
    """No chain of imports, lazy ones in functions included, leads from a core module (the pooling, its options and
    the tensor maths) back to itself."""
    paths = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
             for p in PACKAGE.rglob("*.py")}
    graph = {name: _imports(path, name, set(paths)) for name, path in paths.items()}
    core_parts = ("pooling", "options", "presets", "nn", "decoders", "model_card", "identity", "loading")
    core = [name for name in graph if name.count(".") and name.split(".")[1] in core_parts]
    for start in core:
        seen, frontier = set(), set(graph[start])
        while frontier:
            name = frontier.pop()
            assert name != start, f"{start} imports itself back through {sorted(seen)}"
            if name not in seen:
                seen.add(name)
                frontier |= graph[name]


def _top_level_imports(path: Path) -> set[str]:
    """The top-level names of every absolute import in ``path``, functions included."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.add((node.module or "").split(".")[0])
    return found


def test_benchmarks_are_a_package_beside_the_library_not_inside_it():
    """benchmarks/ runs as ``python -m benchmarks.<purpose>.<name>``: no script edits ``sys.path`` or imports a
    sibling by its bare name, benchmarks/README.md shows how to run each, and the library never imports them."""
    root = PACKAGE.parent
    scripts = [p for pattern in ("*.py", "*/*.py") for p in (root / "benchmarks").glob(pattern)
               if "results" not in p.relative_to(root).parts]
    readme = (root / "benchmarks" / "README.md").read_text()
    for path in scripts:
        assert "sys.path" not in path.read_text(), f"{path} edits sys.path"
        bare = _top_level_imports(path) & {p.stem for p in scripts}
        assert not bare, f"{path} imports {bare} by bare name, not through the benchmarks package"
        if path.name != "__init__.py" and path.parent.name != "benchmarks":
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            assert f"python -m {module}" in readme, f"benchmarks/README.md does not show how to run {module}"
    assert all("benchmarks" not in _top_level_imports(path) for path in PACKAGE.rglob("*.py"))
