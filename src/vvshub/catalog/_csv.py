"""A strict CSV reader: every row checked, every error naming the file and line."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vvshub.errors import ImportDataError

Converter = Callable[[str], Any]


def opt_float(text: str) -> float | None:
    """A finite float, or ``None`` for an empty field (or ``nan``, the study's missing value)."""
    if text == "":
        return None
    value = float(text)
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def opt_int(text: str) -> int | None:
    """An integer (``'61100840.0'`` is accepted), or ``None`` for an empty field."""
    if text == "":
        return None
    value = float(text)
    if not value.is_integer():
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def req_int(text: str) -> int:
    """A required integer."""
    value = opt_int(text)
    if value is None:
        raise ValueError("empty field where a number is required")
    return value


def req_float(text: str) -> float:
    """A required float."""
    value = opt_float(text)
    if value is None:
        raise ValueError("empty field where a number is required")
    return value


def boolean(text: str) -> bool:
    """``True``/``False`` as the study writes them (empty means False)."""
    if text in ("True", "true", "1"):
        return True
    if text in ("False", "false", "0", ""):
        return False
    raise ValueError(f"{text!r} is not True or False")


def within(convert: Converter, *, low: float | None = None, high: float | None = None) -> Converter:
    """``convert``, then refuse a value outside ``[low, high]`` (its column's domain).

    Example:
        >>> within(opt_float, low=-1, high=1)("7.5")
        Traceback (most recent call last):
        ...
        ValueError: '7.5' is outside the column's domain [-1, 1]
    """

    def check(text: str) -> Any:
        value = convert(text)
        if value is None:
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            lo = "-inf" if low is None else f"{low:g}"
            hi = "inf" if high is None else f"{high:g}"
            raise ValueError(f"{text!r} is outside the column's domain [{lo}, {hi}]")
        return value

    return check


def opt_str(text: str) -> str | None:
    """A string, or ``None`` for an empty field."""
    return text if text != "" else None


def read_csv(
    path: Path, *, columns: dict[str, Converter] | None = None, required: Sequence[str] = ()
) -> tuple[list[str], list[dict[str, Any]]]:
    """Read ``path`` strictly.

    Args:
        path: the CSV file (UTF-8, header row).
        columns: converter per column to type; other columns stay strings.
        required: columns the header must have (the keys of ``columns`` are required too).

    Returns:
        The header and one dict per row, typed.

    Raises:
        ImportDataError: a missing column, a row with the wrong number of fields
            (a truncated or malformed file), or a field that does not convert;
            the message names the file and line.
    """
    columns = columns or {}
    name = path.name
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ImportDataError(f"cannot read {path}: {exc.strerror}", path=str(path)) from None
    with handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportDataError(
                f"{name} is empty (expected a header row)", path=str(path), line=1
            ) from None
        except csv.Error as exc:
            raise ImportDataError(
                f"{name}:1: malformed CSV: {exc}", path=str(path), line=1
            ) from None
        missing = [c for c in (*required, *columns) if c not in header]
        if missing:
            raise ImportDataError(
                f"{name}:1: missing column(s) {', '.join(missing)}", path=str(path), line=1
            )
        index = {c: header.index(c) for c in header}
        rows: list[dict[str, Any]] = []
        line = 1
        try:
            for fields in reader:
                line = reader.line_num
                if not fields:
                    continue
                if len(fields) != len(header):
                    raise ImportDataError(
                        f"{name}:{line}: expected {len(header)} fields, found {len(fields)} "
                        "(truncated or malformed file)",
                        path=str(path),
                        line=line,
                    )
                row: dict[str, Any] = {}
                for col, i in index.items():
                    text = fields[i]
                    conv = columns.get(col)
                    if conv is None:
                        row[col] = text
                        continue
                    try:
                        row[col] = conv(text)
                    except ValueError as exc:
                        raise ImportDataError(
                            f"{name}:{line}: column {col!r}: {exc}", path=str(path), line=line
                        ) from None
                rows.append(row)
        except csv.Error as exc:
            line = reader.line_num
            raise ImportDataError(
                f"{name}:{line}: malformed CSV: {exc}", path=str(path), line=line
            ) from None
    if not rows:
        raise ImportDataError(f"{name} has a header but no rows", path=str(path), line=2)
    return header, rows
