r"""Keys of a release: secret bytes from the OS, a fresh release id per run, and the
Philox key derived from both.

Threat model (also in the user guide). The released letter of record ``r`` is the
inverse-CDF draw of :math:`P(U \mid y_r)` at the ``r``-th double of the counter-based
stream ``Philox(k)``, where the 128-bit stream key is

.. math:: k = \mathrm{HMAC\text{-}SHA256}(\text{key},\ \texttt{"leakage.release.philox.v1"}
          \,\|\, 0 \,\|\, \text{release id})[:16].

* Someone with **the public table only** learns what the design allows: each released
  letter leaks at most its budget about X (the audited guarantee).
* Someone with **the key and the release id** (the id is not secret) can recompute every
  record's uniform draw and so, from its released letter, narrow its Y to the letters
  whose CDF interval holds that draw, often to a single letter: the key must be kept
  like the private data. Without the key the draws are unpredictable (HMAC-SHA256 with a
  key of at least 128 bits; the search that recovers a small integer seed in seconds is
  out of reach).
* Two releases of the same records with the **same key and release id** share their
  draws; with a new release id (the default) their draws are independent, and the
  leakage of the two released columns together is that of the product mechanism, which
  the design did not budget: publishing several releases of one table still composes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import warnings
from pathlib import Path
from typing import Any

from ..errors import InvalidParameterError
from ._checks import check_path, param_error

#: Keys drawn by :func:`new_key` have 256 bits.
KEY_BYTES = 32
#: A key given by the user needs at least 128 bits, unless ``insecure_key=True``.
MIN_KEY_BYTES = 16
#: Release ids: 1 to 64 characters of letters, digits, ``.``, ``_`` and ``-``.
_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DOMAIN = b"leakage.release.philox.v1\x00"


def new_key() -> bytes:
    """256 fresh random bits from the operating system (:func:`secrets.token_bytes`)."""
    return secrets.token_bytes(KEY_BYTES)


def new_release_id() -> str:
    """A fresh release id: 64 random bits as 16 hexadecimal digits (not secret)."""
    return secrets.token_hex(8)


def check_key(key: Any, *, insecure: bool = False, func: str, name: str = "key") -> bytes:
    """The key as bytes: ``bytes`` (or a hexadecimal string) of at least 16 bytes (128
    bits), fewer only with ``insecure=True``. Integers are refused: a seed is guessable."""
    if isinstance(key, (bytes, bytearray, memoryview)):
        raw = bytes(key)
    elif isinstance(key, str):
        text = key.strip()
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise param_error(
                func,
                name,
                "be bytes or a string of hexadecimal digits (e.g. secrets.token_hex(32))",
                got_text="a string that is not hexadecimal",
            ) from None
    else:
        hint = (
            "An integer seed can be searched in seconds (a 100,000-seed search took 5.8 s); "
            "use leakage.release.new_key() (256 bits from the OS) and keep it with "
            "write_key, or bytes you drew yourself."
        )
        raise param_error(func, name, "be bytes (e.g. leakage.release.new_key())", key, hint=hint)
    if not raw:
        raise param_error(func, name, "hold at least one byte", got_text="an empty key")
    if len(raw) < MIN_KEY_BYTES and not insecure:
        raise param_error(
            func,
            name,
            f"have at least {8 * MIN_KEY_BYTES} bits ({MIN_KEY_BYTES} bytes)",
            got_text=f"a key of {8 * len(raw)} bits",
            hint="A short key can be found by search, and with it the released column gives "
            "Y away (see the threat model in leakage.release). Use new_key(); pass "
            "insecure_key=True (--insecure-key) only for tests and reproducible examples.",
        )
    return raw


def check_release_id(release_id: Any, *, func: str) -> str:
    """A release id: 1 to 64 characters of letters, digits, ``.``, ``_`` and ``-``."""
    if not isinstance(release_id, str) or not _ID_RE.match(release_id):
        raise param_error(
            func,
            "release_id",
            "be None (a new id) or 1 to 64 characters of letters, digits, '.', '_', '-'",
            release_id,
        )
    return release_id


def stream_key(key: bytes, release_id: str) -> int:
    """The 128-bit Philox key of a release: the first 16 bytes of
    HMAC-SHA256(key, domain || release id), as a little-endian integer."""
    mac = hmac.new(bytes(key), _DOMAIN + release_id.encode("ascii"), hashlib.sha256).digest()
    return int.from_bytes(mac[:16], "little")


def write_key(path: str | os.PathLike[str], key: bytes, *, overwrite: bool = False) -> Path:
    """Write ``key`` (hexadecimal, one line) to ``path`` with mode 0600, atomically.

    Raises
    ------
    OutputExistsError
        When ``path`` exists and ``overwrite`` is False (also when another run creates it
        meanwhile): a key file is never replaced by accident.
    InvalidParameterError
        For a bad path or key.
    """
    from ..errors import OutputExistsError
    from ..io import atomic_write

    fn = "write_key"
    p = Path(check_path(path, func=fn, name="path", what="a path for the key file"))
    raw = check_key(key, insecure=True, func=fn)
    if p.exists() and not overwrite:
        raise OutputExistsError(
            f"{fn}: the key file '{p}' exists; a key file is never replaced by accident. "
            "Pass overwrite=True (--overwrite) to replace it, or choose another --key-file."
        )
    with atomic_write(p, "w", perms=0o600, replace=overwrite) as f:
        f.write(raw.hex() + "\n")
    return p


def read_key(path: str | os.PathLike[str], *, insecure: bool = False) -> bytes:
    """The key in ``path`` (hexadecimal, as :func:`write_key` writes it); warns when the
    file can be read by others than its owner."""
    fn = "read_key"
    p = Path(check_path(path, func=fn, name="path", what="a key file"))
    try:
        text = p.read_text(encoding="ascii")
        mode = p.stat().st_mode & 0o777
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(
            f"{fn}: cannot read the key file '{p}' ({type(exc).__name__}: {exc})."
        ) from None
    if os.name == "posix" and mode & 0o077:
        warnings.warn(
            f"{fn}: the key file '{p}' can be read by others (mode {mode:04o}); chmod 600 '{p}'.",
            UserWarning,
            stacklevel=2,
        )
    return check_key(text, insecure=insecure, func=fn, name="path")
