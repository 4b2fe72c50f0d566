import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "leakage", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("leakage")


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)
