"""Log lines as JSON on stderr, with anything that looks like a secret masked.

Tokens should never reach a log call in the first place (settings hold them as ``SecretStr``);
the filter is the second line of defence for text that came from elsewhere, such as an
exception message quoting a request. It is the same engine that masks pod logs before they go
to Slack (:mod:`core.redaction`), so both catch the same secrets. The bot's own log keeps its
plain ``[redacted]`` mask, which the people and alerts reading it already know.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from core.redaction import MASK_PATTERN, build_redactor

_REDACTOR = build_redactor()
_LOG_MASK = "[redacted]"


def redact(text: str) -> str:
    masked, _ = _REDACTOR.redact(text)
    return MASK_PATTERN.sub(_LOG_MASK, masked)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["traceback"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "kubernetes", "slack_bolt", "slack_sdk", "waitress"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
