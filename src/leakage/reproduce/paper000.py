"""Paper 000 (Wu, Bai, Zhou, *Successive Refinement of Shannon Cipher System Under
Maximal Leakage*): reproduction entries."""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse

from ..measures import maximal_leakage, mutual_information
from ..measures.mutual import _column_max
from . import Comparison, Figure, Reproduction, Series, Table, register

PAPER = "Wu, Bai, Zhou — Successive refinement of Shannon cipher system under maximal leakage"


def deterministic_channel(f: np.ndarray, n_out: int) -> sparse.csr_array:
    """Sparse channel of a deterministic map ``x -> f[x]`` (one 1 per row)."""
    n_in = f.shape[0]
    return sparse.csr_array(
        (np.ones(n_in), f.astype(np.int64), np.arange(n_in + 1)), shape=(n_in, n_out)
    )


def intro_channels(n: int) -> tuple[sparse.csr_array, sparse.csr_array]:
    """The channels of the Section I example for ``X`` uniform on ``{0,1}^{8n}``.

    ``Y = X`` if ``X mod 8 = 0`` and ``Y = 1`` otherwise; ``Z`` = the first (most
    significant) ``n + 1`` bits of ``X``. Returns ``(P_{Y|X}, P_{Z|X})`` as sparse
    deterministic channels; ``Y``'s alphabet is indexed as ``x // 8`` for the multiples
    of 8 and ``2^{8n-3}`` for the value 1.
    """
    bits = 8 * n
    x = np.arange(2**bits, dtype=np.int64)
    n_mult = 2 ** (bits - 3)
    fy = np.where(x % 8 == 0, x // 8, n_mult)
    fz = x >> (bits - (n + 1))
    return deterministic_channel(fy, n_mult + 1), deterministic_channel(fz, 2 ** (n + 1))


def _guessing_probability(p: np.ndarray, W: sparse.csr_array) -> float:
    """P_c(X | Y) = sum_y max_x p(x) W(y|x): the best one-shot guess of X from Y."""
    joint = W.copy()
    joint.data = joint.data * np.repeat(p, np.diff(W.indptr))
    return float(_column_max(joint).sum())


@register("000-intro", paper=PAPER, title="Maximal leakage vs mutual information (Section I)")
def intro_example(ns: tuple[int, ...] = (1, 2, 3)) -> Reproduction:
    """Section I's example (after Issa et al., Example 8), computed from the channels."""
    rows, comps = [], []
    src = "Sec. I"
    for n in ns:
        Wy, Wz = intro_channels(n)
        N = Wy.shape[0]
        p = np.full(N, 1.0 / N)
        vals = {
            "L(X->Y)": maximal_leakage(p, Wy),
            "L(X->Z)": maximal_leakage(p, Wz),
            "I(X;Y)": mutual_information(p, Wy),
            "I(X;Z)": mutual_information(p, Wz),
            "Pc(X|Y)": _guessing_probability(p, Wy),
            "Pc(X|Z)": _guessing_probability(p, Wz),
        }
        closed = {
            "L(X->Y)": math.log2(2 ** (8 * n - 3) + 1),
            "L(X->Z)": n + 1.0,
            "I(X;Y)": n + 7 / 8 * math.log2(8 / 7),
            "I(X;Z)": n + 1.0,
        }
        rows.append((n, N, *vals.values(), *closed.values()))
        comps += [
            Comparison(
                f"L(X→Y), n={n}",
                closed["L(X->Y)"],
                vals["L(X->Y)"],
                1e-9,
                src,
                unit="bits",
                note="closed form log(2^{8n-3}+1)",
            ),
            Comparison(
                f"L(X→Z), n={n}",
                closed["L(X->Z)"],
                vals["L(X->Z)"],
                1e-9,
                src,
                unit="bits",
                note="closed form n+1",
            ),
            Comparison(
                f"I(X;Y), n={n}",
                n + 0.169,
                vals["I(X;Y)"],
                5e-4,
                src,
                unit="bits",
                note="printed as (n + 0.169) log 2, i.e. bits, to 3 decimals",
            ),
            Comparison(f"I(X;Z), n={n}", n + 1.0, vals["I(X;Z)"], 1e-9, src, unit="bits"),
            Comparison(
                f"P_c(X|Y), n={n}",
                1 / 8,
                vals["Pc(X|Y)"],
                1e-12,
                src,
                relation=">=",
                note="'at least 1/8'",
            ),
            Comparison(
                f"P_c(X|Z), n={n}",
                2.0 ** (-7 * n + 1),
                vals["Pc(X|Z)"],
                1e-15,
                src,
                note="2^{-7n+1}",
            ),
        ]
    cols = (
        "n",
        "|X|",
        "L(X->Y)",
        "L(X->Z)",
        "I(X;Y)",
        "I(X;Z)",
        "Pc(X|Y)",
        "Pc(X|Z)",
        "L(X->Y) closed form",
        "L(X->Z) closed form",
        "I(X;Y) closed form",
        "I(X;Z) closed form",
    )
    arr = np.array([r[:8] for r in rows], dtype=float)
    nn = arr[:, 0]
    fig = Figure(
        name="leakage_vs_n",
        title="Paper 000, Sec. I: maximal leakage ranks Y above Z; mutual information the reverse",
        xlabel="n  (X uniform on {0,1}^{8n})",
        ylabel="leakage (bits)",
        series=(
            Series("L(X→Y) = log(2^{8n-3}+1)", nn, arr[:, 2], "line+markers"),
            Series("L(X→Z) = n+1", nn, arr[:, 3], "line+markers"),
            Series("I(X;Y) ≈ n+0.169", nn, arr[:, 4], "dashed"),
            Series("I(X;Z) = n+1", nn, arr[:, 5], "markers"),
        ),
        integer_x=True,
    )
    return Reproduction(
        id="000-intro",
        paper=PAPER,
        title="Maximal leakage vs mutual information (Section I)",
        description=(
            "X uniform on {0,1}^{8n}; Y = X if X mod 8 = 0, else 1; Z = the first n+1 bits "
            "of X. The channels P(Y|X), P(Z|X) are built explicitly (sparse, 2^{8n} rows) and "
            "every value is computed from them with `maximal_leakage`, `mutual_information` "
            "and the guessing probability sum_y max_x P(x, y)."
        ),
        comparisons=tuple(comps),
        tables=(Table("values", cols, tuple(rows)),),
        figures=(fig,),
        notes=(
            "The paper's '(n + 0.169) log 2' is nats notation for n + 0.169 bits; the exact "
            "value is n + (7/8) log2(8/7) = n + 0.168564 bits (see ERRATA.md).",
            "Z is taken as the most significant n+1 bits; any n+1 bits give the same values.",
            "Y leaks much more by maximal leakage (about 8n - 3 bits) and lets a guesser win "
            "with probability > 1/8, yet I(X;Y) < I(X;Z): the paper's point.",
        ),
    )
