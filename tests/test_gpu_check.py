"""benchmarks/gpu_check.py, the script a GPU session runs once, runs on a CPU-only machine in its smoke mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


def test_gpu_check_runs_without_cuda_and_says_so(tmp_path):
    output = tmp_path / "gpu_check.json"
    run = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--output", str(output)], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "CUDA parts skipped" in run.stdout
    result = json.loads(output.read_text())
    assert result["cuda"] is False and "CPU smoke mode" in result["note"]
    assert result["equality"] and all(row["within_1e-4"] for row in result["equality"])
    assert result["encode"][0]["overhead"] > 0
    if not torch.cuda.is_available():
        assert result["device"] == "cpu"
