import math

import numpy as np
import pytest

import leakage as lk
from leakage.units import from_nats, to_nats, unit_name


def test_unit_names():
    assert unit_name(2) == "bits"
    assert unit_name(math.e) == "nats"
    assert unit_name(10) == "hartleys"
    assert unit_name(3) == "log-base-3 units"


@pytest.mark.parametrize("base", [2, math.e, 10, 3.5, 1.5])
def test_round_trip_and_consistency_with_measures(base):
    assert to_nats(from_nats(1.2345, base), base) == pytest.approx(1.2345, rel=1e-15)
    np.testing.assert_allclose(from_nats(np.array([math.log(base)]), base), [1.0])
    p = [0.1, 0.2, 0.7]
    assert lk.entropy(p, base=base) == pytest.approx(
        lk.entropy(p, base=math.e) / math.log(base), rel=1e-14
    )
