"""Reading the policy file — the only I/O in this package — and noticing when it changes.

Errors name the field and the line, so a reviewer can find them. :class:`PolicyWatcher` keeps
the last good policy: a Kubernetes ConfigMap mounted as a file is replaced in place, and an
invalid new version must not take the bot down or open it up; it is logged and ignored.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core import messages
from core.errors import ConfigurationError
from policies.model import PolicyDocument, Vocabulary

log = logging.getLogger(__name__)


def _line_of(node: yaml.Node | None, path: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``path`` (as pydantic reports locations)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = next((value for key, value in node.value if key.value == str(part)), None)
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            found = node.value[part]
        else:
            found = None
        if found is None:
            break
        node = found
        line = node.start_mark.line + 1
    return line


def parse_policy(text: str, source: str, vocabulary: Vocabulary | None = None) -> PolicyDocument:
    """The document in ``text``; with ``vocabulary`` (the bot's commands), rules and roles
    naming a verb or flag no command has are refused."""
    try:
        raw = yaml.safe_load(text)
        tree = yaml.compose(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigurationError(
            messages.POLICY_FILE_INVALID.format(
                path=source, detail=f"{where}{error.problem or 'not YAML'}"
            )
        ) from None
    except yaml.YAMLError as error:
        raise ConfigurationError(
            messages.POLICY_FILE_INVALID.format(path=source, detail=type(error).__name__)
        ) from None
    try:
        return PolicyDocument.model_validate(raw, context={"vocabulary": vocabulary})
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(part for part in first["loc"] if not str(part).startswith("function-"))
        field = ".".join(str(part) for part in loc) or "top level"
        line = _line_of(tree, loc)
        where = f"line {line}, {field}" if line else field
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(
            messages.POLICY_FILE_INVALID.format(path=source, detail=f"{where}: {message}")
        ) from None


def load_policy(path: Path, vocabulary: Vocabulary | None = None) -> PolicyDocument:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigurationError(messages.POLICY_FILE_MISSING.format(path=path)) from None
    except OSError as error:
        raise ConfigurationError(
            messages.POLICY_FILE_INVALID.format(path=path, detail=type(error).__name__)
        ) from error
    return parse_policy(text, str(path), vocabulary)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()  # follows the symlink a ConfigMap mount swaps
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


class PolicyWatcher:
    """The current policy, reloaded when the file changes; a bad file keeps the old one."""

    def __init__(
        self, path: Path, *, interval: float = 2.0, vocabulary: Vocabulary | None = None
    ) -> None:
        self.path = path
        self.interval = interval
        self.vocabulary = vocabulary
        self._policy = load_policy(path, vocabulary)
        self._stamp = _stamp(path)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def policy(self) -> PolicyDocument:
        return self._policy

    def check(self) -> bool:
        """Reload if the file changed; True if a new policy is now in force."""
        stamp = _stamp(self.path)
        if stamp is None or stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            self._policy = load_policy(self.path, self.vocabulary)
        except ConfigurationError as error:
            log.error(
                "policy file changed but was not loaded, keeping the previous one: %s",
                error.user_message,
            )
            return False
        log.info("policy reloaded from %s", self.path)
        return True

    def start(self) -> PolicyWatcher:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                self.check()

        self._thread = threading.Thread(target=loop, name="policy-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
