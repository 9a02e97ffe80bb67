"""What a pod asks of its node, and what share of the node that is: the arithmetic behind
``kubectl describe node``'s "Allocated resources".

The facts are Kubernetes' own (k8s.io/component-helpers ``resource.PodRequests`` /
``PodLimits``, and k8s.io/kubectl's ``describeNodeResource``): a pod's requests are the sum of
its containers' plus its restartable init containers' (sidecars); a regular init container
runs alone with the sidecars declared before it, so the pod needs at least that; pod-level
``spec.resources`` replace the container sum for cpu and memory; ``spec.overhead`` is added to
requests, and to limits that are set. Sums are exact (decimal) and rounded up only at the end,
as a ``resource.Quantity`` is; a percentage is the share of allocatable (capacity when the node
reports no allocatable), truncated toward zero, 0 when the node offers none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, Decimal
from typing import Any

from handlers.quantity import parse_quantity

#: The resources a pod may set at pod level (component-helpers ``SupportedPodLevelResources``).
POD_LEVEL_RESOURCES = frozenset({"cpu", "memory", "hugepages-2Mi", "hugepages-1Gi"})

#: The rows kubectl always shows under "Allocated resources", in its order.
STANDARD_ROWS = ("cpu", "memory", "ephemeral-storage")

Amounts = dict[str, Decimal]


def amounts(values: Mapping[str, Any] | None) -> Amounts:
    """A ``ResourceList`` (``{"cpu": "250m"}``) as exact values in base units; a malformed
    quantity counts as nothing (the API server never stores one)."""
    found: Amounts = {}
    for name, text in (values or {}).items():
        try:
            found[str(name)] = parse_quantity(text)
        except ValueError:
            continue
    return found


def _add(total: Amounts, more: Amounts) -> None:
    for name, value in more.items():
        total[name] = total.get(name, Decimal(0)) + value


def _at_least(total: Amounts, other: Amounts) -> None:
    for name, value in other.items():
        if name not in total or value > total[name]:
            total[name] = value


def _containers(spec: Mapping[str, Any], which: str) -> list[Mapping[str, Any]]:
    return [c for c in spec.get("initContainers" if which == "init" else "containers") or []]


def _sidecar(container: Mapping[str, Any]) -> bool:
    return container.get("restartPolicy") == "Always"


def _aggregate(spec: Mapping[str, Any], field: str) -> Amounts:
    total: Amounts = {}
    for container in _containers(spec, "app"):
        _add(total, amounts((container.get("resources") or {}).get(field)))
    sidecars: Amounts = {}
    init_floor: Amounts = {}
    for container in _containers(spec, "init"):
        own = amounts((container.get("resources") or {}).get(field))
        if _sidecar(container):
            _add(total, own)
            _add(sidecars, own)
            while_running = dict(sidecars)
        else:
            while_running = dict(own)
            _add(while_running, sidecars)
        _at_least(init_floor, while_running)
    _at_least(total, init_floor)
    return total


def _pod_level(spec: Mapping[str, Any], field: str) -> Amounts:
    given = amounts((spec.get("resources") or {}).get(field))
    return {name: value for name, value in given.items() if name in POD_LEVEL_RESOURCES}


def pod_requests(pod: Mapping[str, Any]) -> Amounts:
    """``resource.PodRequests`` on the pod's spec."""
    spec = pod.get("spec") or {}
    total = _aggregate(spec, "requests")
    total.update(_pod_level(spec, "requests"))
    _add(total, amounts(spec.get("overhead")))
    return total


def pod_limits(pod: Mapping[str, Any]) -> Amounts:
    """``resource.PodLimits`` on the pod's spec: overhead only raises limits that are set."""
    spec = pod.get("spec") or {}
    total = _aggregate(spec, "limits")
    if (spec.get("resources") or {}).get("limits") or (spec.get("resources") or {}).get("requests"):
        total.update(_pod_level(spec, "limits"))
    for name, value in amounts(spec.get("overhead")).items():
        if total.get(name):
            total[name] += value
    return total


def total(per_pod: Iterable[Amounts]) -> Amounts:
    summed: Amounts = {}
    for one in per_pod:
        _add(summed, one)
    return summed


def in_units(resource: str, value: Decimal) -> int:
    """The integer kubectl compares: millicores for cpu (``MilliValue``), base units for the
    rest (``Value``), both rounded up."""
    scaled = value * 1000 if resource == "cpu" else value
    return int(scaled.to_integral_value(rounding=ROUND_CEILING))


def percent(used: int, offered: int) -> int:
    """kubectl's ``int64(float64(used) / float64(offered) * 100)``; 0 when nothing is offered."""
    if offered == 0:
        return 0
    share = float(used) / float(offered) * 100
    return math.trunc(share)


def offered(node: Mapping[str, Any]) -> Amounts:
    """What percentages are taken of: allocatable, or capacity when allocatable is empty."""
    status = node.get("status") or {}
    return amounts(status.get("allocatable") or status.get("capacity"))


def extended_rows(allocatable: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The extra "Allocated resources" rows kubectl adds, sorted: huge pages (with
    percentages) and extended resources such as ``nvidia.com/gpu`` (without)."""
    huge, extended = [], []
    for name in allocatable:
        if name.startswith("hugepages-"):
            huge.append(name)
        elif name != "pods" and not _standard_container_resource(name):
            extended.append(name)
    return sorted(huge), sorted(extended)


def _standard_container_resource(name: str) -> bool:
    return name in STANDARD_ROWS
