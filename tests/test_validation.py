"""Every validation rule raises a specific LeakageError whose message names the function,
the argument, the requirement and the value received."""

import math

import numpy as np
import pytest
from scipy import sparse

import leakage as lk
from leakage._validation import (
    ATOL,
    as_channel,
    as_joint,
    as_pmf,
    check_alpha,
    check_base,
    check_choice,
    check_positive,
)


def test_error_hierarchy():
    for cls in (lk.InvalidDistributionError, lk.InvalidParameterError):
        assert issubclass(cls, lk.LeakageError) and issubclass(cls, ValueError)
    for cls in (lk.InfeasibleError, lk.SolverError):
        assert issubclass(cls, lk.LeakageError)
    assert issubclass(lk.ConvergenceWarning, UserWarning)


@pytest.mark.parametrize(
    ("bad", "pattern"),
    [
        (
            [0.5, float("nan"), 0.5],
            r"f: the 'p' argument must have only finite entries; got nan at index 1",
        ),
        ([0.5, float("inf")], r"must have only finite entries; got inf at index 1"),
        ([1.2, -0.2], r"must have only nonnegative entries \(probabilities\); got -0.2 at index 1"),
        ([0.5, 0.4], r"must sum to 1 \(atol 1e-09\); got entries summing to 0.9 instead"),
        (
            [[0.5, 0.5]],
            r"must be a non-empty 1-D probability vector; got an array of shape \(1, 2\)",
        ),
        ([], r"must be a non-empty 1-D probability vector; got an array of shape \(0,\)"),
        (0.5, r"non-empty 1-D probability vector; got an array of shape \(\)"),
        (["a", "b"], r"must be a 1-D array of real numbers; got an array of dtype <U1"),
        ([[0.5], [0.2, 0.3]], r"must be a 1-D array of real numbers; got an unreadable value"),
        ([0.5, None], r"must be a 1-D array of real numbers; got an array of dtype object"),
    ],
)
def test_pmf_rules(bad, pattern):
    with pytest.raises(lk.InvalidDistributionError, match=pattern):
        as_pmf(bad, func="f", name="p")


def test_pmf_is_never_renormalized():
    p = np.array([0.5, 0.5 + 0.5 * ATOL])
    out = as_pmf(p, func="f")
    assert out is p or np.array_equal(out, p)  # accepted within atol, unchanged
    with pytest.raises(lk.InvalidDistributionError, match="never does it silently"):
        as_pmf([0.5, 0.5 + 2 * ATOL], func="f")


def test_pmf_accepts_ints_and_bools():
    np.testing.assert_array_equal(as_pmf([0, 1], func="f"), [0.0, 1.0])
    assert as_pmf(np.array([True, False]), func="f").dtype == np.float64


@pytest.mark.parametrize(
    ("bad", "pattern"),
    [
        ([0.5, 0.5], r"g: the 'W' argument must be a non-empty 2-D channel matrix"),
        ([[0.5, 0.5], [0.7, 0.4]], r"must be row-stochastic .* got row 1 summing to 1.1"),
        ([[0.5, 0.5], [1.5, -0.5]], r"must have only nonnegative entries .* at index \[1, 1\]"),
        ([[0.5, 0.5], [np.nan, 0.5]], r"must have only finite entries; got nan at index \[1, 0\]"),
        (
            np.zeros((2, 0)),
            r"non-empty 2-D channel matrix W\[x, y\] = P\(y\|x\); got an array of shape \(2, 0\)",
        ),
    ],
)
def test_channel_rules(bad, pattern):
    with pytest.raises(lk.InvalidDistributionError, match=pattern):
        as_channel(bad, func="g", name="W")


def test_channel_hint_names_the_fix():
    with pytest.raises(lk.InvalidDistributionError, match=r"W / W.sum\(axis=1, keepdims=True\)"):
        as_channel([[1.0, 1.0]], func="g", name="W")


def test_sparse_channels():
    S = sparse.csr_matrix(np.eye(3))
    with pytest.raises(lk.InvalidDistributionError, match="does not take sparse channels"):
        as_channel(S, func="g")
    out = as_channel(S, func="g", sparse_ok=True)
    assert sparse.issparse(out) and out.dtype == np.float64
    neg = sparse.csr_matrix(np.array([[1.5, -0.5], [0.0, 1.0]]))
    with pytest.raises(lk.InvalidDistributionError, match="nonnegative"):
        as_channel(neg, func="g", sparse_ok=True)


