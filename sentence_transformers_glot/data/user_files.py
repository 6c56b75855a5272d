"""Users' own CSV, TSV and JSONL files as tasks: column detection, targets, metrics and splits.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentence_transformers_glot.data.splits import (
    DEFAULT_SEED,
    LabelledRows,
    assemble_task,
    carve_validation,
    split_by_rank,
    split_sizes,
    task_version,
)
from sentence_transformers_glot.data.tasks import SPLITS, Metric, Objective, Split, TaskData
from sentence_transformers_glot.io import read_text_file, sha256_file

# --------------------------------------------------------------------------------------------------------------
# Users' own files
# --------------------------------------------------------------------------------------------------------------

FILE_SUFFIXES = (".csv", ".tsv", ".jsonl")
_PAIR_NAMES = (("sentence1", "sentence2"), ("text_a", "text_b"))
_TEXT_NAMES = ("text", "sentence")
_SPLIT_VALUES = {"train": "train", "training": "train", "validation": "validation", "valid": "validation",
                 "val": "validation", "dev": "validation", "test": "test"}
_CLASSIFICATION_METRICS = ("accuracy", "f1", "macro_f1", "mcc")
_REGRESSION_METRICS = ("spearman", "pearson")


@dataclass
class _Table:
    """A file's rows as dicts, its columns, and a place (``line 7``) for each row's messages."""

    path: Path
    columns: list[str]
    rows: list[dict[str, Any]]
    places: list[str]

    def column(self, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows]


def _quoted_throughout(lines: list[str], delimiter: str) -> bool:
    """Whether every field of every non-empty line is enclosed in double quotes."""
    fields = [field for line in lines if line.strip() for field in line.rstrip("\r\n").split(delimiter)]
    return bool(fields) and all(len(f) >= 2 and f.startswith('"') and f.endswith('"') for f in fields)


class SuspiciousQuoteWarning(UserWarning):
    """A CSV/TSV field in quotes spans lines that look like rows of the file: correct for a text with line breaks,
    or an unbalanced quote that merged rows (``strict_quotes=True`` refuses such files)."""


def _read_table(path: Path, encoding: str, strict_quotes: bool = False) -> _Table:
    """Rows of a CSV or TSV file.

    TSV is read without quote processing (a text may start with ``"``) unless the file is quoted throughout.
    CSV follows the CSV quoting rules (RFC 4180, as pandas' ``to_csv`` and Python's ``csv`` module write them:
    quoted fields may hold delimiters, doubled quotes and line breaks) strictly: a stray or unclosed quote is an
    error naming its line. A file the ``csv`` module parses is read as it parses; a quoted field spanning lines
    that look like rows of the file (:func:`_suspicious_fields`) is reported as a :class:`SuspiciousQuoteWarning`
    before anything trains, or refused with ``strict_quotes``. Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` only:
    form feeds, U+0085 and U+2028 inside a text are kept in it.
    """
    if path.suffix.lower() == ".jsonl":
        return _read_jsonl(path, encoding)
    tsv = path.suffix.lower() == ".tsv"
    delimiter = "\t" if tsv else ","
    text = read_text_file(path, encoding)
    lines = list(io.StringIO(text, newline=""))  # \n, \r\n, \r: the csv module's line ends, not str.splitlines'
    quoting = csv.QUOTE_NONE if tsv and not _quoted_throughout(lines, delimiter) else csv.QUOTE_MINIMAL
    reader = csv.DictReader(lines, delimiter=delimiter, restkey="\x00extra", quoting=quoting, strict=True)
    rows, places, spans = [], [], []
    start = 1
    try:
        columns = list(reader.fieldnames or [])
        start = reader.line_num + 1
        for row in reader:
            if "\x00extra" in row:
                raise ValueError(f"{path.name}, line {reader.line_num}: more fields than the header's {len(columns)}")
            rows.append(row)
            places.append(f"row {len(rows)} (line {start})")
            spans.append((start, reader.line_num))
            start = reader.line_num + 1
    except csv.Error as error:
        raise ValueError(f"{path.name}, line {start}: {error} (a quote that is not closed, or text after a closing "
                         "quote); in CSV, enclose the whole field in quotes and double the quotes inside it, or "
                         "use a .tsv file") from None
    for message in _suspicious_fields(path, rows, spans, columns, delimiter, len(lines)):
        if strict_quotes:
            raise ValueError(message + " (refused: strict_quotes / --strict-quotes)")
        warnings.warn(message, SuspiciousQuoteWarning, stacklevel=2)
    return _Table(path, columns, rows, places)


def _suspicious_fields(path: Path, rows: list[dict], spans: list[tuple[int, int]], columns: list[str],
                       delimiter: str, physical_lines: int) -> list[str]:
    """One message per row whose quoted field spans lines that look like rows of the file: lines that split into
    exactly the file's number of fields. A text with line breaks may hold such lines (a checklist ``acting,
    pos``); an unbalanced quote that swallowed rows always does. The message names the row, its physical lines,
    how many look like rows, and the file's rows against its lines."""
    messages = []
    for number, (row, (first, last)) in enumerate(zip(rows, spans), start=1):
        if first == last:
            continue
        inner = [line for value in row.values() if isinstance(value, str) for line in value.split("\n")[1:]]
        looks = sum(len(line.rstrip("\r").split(delimiter)) == len(columns) for line in inner)
        if looks:
            messages.append(
                f"{path.name}, row {number} (lines {first}-{last}): a quoted field spans {last - first + 1} lines, "
                f"{looks} of which look like rows of this file ({len(rows)} rows in {physical_lines} lines). If its "
                f"quote at line {first} is unbalanced, rows were merged: fix it; if the text has line breaks, "
                "this is fine")
    return messages


def _read_jsonl(path: Path, encoding: str) -> _Table:
    columns: dict[str, None] = {}
    rows, places = [], []
    # lines end at \n only: a JSON string may hold U+2028 or \x85 unescaped (ensure_ascii=False)
    for number, line in enumerate(read_text_file(path, encoding).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path.name}, line {number}: not valid JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise ValueError(f"{path.name}, line {number}: expected a JSON object per line, got "
                             f"{type(row).__name__}")
        columns.update(dict.fromkeys(row))
        rows.append(row)
        places.append(f"row {len(rows)} (line {number})")
    return _Table(path, list(columns), rows, places)


def _require_column(table: _Table, name: str, option: str) -> str:
    if name not in table.columns:
        raise ValueError(f"{option}={name!r}: {table.path.name} has no column {name!r}; its columns are: "
                         f"{', '.join(table.columns) or '(none)'}")
    return name


def _pick_text_columns(table: _Table, text_column: str | None, text_b_column: str | None) -> tuple[str, str | None]:
    if text_column is not None:
        b = None if text_b_column is None else _require_column(table, text_b_column, "text_b_column")
        return _require_column(table, text_column, "text_column"), b
    if text_b_column is not None:
        raise ValueError("text_b_column is given without text_column: name both columns of the pair")
    for a, b in _PAIR_NAMES:
        if a in table.columns and b in table.columns:
            return a, b
    for name in _TEXT_NAMES:
        if name in table.columns:
            return name, None
    raise ValueError(f"{table.path.name}: no text column found (looked for {', '.join(_TEXT_NAMES)}, or the pairs "
                     f"{', '.join('+'.join(p) for p in _PAIR_NAMES)}); its columns are: {', '.join(table.columns)}. "
                     "Pass text_column= (and text_b_column= for pairs)")


def _pick_target_column(table: _Table, label_column: str | None, score_column: str | None) -> tuple[str, bool]:
    """(column, is_score): the target column, and whether it was given or found as a score."""
    if label_column is not None and score_column is not None:
        raise ValueError("give label_column (classes, or values whose type decides) or score_column (regression), "
                         "not both")
    if label_column is not None:
        return _require_column(table, label_column, "label_column"), False
    if score_column is not None:
        return _require_column(table, score_column, "score_column"), True
    for name, is_score in (("label", False), ("score", True)):
        if name in table.columns:
            return name, is_score
    raise ValueError(f"{table.path.name}: no target column found (looked for label, score); its columns are: "
                     f"{', '.join(table.columns)}. Pass label_column= or score_column=")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _texts(table: _Table, column: str) -> list[str]:
    values = table.column(column)
    for value, place in zip(values, table.places):
        if _is_missing(value):
            raise ValueError(f"{table.path.name}: text column {column!r} has a missing or empty value at {place}")
        if not isinstance(value, str):  # JSONL: a number, list or object where a text belongs
            raise ValueError(f"{table.path.name}: text column {column!r} has the {type(value).__name__} "
                             f"{value!r} at {place}; texts must be JSON strings (quote it)")
    return values


def check_pair(texts: Sequence[Any], texts_b: Sequence[Any] | None, place: Callable[[int], str],
                columns: Sequence[str]) -> None:
    """Both texts of each pair present, and as many second texts as first ones."""
    if texts_b is None:
        return
    if len(texts_b) != len(texts):
        raise ValueError(f"pair columns {columns[0]!r} and {columns[1]!r} have different lengths "
                         f"({len(texts)} and {len(texts_b)})")
    for row, (a, b) in enumerate(zip(texts, texts_b)):
        for value, column in ((a, columns[0]), (b, columns[1])):
            if _is_missing(value):
                raise ValueError(f"pair column {column!r} has a missing or empty value at {place(row)}: every pair "
                                 "needs both texts")


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _parse_targets(table: _Table, column: str, objective: Objective | None,
                   is_score: bool) -> tuple[np.ndarray, Objective, list[str] | None]:
    """Targets as (labels, objective, label_names): class ids for classification, float32 for regression."""
    raw = table.column(column)
    for value, place in zip(raw, table.places):
        if _is_missing(value):
            raise ValueError(f"{table.path.name}: target column {column!r} has a missing value at {place}")
    numbers = [_as_number(value) for value in raw]
    textual = [i for i, number in enumerate(numbers) if number is None]
    if textual and len(textual) < len(raw):  # numbers and words in one column: a typo, not a new class
        numeric = [i for i, number in enumerate(numbers) if number is not None]
        kind, minority = ("text", textual) if len(textual) <= len(numeric) else ("number", numeric)
        raise ValueError(f"{table.path.name}: target column {column!r} mixes numbers and text: the {kind} "
                         f"{raw[minority[0]]!r} at {table.places[minority[0]]} ({len(minority)} such row"
                         f"{'s' if len(minority) > 1 else ''}); make every value a number or every value a class name")
    if textual:  # class names
        if objective == "regression":
            raise ValueError(f"objective='regression' needs numeric targets, but column {column!r} has "
                             f"{raw[0]!r} at {table.places[0]}")
        names = sorted({str(value).strip() for value in raw})
        ids = {name: i for i, name in enumerate(names)}
        return np.asarray([ids[str(value).strip()] for value in raw], dtype=np.int64), "classification", names
    values = np.asarray(numbers, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise ValueError(f"{table.path.name}: target column {column!r} has {raw[bad[0]]!r} (NaN or infinite) at "
                         f"{table.places[bad[0]]}; drop or fix those rows")
    fractional = np.flatnonzero(values != np.round(values))
    if objective is None:
        objective = "regression" if is_score or len(fractional) else "classification"
    if objective == "regression":
        return values.astype(np.float32), "regression", None
    if len(fractional):
        raise ValueError(f"objective='classification' needs integer class labels, but column {column!r} has "
                         f"{raw[fractional[0]]!r} at {table.places[fractional[0]]}; use objective='regression' for "
                         "scores")
    classes = np.unique(values)
    return np.searchsorted(classes, values).astype(np.int64), "classification", [f"{c:g}" for c in classes]


def _file_splits(table: _Table, rows: LabelledRows, objective: Objective, split_column: str | None,
                 seed: int) -> tuple[dict[str, Split], str]:
    """The splits and a sentence saying how they were made."""
    if split_column is None:
        splits = split_by_rank(rows, objective, seed)
        how = ("seeded (seed {seed}) 80/10/10 split{strat}, ranked by SHA-256 of seed and text"
               .format(seed=seed, strat=", stratified by class" if objective == "classification" else ""))
        return splits, how
    _require_column(table, split_column, "split_column")
    names = []
    for value, place in zip(table.column(split_column), table.places):
        name = _SPLIT_VALUES.get(str(value).strip().lower()) if value is not None else None
        if name is None:
            raise ValueError(f"split column {split_column!r} has {value!r} at {place}; use train, validation (or "
                             "dev/val/valid) or test")
        names.append(name)
    names_array = np.asarray(names)
    index = {name: np.flatnonzero(names_array == name) for name in SPLITS}
    for name in ("train", "test"):
        if len(index[name]) == 0:
            raise ValueError(f"split column {split_column!r} marks no {name!r} rows: it must name train and test rows "
                             "(validation rows are carved from train when none are marked)")
    how = f"splits from column {split_column!r}"
    if len(index["validation"]) == 0:
        carved_train, validation = carve_validation(rows.subset(index["train"]), objective, seed)
        return {"train": carved_train, "validation": validation, "test": rows.take(index["test"])}, (
            how + f"; validation: a seeded (seed {seed}) 10% of the train rows")
    return {name: rows.take(index[name]) for name in SPLITS}, how


def load_user_file(path: Path, *, text_column: str | None = None, text_b_column: str | None = None,
               label_column: str | None = None, score_column: str | None = None,
               objective: Objective | None = None, split_column: str | None = None, metric: Metric | None = None,
               seed: int = DEFAULT_SEED, encoding: str = "utf-8-sig", strict_quotes: bool = False) -> TaskData:
    if objective not in (None, "classification", "regression"):
        raise ValueError(f"objective={objective!r}: use 'classification', 'regression' or None (inferred)")
    table = _read_table(path, encoding, strict_quotes)
    if not table.rows:
        raise ValueError(f"{path.name} has no data rows")
    a, b = _pick_text_columns(table, text_column, text_b_column)
    target, is_score = _pick_target_column(table, label_column, score_column)
    if b is not None:
        check_pair(table.column(a), table.column(b), table.places.__getitem__, (a, b))
    labels, objective, label_names = _parse_targets(table, target, objective, is_score)
    if objective == "classification" and label_names is not None and len(label_names) < 2:
        raise ValueError(f"{path.name}: the label column {target!r} holds one class ({label_names[0]!r}) in every "
                         "row; a classifier needs at least two (for numeric scores use score_column= / "
                         "--score-column, a regression)")
    if objective == "regression" and len(np.unique(labels)) < 2:
        raise ValueError(f"{path.name}: the score column {target!r} holds one value ({labels[0]:g}) in every row; a "
                         "regression needs scores that vary (for classes use label_column= / --label-column)")
    metric = _check_metric(metric, objective, label_names)
    rows = LabelledRows(_texts(table, a), labels, None if b is None else _texts(table, b))
    splits, how = _file_splits(table, rows, objective, split_column, seed)
    resolved = {"text_column": a, "text_b_column": b, "target_column": target, "objective": objective,
                "split_column": split_column, "metric": metric, "seed": seed}
    options_digest = hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()[:8]
    content_digest = sha256_file(path)[:12]
    duplicates = len(rows) - len(set(rows.keys()))
    description = (
        f"User file {path} ({len(rows):,} rows, SHA-256 {content_digest}...): text {a!r}"
        + (f" + {b!r}" if b else "") + f", target {target!r} ({objective}"
        + (f", {len(label_names)} classes" if label_names else "") + f"), metric {metric}. Split: {how}. "
        f"Sizes {split_sizes(splits)}." + (f" {duplicates} rows repeat an earlier text (kept)." if duplicates else ""))
    return assemble_task(
        f"file:{path.name}", objective, metric, splits, label_names, description,
        task_version(f"{content_digest}.{options_digest}", {}),
        {"seed": seed, "source": str(path), "columns": resolved, "duplicate_texts": duplicates})


def _check_metric(metric: str | None, objective: Objective, label_names: list[str] | None) -> Metric:
    allowed = _CLASSIFICATION_METRICS if objective == "classification" else _REGRESSION_METRICS
    if metric is None:
        return "accuracy" if objective == "classification" else "spearman"
    if metric not in allowed:
        raise ValueError(f"metric={metric!r} does not fit a {objective} task: use one of {', '.join(allowed)}")
    if metric == "f1" and label_names is not None and len(label_names) != 2:
        raise ValueError(f"metric='f1' is binary F1 but the task has {len(label_names)} classes: use 'macro_f1'")
    return metric  # type: ignore[return-value]
