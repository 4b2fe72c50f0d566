"""The ``leakage`` command line: parse → call the library → print with units.

Thin by design: every number is computed by the library; this package only turns
options into arrays (:func:`leakage.io.load_array_arg`), calls one function and prints
the result as a small table or, with ``--json``, as one JSON object on stdout.

Any :class:`~leakage.LeakageError` raised by a command (bad input, failed solve) is
printed as a single line ``error: <message>`` on stderr and the exit code is 1; usage
errors (unknown option, missing value) keep the exit code 2. This is handled once, by
the root group (:class:`~leakage.cli._common._LeakageGroup`), so command groups added later
with ``app.add_typer(...)`` or ``app.command(...)`` get the same behaviour for free.

One module per command group (:mod:`.measure`, :mod:`.pointwise`, :mod:`.rd`,
:mod:`.cipher` and :mod:`.cipher_code`, :mod:`.hypothesis`, :mod:`.release`,
:mod:`.reproduce`, :mod:`.estimate`, :mod:`.qif`, :mod:`.ldp`), all registered on the
root :data:`app` of :mod:`._common`; importing them here, in this order, fixes the order
of ``leakage --help``. Library code is imported inside the commands, so ``--version`` and
``--help`` stay fast.
"""

from __future__ import annotations

from ._common import app, main

# registration order = the order of `leakage --help` (and of each group's commands)
from .measure import measure_app  # isort: skip
from .pointwise import pointwise_app  # isort: skip
from .rd import rd_app  # isort: skip
from .cipher import cipher_app  # isort: skip
from . import cipher_code  # isort: skip  # noqa: F401  (cipher build|encrypt|decrypt|report)
from .hypothesis import hypothesis_app  # isort: skip
from .release import release_app  # isort: skip
from . import reproduce  # isort: skip  # noqa: F401  (leakage reproduce)
from . import estimate  # isort: skip  # noqa: F401  (leakage estimate)
from .qif import qif_app  # isort: skip
from .ldp import ldp_app  # isort: skip

__all__ = [
    "app",
    "cipher_app",
    "hypothesis_app",
    "ldp_app",
    "main",
    "measure_app",
    "pointwise_app",
    "qif_app",
    "rd_app",
    "release_app",
]
