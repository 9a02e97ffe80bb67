"""A command lives in one place: its module under ``bot/commands/verbs/`` (and its handler).

The review that asked for the registry counted seven places one command was spread over:
grammar specs, two unions, a handler table, two ``isinstance`` ladders, the policy's verb list.
These tests fail if that shape creeps back: a request type inspected outside its command
module, a hand-kept union of request types, or committed command docs that the registry would
write differently.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from bot.commands import docs
from bot.commands.registry import registry
from handlers.base import RequestBase, request_type

REPO = Path(__file__).resolve().parents[2]
VERBS = REPO / "bot" / "commands" / "verbs"


def _request_type_names() -> set[str]:
    names = set()
    for command in registry().commands:
        module = inspect.getmodule(command.parse)
        for name, value in vars(module).items():
            if isinstance(value, type) and name.endswith(("Request", "Node", "Nodes", "Logs")):
                names.add(name)
    names |= {cls.__name__ for cls in RequestBase.__subclasses__()}
    for cls in list(RequestBase.__subclasses__()):
        names |= {sub.__name__ for sub in cls.__subclasses__()}
    return names - {"RequestBase"}


def _isinstance_targets(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and len(node.args) == 2
        ):
            for part in ast.walk(node.args[1]):
                if isinstance(part, ast.Name):
                    found.add(part.id)
                elif isinstance(part, ast.Attribute):
                    found.add(part.attr)
    return found


def test_no_request_type_is_inspected_outside_its_command_module() -> None:
    names = _request_type_names()
    assert {"DrainNode", "PodLogs", "CordonNode", "ApproveRequest"} <= names
    offenders = {}
    for path in (REPO / "bot").rglob("*.py"):
        if VERBS in path.parents:
            continue
        used = _isinstance_targets(ast.parse(path.read_text())) & names
        if used:
            offenders[str(path.relative_to(REPO))] = sorted(used)
    assert offenders == {}, "handle these requests in their command module (bot/commands/verbs)"


def test_no_hand_kept_union_of_request_types() -> None:
    for path in [*(REPO / "bot").rglob("*.py"), *(REPO / "handlers").rglob("*.py")]:
        text = path.read_text()
        for line in text.splitlines():
            assert not ("Annotated[" in line and "DrainNode" in line and "|" in line), (
                f"{path}: a union of request types; requests register themselves by kind"
            )


def test_every_job_command_runs_its_request_kinds() -> None:
    commands = registry()
    for command in commands.commands:
        for kind in command.request_kinds:
            assert commands.for_request(_instance_of(kind)).verb == command.verb


def _instance_of(kind: str) -> RequestBase:
    cls = request_type(kind)
    return cls.model_construct(kind=kind)


def test_the_committed_command_docs_are_what_the_registry_writes() -> None:
    assert docs.main(["--check", "--root", str(REPO)]) == 0, "run `make docs`"
