"""
Leakage regions Λ and Ω of the successive-refinement cipher
===========================================================

A successive-refinement cipher (paper 000) sends a source X in two layers, message M1 at
distortion D1 and M2 refining it to D2, each encrypted with its own secret key of rate r1,
r2. The eavesdropper's leakage about X is then bounded below by a region: under the
joint-excess-probability (JEP) criterion with exponent α, the corner point
(Λ1, Λ2) of eqs. (16)–(18) (Theorem 1), a maximum over the source types within the KL
ball D(Q‖P) ≤ α; under the expected-distortion criterion, (Ω1, Ω2) of eqs. (32)–(34)
(Theorem 3). :func:`leakage.cipher.leakage_region_curve` computes the corners at many
α, each a certified global maximum over the ball.

This is Fig. 2 of the paper: Bernoulli(0.3) source, Hamming distortions D1 = 0.2,
D2 = 0.1, key rates r1 = 0.06, r2 = 0.1 bits per symbol. A larger α asks for a faster
decay of the excess-distortion probability, and costs leakage; Λ stops growing at the
α* of Remark 2 (:func:`leakage.cipher.alpha_star`), once the ball holds the worst source
type. With ``LEAKAGE_DOCS_QUICK=1`` (the documentation build) the curve has 25 points
instead of 100.
"""

import os
import sys

import matplotlib.pyplot as plt
import numpy as np

from leakage import cipher

p = [0.3, 0.7]
setup = dict(D1=0.2, D2=0.1, R1=None, r1=0.06, r2=0.1)
n = 25 if os.environ.get("LEAKAGE_DOCS_QUICK") else 100
alphas = np.linspace(0.0015, 0.3, n)
regions = cipher.leakage_region_curve(p, "hamming", "hamming", alphas=alphas, **setup)
L1 = [r.L1 for r in regions]
L2 = [r.L2_inner for r in regions]
omega = cipher.leakage_region(p, "hamming", "hamming", alpha=None, **setup)
a1 = cipher.alpha_star(p, "hamming", "hamming", **setup)
a2 = cipher.alpha_star(p, "hamming", "hamming", which=2, **setup)
print(f"Ω1 = {omega.L1:.4f}, Ω2 = {omega.L2_inner:.4f} bits (expected distortion)")
print(f"Λ1 saturates from α* = {a1:.4f}, Λ2 from α* = {a2:.4f} bits")
print("every corner certified:", all(r.certified for r in regions))

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(alphas, L1, label="Λ1(α): leakage of M1")
ax.plot(alphas, L2, label="Λ2(α): leakage of (M1, M2)")
ax.axhline(omega.L1, ls=":", c="C0", label="Ω1 (expected distortion)")
ax.axhline(omega.L2_inner, ls=":", c="C1", label="Ω2")
ax.axvline(a1, ls="--", c="grey", lw=0.8, label="α* (Remark 2)")
ax.set_xlabel("JEP exponent α (bits)")
ax.set_ylabel("leakage (bits per symbol)")
ax.legend()
fig.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else "cipher_regions.png"
fig.savefig(out, dpi=110)
plt.close(fig)
print(f"wrote {out}")
