"""
Data release on real survey data
================================

Data release on real survey data shipped with statsmodels (no downloads).

Two tables, fit -> design -> apply -> audit:

* ``fair`` (6,366 women, 1974 Redbook survey): private X = whether affairs > 0, useful
  Y = occupation (6 categories); release U with an ℓ1 budget of 0.02 per letter.
* ``anes96`` (944 respondents, 1996 US election study): private X = vote (Clinton/Dole),
  useful Y = income (24 brackets, binned into 4); ℓ1 budget 0.05 per letter.

Each release's public table (the released column only) is written to a CSV beside the
figure, audited against its design from that table and the source (plug-in leakage with
95% bootstrap intervals), and plotted: budget vs design vs audited per letter. The key is
a fixed, published one so that the figures are reproducible; a real release draws its key
with ``rl.new_key()`` and keeps it private (``rl.write_key``).
A letter released for few records has a wide interval and a plug-in biased upward (the
plug-in of a norm): a flag there says "look", at a rate above 5% for such letters.

Usage: ``python examples/release_survey.py [figure.png]`` (needs the ``test`` extra, or
``pip install 'leakage[release,plot]' statsmodels``).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import statsmodels.datasets as sd

from leakage import release as rl

#: A published key, for reproducible figures only: never use a known key for a real release.
EXAMPLE_KEY = bytes(32)


def run(name, df, private, useful, budget, out_dir: Path, bins=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = rl.fit(df, private, useful, bins=bins)
    for w in caught:
        print(f"  note: {w.message}")
    K = len(fitted.labels_y)
    r = rl.design(fitted, [budget] * K, method="l1")
    post = rl.posterior_leakage(fitted, r.mechanism, quantile=0.95)
    out = out_dir / f"{name}_released.csv"
    info = rl.apply(r, df, out, key=EXAMPLE_KEY, release_id="example", overwrite=True)
    a = rl.audit(r, out, source=df, bootstrap=1000)  # the public table beside the source
    print(f"{name}: {fitted.n} records, X = {private} {fitted.labels_x}, Y = {useful} ({K})")
    print(f"  I(U;Y) = {r.utility:.4f} bits of the {useful} column kept (exact, fitted joint)")
    for k, u in enumerate(r.labels_u):
        if a.design[k] != a.design[k]:
            print(f"  {u}: never released")
            continue
        lo, hi = a.interval[k]
        print(
            f"  {u}: budget {r.budgets[k]:.3f}  design {r.leakages[k]:.4f}  "
            f"posterior q95 {post['quantile'][k]:.4f}  audited {a.plugin[k]:.4f} "
            f"[{lo:.4f}, {hi:.4f}] from {int(a.counts[:, k].sum())} records"
            f"{'  FLAG' if a.flagged[k] else ''}"
        )
    print(f"  {info['written']} records written to {out}")
    return a


def main(fig: str = "release_survey.png") -> None:
    fig_path = Path(fig)
    out_dir = fig_path.parent
    fair = sd.fair.load_pandas().data
    fair["affair"] = (fair["affairs"] > 0).astype(int)
    a1 = run("fair", fair, "affair", "occupation", 0.02, out_dir)
    anes = sd.anes96.load_pandas().data
    a2 = run("anes96", anes, "vote", "income", 0.05, out_dir, bins={"income": [1, 7, 13, 19, 24]})
    rl.plot_audit(a1, fig_path, title=f"fair: affairs > 0 vs occupation (n = {a1.n:,})")
    rl.plot_audit(
        a2,
        fig_path.with_name(fig_path.stem + "_anes96.png"),
        title=f"anes96: vote vs income (n = {a2.n:,})",
    )
    print(f"figures: {fig_path}, {fig_path.with_name(fig_path.stem + '_anes96.png')}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
