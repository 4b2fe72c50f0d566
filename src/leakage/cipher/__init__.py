r"""Paper 000 (Wu, Bai, Zhou, *Successive Refinement of Shannon Cipher System Under
Maximal Leakage*): the asymptotic leakage regions and key-rate limits.

* :func:`leakage_region` — :math:`\Lambda_1, \Lambda_2, \Lambda_2^{out}` (eqs. (16)–(18),
  JEP exponent ``alpha``) or :math:`\Omega_1, \Omega_2, \Omega_2^{out}` (eqs. (32)–(34),
  ``alpha=None``), maximized globally over the KL ball with a certified bound;
* :func:`leakage_region_curve` — the same over many ``alpha`` (nested balls, warm);
* :func:`key_rate_limits` — the largest ``(r1, r2)`` of Corollary 2 / Corollary 4;
* :func:`alpha_star` — the floor :math:`\alpha_i^*` of Remark 2;
* :class:`SuccessiveRefinementCipher` — the finite-blocklength code of Section IV, with
  its exact leakages, JEP and rates (small blocklengths for now).

Rates, key rates and ``alpha`` are in units of ``log base`` (bits by default; ERRATA:
the KL radius ``alpha`` is in bits too).
"""

from ._code import (
    FiniteNRow,
    GuessingResult,
    SuccessiveRefinementCipher,
    finite_n_report,
    guessing_attack,
)
from ._regions import (
    KeyRateLimits,
    LeakageRegion,
    alpha_star,
    key_rate_limits,
    leakage_region,
    leakage_region_curve,
)

__all__ = [
    "FiniteNRow",
    "GuessingResult",
    "KeyRateLimits",
    "LeakageRegion",
    "SuccessiveRefinementCipher",
    "alpha_star",
    "finite_n_report",
    "guessing_attack",
    "key_rate_limits",
    "leakage_region",
    "leakage_region_curve",
]
