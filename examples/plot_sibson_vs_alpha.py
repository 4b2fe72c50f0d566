"""
Sibson's α-mutual information: from I(X;Y) to maximal leakage
=============================================================

Sibson's alpha-mutual information climbs from I(X;Y) (alpha = 1) to the maximal
leakage L(X->Y) (alpha = inf). Writes sibson_vs_alpha.png (or the path given)."""

import math
import sys

import numpy as np

import leakage as lk
from leakage.plotting import plot_figure
from leakage.reproduce import Figure, Series

rng = np.random.default_rng(7)
W = rng.dirichlet(np.full(6, 0.5), size=6)
p = rng.dirichlet(np.ones(6))

alphas = np.geomspace(0.1, 100, 200)
sib = np.array([lk.sibson_mutual_information(p, W, a) for a in alphas])
mi, ml = lk.mutual_information(p, W), lk.maximal_leakage(p, W)
assert np.all(np.diff(sib) >= -1e-12) and sib[0] <= mi <= ml

fig = Figure(
    name="sibson_vs_alpha",
    title="Sibson I_alpha(X;Y) of a random 6x6 channel",
    xlabel="log10 alpha",
    ylabel="leakage (bits)",
    series=(
        Series("I_alpha(X;Y)", np.log10(alphas), sib),
        Series("I(X;Y) (alpha = 1)", np.log10(alphas), np.full_like(alphas, mi), "dashed"),
        Series("L(X->Y) (alpha = inf)", np.log10(alphas), np.full_like(alphas, ml), "dashed"),
    ),
)
out = sys.argv[1] if len(sys.argv) > 1 else "sibson_vs_alpha.png"
plot_figure(fig, out)
print(f"I = {mi:.4f}, I_alpha(100) = {sib[-1]:.4f}, L = {ml:.4f} bits; wrote {out}")
print(f"log|X| = {math.log2(6):.4f} bits")
