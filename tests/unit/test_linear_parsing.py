"""No code that reads text people type uses Python's ``re``.

Python's ``re`` backtracks: one pattern with adjacent repeats and one crafted input can hold
the GIL for seconds (a label selector once froze the bot that way). Text typed in chat is
therefore read by hand-written tokenizers (selectors, durations, names) or matched with RE2
(``core/regex.py``), which runs in linear time. This scan keeps it so: a module under bot/,
core/, handlers/ or policies/ may import ``re`` (or the third-party ``regex``) only if it is
listed below with the reason its patterns never see typed text.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "core", "handlers", "policies")
BACKTRACKING_MODULES = frozenset({"re", "regex", "sre_compile", "sre_parse"})

#: Module → why its Python regexes never see text typed in chat. Keep this short and true.
ALLOWED = {
    "core/redaction.py": "pod log content; rules reviewed for linear time, see module docstring",
    "handlers/logs.py": (
        "the kubelet's RFC 3339 timestamp before a log line; anchored, fixed-width fields"
    ),
    "core/secret_rule.py": (
        "rule names written in the code (and custom patterns from the operator's file), never "
        "typed text"
    ),
    "handlers/kube.py": (
        "the API server's own refusal messages (never typed text), to keep the worker's identity "
        "out of chat; no nested repeats"
    ),
    "handlers/quantity.py": (
        "resource quantities from pod specs and node status, already validated by the API "
        "server; anchored, no nested repeats"
    ),
}


def _imports_backtracking_regex(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"line {node.lineno}: {name}" for name in names if name in BACKTRACKING_MODULES]
    return found


def _modules() -> list[Path]:
    return sorted(path for package in SCANNED for path in (ROOT / package).rglob("*.py"))


def test_only_allowed_modules_use_pythons_backtracking_regexes() -> None:
    offenders = {
        str(path.relative_to(ROOT)): uses
        for path in _modules()
        if (uses := _imports_backtracking_regex(path))
        and str(path.relative_to(ROOT)) not in ALLOWED
    }
    assert not offenders, (
        "These modules import Python's re; read typed text with a tokenizer or "
        f"core.regex (RE2), or add the module to ALLOWED with the reason: {offenders}"
    )


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_every_allowed_module_still_needs_its_entry(module: str) -> None:
    assert _imports_backtracking_regex(ROOT / module), f"{module} no longer imports re"


def test_the_scan_sees_every_way_of_importing_re(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import re\nimport regex as r\nfrom re import compile\nfrom . import re\n")
    assert _imports_backtracking_regex(sample) == [
        "line 1: re",
        "line 2: regex",
        "line 3: re",
    ]
