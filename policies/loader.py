"""Reading the policy file: the only I/O in this package, done once at start-up."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from core import messages
from core.errors import ConfigurationError
from policies.model import PolicyDocument


def load_policy(path: Path) -> PolicyDocument:
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigurationError(messages.POLICY_FILE_MISSING.format(path=path)) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        detail = f"{where}{error.problem or 'not YAML'}"
        raise ConfigurationError(
            messages.POLICY_FILE_INVALID.format(path=path, detail=detail)
        ) from error
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(
            messages.POLICY_FILE_INVALID.format(path=path, detail=type(error).__name__)
        ) from error
    try:
        return PolicyDocument.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        detail = f"{where}: {first['msg']}"
        raise ConfigurationError(
            messages.POLICY_FILE_INVALID.format(path=path, detail=detail)
        ) from None
