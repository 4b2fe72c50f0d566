import json
import math

import numpy as np
import pytest

import leakage as lk
import leakage.mechanism as mech_mod
from leakage.mechanism import Mechanism

M = np.array([[0.2, 0.8, 0.0], [0.5, 0.25, 0.25], [0.0, 0.0, 1.0], [1 / 3, 1 / 3, 1 / 3]])


def test_sample_frequencies_match_the_matrix():
    m = Mechanism(M)
    n = 400_000
    y = np.repeat(np.arange(4), n)
    u = m.sample(y, rng=7)
    assert u.dtype == np.int64 and u.shape == y.shape
    for i in range(4):
        freq = np.bincount(u[y == i], minlength=3) / n
        sd = np.sqrt(M[i] * (1 - M[i]) / n)
        assert np.all(np.abs(freq - M[i]) <= 5 * sd + 1e-12)  # 5 sigma; zeros stay zeros


def test_sample_is_reproducible_and_independent_of_chunking(monkeypatch):
    m = Mechanism(M)
    y = np.random.default_rng(0).integers(0, 4, size=(300, 701))
    a = m.sample(y, rng=123)
    monkeypatch.setattr(mech_mod, "_CHUNK", 1000)
    b = m.sample(y, rng=np.random.default_rng(123))
    np.testing.assert_array_equal(a, b)
    assert a.shape == y.shape
    assert not np.array_equal(a, m.sample(y, rng=124))
    assert m.sample(np.array([], dtype=int), rng=1).shape == (0,)
    np.testing.assert_array_equal(m.sample(np.array([2.0, 2.0])), [2, 2])


@pytest.mark.parametrize(
    ("inputs", "pattern"),
    [
        ([0, 4], r"letters in \[0, 4\); got 4 at position 1"),
        ([-1, 0], r"got -1 at position 0"),
        ([0.5], r"integer letters in \[0, 4\); got an array of dtype float64"),
        (["a"], r"dtype <U1"),
    ],
)
def test_sample_rejects_bad_letters(inputs, pattern):
    with pytest.raises(lk.InvalidParameterError, match=pattern):
        Mechanism(M).sample(inputs)


def test_matrix_is_validated_and_read_only():
    with pytest.raises(lk.InvalidDistributionError, match="Mechanism: the 'matrix' argument"):
        Mechanism([[0.5, 0.6]])
    m = Mechanism(M)
    with pytest.raises(ValueError):
        m.matrix[0, 0] = 1.0


def test_save_load_round_trip(tmp_path):
    d = lk.pointwise.design_chi2([[0.35, 0.10], [0.15, 0.40]], [0.1, 0.05])
    m = Mechanism.from_design(d)
    path = tmp_path / "m.json"
    m.save(path)
    back = Mechanism.load(path)
    np.testing.assert_array_equal(back.matrix, m.matrix)  # exact: shortest round-trip floats
    assert back.provenance["method"] == d.method
    assert back.provenance["utility"] == d.utility
    assert back.provenance["budgets"] == [0.1, 0.05]
    raw = json.loads(path.read_text())
    assert raw["format"] == "leakage.mechanism/1" and raw["library_version"] == lk.__version__
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_load_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(lk.InvalidParameterError, match="cannot read"):
        Mechanism.load(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"values": [1, 0]}))
    with pytest.raises(lk.InvalidParameterError, match="is not a mechanism file"):
        Mechanism.load(other)
    with pytest.raises(lk.InvalidParameterError, match="cannot read"):
        Mechanism.load(tmp_path / "missing.json")


def test_provenance_keeps_nan_leakage_as_string():
    d = lk.pointwise.design_chi2([[0.35, 0.10], [0.15, 0.40]], [0.1, 0.05, 0.0])
    m = Mechanism.from_design(d)
    assert m.provenance["leakages"][2] == "nan"
    assert math.isclose(m.provenance["leakages"][0], 0.1)
