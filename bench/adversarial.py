"""The slowest hostile input, in milliseconds: commands, selectors, regexes and log lines.

Everything a workspace member types is parsed before the policy runs, and everything a pod
prints is masked before it is stored, so a slow parser is a way for anyone to stall the bot.
Each input here is built to be slow for a backtracking engine or a quadratic loop; the goal is
under 50 ms each (issue 12). The reference is Python's own ``re`` on the classic catastrophic
pattern, measured in the same run, to show what these inputs would cost without linear-time
parsing.

    .venv/bin/python bench/adversarial.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout, not another

from bench.adversarial_logs import SAMPLES
from bot.commands import grammar
from core.errors import CommandError
from core.redaction import build_redactor
from core.regex import compile_user_regex
from core.selectors import parse_field_selector, parse_selector
from handlers.lines import split_lines

GOAL_MS = 50.0


def _refused(call: Callable[[], object]) -> Callable[[], object]:
    """Inputs that are meant to be refused: a refusal is the expected, timed outcome."""

    def run() -> object:
        try:
            return call()
        except (CommandError, ValueError):
            return None

    return run


def cases() -> list[tuple[str, Callable[[], object]]]:
    spaces = "a in" + " " * 1015 + "!"
    nested = "(" * 900 + "a" + ")" * 90
    line = "a" * 100_000 + "!"
    evil = compile_user_regex("(a+)+$")
    redactor = build_redactor()
    built: list[tuple[str, Callable[[], object]]] = [
        ("selector: 'a in<1015 spaces>!'", _refused(lambda: parse_selector(spaces))),
        ("selector: 1000 terms", _refused(lambda: parse_selector(",".join(["a=b"] * 250)))),
        ("selector: unbalanced parentheses", _refused(lambda: parse_selector("a in " + nested))),
        ("field selector: 500 escapes", _refused(lambda: parse_field_selector("a=" + "\\," * 500))),
        (
            "command: logs -l with 1975 spaces",
            _refused(lambda: grammar.parse('logs x -l "a in' + " " * 1975 + '!"')),
        ),
        (
            "command: drain --timeout <310 nines>s",
            _refused(lambda: grammar.parse("drain n1 --timeout " + "9" * 310 + "s")),
        ),
        (
            "command: 2000 characters of flags",
            _refused(lambda: grammar.parse("logs x " + "-i a " * 398)),
        ),
        ("regex: (a+)+$ over 100 KB of a!", lambda: evil.search(line)),
        (
            "regex: compile 1000 nested groups",
            _refused(lambda: compile_user_regex("(" * 1000 + "a" + ")" * 1000)),
        ),
        (
            "log line: 32 MB without a newline",
            lambda: sum(1 for _ in split_lines(b"x" * 65_536 for _ in range(512))),
        ),
    ]
    built += [
        (f"redaction: {name} (100 KB)", lambda text=text: redactor.redact(text))
        for name, text in SAMPLES
    ]
    return built


def timed(call: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results = [(name, timed(call, args.repeat)) for name, call in cases()]
    width = max(len(name) for name, _ in results)
    for name, ms in sorted(results, key=lambda item: -item[1]):
        print(f"  {name:<{width}}  {ms:8.2f} ms")
    # The reference: Python's backtracking re on the same pattern, on a short line only (a
    # longer one would not finish); every added 'a' doubles its time.
    reference = timed(lambda: re.search(r"(a+)+$", "a" * 22 + "!"), 1)
    slowest_name, slowest = max(results, key=lambda item: item[1])
    print(
        f"adversarial inputs: slowest {slowest:.2f} ms ({slowest_name}); goal < {GOAL_MS:.0f} ms"
        f" {'met' if slowest < GOAL_MS else 'MISSED'}; Python re on (a+)+$ over 23 characters:"
        f" {reference:.0f} ms (ratio ours/re {slowest / reference:.3f})"
    )
    return 0 if slowest < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
