"""``glot train --print-config`` / ``--config``: a run written down and repeated."""

from __future__ import annotations

import pytest

from sentence_transformers_glot.cli import main
from sentence_transformers_glot.training.run_identity import run_name


class Reached(Exception):
    pass


@pytest.fixture()
def started(monkeypatch):
    """The configs glot train starts, in order (training itself is stubbed)."""
    seen = []

    def work(config, *args, **kwargs):
        seen.append(config)
        raise Reached

    monkeypatch.setattr("sentence_transformers_glot.training.run.train", work)
    return seen


def test_a_printed_config_repeats_the_same_runs(tmp_path, capsys, started):
    flags = ["--task", "tweet-sentiment", "--pooling", "glot", "--conv", "gat", "--input-norm", "rms", "--lr",
             "2e-3", "--max-grad-norm", "none", "--max-train", "500", "--seed", "4"]
    assert main(["train", *flags, "--print-config"]) == 0
    text = capsys.readouterr().out
    assert "max_grad_norm: null" in text and "conv: gat" in text and "epochs: 3" in text  # defaults included
    (tmp_path / "run.yaml").write_text(text)
    runs = ["--runs", str(tmp_path / "runs")]
    with pytest.raises(Reached):
        main(["train", *flags, *runs])
    with pytest.raises(Reached):
        main(["train", "--config", str(tmp_path / "run.yaml"), *runs])
    direct, from_file = started
    assert from_file == direct and run_name(from_file) == run_name(direct)
    started.clear()
    with pytest.raises(Reached):  # a flag given beside the file wins
        main(["train", "--config", str(tmp_path / "run.yaml"), "--lr", "1e-4", *runs])
    assert (started[0].lr, started[0].glot.conv, started[0].max_grad_norm) == (1e-4, "gat", None)


def test_several_poolings_print_as_a_list_and_each_takes_its_options(tmp_path, capsys, started):
    assert main(["train", "--pooling", "glot", "mean", "--conv", "gat", "--input-norm", "rms",
                 "--print-config"]) == 0
    text = capsys.readouterr().out
    assert "pooling:\n- glot\n- mean\n" in text
    (tmp_path / "run.yaml").write_text(text)
    with pytest.raises(Reached):
        main(["train", "--config", str(tmp_path / "run.yaml"), "--runs", str(tmp_path / "runs")])
    assert (started[0].pooling, started[0].glot.conv, started[0].glot.input_norm) == ("glot", "gat", "rms")


@pytest.mark.parametrize("content, message", [
    ("epochs: 3\nepochz: 4\n", "unknown setting epochz"),
    ("- a\n- b\n", "must hold a mapping"),
    ("pooling: 3\n", "`pooling` must be a name or a list"),
    ("epochs: [3\n", "not valid YAML"),
    ("epochs: 0\n", "`epochs` must be an int >= 1"),
])
def test_a_bad_config_file_is_one_line_naming_it(tmp_path, capsys, content, message):
    path = tmp_path / "run.yaml"
    path.write_text(content)
    assert main(["train", "--config", str(path), "--runs", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "runs").exists()
