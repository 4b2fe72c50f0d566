"""Exceptions and warnings raised by :mod:`leakage`.

Every error the library raises on bad input or failed computation is a subclass of
:class:`LeakageError`, so ``except leakage.LeakageError`` catches all of them. The
input errors also subclass :class:`ValueError`, so code written against NumPy/SciPy
conventions keeps working.

Messages follow one template: the function, the argument, the requirement and the
value received, e.g.::

    mutual_information: the 'channel' argument must have rows that sum to 1
    (atol 1e-09); got row 2 summing to 1.1 instead. Normalize each row
    (W / W.sum(axis=1, keepdims=True)) if that is what you meant.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceWarning",
    "DesignWarning",
    "DisclosureWarning",
    "InfeasibleError",
    "IntegrityError",
    "IntegrityWarning",
    "InvalidDistributionError",
    "InvalidParameterError",
    "LeakageError",
    "MissingDependencyError",
    "OutputExistsError",
    "SmallCountWarning",
    "SolverError",
    "SystemCallError",
]


class LeakageError(Exception):
    """Base class of every error raised by :mod:`leakage`."""


class InvalidDistributionError(LeakageError, ValueError):
    """A probability vector, channel or joint distribution is not valid.

    Raised for non-finite or negative entries, entries that do not sum to one (within
    ``atol=1e-9``; inputs are never renormalized silently), wrong dimensions and
    shapes that do not match each other.
    """


class InvalidParameterError(LeakageError, ValueError):
    """A scalar parameter (order ``alpha``, logarithm ``base``, tolerance, name of a
    measure, ...) is out of its documented range or of the wrong type."""


class InfeasibleError(LeakageError):
    """The requested problem has no feasible point (e.g. a budget that cannot be met)."""


class IntegrityError(LeakageError, ValueError):
    """A file written by the library (e.g. a release) does not match its integrity hash:
    it was edited or damaged after it was written."""


class IntegrityWarning(UserWarning):
    """A file was loaded although its integrity hash is missing or does not match."""


class OutputExistsError(LeakageError, FileExistsError):
    """An output file exists (or appeared while this run was writing it) and replacing it
    was not asked for; nothing was replaced."""


class DisclosureWarning(UserWarning):
    """An output is about to hold data that the release exists to protect or that weakens
    its guarantee (e.g. the useful column kept beside the released one)."""


class SolverError(LeakageError):
    """A numerical solver failed; the message names the solver and its status."""


class SystemCallError(LeakageError, RuntimeError):
    """The system under test (the function given to
    :func:`leakage.estimate.from_system`) raised or returned something unusable; the
    message names the call and the secret, the original exception is the ``__cause__``."""


class ConvergenceWarning(UserWarning):
    """An iterative method stopped before reaching its certified tolerance."""


class SmallCountWarning(UserWarning):
    """A fitted cell holds too few records for its estimate to be trusted."""


class DesignWarning(UserWarning):
    """An approximate design is trivial or far from what the exact problem allows; the
    message names the exact method."""


class MissingDependencyError(LeakageError, ImportError):
    """An optional dependency (e.g. matplotlib for plots) is not installed; the message
    names the extra to install."""
