"""The package layout's promises: the core imports no tooling, the command line loads no torch to parse, the
package is typed, no module is in an import cycle, benchmarks/ is a package beside the library, no test module imports
another, and the lint."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from helpers import modules_loaded_after

PACKAGE = Path(__file__).resolve().parents[1] / "sentence_transformers_glot"
TOOLING = ("training", "evaluation", "data", "backbones", "cli")


def test_core_imports_no_tooling():
    loaded = modules_loaded_after("from sentence_transformers_glot import GlotPooling; "
                                  "import sentence_transformers_glot.nn")
    tooling = [m for m in loaded if m.split(".")[0] == "sentence_transformers_glot"
               and len(m.split(".")) > 1 and m.split(".")[1] in TOOLING]
    assert tooling == [], f"the pooling core imported tooling: {tooling}"


def test_parsing_the_command_line_loads_no_torch():
    loaded = modules_loaded_after("from sentence_transformers_glot.cli import build_parser\n"
                           "build_parser().parse_args(['train', '--conv', 'gat', '--epochs', '2'])")
    assert "torch" not in loaded and "sentence_transformers" not in loaded


def test_package_is_typed():
    assert (PACKAGE / "py.typed").is_file()


def test_ruff_finds_nothing():
    """The lint configured in pyproject.toml (pycodestyle with the 120-column limit, pyflakes, import order)."""
    pytest.importorskip("ruff")
    from ruff.__main__ import find_ruff_bin

    root = PACKAGE.parent
    run = subprocess.run([find_ruff_bin(), "check", "sentence_transformers_glot", "tests", "benchmarks"], cwd=root,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-1000:]


def _imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """The package modules ``path`` imports anywhere (functions included, ``TYPE_CHECKING`` blocks left out)."""
    import ast

    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):  # blank the TYPE_CHECKING blocks first: ast.walk queues children before yielding
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            node.body = [ast.Pass()]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sentence_transformers_glot"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in modules and name != module}


def test_no_module_is_in_an_import_cycle():
    """No chain of imports, lazy ones in functions included, leads from any module of the package (the core, the
    tooling, the package ``__init__`` files) back to itself."""
    paths = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
             for p in PACKAGE.rglob("*.py")}
    graph = {name: _imports(path, name, set(paths)) for name, path in paths.items()}
    assert {"sentence_transformers_glot.cli", "sentence_transformers_glot.evaluation.mteb.run"} <= set(graph)
    for start in graph:
        seen, frontier = set(), set(graph[start])
        while frontier:
            name = frontier.pop()
            assert name != start, f"{start} imports itself back through {sorted(seen)}"
            if name not in seen:
                seen.add(name)
                frontier |= graph[name]


def test_no_test_module_imports_another():
    """Tests share code through tests/helpers.py and fixtures through conftest.py, never by importing a test module
    (code that a test hands to a child process included)."""
    tests = PACKAGE.parent / "tests"
    importing = re.compile(r"^\s*(?:from|import)\s+(?:[\w.]+\.)?test_\w+", re.M)
    offenders = [str(path.relative_to(tests)) for path in tests.rglob("*.py") if importing.search(path.read_text())]
    assert offenders == [], f"these test files import a test module: {offenders}"


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


def test_no_module_imports_another_modules_private_names():
    """Across modules the package uses public names only (a leading underscore stays inside its module)."""
    import ast

    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sentence_transformers_glot"):
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                assert not private, f"{path} imports private names {private} from {node.module}"


def test_every_package_module_has_its_mirrored_test_file():
    """``sentence_transformers_glot/<path>/<module>.py`` is tested in ``tests/<path>/test_<module>.py``."""
    tests = PACKAGE.parent / "tests"
    missing = []
    for module in sorted(PACKAGE.rglob("*.py")):
        if module.name in ("__init__.py", "__main__.py"):
            continue
        relative = module.relative_to(PACKAGE)
        mirror = tests / relative.parent / f"test_{module.stem}.py"
        if not mirror.is_file():
            missing.append(str(mirror.relative_to(PACKAGE.parent)))
    assert missing == [], f"package modules without their test file: {missing}"


#: The house's size limits: no package module over 350 lines (``pooling.py``, the adapter, over 300; ``nn/graph.py``
#: over 300), no function over 60 lines (docstring included).
MODULE_LINES, FUNCTION_LINES = 350, 60
TIGHTER = {"pooling.py": 300, "nn/graph.py": 300}


def test_no_module_or_function_is_over_the_size_limits():
    import ast

    over = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        text = path.read_text()
        limit = TIGHTER.get(relative, MODULE_LINES)
        if len(text.splitlines()) > limit:
            over.append(f"{relative}: {len(text.splitlines())} lines (limit {limit})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    over.append(f"{relative}:{node.lineno} {node.name}: {length} lines (limit {FUNCTION_LINES})")
    assert over == [], "split these by job:\n" + "\n".join(over)
