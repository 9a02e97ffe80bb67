"""Log lines as JSON on stderr, with anything that looks like a secret masked.

Tokens should never reach a log call in the first place (settings hold them as ``SecretStr``);
the filter is the second line of defence for text that came from elsewhere, such as an
exception message quoting a request.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_SECRET_PATTERNS = (
    re.compile(r"xox[abprs]-[0-9A-Za-z-]{6,}"),
    re.compile(r"xapp-[0-9A-Za-z-]{6,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(token|secret|password)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",]{6,}"),
)


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(
                lambda m: m.group(1) + (m.group(2) if m.lastindex == 2 else "") + "[redacted]", text
            )
        else:
            text = pattern.sub("[redacted]", text)
    return text


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
