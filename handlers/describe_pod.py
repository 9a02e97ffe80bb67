"""``describe pod``: the fields ``kubectl describe pod`` prints, read with its two calls (the
pod, then its events by field selector); an unknown namespace is told apart from an unknown pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core import messages
from handlers.control import Control
from handlers.describe import conditions, event_rows, events, moment, tolerations
from handlers.describe_models import ContainerFacts, ContainerState, DescribePod, PodDescription
from handlers.kube import JSON, KubeClient, KubeNotFound, resource_for
from handlers.retry import retrying

_PODS = resource_for("Pod")
_NAMESPACES = resource_for("Namespace")


def _state(raw: Mapping[str, Any] | None) -> ContainerState | None:
    if not raw:
        return None
    if "running" in raw:
        return ContainerState(
            state="Running", started=moment((raw["running"] or {}).get("startedAt"))
        )
    if "terminated" in raw:
        t = raw["terminated"] or {}
        return ContainerState(
            state="Terminated",
            reason=str(t.get("reason") or ""),
            message=str(t.get("message") or ""),
            exit_code=int(t.get("exitCode") or 0),
            started=moment(t.get("startedAt")),
            finished=moment(t.get("finishedAt")),
        )
    waiting = raw.get("waiting") or {}
    return ContainerState(
        state="Waiting",
        reason=str(waiting.get("reason") or ""),
        message=str(waiting.get("message") or ""),
    )


def _containers(pod: JSON, init: bool) -> tuple[ContainerFacts, ...]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    statuses = {
        s.get("name"): s
        for s in status.get("initContainerStatuses" if init else "containerStatuses") or []
    }
    facts = []
    for container in spec.get("initContainers" if init else "containers") or []:
        known = statuses.get(container.get("name")) or {}
        resources = container.get("resources") or {}
        facts.append(
            ContainerFacts(
                name=str(container.get("name", "")),
                init=init,
                image=str(container.get("image", "")),
                image_id=str(known.get("imageID") or ""),
                container_id=str(known.get("containerID") or ""),
                ports=tuple(
                    f"{p.get('containerPort')}/{p.get('protocol') or 'TCP'}"
                    for p in container.get("ports") or []
                ),
                state=_state(known.get("state")) or ContainerState(state="Waiting"),
                last_state=_state(
                    {"terminated": known["lastState"]["terminated"]}
                    if (known.get("lastState") or {}).get("terminated")
                    else None
                ),
                ready=bool(known.get("ready")),
                restart_count=int(known.get("restartCount") or 0),
                requests={str(k): str(v) for k, v in (resources.get("requests") or {}).items()},
                limits={str(k): str(v) for k, v in (resources.get("limits") or {}).items()},
            )
        )
    return tuple(facts)


def _controller(meta: Mapping[str, Any]) -> str:
    for owner in meta.get("ownerReferences") or []:
        if owner.get("controller"):
            return f"{owner.get('kind')}/{owner.get('name')}"
    return ""


def describe_pod(request: DescribePod, kube: KubeClient, control: Control) -> PodDescription:
    kube = retrying(kube, control, verb=request.verb)
    try:
        pod = kube.get(_PODS.path(namespace=request.namespace, name=request.name))
    except KubeNotFound:
        try:
            kube.get(_NAMESPACES.path(name=request.namespace))
        except KubeNotFound:
            raise KubeNotFound(
                messages.DESCRIBE_NO_NAMESPACE.format(namespace=request.namespace), status=404
            ) from None
        raise KubeNotFound(
            messages.DESCRIBE_NO_POD.format(name=request.name, namespace=request.namespace),
            status=404,
        ) from None
    read_at = datetime.now(UTC)
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    found = events(
        kube,
        request.namespace,
        [
            f"involvedObject.kind=Pod,involvedObject.name={request.name},"
            f"involvedObject.namespace={request.namespace},involvedObject.uid={meta.get('uid', '')}"
        ],
    )
    phase = str(status.get("phase") or "")
    deleting = moment(meta.get("deletionTimestamp"))
    terminating = deleting is not None and phase not in ("Failed", "Succeeded")
    return PodDescription(
        name=request.name,
        namespace=request.namespace,
        node=str(spec.get("nodeName") or ""),
        node_ip=str(status.get("hostIP") or ""),
        priority=spec.get("priority"),
        service_account=str(spec.get("serviceAccountName") or ""),
        start_time=moment(status.get("startTime")),
        labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
        status="Terminating" if terminating else phase,
        phase=phase,
        reason=str(status.get("reason") or ""),
        message=str(status.get("message") or ""),
        deleting_since=deleting if terminating else None,
        ip=str(status.get("podIP") or ""),
        ips=tuple(str(i.get("ip", "")) for i in status.get("podIPs") or []),
        controlled_by=_controller(meta),
        containers=(*_containers(pod, True), *_containers(pod, False)),
        conditions=conditions(status),
        qos_class=str(status.get("qosClass") or ""),
        node_selector={str(k): str(v) for k, v in (spec.get("nodeSelector") or {}).items()},
        tolerations=tolerations(spec),
        events=event_rows(found),
        read_at=read_at,
    )
