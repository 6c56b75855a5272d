"""The README's promises: two set-up commands, the CI runs the test one, and the usage example runs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def setup_commands() -> list[str]:
    section = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_exactly_two_setup_commands_and_ci_runs_the_test_one():
    commands = setup_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert commands[1].endswith("pytest")
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert any(line.startswith(commands[1]) for line in ci_script.splitlines()), (
        ".ci/run must run the README's test command")


def test_usage_example_runs(tmp_path, monkeypatch):
    example = re.search(r"## Usage\n\n```python\n(.*?)```", README, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert namespace["embeddings"].shape == (2, 896)
    again = namespace["reloaded"].encode(["A man is playing a guitar.", "Someone plays an instrument."])
    assert np.array_equal(again, namespace["embeddings"])
