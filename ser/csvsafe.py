"""CSV files that a spreadsheet opens as data, never as formulas.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Google Sheets (OWASP "CSV injection"); a speaker, a file name or an emotion
as written comes from whoever made the dataset. Every CSV ``ser`` writes goes through
:func:`write_csv` (or :func:`to_csv_text` for a download), which prefixes such a cell with a single
quote, the prefix spreadsheets show as text; a cell that already starts with a quote gets one too, so
:func:`restore` (used by :func:`read_csv` and :func:`ser.datasets.labels.read_labels`) gives back exactly what
was written. Numbers are never changed: only text cells are.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMULA_STARTS", "neutralise_cell", "restore_cell", "neutralise", "restore", "write_csv",
           "to_csv_text", "read_csv"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PREFIX = "'"


def neutralise_cell(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is text a spreadsheet would run (or starts with ``'``).

    >>> neutralise_cell("=1+1"), neutralise_cell("anna"), neutralise_cell(-0.5), neutralise_cell("'x")
    ("'=1+1", 'anna', -0.5, "''x")
    """
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, _PREFIX)):
        return _PREFIX + value
    return value


def restore_cell(value: Any) -> Any:
    """What :func:`neutralise_cell` was given: one leading ``'`` taken off text."""
    if isinstance(value, str) and value.startswith(_PREFIX):
        return value[1:]
    return value


def _map_text(frame: pd.DataFrame, fn) -> pd.DataFrame:
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map(fn)
    if not pd.api.types.is_numeric_dtype(out.index):
        out.index = out.index.map(fn)
    out.columns = [fn(c) for c in out.columns]
    return out


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and index and column names) are :func:`neutralise_cell`-ed."""
    return _map_text(frame, neutralise_cell)


def restore(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`restore_cell` applied to its text cells (and index and column names)."""
    return _map_text(frame, restore_cell)


def write_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = False) -> None:
    """``frame`` as a CSV file at ``path``, every text cell neutralised."""
    neutralise(frame).to_csv(path, index=index)


def to_csv_text(frame: pd.DataFrame, *, index: bool = False) -> str:
    """``frame`` as CSV text for a download button, every text cell neutralised."""
    return neutralise(frame).to_csv(index=index)


def read_csv(path: str | Path) -> pd.DataFrame:
    """A CSV that :func:`write_csv` wrote, as it was before it was neutralised."""
    import pandas as pd

    return restore(pd.read_csv(path))
