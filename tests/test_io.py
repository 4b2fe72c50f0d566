"""Tests for leakage.io: formats, round trips, inline parsing, errors, atomic writes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from leakage import InvalidDistributionError, InvalidParameterError, LeakageError
from leakage.io import (
    atomic_write,
    load_array_arg,
    parse_array,
    parse_number,
    read_array,
    read_channel,
    read_joint,
    read_pmf,
    write_array,
    write_channel,
    write_joint,
    write_pmf,
)

FORMATS = ["json", "csv", "txt", "npy"]

# numbers whose shortest decimal form needs all 17 significant digits
P = np.array([0.1, 0.2, 1 / 3, 1.0 - 0.1 - 0.2 - 1 / 3])
W = np.array([[1 / 3, 2 / 3, 0.0], [0.1, 0.7, 0.2], [1 / 7, 2 / 7, 4 / 7]])


def _listing(directory) -> list[str]:
    return sorted(os.listdir(directory))


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", FORMATS)
def test_pmf_round_trip_is_exact(tmp_path, fmt):
    path = tmp_path / f"p.{fmt}"
    write_pmf(path, P)
    back = read_pmf(path)
    assert back.shape == P.shape
    np.testing.assert_array_equal(back, P)  # bit-for-bit, not approximately
    assert np.array_equal(read_array(path), P)


@pytest.mark.parametrize("fmt", FORMATS)
def test_channel_round_trip_is_exact(tmp_path, fmt):
    path = tmp_path / f"W.{fmt}"
    write_channel(path, W)
    np.testing.assert_array_equal(read_channel(path), W)


@pytest.mark.parametrize("fmt", FORMATS)
def test_joint_round_trip_is_exact(tmp_path, fmt):
    joint = np.array([[0.1, 0.2], [0.3, 0.4]])
    joint = joint / joint.sum()
    path = tmp_path / f"j.{fmt}"
    write_joint(path, joint)
    np.testing.assert_array_equal(read_joint(path), joint)


@pytest.mark.parametrize("fmt", ["csv", "txt"])
@pytest.mark.parametrize("W1", [[[0.25, 0.75]], [[1.0], [1.0]]])
def test_single_row_or_column_channel_stays_2d(tmp_path, fmt, W1):
    path = tmp_path / f"W.{fmt}"
    write_channel(path, W1)
    np.testing.assert_array_equal(read_channel(path), np.array(W1))


def test_write_array_keeps_non_finite_values(tmp_path):
    a = np.array([[1.5, np.inf], [-np.inf, np.nan]])
    for fmt in FORMATS:
        path = tmp_path / f"a.{fmt}"
        write_array(path, a)
        np.testing.assert_array_equal(read_array(path), a)  # nan == nan here


def test_json_write_format(tmp_path):
    path = tmp_path / "W.json"
    write_channel(path, W)
    obj = json.loads(path.read_text())
    assert obj["kind"] == "channel"
    assert obj["values"] == W.tolist()
    write_array(tmp_path / "a.json", [1, 2])
    assert json.loads((tmp_path / "a.json").read_text()) == {"values": [1.0, 2.0]}


# --------------------------------------------------------------------------- reading


def test_json_bare_list_and_object(tmp_path):
    (tmp_path / "bare.json").write_text("[0.25, 0.75]")
    (tmp_path / "rows.json").write_text("[[0.9, 0.1], [0.2, 0.8]]")
    (tmp_path / "obj.json").write_text('{"values": [0.25, 0.75]}')
    (tmp_path / "kind.json").write_text('{"kind": "channel", "values": [[1, 0], [0, 1]]}')
    np.testing.assert_array_equal(read_pmf(tmp_path / "bare.json"), [0.25, 0.75])
    np.testing.assert_array_equal(read_channel(tmp_path / "rows.json"), [[0.9, 0.1], [0.2, 0.8]])
    np.testing.assert_array_equal(read_pmf(tmp_path / "obj.json"), [0.25, 0.75])
    np.testing.assert_array_equal(read_channel(tmp_path / "kind.json"), np.eye(2))


def test_csv_with_comments_and_blank_lines(tmp_path):
    path = tmp_path / "W.csv"
    path.write_text("# a channel\n\n0.9, 0.1\n  # another comment\n\n0.2,0.8\n\n")
    np.testing.assert_array_equal(read_channel(path), [[0.9, 0.1], [0.2, 0.8]])
    assert read_array(path).shape == (2, 2)


def test_csv_one_row_or_one_column_is_1d(tmp_path):
    (tmp_path / "row.csv").write_text("0.2,0.3,0.5\n")
    (tmp_path / "col.csv").write_text("0.2\n0.3\n0.5\n")
    (tmp_path / "spaces.txt").write_text("0.2 0.3 0.5\n")
    for name in ("row.csv", "col.csv", "spaces.txt"):
        a = read_pmf(tmp_path / name)
        assert a.shape == (3,)
        np.testing.assert_array_equal(a, [0.2, 0.3, 0.5])


def test_csv_fractions(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("1/3,2/3\n")
    np.testing.assert_array_equal(read_pmf(path), [1 / 3, 2 / 3])


# --------------------------------------------------------------------------- inline parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.3,0.7", [0.3, 0.7]),
        (" 0.3 , 0.7 ", [0.3, 0.7]),
        ("0.3,0.7,", [0.3, 0.7]),
        ("0.9,0.1;0.2,0.8", [[0.9, 0.1], [0.2, 0.8]]),
        ("0.9, 0.1 ; 0.2, 0.8;", [[0.9, 0.1], [0.2, 0.8]]),
        ("[0.3, 0.7]", [0.3, 0.7]),
        ("[[0.9,0.1],[0.2,0.8]]", [[0.9, 0.1], [0.2, 0.8]]),
        ("1/3,2/3", [1 / 3, 2 / 3]),
        ("1e-3, 0.999", [1e-3, 0.999]),
        ("0.5;0.5", [[0.5], [0.5]]),
    ],
)
def test_parse_array(text, expected):
    a = parse_array(text)
    assert isinstance(a, np.ndarray)
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, np.array(expected))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0.3,abc", "'abc' is not a number"),
        ("", "it is empty"),
        ("0.3,,0.7", "empty field"),
        ("0.9,0.1;0.2", "row 2 has length 1 but row 1 has 2"),
        ("[0.3, 0.7", "invalid JSON list"),
        ("[[0.9, 0.1], [0.2]]", "different lengths"),
        ('["a", 1]', "expected numbers"),
        ("[]", "empty"),
        ("1/0", "divides by zero"),
    ],
)
def test_parse_array_errors_name_the_text(text, reason):
    with pytest.raises(InvalidParameterError, match="parse_array") as info:
        parse_array(text)
    msg = str(info.value)
    assert repr(text) in msg
    assert reason in msg
    assert "\n" not in msg


def test_parse_number():
    assert parse_number("1/4") == 0.25
    assert parse_number(" inf ") == np.inf
    with pytest.raises(InvalidParameterError, match="'x' is not a number"):
        parse_number("x")


def test_load_array_arg_prefers_files(tmp_path):
    path = tmp_path / "p.json"
    write_pmf(path, [0.25, 0.75])
    np.testing.assert_array_equal(load_array_arg(str(path)), [0.25, 0.75])
    np.testing.assert_array_equal(load_array_arg("0.25,0.75"), [0.25, 0.75])


def test_load_array_arg_errors(tmp_path):
    with pytest.raises(
        InvalidParameterError, match="not a readable file and not an inline list of numbers"
    ):
        load_array_arg("0.3,abc", name="--p")
    missing = str(tmp_path / "missing.csv")
    with pytest.raises(InvalidParameterError, match=r"'--p'.*no such file"):
        load_array_arg(missing, name="--p")


def test_load_array_arg_kind_mismatch(tmp_path):
    path = tmp_path / "W.json"
    write_channel(path, W)
    with pytest.raises(InvalidParameterError, match="declares kind 'channel' but a pmf"):
        load_array_arg(str(path), kind="pmf")


# --------------------------------------------------------------------------- bad files


def test_unknown_extension(tmp_path):
    path = tmp_path / "p.xlsx"
    path.write_text("0.5,0.5")
    with pytest.raises(InvalidParameterError, match=r"p\.xlsx.*unknown file extension '\.xlsx'"):
        read_array(path)
    with pytest.raises(InvalidParameterError, match=r"\.json, \.csv, \.txt or \.npy"):
        read_pmf(path)
    with pytest.raises(InvalidParameterError, match="unknown file extension"):
        write_pmf(tmp_path / "out.xlsx", [0.5, 0.5])
    assert not (tmp_path / "out.xlsx").exists()


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(
        InvalidParameterError, match=r"read_pmf: cannot read '.*nope\.csv': no such"
    ):
        read_pmf(path)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("g.json", "{not json", "not valid JSON"),
        ("g.json", '{"kind": "pmf"}', '"values" key'),
        ("g.json", '{"kind": "matrix", "values": [1]}', '"kind" field must be one of'),
        ("g.json", '"hello"', "expected a list"),
        ("g.json", "[[0.5, 0.5], [1]]", "different lengths"),
        ("g.csv", "0.5,0.5\nfoo,bar\n", "line 2: 'foo' is not a number"),
        ("g.csv", "0.5,0.5\n\n1\n", "line 3 has 1 entries but line 1 has 2"),
        ("g.csv", "# only a comment\n\n", "holds no numbers"),
        ("g.npy", "this is not numpy", "not a .npy file"),
    ],
)
def test_garbage_content(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InvalidParameterError) as info:
        read_array(path)
    msg = str(info.value)
    assert msg.startswith(f"read_array: cannot read '{path}'")
    assert reason in msg


def test_npy_object_array_is_rejected(tmp_path):
    path = tmp_path / "o.npy"
    np.save(path, np.array(["a", "b"]))
    with pytest.raises(InvalidParameterError, match="expected real numbers"):
        read_array(path)


def test_binary_garbage_in_text_file(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(InvalidParameterError, match="not a UTF-8 text file"):
        read_array(path)


def test_non_normalized_pmf_file(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("0.5,0.6\n")
    with pytest.raises(InvalidDistributionError, match=r"read_pmf: the '.*p\.csv' argument.*sum"):
        read_pmf(path)


def test_non_stochastic_channel_file(tmp_path):
    path = tmp_path / "W.json"
    path.write_text("[[0.5, 0.6], [0.5, 0.5]]")
    with pytest.raises(InvalidDistributionError, match=r"read_channel: .*row 0 summing to 1\.1"):
        read_channel(path)


def test_writers_validate_before_writing(tmp_path):
    with pytest.raises(InvalidDistributionError, match="write_pmf"):
        write_pmf(tmp_path / "p.json", [0.5, 0.6])
    with pytest.raises(InvalidDistributionError, match="write_channel"):
        write_channel(tmp_path / "W.json", [[0.5, 0.6]])
    with pytest.raises(InvalidParameterError, match="'kind' argument"):
        write_array(tmp_path / "a.json", [1.0], kind="vector")
    with pytest.raises(InvalidParameterError, match="1-D or 2-D"):
        write_array(tmp_path / "a.csv", np.zeros((2, 2, 2)))
    assert _listing(tmp_path) == []


def test_all_io_errors_are_leakage_errors(tmp_path):
    with pytest.raises(LeakageError):
        read_array(tmp_path / "x.json")
    with pytest.raises(ValueError):
        parse_array("x")


# --------------------------------------------------------------------------- atomic writes


def test_atomic_write_text_and_binary(tmp_path):
    target = tmp_path / "sub" / "dir" / "out.txt"  # parents are created
    with atomic_write(target) as f:
        f.write("héllo\n")
    assert target.read_text(encoding="utf-8") == "héllo\n"
    with atomic_write(target, "wb") as f:
        f.write(b"\x89PNG")
    assert target.read_bytes() == b"\x89PNG"
    assert _listing(target.parent) == ["out.txt"]


def test_atomic_write_failure_leaves_target_untouched(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old content")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as f:
        f.write("new partial content")
        raise RuntimeError("boom")
    assert target.read_text() == "old content"
    assert _listing(tmp_path) == ["report.md"]  # no temporary file left behind


def test_atomic_write_failure_without_previous_file(tmp_path):
    target = tmp_path / "new.bin"
    with pytest.raises(KeyError), atomic_write(target, "wb") as f:
        f.write(b"abc")
        raise KeyError("x")
    assert _listing(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_atomic_write_new_file_gets_default_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    target = tmp_path / "f.txt"
    with atomic_write(target) as f:
        f.write("y")
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_atomic_write_keeps_existing_permissions(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("x")
    os.chmod(target, 0o640)
    with atomic_write(target) as f:
        f.write("y")
    assert target.stat().st_mode & 0o777 == 0o640


def test_atomic_write_rejects_read_modes(tmp_path):
    with (
        pytest.raises(InvalidParameterError, match="'mode' argument"),
        atomic_write(tmp_path / "x", "r"),
    ):
        pass


def test_atomic_write_without_replace_never_replaces(tmp_path):
    from leakage.errors import OutputExistsError

    target = tmp_path / "f.txt"
    with atomic_write(target, replace=False) as f:
        f.write("first")
    with (
        pytest.raises(OutputExistsError, match="appeared while"),
        atomic_write(tmp_path / "g.txt", replace=False) as f,
    ):
        f.write("second")
        (tmp_path / "g.txt").write_text("other run")  # another run publishes first
    assert target.read_text() == "first" and (tmp_path / "g.txt").read_text() == "other run"
    assert _listing(tmp_path) == ["f.txt", "g.txt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_atomic_write_sets_the_mode_asked_for(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("x")
    os.chmod(target, 0o644)
    with atomic_write(target, perms=0o600) as f:
        f.write("y")
    assert target.stat().st_mode & 0o777 == 0o600
    with (
        pytest.raises(InvalidParameterError, match="'perms' argument"),
        atomic_write(target, perms=0o10000),
    ):
        pass
