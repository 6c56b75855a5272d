"""benchmarks/speed/gpu_check.py, the script a GPU session runs once, runs on a CPU-only machine in its smoke mode."""

from __future__ import annotations

import importlib
import json
import shlex
import subprocess
import sys

import torch
from helpers import ROOT

MODULE = "benchmarks.speed.gpu_check"  # run from the repository root, as the README says


def test_gpu_check_runs_without_cuda_and_says_so(tmp_path):
    output = tmp_path / "gpu_check.json"
    run = subprocess.run([sys.executable, "-m", MODULE, "--smoke", "--output", str(output)], capture_output=True,
                         text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "CUDA parts skipped" in run.stdout
    result = json.loads(output.read_text())
    assert result["cuda"] is False and "CPU smoke mode" in result["note"]
    assert result["command"] == shlex.join(["python", "-m", MODULE, "--smoke", "--output", str(output)])
    assert result["equality"] and all(row["within_1e-4"] for row in result["equality"])
    assert result["encode"][0]["overhead"] > 0
    if not torch.cuda.is_available():
        assert result["device"] == "cpu"
    rows = result["forward_backward_vs_authors"]
    if not _importable("torch_geometric"):
        assert rows == []
    else:
        assert rows and all(row["speedup_vs_published"] > 0 and row["reference_ms"] > 0 for row in rows)


def test_gpu_check_skips_the_authors_rows_without_torch_geometric(tmp_path):
    """CI installs no PyTorch Geometric: the authors' rows are skipped with a message, the rest still runs."""
    output = tmp_path / "gpu_check.json"
    hide = ("import runpy, sys; sys.modules['torch_geometric'] = None; "
            f"sys.argv = ['gpu_check.py', '--smoke', '--output', {str(output)!r}]; "
            f"runpy.run_module({MODULE!r}, run_name='__main__')")
    run = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "authors' rows skipped" in run.stdout and "pip install torch_geometric" in run.stdout
    result = json.loads(output.read_text())
    assert result["forward_backward_vs_authors"] == []
    assert result["equality"] and all(row["within_1e-4"] for row in result["equality"])


def _importable(name: str) -> bool:
    """Whether ``import name`` works here (a found spec is not enough: the package may fail to import)."""
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True
