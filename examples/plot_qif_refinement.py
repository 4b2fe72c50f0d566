"""
QIF: g-leakage and refinement with a witness
============================================

Quantitative information flow (Alvim et al., *The Science of QIF*) measures a channel C
by what it lets an adversary *gain*: the g-vulnerability ``V_g(π)`` of a prior is her
best expected gain in one guess, ``V_g[π ▷ C]`` the same after seeing the output, and
the multiplicative g-leakage is ``log V_g[π ▷ C] / V_g(π)`` (bits).
Bayes vulnerability (identity gain) is the probability of guessing the secret in one
try; :func:`leakage.qif.gains.k_tries` gives her ``k`` tries.

Two channels on four secrets: ``A``, and ``B = A R``, a post-processing of ``A``.
:func:`leakage.qif.refines` finds ``R``: ``B`` refines ``A``, so ``B`` leaks no more than
``A`` for *every* prior and gain. The other way round it fails, and the answer carries a
**witness**: a prior and a gain for which ``A`` leaks strictly more than ``B``.
The figure shows the k-tries leakage of both under the uniform prior.
"""

import sys

import matplotlib.pyplot as plt
import numpy as np

from leakage import qif
from leakage.qif import gains

A = np.array([[0.8, 0.2, 0.0], [0.1, 0.8, 0.1], [0.0, 0.3, 0.7], [0.2, 0.2, 0.6]])
R = np.array([[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]])  # merges A's outputs, with noise
B = A @ R
prior = np.full(4, 0.25)

yes = qif.refines(A, B)
print("B refines A:", yes.refines, "; post-processing R =\n", np.round(yes.post_processing, 4))
no = qif.refines(B, A)
print("A refines B:", no.refines)
print(f"witness: under its prior and gain, V[A] - V[B] = {no.vulnerability_gap:.4f}")
print(
    f"check: {qif.posterior_vulnerability(no.prior, A, no.gain):.4f} (A) > "
    f"{qif.posterior_vulnerability(no.prior, B, no.gain):.4f} (B)"
)

ks = [1, 2, 3]
leak = {
    name: [qif.leakage(prior, C, gains.k_tries(4, k)) for k in ks]
    for name, C in {"A": A, "B = A R": B}.items()
}
for name, v in leak.items():
    print(f"{name:8s} k-tries leakage (bits):", np.round(v, 4))
print(f"multiplicative Bayes capacity of A: {qif.multiplicative_capacity(A).capacity:.4f} bits")

fig, ax = plt.subplots(figsize=(5, 3.3))
for i, (name, v) in enumerate(leak.items()):
    ax.bar(np.array(ks) + (i - 0.5) * 0.35, v, width=0.35, label=name)
ax.set_xticks(ks)
ax.set_xlabel("guesses allowed k (k-tries gain)")
ax.set_ylabel("multiplicative leakage (bits)")
ax.legend()
fig.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else "qif_refinement.png"
fig.savefig(out, dpi=110)
plt.close(fig)
print(f"wrote {out}")
