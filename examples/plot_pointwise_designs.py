"""
Point-wise leakage designs: χ² vs ℓ1 vs the exact optimum
=========================================================

Paper 001 releases U from useful data Y, correlated with a private X, so that each
released letter u leaks at most its own budget ε_u about X: the distance between the
posterior P(X|U=u) and the prior P(X) is at most ε_u. Three designs of
:mod:`leakage.pointwise` maximize the utility I(U;Y):

* :func:`~leakage.pointwise.design_chi2`: the √χ² distance, closed form of Section III-A
  (it solves a second-order approximation; it needs a square, invertible P(X|Y));
* :func:`~leakage.pointwise.design_l1`: the ℓ1 distance, the LP over extreme points of
  Sections III-B and IV (suited to ``|Y| > |X|``: on a square invertible P(X|Y) the extreme
  points are trivial and it returns a constant mechanism, with a ``DesignWarning``);
* :func:`~leakage.pointwise.optimal_l1`: the exact global optimum under the ℓ1 budgets
  (small alphabets).

Every design reports the *exact* I(U;Y) of the mechanism it returns. Since
‖P − Q‖₁ ≤ √χ²(P‖Q), a √χ² design is feasible for the same ℓ1 budget and lies below
the ℓ1 optimum (left, a 3×3 joint). Right: the 2×4 joint of Section V, budgets
(ε, ε, ε, 0), the LP against the exact optimum.
"""

import sys

import matplotlib.pyplot as plt
import numpy as np

from leakage import pointwise

square = np.array([[0.6, 0.2, 0.3], [0.3, 0.6, 0.2], [0.1, 0.2, 0.5]]) * [0.5, 0.3, 0.2]
sec5 = np.array([[0.3, 0.8, 0.5, 0.4], [0.7, 0.2, 0.5, 0.6]]) * [1 / 2, 1 / 4, 1 / 8, 1 / 8]

eps_sq = np.linspace(0.0, 0.1, 11)
chi2 = [pointwise.design_chi2(square, [e] * 3).utility for e in eps_sq]
exact_sq = [pointwise.optimal_l1(square, [e] * 3).utility for e in eps_sq]
eps_v = np.linspace(0.0, 0.02, 11)
lp = [pointwise.design_l1(sec5, [e, e, e, 0]).utility for e in eps_v]
exact_v = [pointwise.optimal_l1(sec5, [e, e, e, 0]).utility for e in eps_v]

d = pointwise.design_l1(sec5, [0.01, 0.01, 0.01, 0.0])  # the paper's budgets
print("Section V, eps = (0.01, 0.01, 0.01, 0), P(u|y):\n", np.round(d.mechanism, 4))
print(f"exact I(U;Y) = {d.utility:.4f} bits; leakage per letter = {np.round(d.leakages, 5)}")
print(f"3x3 joint, eps = 0.1: chi2 {chi2[-1]:.4f} bits <= l1 optimum {exact_sq[-1]:.4f} bits")

fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.3), sharey=False)
a.plot(eps_sq, chi2, "o-", label="√χ² closed form")
a.plot(eps_sq, exact_sq, "s-", label="ℓ1 exact optimum")
a.set_title("3×3 joint", fontsize="medium")
b.plot(eps_v, lp, "o-", label="ℓ1 extreme-point LP")
b.plot(eps_v, exact_v, "s--", label="ℓ1 exact optimum")
b.set_title("Section V joint, budgets (ε, ε, ε, 0)", fontsize="medium")
for ax in (a, b):
    ax.set_xlabel("budget ε per released letter")
    ax.legend(fontsize="small")
a.set_ylabel("exact utility I(U;Y) (bits)")
fig.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else "pointwise_designs.png"
fig.savefig(out, dpi=110)
plt.close(fig)
print(f"wrote {out}")
