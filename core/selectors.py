"""Label selectors (matchLabels / matchExpressions and the string form) matched in Python."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TERM = re.compile(
    r"^\s*(?P<neg>!)?(?P<key>[A-Za-z0-9._/-]+)\s*"
    r"(?:(?P<op>==|!=|=|\s+in\s+|\s+notin\s+)\s*(?P<value>\([^)]*\)|[A-Za-z0-9._-]*))?\s*$"
)


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A ``LabelSelector`` object. An empty selector matches everything, as in a PDB."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = set(expression.get("values") or [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _split_terms(text: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [t for t in terms if t.strip()]


def parse_selector(text: str) -> dict[str, Any]:
    """The string form (``app=web,tier!=db,env in (a,b),!legacy``) as a LabelSelector."""
    match_labels: dict[str, str] = {}
    expressions: list[dict[str, Any]] = []
    for term in _split_terms(text):
        found = _TERM.match(term)
        if not found:
            raise ValueError(f"invalid label selector term {term.strip()!r}")
        key, op, value = found["key"], (found["op"] or "").strip(), found["value"]
        if found["neg"]:
            if op:
                raise ValueError(f"invalid label selector term {term.strip()!r}")
            expressions.append({"key": key, "operator": "DoesNotExist"})
        elif not op:
            expressions.append({"key": key, "operator": "Exists"})
        elif op in ("=", "=="):
            match_labels[key] = value or ""
        elif op == "!=":
            expressions.append({"key": key, "operator": "NotIn", "values": [value or ""]})
        else:
            if not value or not value.startswith("("):
                raise ValueError(f"invalid label selector term {term.strip()!r}")
            values = [v.strip() for v in value[1:-1].split(",") if v.strip()]
            operator = "In" if op == "in" else "NotIn"
            expressions.append({"key": key, "operator": operator, "values": values})
    return {"matchLabels": match_labels, "matchExpressions": expressions}


def selector_string(selector: Mapping[str, Any]) -> str:
    """A ``LabelSelector`` object in the string form the API's ``labelSelector`` takes."""
    terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = ",".join(sorted(expression.get("values") or []))
        terms.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }[operator]
        )
    return ",".join(terms)
