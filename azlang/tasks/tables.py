"""Task stage: reading one's own data (CSV and NPZ files) into checked float64 arrays, with clear errors.

Every error names the file (and for CSV the line and column of the offending cell), shows the offending
value and gives a hint; nothing reaches the evaluator that is not a finite number.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from azlang.errors import Loc, TaskSpecError


@dataclass
class Table:
    """Features (n, D) and labels (n,) from one file, with where they came from (for messages)."""

    x: np.ndarray
    y: np.ndarray
    source: str
    columns: tuple[str, ...] = ()  # feature names (CSV header) if any
    label: str = ""


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _open_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TaskSpecError(f"no such data file: {path}", hint="give a path relative to the working directory "
                            "or an absolute one") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskSpecError(f"cannot read data file {path}: {exc}") from None


def read_csv(path: str | Path, label: str | None = None) -> Table:
    """A CSV file of numbers, one example per row; a first row with any non-number is a header. The label is
    the last column unless `label` names another (a header name or a 0-based index, negative from the end)."""
    path = Path(path)
    text = _open_text(path)
    rows = [(i + 1, r) for i, r in enumerate(csv.reader(text.splitlines())) if any(c.strip() for c in r)]
    if not rows:
        raise TaskSpecError(f"{path}: the file has no rows", hint="one example per line, the label last")
    header = None
    if any(_number(c) is None for c in rows[0][1]):
        header = tuple(c.strip() for c in rows[0][1])
        rows = rows[1:]
    width = len(header) if header else len(rows[0][1]) if rows else 0
    label_col = _label_column(path, label, header, width)
    data = np.empty((len(rows), width))
    for r, (line, cells) in enumerate(rows):
        if len(cells) != width:
            raise TaskSpecError(f"row has {len(cells)} columns, the file's first row has {width}",
                                loc=Loc(str(path), line, 1), hint="every row needs the same number of columns")
        for c in range(width):
            data[r, c] = _cell(path, line, cells, c, header)
    names = header or tuple(f"column {c}" for c in range(width))
    keep = [c for c in range(width) if c != label_col]
    return Table(data[:, keep], data[:, label_col], str(path), tuple(names[c] for c in keep), names[label_col])


def _cell(path: Path, line: int, cells: list[str], c: int, header) -> float:
    value = _number(cells[c].strip())
    col = sum(len(x) + 1 for x in cells[:c]) + 1
    name = repr(header[c]) if header else str(c)
    loc = Loc(str(path), line, col, max(1, len(cells[c])))
    if value is None:
        raise TaskSpecError(f"column {name} holds {cells[c].strip()!r}, not a number", loc=loc,
                            hint="every column must be numeric: encode categories as numbers (e.g. one-hot) "
                                 "and drop text columns")
    if not math.isfinite(value):
        raise TaskSpecError(f"column {name} holds {cells[c].strip()!r}", loc=loc,
                            hint="missing, NaN and infinite values are not allowed: drop or impute those rows")
    return value


def _label_column(path: Path, label: str | None, header, width: int) -> int:
    if width < 2:
        raise TaskSpecError(f"{path}: a row needs at least two columns (features, then the label); it has {width}")
    if label is None or label == "":
        return width - 1
    if header and label in header:
        return header.index(label)
    try:
        k = int(label)
    except ValueError:
        known = f"the columns are {', '.join(header)}" if header else "the file has no header: use a 0-based index"
        raise TaskSpecError(f"{path}: no column named {label!r} for the label", hint=known) from None
    if not -width <= k < width:
        raise TaskSpecError(f"{path}: label column {k} is out of range (the rows have {width} columns)")
    return k % width


NPZ_SPLIT_KEYS = ("train_x", "train_y", "valid_x", "valid_y")


def read_npz(path: str | Path, x_key: str | None = None, y_key: str | None = None) -> dict[str, Table]:
    """{"all": Table} from keys x and y (or X and y, or the given names), or {"train": ..., "valid": ...} from
    train_x, train_y, valid_x, valid_y (given splits)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise TaskSpecError(f"no such data file: {path}") from None
    except (OSError, ValueError) as exc:
        raise TaskSpecError(f"cannot read {path} as an .npz archive: {exc}",
                            hint="write it with numpy.savez(path, x=X, y=y)") from None
    if x_key is None and y_key is None and all(k in arrays for k in NPZ_SPLIT_KEYS):
        return {part: _npz_table(path, arrays, f"{part}_x", f"{part}_y") for part in ("train", "valid")}
    x_key = x_key or ("x" if "x" in arrays else "X")
    y_key = y_key or "y"
    return {"all": _npz_table(path, arrays, x_key, y_key)}


def _npz_table(path: Path, arrays: dict, x_key: str, y_key: str) -> Table:
    for key in (x_key, y_key):
        if key not in arrays:
            raise TaskSpecError(f"{path}: no array named {key!r} (it holds {', '.join(sorted(arrays)) or 'nothing'})",
                                hint="keys x and y, or train_x, train_y, valid_x, valid_y, or name them with "
                                     "x=KEY and y=KEY")
    x = check_array(arrays[x_key], f"{path}[{x_key}]", 2)
    y = check_array(arrays[y_key], f"{path}[{y_key}]", 1)
    check_lengths(x, y, f"{path}[{x_key}]", f"{path}[{y_key}]")
    return Table(x, y, str(path))


def check_array(a, where: str, ndim: int) -> np.ndarray:
    """A numeric, finite float64 array of `ndim` dimensions (a column vector counts as 1-d)."""
    a = np.asarray(a)
    if ndim == 1 and a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != ndim:
        want = "(examples, features)" if ndim == 2 else "(examples,)"
        raise TaskSpecError(f"{where}: shape {a.shape} where {want} is needed",
                            hint="reshape it; one example per row" if ndim == 2 else "labels are one number each")
    if a.dtype.kind not in "biuf":
        raise TaskSpecError(f"{where}: dtype {a.dtype} is not numeric", hint="convert to float (encode categories)")
    a = a.astype(np.float64)
    bad = np.argwhere(~np.isfinite(a))
    if len(bad):
        pos = tuple(int(i) for i in bad[0])
        raise TaskSpecError(f"{where}: the value at {pos if len(pos) > 1 else pos[0]} is {float(a[pos])!r} "
                            f"({len(bad)} non-finite in all)", hint="drop or impute missing, NaN and infinite values")
    return a


def check_lengths(x: np.ndarray, y: np.ndarray, x_where: str, y_where: str) -> None:
    if len(x) != len(y):
        raise TaskSpecError(f"{x_where} has {len(x)} examples but {y_where} has {len(y)}",
                            hint="one label per row of features")
