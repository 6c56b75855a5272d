"""Command-line flags generated from config dataclasses: one source for names, types, defaults, choices and help.

Each field becomes ``--field-name`` with the field's type (``int | None`` -> ``int``, ``list[int]`` ->
``nargs="+"``), its default, the ``choices`` in its metadata, and the help text of its entry in the class
docstring's ``Attributes:`` section (an entry may name several fields: ``epochs, lr: ...``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
from typing import Any, Callable, NoReturn

from sentence_transformers_glot.options import MAX_SEED, MAX_THREADS, GlotOptions

_TYPES = {"int": int, "float": float, "str": str, "bool": bool}
#: What a flag of an optional field (``float | None``) takes for ``None``: ``--max-grad-norm none``.
NONE = "none"


class GlotArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (``glot train: error: argument --lr: ...``) that names
    the flag and where its help is, instead of the usage block and the error after it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every option's default, except where it is ``None`` or already in the help text."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is None or action.default is argparse.SUPPRESS or "default" in text:
            return text
        if isinstance(action.default, bool) and not action.default:
            return text
        return super()._get_help_string(action)


def add_command(commands: argparse._SubParsersAction, name: str, help: str) -> argparse.ArgumentParser:
    """A ``glot`` subcommand whose help shows every option's default (:class:`HelpFormatter`)."""
    return commands.add_parser(name, help=help, formatter_class=HelpFormatter)


def number(kind: type = float, low: float | None = None, high: float | None = None, *,
           above: bool = False) -> Callable[[str], Any]:
    """An argparse ``type`` for a number flag: ``kind`` (int or float), finite, at least ``low`` (greater than it
    with ``above``) and at most ``high`` (wrap it in :func:`optional_value` to take ``none`` too). A bad value is
    one line naming the range: ``argument --threads: must be an int >= 1, <= 1024; got '0'``."""
    expected = "an int" if kind is int else "a finite number"
    if low is not None:
        expected += f" {'>' if above else '>='} {low:g}"
    if high is not None:
        expected += f"{',' if low is not None else ''} <= {high:g}"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if (value is None or not math.isfinite(value) or (low is not None and (value <= low if above else value < low))
                or (high is not None and value > high)):
            raise argparse.ArgumentTypeError(f"must be {expected}; got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


#: The ``--threads`` and ``--seed(s)`` flags of every command.
THREADS = number(int, 1, MAX_THREADS)
SEED = number(int, 0, MAX_SEED)


def optional_value(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse``, or ``None`` for the text ``none`` (a flag of a field that may be ``None``)."""

    def parse_optional(text: str) -> Any:
        return None if text.strip().lower() == NONE else parse(text)

    parse_optional.__name__ = getattr(parse, "__name__", "value")
    return parse_optional


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


def _parse_type(annotation: str) -> tuple[type, bool, bool]:
    """(element type, is a list, may be None) of a field annotation written as a string (``from __future__ import
    annotations``)."""
    parts = [part.strip() for part in annotation.split("|")]
    optional = "None" in parts
    kind = [part for part in parts if part != "None"][0]
    if kind.startswith("list[") and kind.endswith("]"):
        return _TYPES[kind[5:-1]], True, optional
    if kind not in _TYPES:
        raise TypeError(f"no command-line type for a field annotated {annotation!r}")
    return _TYPES[kind], False, optional


def _flag_type(spec: dataclasses.Field) -> tuple[Callable[[str], Any] | None, bool]:
    """(argparse ``type``, takes several values) of a field: its metadata's ``type`` or its annotation's; numbers
    must be finite; a field that may be ``None`` also takes ``none``. Ranges are the dataclass's own checks."""
    if "choices" in spec.metadata:  # a Literal type: one of the choices, as a string
        return None, False
    kind, many, optional = _parse_type(str(spec.type))
    if kind is bool:  # --name / --no-name (a None default stays None unless given)
        return bool, False
    parse = spec.metadata.get("type") or (number(kind) if kind in (int, float) else kind)
    return (optional_value(parse) if optional and not many else parse), many


def add_dataclass_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    only: tuple[str, ...] | None = None,
    skip: tuple[str, ...] = (),
    defaults: dict[str, Any] | None = None,
) -> None:
    """Add one flag per field of the dataclass ``cls`` (``only`` those, none of ``skip``).

    A flag that is not given leaves no attribute on the parsed namespace (its help shows the field's default, or
    the command's own from ``defaults``: the value the command uses when the flag is not given),
    so :func:`dataclass_kwargs` passes on exactly what the user gave, ``None`` (``--max-grad-norm none``)
    included: configurations, and the run names hashed from them, hold only that.
    """
    helps = field_help(cls)
    for spec in dataclasses.fields(cls):
        if (only is not None and spec.name not in only) or spec.name in skip:
            continue
        own = spec.default if spec.default is not dataclasses.MISSING else (
            spec.default_factory() if spec.default_factory is not dataclasses.MISSING else None)
        default = (defaults or {}).get(spec.name, own)
        text = helps.get(spec.name, "")
        text = f"{text} (default: {default})" if text else f"default: {default}"
        flag = "--" + spec.name.replace("_", "-")
        kind, many = _flag_type(spec)
        if kind is bool:  # --name / --no-name
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=text, default=argparse.SUPPRESS)
            continue
        parser.add_argument(flag, type=kind, nargs="+" if many else None, choices=spec.metadata.get("choices"),
                            default=argparse.SUPPRESS, help=text,
                            metavar=None if spec.metadata.get("choices") else spec.name.upper())


def dataclass_kwargs(args: argparse.Namespace, cls: type, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of ``cls`` that were given on the command line (``None`` included), by name."""
    return {spec.name: getattr(args, spec.name) for spec in dataclasses.fields(cls)
            if spec.name not in skip and hasattr(args, spec.name)}


def glot_kwargs(args: argparse.Namespace) -> dict:
    """The GLOT flags (:func:`add_glot_flags`) the user gave (the others stay GlotPooling's defaults), checked as
    GlotOptions checks them."""
    kwargs = dataclass_kwargs(args, GlotOptions, skip=("layers",))
    if args.no_threshold:
        kwargs["threshold"] = None
    GlotOptions(**kwargs)  # a bad value or combination fails here, in one line, before anything loads
    return kwargs


def add_glot_flags(parser: argparse.ArgumentParser) -> None:
    """GlotPooling's options as flags (one per GlotOptions field but ``layers``), and ``--no-threshold``."""
    group = parser.add_argument_group("GLOT options (GlotPooling keywords; defaults: the paper's)")
    add_dataclass_arguments(group, GlotOptions, skip=("layers",))
    group.add_argument("--no-threshold", action="store_true", help="threshold=None (use with --top-k)")
