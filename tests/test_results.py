import dataclasses
import json
import math

import numpy as np
import pytest

import leakage as lk
from leakage.results import to_jsonable


def test_capacity_result_is_frozen_and_serializable():
    r = lk.channel_capacity([[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.capacity = 0.0
    d = to_jsonable(r)
    text = json.dumps(d)  # plain JSON, no numpy objects
    back = json.loads(text)
    assert back["status"] == "optimal"
    assert back["gap"] == pytest.approx(r.upper - r.lower)
    assert back["input_distribution"] == pytest.approx(list(r.input_distribution))


def test_to_jsonable_non_finite_and_numpy_scalars():
    out = to_jsonable(
        {
            "a": math.inf,
            "b": -math.inf,
            "c": math.nan,
            "d": np.int64(3),
            "e": np.array([1.0, np.nan]),
            "f": np.bool_(True),
            "g": (1, 2),
        }
    )
    assert out == {
        "a": "inf",
        "b": "-inf",
        "c": "nan",
        "d": 3,
        "e": [1.0, "nan"],
        "f": True,
        "g": [1, 2],
    }
