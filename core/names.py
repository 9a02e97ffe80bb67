"""Validation of Kubernetes names, done before anything touches Redis or the cluster.

Each check is a few plain string tests, linear in the name, spelling out one by one the rules
the API server applies (``k8s.io/apimachinery/pkg/util/validation``): names arrive from
chat, so no backtracking regex sees them, and each failure says which rule it broke.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from core import messages
from core.text import code

MAX_SUBDOMAIN = 253
MAX_LABEL = 63
#: Label values and the name part of label keys: Kubernetes' ``IsQualifiedName`` limit.
MAX_QUALIFIED_NAME = 63
_ALPHANUMERIC = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_QUALIFIED_NAME_CHARACTERS = _ALPHANUMERIC | frozenset("-_.")


def dns1123_subdomain_problem(name: str) -> str | None:
    """Why ``name`` is not a DNS-1123 subdomain (a node name), or ``None`` if it is one."""
    if not name:
        return "it is empty"
    if len(name) > MAX_SUBDOMAIN:
        return f"it is {len(name)} characters long"
    if name != name.lower():
        return "it contains upper-case letters"
    bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "-."))})
    if bad:
        return "it contains " + ", ".join(repr(c) for c in bad)
    for label in name.split("."):
        if not label:
            return "it has an empty part between dots"
        if len(label) > MAX_LABEL:
            return f"the part {label[:20]!r}… is longer than {MAX_LABEL} characters"
        if label[0] == "-" or label[-1] == "-":
            return "a part starts or ends with '-'"
    return None


def dns1123_label_problem(name: str) -> str | None:
    """Why ``name`` is not a DNS-1123 label (a namespace or service name), or ``None``."""
    problem = dns1123_subdomain_problem(name)
    if problem:
        return problem
    if "." in name:
        return "it contains '.'"
    if len(name) > MAX_LABEL:
        return f"it is {len(name)} characters long (the limit is {MAX_LABEL})"
    return None


def _qualified_part_problem(text: str, part: str) -> str | None:
    """Why ``text`` is not ``([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`` of at most 63."""
    if not text:
        return messages.NAME_IS_EMPTY.format(part=part)
    if len(text) > MAX_QUALIFIED_NAME:
        return messages.NAME_TOO_LONG.format(part=part, length=len(text), limit=MAX_QUALIFIED_NAME)
    bad = sorted({c for c in text if c not in _QUALIFIED_NAME_CHARACTERS})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        return messages.NAME_BAD_CHARACTERS.format(part=part, characters=shown)
    if text[0] not in _ALPHANUMERIC or text[-1] not in _ALPHANUMERIC:
        return messages.NAME_BAD_ENDS.format(part=part)
    return None


def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a label key (``[PREFIX/]NAME``, a qualified name), or ``None``."""
    prefix, slash, name = key.rpartition("/")
    if "/" in prefix:
        return messages.KEY_TOO_MANY_SLASHES.format()
    if not slash:
        return _qualified_part_problem(name, messages.NAME_ITSELF.format())
    if not prefix:
        return messages.KEY_PREFIX_EMPTY.format()
    prefix_problem = dns1123_subdomain_problem(prefix)
    if prefix_problem:
        return messages.KEY_BAD_PREFIX.format(prefix=code(prefix[:80]), reason=prefix_problem)
    return _qualified_part_problem(name, messages.NAME_AFTER_PREFIX.format())


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a label value (empty, or a qualified name's part), or ``None``."""
    return _qualified_part_problem(value, messages.NAME_ITSELF.format()) if value else None


def _valid_node_name(name: str) -> str:
    problem = dns1123_subdomain_problem(name)
    if problem:
        raise ValueError(problem)
    return name


#: A node name, checked when a request model is built (or parsed back from Redis).
NodeName = Annotated[str, AfterValidator(_valid_node_name)]
