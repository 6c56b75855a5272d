"""Command-line flags generated from config dataclasses: one source for names, types, defaults, choices and help.

Each field becomes ``--field-name`` with the field's type (``int | None`` -> ``int``, ``list[int]`` ->
``nargs="+"``), its default, the ``choices`` in its metadata, and the help text of its entry in the class
docstring's ``Attributes:`` section (an entry may name several fields: ``epochs, lr: ...``).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from typing import Any

_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every option's default, except where it is ``None`` or already in the help text."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is None or action.default is argparse.SUPPRESS or "default" in text:
            return text
        if isinstance(action.default, bool) and not action.default:
            return text
        return super()._get_help_string(action)


def layer_indices(text: str) -> list[int]:
    """A command-line group of hidden layers: ``"8,9,10"`` -> ``[8, 9, 10]``, ``"3"`` -> ``[3]``."""
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a hidden-layer index (e.g. 3) or a comma-separated group of them (e.g. 8,9,10)"
        ) from None


def field_help(cls: type) -> dict[str, str]:
    """Field name -> help text, from the ``Attributes:`` section of ``cls``'s docstring."""
    doc = cls.__doc__ or ""
    section = doc.split("Attributes:", 1)[1] if "Attributes:" in doc else ""
    out: dict[str, str] = {}
    names: list[str] = []
    for line in section.splitlines():
        entry = re.match(r"^\s{4,8}([a-z_][a-z0-9_, ]*):\s*(.*)$", line)
        if entry and not line.startswith(" " * 12):
            names = [name.strip() for name in entry.group(1).split(",")]
            for name in names:
                out[name] = entry.group(2).strip()
        elif line.strip() and names:
            for name in names:
                out[name] += " " + line.strip()
        elif not line.strip() and out:
            names = []
    return {name: _plain(text) for name, text in out.items()}


def _plain(text: str) -> str:
    """Docstring markup as plain help text: roles (``:func:`~a.b```) become their target, ``%`` is escaped."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return text.replace("``", "").replace("%", "%%")


def _parse_type(annotation: str) -> tuple[type, bool]:
    """(element type, is a list) of a field annotation written as a string (``from __future__ import annotations``)."""
    parts = [part.strip() for part in annotation.split("|") if part.strip() != "None"]
    kind = parts[0]
    if kind.startswith("list[") and kind.endswith("]"):
        return _TYPES[kind[5:-1]], True
    if kind not in _TYPES:
        raise TypeError(f"no command-line type for a field annotated {annotation!r}")
    return _TYPES[kind], False


def add_dataclass_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    only: tuple[str, ...] | None = None,
    skip: tuple[str, ...] = (),
    unset_defaults: bool = False,
) -> None:
    """Add one flag per field of the dataclass ``cls`` (``only`` those, none of ``skip``).

    With ``unset_defaults`` every flag defaults to ``None`` (left out of :func:`dataclass_kwargs`), and the
    help shows the field's default instead: for options passed on only when given (so that configurations,
    and the run names hashed from them, stay as short as what the user set).
    """
    helps = field_help(cls)
    for spec in dataclasses.fields(cls):
        if (only is not None and spec.name not in only) or spec.name in skip:
            continue
        # a field with choices (a Literal type) takes one of them as a string
        kind, many = (str, False) if "choices" in spec.metadata else _parse_type(str(spec.type))
        default = spec.default if spec.default is not dataclasses.MISSING else None
        text = helps.get(spec.name, "")
        if unset_defaults:
            text = f"{text} (default: {default})" if text else f"default: {default}"
        flag = "--" + spec.name.replace("_", "-")
        if kind is bool:  # --name / --no-name
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=text,
                                default=None if unset_defaults else default)
            continue
        parser.add_argument(flag, type=spec.metadata.get("type", kind), nargs="+" if many else None,
                            choices=spec.metadata.get("choices"), default=None if unset_defaults else default,
                            help=text, metavar=None if spec.metadata.get("choices") else spec.name.upper())


def dataclass_kwargs(args: argparse.Namespace, cls: type, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of ``cls`` that ``args`` holds a value (not ``None``) for."""
    return {spec.name: getattr(args, spec.name) for spec in dataclasses.fields(cls)
            if spec.name not in skip and getattr(args, spec.name, None) is not None}
