"""Personal data at the door: national ID numbers become a keyed hash, names and phone numbers are dropped.

GridPulse stores no personal data (``docs/etl.md``, "Personal data"). Some sources still carry it: a
resident register exports ``身份证号`` and ``姓名``, a hotline export has the caller's phone number. The
ETL calls this module on every landing file *before* anything is written to the warehouse or the
quarantine:

* an ID column (``id_number``, ``national_id``, ``身份证号`` …) is replaced by its keyed hash,
  HMAC-SHA256 under the deployment's secret key, in hex. A keyed hash (not a plain SHA-256) because
  Chinese ID numbers have little entropy (region, birth date, sequence, check digit): anyone could
  hash all of them and reverse a plain hash. The hash lands in the table's pseudonymous key
  (``people.person_key``) when the file has no key of its own, and is dropped otherwise;
* name and phone columns are dropped;
* the raw text of a quarantined row is masked: PII columns become ``***`` and anything that looks like
  an ID number or a mainland mobile number is masked too.

The HMAC is computed in DuckDB SQL (``sha256`` over the key pads and the value), so a full register
of 500 000 people is hashed in one vectorised statement; :func:`hash_id` is the same function in
Python, for tests and for operators who need to find a person's key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ID_COLUMNS", "DROP_COLUMNS", "MASK", "PiiColumns", "classify", "pii_key", "hash_id", "hmac_sql",
    "mask_text_sql", "mask_text",
]

MASK = "***"
# Column names (lower case, stripped) that hold a national ID number.
ID_COLUMNS = frozenset({
    "id_number", "national_id", "id_no", "idno", "id_card", "idcard", "id_card_no", "citizen_id", "sfzh",
    "身份证号", "身份证号码", "身份证", "证件号码",
})
# Column names that hold a name or a phone number: dropped. Only applied to columns that are not part
# of the target table (areas, categories and departments have a legitimate ``name``).
DROP_COLUMNS = frozenset({
    "name", "full_name", "person_name", "real_name", "reporter_name", "contact_name", "caller_name", "xm",
    "姓名", "联系人", "报告人", "phone", "phone_number", "mobile", "mobile_phone", "tel", "telephone",
    "contact_phone", "reporter_phone", "caller_phone", "contact", "手机", "手机号", "手机号码", "电话",
    "联系电话", "联系方式",
})
# What a national ID number or a mainland mobile number looks like inside free text.
_ID_PATTERN = r"(^|[^0-9])[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])[0-9]{2}[0-9]{3}[0-9Xx]([^0-9]|$)"
_PHONE_PATTERN = r"(^|[^0-9])(\+?86[- ]?)?1[3-9][0-9]{9}([^0-9]|$)"
_KEY_FILE = Path("secrets") / "pii.key"


@dataclass(frozen=True)
class PiiColumns:
    """The personal-data columns of one landing file (source column names)."""

    id_columns: tuple[str, ...] = ()
    drop_columns: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        """Every personal-data column: hashed ones, then dropped ones."""
        return self.id_columns + self.drop_columns

    def __bool__(self) -> bool:
        return bool(self.id_columns or self.drop_columns)


def classify(source_columns: list[str], table_columns: set[str]) -> PiiColumns:
    """Find the personal-data columns of a file.

    Args:
        source_columns: the file's column names, normalised (stripped, lower case).
        table_columns: the target table's own columns; these are never personal data.
    """
    ids = tuple(c for c in source_columns if c in ID_COLUMNS and c not in table_columns)
    drop = tuple(c for c in source_columns if c in DROP_COLUMNS and c not in table_columns)
    return PiiColumns(ids, drop)


def pii_key(settings) -> bytes:
    """The secret key of the keyed hash.

    ``settings.pii_hash_key`` when set (the deployment's secret store puts it in
    ``GRIDPULSE_PII_HASH_KEY``); otherwise a random key created once in ``var/secrets/pii.key`` with
    mode 0600, so a demo or a single-machine install is safe without configuration. Losing that
    file changes every person key, so back it up with the warehouse.
    """
    if settings.pii_hash_key:
        return settings.pii_hash_key.encode("utf-8")
    path = settings.var_dir / _KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it to create a new key (person keys will change)")
    return key.encode("utf-8")


def _normalise(value: str) -> str:
    return value.strip().upper()


def hash_id(value: str, key: bytes) -> str:
    """HMAC-SHA256 of a normalised ID number (stripped, upper case ``X``), as 64 hex digits."""
    return hmac.new(key, _normalise(value).encode("utf-8"), hashlib.sha256).hexdigest()


def hmac_sql(expr: str, key: bytes) -> tuple[str, list[bytes]]:
    """SQL computing :func:`hash_id` of ``expr`` (a VARCHAR expression), and its two parameters.

    HMAC(K, m) = H((K' xor opad) || H((K' xor ipad) || m)) with K' the key padded to the 64-byte
    block (hashed first when longer). The pads are computed here and bound as BLOB parameters, so
    the key never appears in SQL text or logs. NULL and blank values stay NULL.
    """
    k = hashlib.sha256(key).digest() if len(key) > 64 else key
    k = k.ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in k)
    opad = bytes(b ^ 0x5C for b in k)
    norm = f"upper(trim(CAST({expr} AS VARCHAR)))"
    sql = (f"CASE WHEN {norm} = '' THEN NULL ELSE sha256(?::BLOB || unhex(sha256(?::BLOB || encode({norm})))) END")
    # parameter order follows the placeholders: outer pad first, then inner pad
    return sql, [opad, ipad]


def mask_text_sql(expr: str) -> str:
    """SQL masking ID-number- and mobile-number-looking digits in a text expression."""
    return (f"regexp_replace(regexp_replace({expr}, '{_ID_PATTERN}', '\\1{MASK}\\4', 'g'), "
            f"'{_PHONE_PATTERN}', '\\1{MASK}\\3', 'g')")


_ID_RE = re.compile(_ID_PATTERN)
_PHONE_RE = re.compile(_PHONE_PATTERN)


def mask_text(text: str) -> str:
    """Python twin of :func:`mask_text_sql` (for file-level error messages and tests)."""
    text = _ID_RE.sub(lambda m: m.group(1) + MASK + m.group(4), text)
    return _PHONE_RE.sub(lambda m: m.group(1) + MASK + m.group(3), text)
