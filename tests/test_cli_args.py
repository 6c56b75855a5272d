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
