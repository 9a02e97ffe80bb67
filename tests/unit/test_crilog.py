"""The CRI log format as runtimes write it: full and partial lines, both streams, caps, tails,
and masking on the agent (a key spread over lines is masked whole)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import messages
from core.redaction import build_redactor
from nodeagent.crilog import parse_line, read_log, records

T = "2026-11-28T10:00:00.123456789Z"


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "0.log"
    path.write_bytes("".join(f"{line}\n" for line in lines).encode())
    return path


def _read(path: Path, **caps: int | None) -> list[str]:
    options: dict = {"tail": None, "max_lines": 100, "max_bytes": 100_000, "max_line_bytes": 1024}
    options.update(caps)
    return read_log(path, redactor=build_redactor(), **options).lines


def test_a_full_line_is_its_content() -> None:
    assert parse_line(f"{T} stdout F hello world".encode()) == (T, "stdout", False, b"hello world")
    assert parse_line(f"{T} stderr P part".encode()) == (T, "stderr", True, b"part")
    assert parse_line(f"{T} stdout F".encode()) == (T, "stdout", False, b"")


def test_a_line_not_in_the_format_is_kept_whole() -> None:
    assert parse_line(b"plain text here") == ("", "stdout", False, b"plain text here")
    assert parse_line(f"{T} stdin F x".encode())[3] == f"{T} stdin F x".encode()


def test_partial_lines_join_per_stream(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            f"{T} stdout P first half ",
            f"{T} stderr F an error between",
            f"{T} stdout P and second ",
            f"{T} stdout F half",
            f"{T} stdout F next",
        ],
    )
    assert _read(path) == ["an error between", "first half and second half", "next"]


def test_a_long_line_is_cut_where_no_character_splits(tmp_path: Path) -> None:
    path = _write(tmp_path, [f"{T} stdout P " + "é" * 40, f"{T} stdout F " + "é" * 40])
    (line,) = _read(path, max_line_bytes=51)
    mark = messages.LOGS_LINE_CUT.format(limit=51)
    assert line == "é" * 25 + mark


def test_tail_and_caps_keep_the_newest(tmp_path: Path) -> None:
    path = _write(tmp_path, [f"{T} stdout F line {n}" for n in range(10)])
    log = read_log(
        path, redactor=build_redactor(), tail=3, max_lines=100, max_bytes=10_000, max_line_bytes=99
    )
    assert log.lines == ["line 7", "line 8", "line 9"]
    assert log.omitted == 7
    assert _read(path, max_lines=2) == ["line 8", "line 9"]
    assert _read(path, max_bytes=15) == ["line 8", "line 9"]  # 7 bytes each with the newline
    assert _read(path, tail=0) == []


def test_secrets_are_masked_before_they_leave_the_node(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            f"{T} stdout F connecting with password=hunter2",
            f"{T} stdout F -----BEGIN RSA PRIVATE KEY-----",
            f"{T} stdout F MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
            f"{T} stdout F -----END RSA PRIVATE KEY-----",
            f"{T} stdout F done",
        ],
    )
    log = read_log(
        path, redactor=build_redactor(), tail=4, max_lines=100, max_bytes=10_000, max_line_bytes=999
    )
    text = "\n".join(log.lines)
    assert "hunter2" not in text and "MIIEow" not in text
    assert log.lines[-1] == "done"
    assert log.masked >= 2


def test_extra_patterns_apply_on_the_agent(tmp_path: Path) -> None:
    path = _write(tmp_path, [f"{T} stdout F customer id CUST-12345 ok"])
    redactor = build_redactor([r"CUST-\d+"])
    log = read_log(
        path, redactor=redactor, tail=None, max_lines=9, max_bytes=999, max_line_bytes=99
    )
    assert log.lines == ["customer id [REDACTED:custom-1] ok"] and log.masked == 1


def test_a_file_ending_inside_a_partial_line_keeps_it(tmp_path: Path) -> None:
    path = _write(tmp_path, [f"{T} stdout F one", f"{T} stdout P unfinished"])
    assert _read(path) == ["one", "unfinished"]


@pytest.mark.parametrize("size", [70_000, 200_000])
def test_a_huge_physical_line_costs_no_more_than_the_cap(tmp_path: Path, size: int) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(
        f"{T} stdout F ".encode() + b"x" * size + b"\n" + f"{T} stdout F after\n".encode()
    )
    lines = _read(path, max_line_bytes=1000)
    assert len(lines) == 2 and lines[1] == "after"
    assert lines[0].startswith("x" * 900) and len(lines[0].encode()) < 1200


def test_records_name_their_stream_and_time() -> None:
    (record,) = records([f"{T} stderr F boom".encode()], 100)
    assert (record.time, record.stream, record.text) == (T, "stderr", "boom")
