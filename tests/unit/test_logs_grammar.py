"""``/k8s logs``: every flag lands in the right field, bad input gets its own sentence, and the
command a request shows (audit trail, approval cards) parses back to the same request."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import grammar
from core.errors import CommandError
from core.regex import compile_user_regex
from handlers.logs_models import DEFAULT_SINCE_SECONDS, NodeLogs, PodLogs


def pod_logs(text: str) -> PodLogs:
    parsed = grammar.parse(text)
    assert isinstance(parsed, PodLogs)
    return parsed


def refusal(text: str) -> str:
    with pytest.raises(CommandError) as caught:
        grammar.parse(text)
    return caught.value.user_message


def test_a_bare_query_uses_stern_defaults_and_a_ten_minute_window() -> None:
    request = pod_logs("logs web")
    assert request == PodLogs(query="web")
    assert request.namespaces == ("default",)
    assert request.since_seconds == DEFAULT_SINCE_SECONDS == 600
    assert request.tail == -1
    assert request.container_states == ("all",)
    assert request.init_containers and request.ephemeral_containers
    assert request.output == "default"
    assert request.max_log_requests == 10


@pytest.mark.parametrize(
    ("flags", "field", "value"),
    [
        ("-n kube-system", "namespaces", ("kube-system",)),
        ("--namespace kube-system", "namespaces", ("kube-system",)),
        ("--namespace=kube-system", "namespaces", ("kube-system",)),
        ("-n=kube-system", "namespaces", ("kube-system",)),
        ("-n a -n b", "namespaces", ("a", "b")),
        ("-n a,b", "namespaces", ("a", "b")),
        ("-n a,b --namespace c", "namespaces", ("a", "b", "c")),
        ("-A", "all_namespaces", True),
        ("--all-namespaces", "all_namespaces", True),
        ("-l app=web", "selector", "app=web"),
        ("--selector 'app in (web,api),!legacy'", "selector", "app in (web,api),!legacy"),
        ("--field-selector status.phase=Running", "field_selector", "status.phase=Running"),
        ("--node k8s-node1", "node", "k8s-node1"),
        ("-c nginx", "container", "nginx"),
        ("--container=^app$", "container", "^app$"),
        ("-E istio-proxy -E linkerd", "exclude_container", ("istio-proxy", "linkerd")),
        ("--exclude-container=istio", "exclude_container", ("istio",)),
        ("--exclude-pod canary --exclude-pod=-old$", "exclude_pod", ("canary", "-old$")),
        ("--init-containers=false", "init_containers", False),
        ("--ephemeral-containers=false", "ephemeral_containers", False),
        ("--container-state running", "container_states", ("running",)),
        ("--container-state running,waiting", "container_states", ("running", "waiting")),
        (
            "--container-state running --container-state terminated",
            "container_states",
            ("running", "terminated"),
        ),
        ("--since 5m", "since_seconds", 300),
        ("-s 90s", "since_seconds", 90),
        ("--since=1h30m", "since_seconds", 5400),
        ("--since 1.5h", "since_seconds", 5400),
        ("--since 500ms", "since_seconds", 1),
        ("--since 0", "since_seconds", None),
        ("--since 0s", "since_seconds", None),
        ("--tail 50", "tail", 50),
        ("--tail 0", "tail", 0),
        ("--tail -1", "tail", -1),
        ("--tail=-1", "tail", -1),
        ("-i error", "include", ("error",)),
        ("-i error -i warn", "include", ("error", "warn")),
        ("--include=error", "include", ("error",)),
        # -i and -e are stern's StringArray flags: a comma belongs to the regex.
        ("-i a,b", "include", ("a,b",)),
        ("-e healthz -e 'GET /ready'", "exclude", ("healthz", "GET /ready")),
        ("--exclude=healthz", "exclude", ("healthz",)),
        ("-t", "timestamps", True),
        ("--timestamps", "timestamps", True),
        ("-o raw", "output", "raw"),
        ("--output=json", "output", "json"),
        ("--max-log-requests 1", "max_log_requests", 1),
        ("--max-log-requests=100", "max_log_requests", 100),
        ("-p", "previous", True),
        ("--previous", "previous", True),
    ],
)
def test_each_flag_parses_into_its_field(flags: str, field: str, value: Any) -> None:
    assert getattr(pod_logs(f"logs web {flags}"), field) == value


def test_flags_may_come_before_the_query() -> None:
    assert pod_logs("logs -n kube-system -i error coredns") == PodLogs(
        query="coredns", namespaces=("kube-system",), include=("error",)
    )


def test_all_namespaces_ignores_named_namespaces_as_stern_does() -> None:
    request = pod_logs("logs web -A -n kube-system")
    assert request.all_namespaces
    assert request.namespaces == ("default",)
    assert request.target == "pods/web in *"


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        *[(w, "Pod") for w in ("pod", "po", "pods")],
        *[(w, "Deployment") for w in ("deployment", "deployments", "deploy")],
        *[(w, "StatefulSet") for w in ("statefulset", "statefulsets", "sts")],
        *[(w, "DaemonSet") for w in ("daemonset", "daemonsets", "ds")],
        *[(w, "ReplicaSet") for w in ("replicaset", "replicasets", "rs")],
        *[(w, "Job") for w in ("job", "jobs")],
        *[(w, "Service") for w in ("service", "services", "svc")],
        *[(w, "ReplicationController") for w in ("replicationcontroller", "rc")],
        ("Deploy", "Deployment"),
        ("STS", "StatefulSet"),
    ],
)
def test_kind_slash_name_selects_by_resource(word: str, kind: str) -> None:
    request = pod_logs(f"logs {word}/web-1 -n shop")
    assert (request.resource_kind, request.resource_name) == (kind, "web-1")
    assert request.query == ".*"
    assert request.target == f"{kind.lower()}/web-1 in shop"


@pytest.mark.parametrize("flag", ["-l app=web", "--field-selector status.phase=Running"])
def test_a_selector_stands_in_for_the_query(flag: str) -> None:
    assert pod_logs(f"logs {flag}").query == ".*"


@pytest.mark.parametrize("word", ["node", "nodes", "no", "NODE"])
def test_node_slash_name_asks_the_node_log_query(word: str) -> None:
    parsed = grammar.parse(f"logs {word}/k8s-node1 --query kubelet --query containerd -i error")
    assert parsed == NodeLogs(
        node="k8s-node1", services=("kubelet", "containerd"), include=("error",)
    )
    assert parsed.verb == "node-logs"
    assert parsed.target == "node/k8s-node1"


def test_node_logs_read_the_kubelet_unless_told_otherwise() -> None:
    assert grammar.parse("logs node/k8s-node1") == NodeLogs(node="k8s-node1")


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            "logs web -i '(?=x)'",
            "`-i` `(?=x)` is not a regular expression I can use: invalid perl operator: (?=.",
        ),
        ("logs web -e '('", "`-e` `(` is not a regular expression I can use: missing ): (."),
        ("logs web -c '['", "`-c` `[` is not a regular expression I can use"),
        ("logs web -E '*'", "`-E` `*` is not a regular expression I can use"),
        ("logs web --exclude-pod '(a'", "`--exclude-pod` `(a` is not a regular expression"),
        ("logs '(a|b'", "`QUERY` `(a|b` is not a regular expression I can use"),
        ("logs 'x\\1'", "`QUERY` `x\\1` is not a regular expression I can use"),
        ("logs foo/bar", "`foo` is not a kind I can take logs from."),
        ("logs /bar", "`` is not a kind I can take logs from."),
        ("logs deploy/Web", "`Web` is not a valid deployment name: it contains upper-case"),
        ("logs pod/", "`` is not a valid pod name: it is empty."),
        ("logs node/K8S", "`K8S` is not a valid node name: it contains upper-case letters."),
        (
            "logs web -n Bad_NS",
            "`Bad_NS` is not a valid namespace name: it contains upper-case letters.",
        ),
        ("logs web -n ok,bad_ns", "`bad_ns` is not a valid namespace name: it contains '_'."),
        ("logs web -n a.b", "`a.b` is not a valid namespace name: it contains '.'."),
        ("logs web --node Node1", "`Node1` is not a valid node name"),
        (
            "logs web --query kubelet",
            "`--query` is for node logs: `/k8s logs node/NODE --query kubelet`.",
        ),
        (
            "logs node/n1 -n kube-system",
            "`logs node/NODE` reads the node's own services; -n only apply to pod logs.",
        ),
        ("logs node/n1 -c app -p", "-c, -p only apply to pod logs."),
        ("logs node/n1 -A", "-A only apply to pod logs."),
        ("logs node/n1 --max-log-requests 5", "--max-log-requests only apply to pod logs."),
        ("logs node/n1 --query 'kubelet;reboot'", "`--query=kubelet;reboot`: not a service name."),
        ("logs", "`logs QUERY "),
        ("logs", "QUERY is missing."),
        ("logs -n kube-system", "QUERY is missing."),
        ("logs web api", "takes no more arguments, but got `api`."),
        (
            "logs web --namespce x",
            "`logs QUERY` has no flag `--namespce`. Did you mean `namespace`?",
        ),
        ("logs web --sinc 5m", "has no flag `--sinc`. Did you mean `since`?"),
        ("logs web -namespace x", "`logs QUERY` has no flag `-namespace`."),
        ("logs web --n x", "has no flag `--n`."),
        ("logs web -x", "has no flag `-x`."),
        (
            "logs web --container-state sleeping",
            "`--container-state` `sleeping` is not a state; use running, waiting, terminated "
            "or all.",
        ),
        ("logs web --container-state running,Running", "`Running` is not a state"),
        ("logs web --since 1d", "`--since=1d` is not a duration (examples: 0, 90s, 5m, 1h30m)."),
        ("logs web --since=-5m", "`--since=-5m` is not a duration"),
        ("logs api --since " + "9" * 400 + "h", "is not a duration"),
        ("logs web --tail -2", "`--tail=-2`: must be at least -1."),
        ("logs web --tail lots", "`--tail=lots`: not a whole number."),
        ("logs web --max-log-requests 0", "`--max-log-requests=0`: must be at least 1."),
        ("logs web --max-log-requests 101", "`--max-log-requests=101`: must be at most 100."),
        ("logs web -o yaml", "`--output=yaml`: must be one of default, raw, json."),
        ("logs web -t=yes", "`--timestamps` is a switch"),
        ("logs web -n", "`--namespace` needs a value, e.g. `--namespace=kube-system`."),
        ("logs web --since --tail 5", "`--since` needs a value"),
        ("logs web -l 'app in web'", "must be a valid label selector"),
    ],
)
def test_bad_input_gets_its_own_sentence(text: str, sentence: str) -> None:
    assert sentence in refusal(text)


# --- command_text() parses back to the same request -----------------------------------------

ROUND_TRIPS = [
    "logs web",
    "logs '^web-[a-z0-9]+$' -n shop -n payments",
    "logs deploy/api -A -c '^app$' -i error -i 'timed out' -e healthz",
    "logs sts/db -n data --container-state running,waiting --tail 100 -t",
    "logs -l 'app in (web,api),!legacy' --field-selector status.phase=Running --node k8s-node1",
    "logs web -E istio-proxy -E linkerd --exclude-pod canary --init-containers=false",
    "logs web --ephemeral-containers=false",
    "logs web --max-log-requests 3",
    "logs web --since 0 -o json",
    "logs web --since 1h30m -o raw -p",
    "logs web --since 45s --tail 0",
    "logs web -e=--debug -i '-> ' -c=-sidecar$",
    "logs web -i \"it's\" -i 'say \"hi\"' -i 'ü.*ß'",
    "logs node/k8s-node1",
    "logs node/k8s-node1 --query kubelet --query containerd --since 2h --tail 20 -i error -t",
]


@pytest.mark.parametrize("text", ROUND_TRIPS)
def test_command_text_parses_back_to_the_same_request(text: str) -> None:
    request = grammar.parse(text)
    assert isinstance(request, PodLogs | NodeLogs)
    assert grammar.parse(request.command_text()) == request


def test_command_text_leaves_defaults_out() -> None:
    assert PodLogs(query="web").command_text() == "logs web"
    assert NodeLogs(node="n1").command_text() == "logs node/n1 --query kubelet"


def _usable(pattern: str) -> bool:
    try:
        compile_user_regex(pattern)
    except ValueError:
        return False
    return True


# Slack turns straight quotes into curly ones, and the tokenizer turns them back; a pattern
# with curly quotes cannot be typed, so it cannot be asked to round-trip.
_TYPED = st.characters(
    blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\u201c\u201d"
)
patterns = st.one_of(
    st.sampled_from(["error", "--debug", "-x", "a,b", "GET /healthz", "it's", '"q"', "=x", "ü"]),
    st.text(_TYPED, min_size=1, max_size=12).filter(_usable),
)
labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
some_patterns = st.lists(patterns, max_size=3).map(tuple)
window = {
    "since_seconds": st.one_of(st.none(), st.integers(1, 10**6)),
    "tail": st.integers(-1, 10**5),
    "include": some_patterns,
    "exclude": some_patterns,
    "timestamps": st.booleans(),
    "output": st.sampled_from(["default", "raw", "json"]),
}


@st.composite
def pod_requests(draw: st.DrawFn) -> PodLogs:
    fields: dict[str, Any] = {name: draw(strategy) for name, strategy in window.items()}
    if draw(st.booleans()):
        fields["query"] = draw(patterns.filter(lambda p: "/" not in p and not p.startswith("-")))
    else:
        fields["resource_kind"] = draw(st.sampled_from(["Pod", "Deployment", "Service", "Job"]))
        fields["resource_name"] = draw(labels)
    if draw(st.booleans()):
        fields["all_namespaces"] = True
    else:
        fields["namespaces"] = tuple(draw(st.lists(labels, min_size=1, max_size=3)))
    fields["selector"] = draw(st.sampled_from([None, "app=web", "app in (a,b),!legacy"]))
    fields["field_selector"] = draw(st.sampled_from([None, "status.phase=Running"]))
    fields["node"] = draw(st.one_of(st.none(), labels))
    fields["container"] = draw(st.one_of(st.just(".*"), patterns))
    fields["exclude_container"] = draw(some_patterns)
    fields["exclude_pod"] = draw(some_patterns)
    for switch in ("init_containers", "ephemeral_containers", "previous"):
        fields[switch] = draw(st.booleans())
    states = st.sampled_from(["running", "waiting", "terminated", "all"])
    fields["container_states"] = tuple(draw(st.lists(states, min_size=1, max_size=3)))
    fields["max_log_requests"] = draw(st.integers(1, 100))
    return PodLogs(**fields)


@st.composite
def node_requests(draw: st.DrawFn) -> NodeLogs:
    fields: dict[str, Any] = {name: draw(strategy) for name, strategy in window.items()}
    services = st.sampled_from(["kubelet", "containerd", "kube-proxy", "systemd-journald.service"])
    fields["services"] = tuple(draw(st.lists(services, min_size=1, max_size=3)))
    return NodeLogs(node=draw(labels), **fields)


@settings(max_examples=300, deadline=None)
@given(request=st.one_of(pod_requests(), node_requests()))
def test_any_request_the_grammar_accepts_survives_command_text(
    request: PodLogs | NodeLogs,
) -> None:
    assert grammar.parse(request.command_text()) == request