def test_joint_rules():
    assert as_joint([[0.25, 0.25], [0.5, 0.0]], func="h").shape == (2, 2)
    with pytest.raises(lk.InvalidDistributionError, match="h: the 'p_xy' argument must sum to 1"):
        as_joint([[0.25, 0.25], [0.25, 0.0]], func="h")
    with pytest.raises(lk.InvalidDistributionError, match="2-D joint distribution"):
        as_joint([0.5, 0.5], func="h")
    with pytest.raises(lk.InvalidDistributionError, match="nonnegative"):
        as_joint([[0.75, 0.5], [-0.25, 0.0]], func="h")


@pytest.mark.parametrize("bad", [1, 0, -2, 0.5, 1e-300, math.inf, math.nan, "2", True, None])
def test_base_rule(bad):
    # a base in (0, 1) would make every leakage negative (issue 16): refused
    with pytest.raises(
        lk.InvalidParameterError,
        match=r"f: the 'base' argument must be a finite real number > 1",
    ):
        check_base(bad, func="f")


def test_base_accepts_reals():
    assert check_base(2, func="f") == 2.0
    assert check_base(np.float64(math.e), func="f") == math.e
    assert check_base(10, func="f") == 10.0
    assert check_base(1.5, func="f") == 1.5


@pytest.mark.parametrize("bad", [0, -1, math.nan, "inf", True, None])
def test_alpha_rule(bad):
    with pytest.raises(
        lk.InvalidParameterError,
        match=r"f: the 'alpha' argument must be a real number in \(0, inf\]",
    ):
        check_alpha(bad, func="f")


def test_alpha_inf_can_be_excluded():
    assert check_alpha(math.inf, func="f") == math.inf
    with pytest.raises(lk.InvalidParameterError, match=r"in \(0, inf\); got inf"):
        check_alpha(math.inf, func="f", allow_inf=False)


def test_positive_and_choice_rules():
    assert check_positive(3, func="f", name="n", integer=True) == 3
    with pytest.raises(
        lk.InvalidParameterError, match="'n' argument must be a positive integer; got 0"
    ):
        check_positive(0, func="f", name="n", integer=True)
    with pytest.raises(
        lk.InvalidParameterError, match="'tol' argument must be a finite real number > 0; got -1"
    ):
        check_positive(-1, func="f", name="tol")
    with pytest.raises(
        lk.InvalidParameterError, match=r"'m' argument must be one of 'a', 'b'; got 'c'"
    ):
        check_choice("c", ("a", "b"), func="f", name="m")


def test_public_functions_name_themselves():
    """The function name in the message is the public function the user called."""
    with pytest.raises(lk.InvalidDistributionError, match=r"^mutual_information: the 'p_x'"):
        lk.mutual_information([0.5, 0.6], np.eye(2))
    with pytest.raises(lk.InvalidParameterError, match=r"^maximal_leakage: the 'base'"):
        lk.maximal_leakage([0.5, 0.5], np.eye(2), base=1)
    with pytest.raises(lk.InvalidParameterError, match=r"^sibson_mutual_information: the 'alpha'"):
        lk.sibson_mutual_information([0.5, 0.5], np.eye(2), -1)


@pytest.mark.parametrize(
    "lo, hi, bounds, expected",
    [
        (0.1, 0.3, (0.0, math.inf), (0.1, 0.3)),  # inside: unchanged
        (-0.1, 0.3, (0.0, math.inf), (0.0, 0.3)),  # one end outside: moved onto the range
        (-0.5, -0.1, (0.0, math.inf), (0.0, 0.2)),  # entirely below: [0, half-width]
        (0.9, 1.3, (0.0, 1.0), (0.9, 1.0)),
        (1.1, 1.5, (0.0, 1.0), (0.8, 1.0)),  # entirely above: [1 - half-width, 1]
        (-3.0, -1.0, (0.0, 0.5), (0.0, 0.5)),  # a half-width beyond the range: the range
    ],
)
def test_clip_interval(lo, hi, bounds, expected):
    from leakage._validation import clip_interval

    got = clip_interval(lo, hi, *bounds)
    assert got == pytest.approx(expected)
    assert bounds[0] <= got[0] <= got[1] <= bounds[1]
