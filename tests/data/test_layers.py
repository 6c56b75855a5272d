"""data/ is layered: each module imports only the modules listed before it in the package docstring, so no
module reaches back up (no import circles, lazy imports included)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import sentence_transformers_glot.data as data

DATA = Path(data.__file__).parent


def _data_imports(path: Path) -> set[str]:
    """The data/ modules ``path`` imports anywhere, functions included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found.update(name.split(".")[2] for name in names
                     if name.startswith("sentence_transformers_glot.data.") and name.count(".") >= 2)
    return found


def test_data_modules_import_only_the_modules_before_them():
    order = re.findall(r":mod:`\.(\w+)`", data.__doc__.split("Modules, each importing")[1])
    modules = {path.stem for path in DATA.glob("*.py")} - {"__init__"}
    assert sorted(order) == sorted(modules), "the package docstring lists every data module once"
    for position, name in enumerate(order):
        later = _data_imports(DATA / f"{name}.py") - set(order[:position]) - {name}
        assert not later, f"data.{name} imports {sorted(later)}, which come after it (or itself) in the layering"


def test_each_offline_task_is_declared_beside_its_loader():
    from sentence_transformers_glot.data.registry import PACKAGED_TASKS, TASKS

    for name, task in PACKAGED_TASKS.items():
        assert task.name == name and task.loader.__module__ in (
            "sentence_transformers_glot.data.corpora", "sentence_transformers_glot.data.pair_corpora",
            "sentence_transformers_glot.data.probing_tasks")
        assert task.summary in TASKS[name]
        assert set(task.sources) <= set(data.SOURCES), f"{name} names an unknown source"
    assert list(TASKS)[: len(PACKAGED_TASKS)] == list(PACKAGED_TASKS)
