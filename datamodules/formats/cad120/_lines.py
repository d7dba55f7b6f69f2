"""Line-level reading and writing shared by the CAD-120 text readers (comma-separated, ASCII).

Every value a numeric line holds must be finite once cast to float32 (what the data modules store), and
every frame number or index must fit :data:`MAX_INDEX`; anything else is a
:class:`~datamodules.formats.errors.CAD120FormatError` naming the file, the line and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import CAD120FormatError

__all__ = [
    "MAX_INDEX",
    "fields",
    "text_lines",
    "byte_lines",
    "show",
    "parse_int",
    "numeric_rows",
    "frame_numbers",
    "format_number",
    "write_lines",
]

MAX_INDEX = 2**31 - 1  # frame numbers and 1-based indices: int32, far beyond any real video


def fields(line: str) -> list[str]:
    """Comma-separated fields of a line, without the trailing comma the released files put at the end."""
    line = line.strip()
    if line.endswith(","):
        line = line[:-1]
    return [value.strip() for value in line.split(",")]


def text_lines(path: Path) -> list[tuple[int, str]]:
    """``(1-based line number, text)`` of every non-blank line."""
    if not path.is_file():
        raise CAD120FormatError(path, "", "missing file")
    data = path.read_bytes()
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise CAD120FormatError(
            path,
            f"line {line}",
            f"expected ASCII text, got byte 0x{data[error.start]:02x} in column {column}",
        ) from None
    return [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def show(text: str) -> str:
    """``repr`` of ``text``, cut to 60 characters for messages."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


def parse_int(value: str, path: Path, number: int, what: str) -> int:
    """``value`` as an integer in ``[-MAX_INDEX, MAX_INDEX]`` (bounded before ``int()``, which refuses
    more than 4300 digits with an untyped error)."""
    digits = value[1:] if value.startswith("-") else value
    if not (digits.isascii() and digits.isdigit()):
        raise CAD120FormatError(path, f"line {number}", f"expected {what} (an integer), got {show(value)}")
    if len(digits) > len(str(MAX_INDEX)) or abs(int(value)) > MAX_INDEX:
        raise CAD120FormatError(
            path, f"line {number}", f"expected {what} of at most {MAX_INDEX}, got {show(value)}"
        )
    return int(value)


def format_number(value: float) -> str:
    """A number as the released files write it: integers without a decimal point, else ``repr``."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    """Write ``lines`` (ASCII, one ``\\n`` each), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="ascii")
    return path


def numeric_rows(path: Path, lines: list[tuple[int, bytes]], width: int | None, what: str) -> np.ndarray:
    """Parse comma-separated numeric lines into ``(len(lines), width)`` float64 in one numpy call.

    ``width=None`` takes the width of the first line (then required of all). Locates the first bad line
    only when the fast path fails.
    """
    if not lines:
        return np.zeros((0, width or 0))
    rows = [text[:-1] if text.endswith(b",") else text for _, text in lines]
    expected = width if width is not None else rows[0].count(b",") + 1
    try:
        values = np.loadtxt(rows, dtype=np.float64, delimiter=",", comments=None, ndmin=2)
    except ValueError:
        values = None
    if values is None or values.shape != (len(rows), expected):
        for (number, _), row in zip(lines, rows, strict=True):
            found = row.count(b",") + 1
            if found != expected:
                raise CAD120FormatError(
                    path, f"line {number}", f"expected {expected} values for {what}, got {found}"
                )
            if _parses(row, expected):
                continue
            for column, token in enumerate(row.split(b","), start=1):
                if not _parses(token, 1):
                    raise CAD120FormatError(
                        path,
                        f"line {number}",
                        f"non-numeric value {show(token.decode('ascii', 'replace').strip())} "
                        f"in column {column} of {what}",
                    )
            raise CAD120FormatError(
                path, f"line {number}", f"expected numbers for {what}, got {show(str(row))}"
            )
        raise CAD120FormatError(path, "", f"the lines of {what} could not be parsed as numbers")
    with np.errstate(over="ignore"):
        bad = ~np.isfinite(values.astype(np.float32))  # 1e300 is finite in float64, inf in the store
    if bad.any():
        row, column = np.argwhere(bad)[0]
        value = values[row, column]
        kind = "non-finite value" if not np.isfinite(value) else "value beyond float32 range"
        raise CAD120FormatError(
            path,
            f"line {lines[row][0]}",
            f"{kind} {value} in column {column + 1} of {what}; expected a finite number within "
            f"+-{np.finfo(np.float32).max:.4g}",
        )
    return values


def _parses(text: bytes, width: int) -> bool:
    """Whether numpy reads ``text`` as ``width`` comma-separated float64 values (Python's ``float``
    accepts more: ``1_0``)."""
    try:
        values = np.loadtxt([text], dtype=np.float64, delimiter=",", comments=None, ndmin=2)
    except ValueError:
        return False
    return values.shape == (1, width)


def frame_numbers(path: Path, lines: list[tuple[int, bytes]], column: np.ndarray) -> np.ndarray:
    """``(N,)`` int64 frame numbers from the first column: integers in 1..MAX_INDEX, strictly increasing."""
    whole = (column == np.round(column)) & (np.abs(column) <= MAX_INDEX)
    if not whole.all():
        row = int(np.flatnonzero(~whole)[0])
        raise CAD120FormatError(
            path,
            f"line {lines[row][0]}",
            f"expected an integer frame number of at most {MAX_INDEX}, got {column[row]}",
        )
    frames = column.astype(np.int64)
    step_ok = np.diff(frames) > 0
    if (frames < 1).any() or not step_ok.all():
        row = (
            int(np.flatnonzero(frames < 1)[0]) if (frames < 1).any() else int(np.flatnonzero(~step_ok)[0]) + 1
        )
        raise CAD120FormatError(
            path,
            f"line {lines[row][0]}",
            f"frame number {frames[row]} must be >= 1 and larger than the previous line's",
        )
    return frames


def byte_lines(path: Path) -> list[tuple[int, bytes]]:
    """``(1-based line number, stripped bytes)`` of every non-blank line."""
    if not path.is_file():
        raise CAD120FormatError(path, "", "missing file")
    return [
        (n, line.strip()) for n, line in enumerate(path.read_bytes().splitlines(), start=1) if line.strip()
    ]
