"""The ``glot`` command line: parsing, one-line errors, and the train, encode and predict commands end to end on a
tiny BERT."""

from __future__ import annotations

import pytest

from sentence_transformers_glot.cli import build_parser


# -------------------------------------------------------------------------------------------------- parsing and errors
def test_version_flag(capsys):
    from sentence_transformers_glot import __version__

    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"glot {__version__}"


def test_cli_parses_layer_groups_and_the_new_flags():
    from sentence_transformers_glot.cli import build_parser
    from sentence_transformers_glot.cli_args import glot_kwargs

    args = build_parser().parse_args(["benchmark", "--layers", "-1", "8,9,10", "--sequence-window", "2",
                                      "--edge-weight", "cosine", "--input-norm", "layer"])
    assert args.layers == [-1, [8, 9, 10]]
    assert glot_kwargs(args) == {"sequence_window": 2, "edge_weight": "cosine", "input_norm": "layer"}
    assert build_parser().parse_args(["train", "--layers", "3", "4"]).layers == [3, 4]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["benchmark", "--layers", "8,x"])


def test_the_command_line_takes_auto_and_the_sink_choice():
    from sentence_transformers_glot.cli import build_parser

    args = build_parser().parse_args(["train", "--threshold", "auto", "--attention-sink", "keep",
                                      "--warmup-ratio", "0.2", "--max-grad-norm", "0.5", "--head-dim", "64"])
    assert (args.threshold, args.attention_sink, args.warmup_ratio, args.max_grad_norm, args.head_dim) == (
        "auto", "keep", 0.2, 0.5, 64)
    assert build_parser().parse_args(["train", "--threshold", "0.7"]).threshold == 0.7
    assert build_parser().parse_args(["benchmark", "--max-grad-norm", "none"]).max_grad_norm is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--threshold", "high"])


def test_errors_are_one_line_unless_a_traceback_is_asked_for(monkeypatch, capsys, tmp_path):
    from sentence_transformers_glot.cli import main

    assert main(["encode", "--output", str(tmp_path / "x.json"), "a"]) == 2
    assert capsys.readouterr().err.startswith("glot: error: --output")
    monkeypatch.setenv("GLOT_TRACEBACK", "1")
    with pytest.raises(ValueError, match="the extension picks the format"):
        main(["encode", "--output", str(tmp_path / "x.json"), "a"])


def test_cli_reports_bad_names_clearly(tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    assert main(["train", "--task", "movie-polarityy", "--runs", str(tmp_path)]) == 2
    assert "movie-polarity" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------- glot train










# --------------------------------------------------------------------------------------------------------- glot encode












# -------------------------------------------------------------------------------------------------------- glot predict








