"""``describe pod`` shown: who runs it where and whether its containers are well, for the
channel; kubectl's pod sections for the thread."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.commands.render import table
from bot.commands.render_describe import age, events_table, reason, section, stamp, warnings
from core import messages
from core.text import code
from handlers.describe_models import ContainerState, PodDescription


def _state_text(state: ContainerState | None) -> str:
    if state is None:
        return "Waiting"
    text = state.state
    if state.reason:
        text += f" ({state.reason})"
    if state.exit_code is not None:
        text += f", exit code {state.exit_code}"
    return text


def pod_summary(result: PodDescription, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    app = [c for c in result.containers if not c.init]
    ready = sum(1 for c in app if c.ready)
    status = result.status if not result.reason else f"{result.status} ({result.reason})"
    lines = [
        messages.DESCRIBE_POD_HEADLINE.format(
            name=code(result.name),
            namespace=code(result.namespace),
            status=status,
            node=code(result.node) if result.node else messages.DESCRIBE_POD_NOT_SCHEDULED.format(),
            ready=f"{ready}/{len(app)}",
        ),
        messages.DESCRIBE_POD_STARTED.format(
            age=age(result.start_time, moment),
            ip=result.ip or "<none>",
            controller=code(result.controlled_by) if result.controlled_by else "<none>",
        ),
    ]
    for container in result.containers:
        if container.restart_count or (container.state and container.state.state != "Running"):
            if container.init and container.state and container.state.reason == "Completed":
                continue
            lines.append(
                messages.DESCRIBE_POD_RESTARTS.format(
                    container=code(container.name),
                    restarts=container.restart_count,
                    state=container.state.state if container.state else "Waiting",
                    reason=reason(container.state.reason if container.state else ""),
                )
            )
    lines.extend(warnings(result.events, moment))
    return "\n".join(lines)


def pod_body(result: PodDescription, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    status = result.status
    if result.deleting_since:
        status += f" (lasts {age(result.deleting_since, moment)})"
    parts = [
        f"Name: {result.name}",
        f"Namespace: {result.namespace}",
        *([f"Priority: {result.priority}"] if result.priority is not None else []),
        *([f"Service Account: {result.service_account}"] if result.service_account else []),
        f"Node: {result.node}/{result.node_ip}" if result.node else "Node: <none>",
        *([f"Start Time: {stamp(result.start_time)}"] if result.start_time else []),
        "Labels: " + (", ".join(f"{k}={v}" for k, v in sorted(result.labels.items())) or "<none>"),
        f"Status: {status}",
        *([f"Reason: {result.reason}"] if result.reason else []),
        *([f"Message: {result.message}"] if result.message else []),
        f"IP: {result.ip}",
        *([f"Controlled By: {result.controlled_by}"] if result.controlled_by else []),
    ]
    for init in (True, False):
        containers = [c for c in result.containers if c.init is init]
        if not containers:
            continue
        lines = []
        for c in containers:
            lines.append(f"{c.name}:")
            lines.append(f"  Image: {c.image}")
            if c.ports:
                lines.append(f"  Ports: {', '.join(c.ports)}")
            lines.append(f"  State: {_state_text(c.state)}")
            if c.state and c.state.started:
                lines.append(f"    Started: {stamp(c.state.started)}")
            if c.last_state:
                lines.append(f"  Last State: {_state_text(c.last_state)}")
            lines.append(f"  Ready: {'True' if c.ready else 'False'}")
            lines.append(f"  Restart Count: {c.restart_count}")
            for title, values in (("Limits", c.limits), ("Requests", c.requests)):
                if values:
                    shown = ", ".join(f"{k}: {v}" for k, v in sorted(values.items()))
                    lines.append(f"  {title}: {shown}")
        parts.append(section("Init Containers" if init else "Containers", "\n".join(lines)))
    if result.conditions:
        parts.append(
            section(
                "Conditions",
                table(("Type", "Status"), [(c.type, c.status) for c in result.conditions]),
            )
        )
    parts.append(f"QoS Class: {result.qos_class}")
    parts.append(
        "Node-Selectors: "
        + (", ".join(f"{k}={v}" for k, v in sorted(result.node_selector.items())) or "<none>")
    )
    parts.append(
        section("Tolerations", "\n".join(str(t) for t in result.tolerations))
        if result.tolerations
        else "Tolerations: <none>"
    )
    parts.append(events_table(result.events, moment))
    return "\n".join(parts)
