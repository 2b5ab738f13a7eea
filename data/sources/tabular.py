"""CSV and Excel exports read as text: every cell a string, empty cells empty, in file order.

A hotline export is read exactly as written (no type guessing: ``00123`` stays ``00123``, a date stays
its text until the mapping's formats read it). CSV files are decoded with the mapping's encoding
(UTF-8 with or without a byte-order mark, GB18030/GBK for Chinese exports); ``.xlsx`` files with
openpyxl, the mapping's sheet or the first one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from data.sources.mapping import SourceMapping

__all__ = ["read_table", "SourceFileError"]


class SourceFileError(ValueError):
    """A source file cannot be read (encoding, format, a column the mapping names is missing)."""


def read_table(path: Path, mapping: SourceMapping) -> pd.DataFrame:
    """One CSV or ``.xlsx`` export as a frame of strings (``""`` for empty cells).

    Raises:
        SourceFileError: the file cannot be decoded or read, or lacks a column the mapping names (the
            message lists the file's columns).
    """
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            sheet = 0 if mapping.sheet is None else mapping.sheet
            df = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False, engine="openpyxl")
        elif suffix in (".csv", ".txt", ".tsv"):
            sep = "\t" if suffix == ".tsv" else ","
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=mapping.encoding, sep=sep)
        else:
            raise SourceFileError(f"{path}: unknown file type {suffix!r} (a table source reads .csv, .tsv or .xlsx)")
    except UnicodeDecodeError as exc:
        raise SourceFileError(f"{path}: cannot decode the file as {mapping.encoding} at byte {exc.start}: set "
                              "[source] encoding (utf-8, utf-8-sig, gb18030, gbk, latin-1)") from None
    except (ValueError, OSError, KeyError) as exc:
        if isinstance(exc, SourceFileError):
            raise
        raise SourceFileError(f"{path}: cannot read the file: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    check_columns(df, mapping, path)
    return df.fillna("").astype(str)


def check_columns(df: pd.DataFrame, mapping: SourceMapping, path: Path) -> None:
    """Fail at once when the mapping names a column the file does not have.

    Raises:
        SourceFileError: naming the missing columns and listing the file's.
    """
    missing = [c for c in mapping.columns if c not in df.columns]
    if missing:
        raise SourceFileError(f"{path}: the mapping {mapping.path} names columns the file does not have: "
                              f"{', '.join(missing)}. The file's columns are: {', '.join(map(str, df.columns))}")
