"""``leakage cipher build|encrypt|decrypt|report``: the finite-blocklength code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..errors import InvalidParameterError
from ._common import (
    UNITLESS,
    JsonOpt,
    PxOpt,
    _fmt,
    _number,
    _pmf,
    _print_unwrapped,
    _spinner,
    load_array_arg,
    to_jsonable,
)
from .cipher import D1dOpt, D1Opt, D2dOpt, D2Opt, cipher_app
from .rd import _distortion

if TYPE_CHECKING:
    import numpy as np


def _letters(value: str, option: str) -> np.ndarray:
    """Letters (or bits) from a file or inline: '0110...' with no separators is one letter
    per character; otherwise numbers separated by commas, spaces or newlines; .npy too."""
    import numpy as np

    path = Path(value)
    if path.suffix == ".npy" and path.exists():
        return np.load(path).astype(np.int64).ravel()
    text = path.read_text(encoding="utf-8") if path.exists() else value
    compact = "".join(text.split())
    try:
        if compact.isdigit():
            return np.array([int(ch) for ch in compact], dtype=np.int64)
        parts = [t for t in text.replace(",", " ").replace(";", " ").split() if t]
        return np.array([int(t) for t in parts], dtype=np.int64)
    except ValueError:
        raise InvalidParameterError(
            f"the '{option}' option must be a file (or inline text) of integer letters, "
            "e.g. '0110' or '0 1 1 0'; got other characters."
        ) from None


_MSG_FORMAT = "leakage.cipher.messages/1"

CodeOpt = Annotated[Path, typer.Option("--code", metavar="CODE.json", help="Built code.")]
Key1Opt = Annotated[str, typer.Option("--key1", metavar="FILE", help="Bits of K1, in order.")]
Key2Opt = Annotated[str, typer.Option("--key2", metavar="FILE", help="Bits of K2, in order.")]


@cipher_app.command("build")
def _cipher_build(
    p: PxOpt,
    d1: D1dOpt,
    d2: D2dOpt,
    n: Annotated[int, typer.Option("--n", min=1, help="Blocklength (binary: n <= 20).")],
    D1: D1Opt,
    D2: D2Opt,
    r1: Annotated[str, typer.Option("--r1", metavar="RATE", help="Key rate of K1.")],
    r2: Annotated[str, typer.Option("--r2", metavar="RATE", help="Key rate of K2.")],
    alpha: Annotated[str, typer.Option("--alpha", metavar="ALPHA", help="JEP exponent.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="CODE.json", help="Code file.")],
) -> None:
    """Build the type-based code of Section IV and save it; prints its exact figures."""
    from ..cipher import SuccessiveRefinementCipher

    with _spinner(f"building the code for n = {n}"):
        code = SuccessiveRefinementCipher.build(
            _pmf(p),
            _distortion(d1),
            _distortion(d2),
            n=n,
            D1=_number(D1, "--D1"),
            D2=_number(D2, "--D2"),
            r1=_number(r1, "--r1"),
            r2=_number(r2, "--r2"),
            alpha=_number(alpha, "--alpha"),
        )
    code.save(out)
    L1, L12 = code.leakage()
    R1, R2 = code.rates()
    table = Table("quantity", "value", "unit", box=None, pad_edge=False, header_style="bold")
    for row in (
        ("key bits per block (K1, K2)", f"{code.key_bits[0]}, {code.key_bits[1]}", "bits"),
        ("(1/n) L(X^n -> M1)", _fmt(L1 / n), "bits per symbol"),
        ("(1/n) L(X^n -> M1 M2)", _fmt(L12 / n), "bits per symbol"),
        ("JEP Pe(D1, D2)", _fmt(code.jep()), UNITLESS),
        ("rates log|M1|/n, log|M2|/n", f"{_fmt(R1)}, {_fmt(R2)}", "bits per symbol"),
    ):
        table.add_row(*row)
    _print_unwrapped(table, f"code written to {out}")


@cipher_app.command("encrypt")
def _cipher_encrypt(
    code_path: CodeOpt,
    source: Annotated[
        str, typer.Option("--source", metavar="FILE", help="Source letters (a multiple of n).")
    ],
    key1: Key1Opt,
    key2: Key2Opt,
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="MESSAGES.json", help="Message file.")
    ],
) -> None:
    """Encrypt a stream: one (M1, M2) per block of n letters, fresh key bits per block."""
    from ..cipher import SuccessiveRefinementCipher
    from ..io import atomic_write

    code = SuccessiveRefinementCipher.load(code_path)
    msgs = code.encrypt(
        _letters(source, "--source"), _letters(key1, "--key1"), _letters(key2, "--key2")
    )
    with atomic_write(out) as f:
        json.dump({"format": _MSG_FORMAT, "n": code.n, "messages": msgs}, f)
        f.write("\n")
    typer.echo(f"{len(msgs)} block(s) of {code.n} letters encrypted to {out}")


@cipher_app.command("decrypt")
def _cipher_decrypt(
    code_path: CodeOpt,
    messages: Annotated[
        Path, typer.Option("--messages", metavar="MESSAGES.json", help="From encrypt.")
    ],
    key1: Key1Opt,
    key2: Key2Opt,
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="RECON.json", help="Both reproductions.")
    ],
) -> None:
    """Decrypt a message stream into the first- and second-layer reproductions."""
    from ..cipher import SuccessiveRefinementCipher
    from ..io import atomic_write

    code = SuccessiveRefinementCipher.load(code_path)
    try:
        data = json.loads(messages.read_text(encoding="utf-8"))
        msgs = data["messages"] if data.get("format") == _MSG_FORMAT else None
    except (OSError, ValueError, AttributeError):
        msgs = None
    if msgs is None:
        raise InvalidParameterError(
            f"the '--messages' option must name a file written by 'leakage cipher encrypt'; "
            f"'{messages}' is not one."
        )
    y, z = code.decrypt(msgs, _letters(key1, "--key1"), _letters(key2, "--key2"))
    with atomic_write(out) as f:
        json.dump({"layer1": y.tolist(), "layer2": z.tolist()}, f)
        f.write("\n")
    typer.echo(f"{len(msgs)} block(s) decrypted to {out}")


@cipher_app.command("report")
def _cipher_report(
    p: PxOpt,
    d1: D1dOpt,
    d2: D2dOpt,
    D1: D1Opt,
    D2: D2Opt,
    r1: Annotated[str, typer.Option("--r1", metavar="RATE", help="Key rate of K1.")],
    r2: Annotated[str, typer.Option("--r2", metavar="RATE", help="Key rate of K2.")],
    alpha: Annotated[str, typer.Option("--alpha", metavar="ALPHA", help="JEP exponent.")],
    ns: Annotated[str, typer.Option("--ns", metavar="LIST", help="Blocklengths, e.g. 4,6,8.")],
    json_out: JsonOpt = False,
) -> None:
    """The built code's exact figures at each blocklength beside the limits Λ1, Λ2."""
    import numpy as np

    from ..cipher import finite_n_report, leakage_region

    pv, dd1, dd2 = _pmf(p), _distortion(d1), _distortion(d2)
    kw = dict(
        D1=_number(D1, "--D1"),
        D2=_number(D2, "--D2"),
        r1=_number(r1, "--r1"),
        r2=_number(r2, "--r2"),
        alpha=_number(alpha, "--alpha"),
    )
    # passed as read: the library refuses 2.5 (int() here would truncate it to 2)
    nlist = np.atleast_1d(load_array_arg(ns, name="--ns")).tolist()
    with _spinner(f"building {len(nlist)} code(s)"):
        rows = finite_n_report(pv, dd1, dd2, ns=nlist, **kw)
    reg = leakage_region(pv, dd1, dd2, R1=None, **kw)
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "rows": [to_jsonable(r) for r in rows],
                    "Lambda1": reg.L1,
                    "Lambda2": reg.L2_inner,
                    "unit": "bits",
                }
            )
        )
        return
    table = Table(
        "n",
        "(1/n)L(M1)",
        "(1/n)L(M1M2)",
        "JEP",
        "JEP exponent",
        "rate1",
        "rate2",
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for r in rows:
        table.add_row(
            str(r.n),
            _fmt(r.L1_per_symbol),
            _fmt(r.L12_per_symbol),
            _fmt(r.jep),
            _fmt(r.jep_exponent),
            _fmt(r.rate1),
            _fmt(r.rate2),
        )
    _print_unwrapped(
        table,
        f"limits (bits per symbol): Λ1 = {_fmt(reg.L1)}, Λ2 = {_fmt(reg.L2_inner)}; "
        f"alpha = {kw['alpha']}",
    )
