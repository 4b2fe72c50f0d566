import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "leakage", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("leakage")


@pytest.fixture
def fake_entries():
    """Two quick entries, one reproducing and one not; removed afterwards."""
    from leakage import reproduce
    from leakage.reproduce import _REGISTRY, Comparison, Figure, Reproduction, Series, Table

    def good():
        return Reproduction(
            id="zz-good",
            paper="P",
            title="good",
            description="d",
            comparisons=(Comparison("x", 0.5, 0.5, 1e-12, "eq. (1)", unit="bits"),),
            tables=(Table("t", ("a", "b"), ((1, 0.1), (2, 0.2))),),
            figures=(Figure("f", "T", "x", "y", (Series("s", np.arange(3.0), np.arange(3.0)),)),),
            notes=("a note",),
        )

    def bad():
        return Reproduction(
            id="zz-bad",
            paper="P",
            title="bad",
            description="d",
            comparisons=(Comparison("y", 1.0, 2.0, 1e-3, "Table I"),),
        )

    reproduce.register("zz-good", paper="P", title="good")(good)
    reproduce.register("zz-bad", paper="P", title="bad")(bad)
    yield
    _REGISTRY.pop("zz-good")
    _REGISTRY.pop("zz-bad")
