"""The stress test's reports: means over seeds (the length-only classifier as methods), one table per protocol,
and the result files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sentence_transformers_glot.evaluation.stress_report import markdown_tables, summarise, write_stress_results


def rows() -> list[dict]:
    out = []
    for protocol in ("paper", "controlled"):
        for ratio in (0.0, 0.5):
            for seed in (0, 1):
                for method, test in (("glot", 80.0 + seed), ("mean", 60.0 - 10 * ratio + 2 * seed)):
                    out.append({"protocol": protocol, "ratio": ratio, "seed": seed, "method": method,
                                "test": test, "validation": test, "length_only_words": 100.0 if protocol == "paper"
                                else 50.0, "distractor_fraction_words": ratio, "distractor_fraction_tokens":
                                np.float64(ratio + 0.01)})
    return out


def test_summary_is_the_mean_and_std_over_seeds_with_the_length_only_classifier_as_a_method():
    summary = {(s["protocol"], s["method"], s["ratio"]): s for s in summarise(rows())}
    assert summary[("paper", "glot", 0.5)]["mean"] == pytest.approx(80.5)
    assert summary[("paper", "glot", 0.5)]["std"] == pytest.approx(np.std([80.0, 81.0], ddof=1))
    assert summary[("controlled", "mean", 0.5)]["mean"] == pytest.approx(56.0)
    assert summary[("paper", "length-only (words)", 0.0)]["mean"] == 100.0  # one entry per cell, not per method
    assert summary[("paper", "length-only (words)", 0.0)]["seeds"] == 2


def test_tables_and_files_hold_every_protocol_method_and_ratio(tmp_path):
    table = markdown_tables(rows())
    assert table.index("**paper protocol**") < table.index("**controlled protocol**")
    assert "| glot |" in table and "length-only (words)" in table and "0.50 / 0.51" in table
    settings = {"backbone": "minilm", "source": "movie-polarity", "n_train": 8, "n_val": 2, "n_test": 4,
                "epochs": 1, "lr": 1e-3, "glot": {}}
    write_stress_results(rows(), tmp_path, settings, "glot stress-test", 3.0)
    saved = json.loads((tmp_path / "stress.json").read_text())
    assert len(saved["cells"]) == 16 and saved["settings"] == settings and saved["header"]["wall_seconds"] == 3.0
    assert saved["plot"] == "stress.png" and (tmp_path / "stress.png").stat().st_size > 0
    assert (tmp_path / "stress.md").read_text().endswith(table)
