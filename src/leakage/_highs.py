"""A quiet HiGHS instance, shared by the solvers that call highspy directly."""

from __future__ import annotations

import os
import sys


def silent_highs():
    """A ``highspy.Highs`` with logging off. Its constructor prints a banner on the C-level
    stdout before any option can be set (highspy 1.16), which would corrupt a caller's
    output (e.g. ``--json``): file descriptor 1 points at ``os.devnull`` meanwhile."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h
