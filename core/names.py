"""Validation of Kubernetes object names, done before anything touches Redis or the cluster."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
MAX_SUBDOMAIN = 253
MAX_LABEL = 63


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
    if not _SUBDOMAIN.fullmatch(name):
        return "it is not a DNS-1123 subdomain"
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


def _valid_node_name(name: str) -> str:
    problem = dns1123_subdomain_problem(name)
    if problem:
        raise ValueError(problem)
    return name


#: A node name, checked when a request model is built (or parsed back from Redis).
NodeName = Annotated[str, AfterValidator(_valid_node_name)]
