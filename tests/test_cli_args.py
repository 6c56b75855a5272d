"""Command-line flags generated from the config dataclasses: help from their docstrings, defaults shown, choices
checked, list fields, and only the flags given passed on."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from sentence_transformers_glot.cli import build_parser
from sentence_transformers_glot.cli_args import add_dataclass_arguments, dataclass_kwargs, field_help
from sentence_transformers_glot.options import GlotOptions
from sentence_transformers_glot.training.config import TrainConfig


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
    assert dataclass_kwargs(args, TrainConfig, skip=("pooling",)) == {"lr": 1e-3, "max_train": 10}  # no epochs


def test_list_fields_take_several_values():
    parser = argparse.ArgumentParser()
    add_dataclass_arguments(parser, GlotOptions, only=("layers", "threshold"))
    args = parser.parse_args(["--layers", "0", "3", "6"])
    assert args.layers == [0, 3, 6] and not hasattr(args, "threshold")  # not given: GlotOptions' default


# ------------------------------------------------------------------------------------ every flag, bad values
class Reached(Exception):
    """The command passed its checks and started its work (a stub stands in for the work)."""


HUGE_INT = "1" + "0" * 30
BAD_VALUES = ("0", "-1", "nan", "inf", "-inf", "1e308", HUGE_INT, "none")
#: each command's other arguments (texts first: a flag taking several values would swallow them)
BASE = {"train": ["--task", "movie-polarity", "--runs", "{tmp}/runs"], "benchmark": ["--output", "{tmp}/bench"],
        "stress-test": ["--output", "{tmp}/stress"], "mteb": ["--model", "{tmp}", "--tasks", "t"],
        "predict": ["a text", "--model", "{tmp}"], "encode": ["a text"]}
#: the work each command starts once its flags are checked
WORK = ("sentence_transformers_glot.training.run.train",
        "sentence_transformers_glot.evaluation.benchmark.run_benchmark",
        "sentence_transformers_glot.evaluation.stress.run_stress_test",
        "sentence_transformers_glot.evaluation.mteb.run.run_mteb",
        "sentence_transformers_glot.training.predict.load_predictor",
        "sentence_transformers_glot.backbones.registry.resolve_backbone")


def _value_flags(sub: argparse.ArgumentParser):
    """The flags of a subcommand that take a typed value (numbers, thresholds, layer lists), not free text."""
    for action in sub._actions:
        if action.option_strings and action.nargs != 0 and action.type not in (None, str) \
                and not isinstance(action, argparse.BooleanOptionalAction):
            yield action


def _optional_fields() -> set[str]:
    return {f.name for cls in (TrainConfig, GlotOptions) for f in dataclasses.fields(cls)
            if "None" in str(f.type) and "list" not in str(f.type)}


def test_every_value_flag_of_every_command_refuses_bad_values_in_one_line_or_passes_them_on(
        tmp_path, monkeypatch, capsys):
    """0, negative, NaN, inf, huge and ``none`` on every typed flag of every command: either one line
    (``glot ...: error: ...``) before any work, or the work starts and, for glot train, the value is in its
    config; never a traceback, never a non-finite number passed on, and ``none`` reaches every field that may be
    None (``--max-grad-norm none`` is no clipping)."""
    from sentence_transformers_glot.cli import main

    monkeypatch.chdir(tmp_path)
    seen: list = []

    def work(*args, **kwargs):
        seen.append((args, kwargs))
        raise Reached

    for target in WORK:
        monkeypatch.setattr(target, work)
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    optional, accepted_none, walked = _optional_fields(), set(), 0
    for command, base in BASE.items():
        for action in _value_flags(subparsers[command]):
            for value in BAD_VALUES:
                walked += 1
                seen.clear()
                argv = [command, *(part.format(tmp=tmp_path) for part in base), action.option_strings[0], value]
                try:
                    code = main(argv)
                except SystemExit as exit_:
                    code = exit_.code
                except Reached:
                    code = None
                err = capsys.readouterr().err.strip()
                where = " ".join(argv[:1] + argv[-2:])
                if code is not None:  # refused: one line, nothing started
                    assert code == 2 and not seen, where
                    assert len(err.splitlines()) == 1 and err.startswith("glot") and "error" in err, (where, err)
                    continue
                assert value not in ("nan", "inf", "-inf"), f"{where} passed a non-finite number on"
                if command == "train":
                    config = seen[0][0][0]
                    arrived = getattr(config, action.dest, None)
                    if arrived is None and hasattr(config.glot, action.dest):
                        arrived = getattr(config.glot, action.dest)
                    expected = None if value == "none" else action.type(value)
                    if action.dest == "layers":  # nargs="+": a list
                        assert list(config.glot.layers) == [expected], where
                    else:
                        assert arrived == expected, (where, arrived)
                    if value == "none":
                        accepted_none.add(action.dest)
    assert walked > 300
    # threshold=None alone is refused by GlotOptions (it needs top_k): every other optional field takes none
    assert accepted_none == optional - {"threshold", "head", "layers", "head_norm"}, accepted_none ^ optional


def test_max_grad_norm_none_reaches_the_config_the_run_name_and_run_config(tiny_bert_dir, tmp_path):
    """``glot train --max-grad-norm none`` trains without clipping, in its own run folder, and says so in
    run_config.json (a run from before clipping existed can be named again)."""
    from sentence_transformers_glot.cli import main
    from sentence_transformers_glot.io import read_json
    from sentence_transformers_glot.training.run_identity import config_from_dict

    data = tmp_path / "mine.csv"
    data.write_text("text,label\n" + "".join(f"text number {i} {'good' if i % 2 else 'bad'},{i % 2}\n"
                                             for i in range(60)))
    common = ["train", "--backbone", tiny_bert_dir, "--task", str(data), "--epochs", "1", "--no-export",
              "--runs", str(tmp_path / "runs")]
    assert main([*common, "--max-grad-norm", "none"]) == 0
    assert main(common) == 0
    folders = sorted((tmp_path / "runs").iterdir())
    assert len(folders) == 2  # two runs, two names
    configs = [config_from_dict(read_json(folder / "run_config.json")) for folder in folders]
    assert sorted(str(c.max_grad_norm) for c in configs) == ["1.0", "None"]


def test_glot_flags_reach_a_baseline_that_takes_them_and_are_refused_where_none_does(monkeypatch, capsys, tmp_path):
    from sentence_transformers_glot.cli import main

    seen = []

    def work(config, *args, **kwargs):
        seen.append(config)
        raise Reached

    monkeypatch.setattr("sentence_transformers_glot.training.run.train", work)
    runs = ["--runs", str(tmp_path / "runs")]
    with pytest.raises(Reached):
        main(["train", "--pooling", "adapool", "--input-norm", "rms", "--attention-sink", "exclude", *runs])
    assert (seen[0].glot.input_norm, seen[0].glot.attention_sink, seen[0].glot.num_layers) == ("rms", "exclude", 0)
    assert main(["train", "--pooling", "mean", "adapool", "--conv", "gat", *runs]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "none of the options conv" in err and "add glot" in err
    seen.clear()
    with pytest.raises(Reached):  # with glot among them, each pooling gets the flags it takes
        main(["train", "--pooling", "glot", "mean", "--conv", "gat", "--input-norm", "rms", *runs])
    assert (seen[0].glot.conv, seen[0].glot.input_norm) == ("gat", "rms")
    monkeypatch.setattr("sentence_transformers_glot.evaluation.benchmark.run_cell", work)
    with pytest.raises(ValueError, match="none of the options conv"):
        from sentence_transformers_glot.evaluation.benchmark import run_benchmark

        run_benchmark(["minilm"], ["movie-polarity"], methods=["adapool"], template=TrainConfig(glot={"conv": "gat"}),
                      output=tmp_path / "bench")


def test_a_field_with_a_default_factory_shows_the_default_it_makes():
    from sentence_transformers_glot.training.selection import SelectionBudget

    parser = argparse.ArgumentParser()
    add_dataclass_arguments(parser, SelectionBudget)
    assert "(default: [0.0002, 0.002])" in " ".join(parser.format_help().split())
    assert not hasattr(parser.parse_args([]), "select_lrs")  # not given: the dataclass's own default applies
