"""The chart installed into the sandbox's real API server, which validates every object against
the real schemas, RBAC and Pod Security admission (the release namespace enforces
``restricted``); then the RBAC proven enough and no more with a real worker acting through the
chart's own service account, and ``helm uninstall`` shown to leave nothing behind.

One install is shared by the tests of this module (they run in file order; the uninstall test
comes last). kwok simulates the pods: what runs in them is proven elsewhere (the image test),
and here only that the API server admitted them.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from chart_helpers import CHART, CI_VALUES, Helm, documented_rbac, make_helm
from helpers import wait_for
from logs_helpers import cri_lines, give_logs, pods

from handlers.kube import JSON, KubeClient, KubeError, KubeForbidden, KubeNotFound
from sandbox import cluster, seed

pytestmark = pytest.mark.integration

NAMESPACE = "chatops"
RELEASE = "chatops"
AGENT_NAMESPACE = "k8s-chatops-node-agent"
WORKER_SA = f"{RELEASE}-k8s-chatops-worker-default"
BOT_SA = f"{RELEASE}-k8s-chatops-bot"
PV_NAME = "chatops-redis-test-volume"
#: The groups every service account of the release namespace is in.
_EVERYONE = {
    "system:authenticated",
    "system:serviceaccounts",
    f"system:serviceaccounts:{NAMESPACE}",
}


@dataclass
class Installed:
    helm: Helm
    kube: KubeClient
    admin_kubeconfig: Path
    work: Path


def _ns_path(name: str) -> str:
    return f"/api/v1/namespaces/{name}"


def _create_namespace(kube: KubeClient, name: str, level: str) -> None:
    """A namespace labelled as docs/deploy.md says: Pod Security enforced at ``level``."""
    labels = {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "audit", "warn")}
    labels["pod-security.kubernetes.io/enforce-version"] = "latest"
    kube.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
    )


def _redis_volume(kube: KubeClient, where: Path) -> None:
    """The sandbox has no storage provisioner: one static volume for Redis's claim to bind."""
    where.mkdir(parents=True, exist_ok=True)
    kube.request(
        "POST",
        "/api/v1/persistentvolumes",
        body={
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": PV_NAME},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "hostPath": {"path": str(where), "type": "Directory"},
            },
        },
    )


def _delete_quietly(kube: KubeClient, path: str) -> None:
    with contextlib.suppress(KubeNotFound):
        kube.delete(path, grace_period_seconds=0)


def _install(installed: Installed, *args: str) -> subprocess.CompletedProcess[str]:
    return installed.helm.run(
        "install",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        *args,
        kubeconfig=installed.admin_kubeconfig,
    )


@pytest.fixture(scope="module")
def installed(sandbox: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("chart-install")
    kube = KubeClient.connect(str(sandbox))
    seed.reset(kube)
    state = Installed(make_helm(work / "helm-home"), kube, sandbox, work)
    _create_namespace(kube, NAMESPACE, "restricted")
    # Stand-ins for the operator's Secret: never real tokens, and never printed.
    fake = {
        "SLACK_BOT_TOKEN": f"xoxb-test-{secrets.token_hex(8)}",
        "SLACK_SIGNING_SECRET": secrets.token_hex(16),
        "SLACK_APP_TOKEN": f"xapp-test-{secrets.token_hex(8)}",
    }
    kube.request(
        "POST",
        f"{_ns_path(NAMESPACE)}/secrets",
        body={
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "k8s-chatops-slack", "namespace": NAMESPACE},
            "stringData": fake,
        },
    )
    _redis_volume(kube, work / "redis-volume")
    started = time.monotonic()
    result = _install(
        state, "-f", str(CI_VALUES / "agent-values.yaml"), "--wait", "--timeout", "120s"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"helm install --wait: {time.monotonic() - started:.1f}s")
    try:
        yield state
    finally:
        state.helm.run("uninstall", RELEASE, "-n", NAMESPACE, "--wait", kubeconfig=sandbox)
        for path in (
            _ns_path(NAMESPACE),
            _ns_path(AGENT_NAMESPACE),
            f"/api/v1/persistentvolumes/{PV_NAME}",
        ):
            _delete_quietly(kube, path)
        seed.reset(kube)
        kube.close()


def _pods_of(kube: KubeClient, namespace: str, component: str) -> list[JSON]:
    return list(
        kube.list_pages(
            f"{_ns_path(namespace)}/pods",
            label_selector=f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component={component}",
        )
    )


def test_the_api_server_admits_every_object_and_pod(installed: Installed) -> None:
    kube = installed.kube
    # Every pod the controllers made got past Pod Security admission: restricted here ...
    assert len(_pods_of(kube, NAMESPACE, "bot")) == 2
    assert len(_pods_of(kube, NAMESPACE, "worker-default")) == 1
    redis = _pods_of(kube, NAMESPACE, "redis")
    assert len(redis) == 1 and redis[0]["status"]["phase"] == "Running"
    claim = kube.get(
        f"{_ns_path(NAMESPACE)}/persistentvolumeclaims/data-{RELEASE}-k8s-chatops-redis-0"
    )
    assert claim["status"]["phase"] == "Bound"
    # ... and privileged in the agent's own namespace: one agent on every node, tainted or not.
    nodes = {n["metadata"]["name"] for n in kube.list_pages("/api/v1/nodes")}
    agents = _pods_of(kube, AGENT_NAMESPACE, "node-agent")
    assert {p["spec"]["nodeName"] for p in agents} == nodes
    labels = kube.get(_ns_path(AGENT_NAMESPACE))["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    # The policy hook ran (kwok completes Job pods) and deleted itself on success.
    with pytest.raises(KubeNotFound):
        kube.get(
            f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs/{RELEASE}-k8s-chatops-policy-validate"
        )
    # Enforcement is live: the agent's pod, put in the release namespace, is refused.
    agent_spec = agents[0]["spec"]
    probe = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "not-here", "namespace": NAMESPACE},
        "spec": {
            "containers": agent_spec["containers"],
            "volumes": agent_spec["volumes"],
            "securityContext": agent_spec["securityContext"],
        },
    }
    with pytest.raises(KubeForbidden) as refused:
        kube.create(probe)
    assert "violates PodSecurity" in refused.value.detail
    assert "restricted:latest" in refused.value.detail


def _token(kube: KubeClient, account: str) -> str:
    answer = kube.request(
        "POST",
        f"{_ns_path(NAMESPACE)}/serviceaccounts/{account}/token",
        body={
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 900},
        },
    )
    return str(answer["status"]["token"])


def _token_kubeconfig(installed: Installed, account: str) -> Path:
    """A kubeconfig for the account, as a worker outside the cluster would be given."""
    state = cluster.load_state()
    assert state is not None
    ca = (cluster.paths().pki / "ca.crt").read_bytes()
    path = installed.work / f"{account}.kubeconfig"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "sandbox",
                "cluster": {
                    "server": state.server,
                    "certificate-authority-data": base64.b64encode(ca).decode(),
                },
            }
        ],
        "users": [{"name": account, "user": {"token": _token(installed.kube, account)}}],
        "contexts": [{"name": "sandbox", "context": {"cluster": "sandbox", "user": account}}],
        "current-context": "sandbox",
    }
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(document))
    return path


def test_the_chart_worker_account_runs_the_commands_through_a_real_worker(
    installed: Installed, worker_env: dict[str, str]
) -> None:
    kube = installed.kube
    hello = pods(kube, "default", "deployment-hellok8s-go-http")
    for index, pod in enumerate(hello):
        give_logs(
            kube,
            installed.work,
            pod,
            {"hellok8s": cri_lines([(30, f"P{index} ERROR db timeout"), (10, f"P{index} GET /")])},
        )
    env = {**worker_env, "KUBECONFIG": str(_token_kubeconfig(installed, WORKER_SA))}
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    try:
        shell = subprocess.run(
            [sys.executable, "-m", "bot.cli", "shell", "--user", "U_ADMIN"],
            input="/k8s get nodes\n"
            "/k8s logs deploy/deployment-hellok8s-go-http -n default -i ERROR\n"
            "/k8s describe node k8s-node1\n"
            "/k8s describe pod stateful-nginx-0 -n default\n"
            "/k8s cordon k8s-node1\n"
            "/k8s drain k8s-node1 --ignore-daemonsets --force --delete-emptydir-data\n",
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    finally:
        worker.terminate()
        _, worker_log = worker.communicate(timeout=15)
    print(
        "get nodes, logs, describe, cordon, drain through the chart's account: "
        f"{time.monotonic() - started:.1f}s"
    )
    out = shell.stdout
    assert shell.returncode == 0, shell.stderr
    assert "k8s-node1" in out and "Ready" in out
    assert "P0 ERROR db timeout" in out and "P1 ERROR db timeout" in out
    assert "GET /" not in out.split("P0 ERROR", 1)[1].split("node/k8s-node1 cordoned")[0]
    assert "Allocated resources:" in out and "Heartbeat: Lease renewed" in out
    assert "Pods: not authorized" not in out
    assert "Controlled By: StatefulSet/stateful-nginx" in out
    assert "node/k8s-node1 cordoned" in out
    assert "node/k8s-node1 drained" in out, out[-2000:]
    for refusal in ("not allowed", "forbidden", "Forbidden", "403"):
        assert refusal not in out, out
    assert "Traceback" not in worker_log
    assert kube.get("/api/v1/nodes/k8s-node1")["spec"].get("unschedulable") is True
    on_node1 = list(
        kube.list_pages("/api/v1/namespaces/default/pods", field_selector="spec.nodeName=k8s-node1")
    )
    assert not [p for p in on_node1 if not p["metadata"].get("deletionTimestamp")]
    kube.patch_merge("/api/v1/nodes/k8s-node1", {"spec": {"unschedulable": None}})


def _review(kube: KubeClient, account: str, **attributes: str) -> bool:
    answer = kube.request(
        "POST",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        body={
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": f"system:serviceaccount:{NAMESPACE}:{account}",
                "groups": [
                    "system:serviceaccounts",
                    f"system:serviceaccounts:{NAMESPACE}",
                    "system:authenticated",
                ],
                "resourceAttributes": attributes,
            },
        },
    )
    return bool(answer["status"].get("allowed"))


def _flatten(rules: list[JSON]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule.get("apiGroups", [""])
        for resource in rule.get("resources", [])
        for verb in rule["verbs"]
    }


def _everyones_rules(kube: KubeClient, namespace: str) -> set[tuple[str, str, str]]:
    """What any service account of the release namespace may do in ``namespace`` without the
    chart: the cluster's bindings to the groups every identity of it is in."""
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    bindings = list(kube.list_pages(f"{rbac}/clusterrolebindings")) + list(
        kube.list_pages(f"{rbac}/namespaces/{namespace}/rolebindings")
    )
    rules: set[tuple[str, str, str]] = set()
    for binding in bindings:
        subjects = binding.get("subjects") or []
        if not any(s["kind"] == "Group" and s["name"] in _EVERYONE for s in subjects):
            continue
        ref = binding["roleRef"]
        path = (
            f"{rbac}/clusterroles/{ref['name']}"
            if ref["kind"] == "ClusterRole"
            else f"{rbac}/namespaces/{namespace}/roles/{ref['name']}"
        )
        rules |= _flatten(kube.get(path).get("rules") or [])
    return rules


def _own_rules(installed: Installed, account: str, namespace: str) -> set[tuple[str, str, str]]:
    """What the account itself is told it may do in ``namespace`` (SelfSubjectRulesReview with
    its own token), less what every identity may do anyway."""
    own = KubeClient.connect(str(_token_kubeconfig(installed, account)))
    try:
        answer = own.request(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            body={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectRulesReview",
                "spec": {"namespace": namespace},
            },
        )
    finally:
        own.close()
    assert answer["status"].get("incomplete") is not True
    everyone = _everyones_rules(installed.kube, namespace)
    assert everyone, "the cluster's default bindings should give everyone something"
    granted = _flatten(answer["status"]["resourceRules"])
    assert everyone <= granted
    return granted - everyone


def test_the_worker_account_can_do_exactly_the_documented_and_no_more(installed: Installed) -> None:
    kube = installed.kube
    documented = documented_rbac()["worker"]
    for namespace in ("default", "kube-system", NAMESPACE):
        assert _own_rules(installed, WORKER_SA, namespace) == documented, namespace
    cannot: list[dict[str, str]] = [
        {"verb": "get", "resource": "secrets", "namespace": "kube-system"},
        {"verb": "list", "resource": "secrets"},
        {"verb": "get", "resource": "secrets", "namespace": NAMESPACE, "name": "k8s-chatops-slack"},
        {"verb": "delete", "resource": "nodes", "name": "k8s-node1"},
        {"verb": "create", "resource": "pods", "subresource": "exec", "namespace": "default"},
        {"verb": "get", "resource": "pods", "subresource": "exec", "namespace": "default"},
        {"verb": "delete", "resource": "pods", "namespace": "default"},
        {"verb": "get", "resource": "nodes", "subresource": "proxy", "name": "k8s-node1"},
        {"verb": "impersonate", "resource": "users", "name": "slack:U_ADMIN"},
        {"verb": "impersonate", "resource": "groups", "name": "system:masters"},
        {"verb": "create", "resource": "clusterrolebindings", "group": "rbac.authorization.k8s.io"},
        {"verb": "patch", "resource": "deployments", "group": "apps", "namespace": "default"},
    ]
    for attributes in cannot:
        assert not _review(kube, WORKER_SA, **attributes), attributes
    # The reviews can say yes: the same account may do what its commands need.
    can = [
        {"verb": "patch", "resource": "nodes", "name": "k8s-node1"},
        {"verb": "create", "resource": "pods", "subresource": "eviction", "namespace": "default"},
        {"verb": "get", "resource": "pods", "subresource": "log", "namespace": "kube-system"},
    ]
    for attributes in can:
        assert _review(kube, WORKER_SA, **attributes), attributes


def test_the_bot_account_can_do_nothing(installed: Installed) -> None:
    for namespace in ("default", NAMESPACE):
        assert _own_rules(installed, BOT_SA, namespace) == set(), namespace
    for verb in ("get", "list", "watch", "create", "update", "patch", "delete"):
        for resource in ("nodes", "pods", "secrets", "configmaps", "events"):
            assert not _review(installed.kube, BOT_SA, verb=verb, resource=resource), (
                verb,
                resource,
            )
            assert not _review(
                installed.kube, BOT_SA, verb=verb, resource=resource, namespace=NAMESPACE
            ), (verb, resource)


def _served_kinds(kube: KubeClient) -> list[tuple[str, bool]]:
    """Every list-able resource the API server serves: (list path, namespaced)."""
    found = []
    groups = ["/api/v1"] + [
        f"/apis/{g['preferredVersion']['groupVersion']}" for g in kube.get("/apis")["groups"]
    ]
    for prefix in groups:
        for resource in kube.get(prefix)["resources"]:
            if "/" in resource["name"] or "list" not in resource["verbs"]:
                continue
            found.append((f"{prefix}/{resource['name']}", bool(resource["namespaced"])))
    return found


def _gone(kube: KubeClient, path: str) -> bool:
    try:
        kube.get(path)
    except KubeNotFound:
        return True
    return False


def _left_behind(kube: KubeClient) -> list[str]:
    """Anything, of any kind, anywhere, that carries the release's label."""
    left = []
    for path, _ in _served_kinds(kube):
        try:
            items = list(
                kube.list_pages(path, label_selector=f"app.kubernetes.io/instance={RELEASE}")
            )
        except KubeError:
            continue
        left += [
            f"{path}/{i['metadata'].get('namespace', '-')}/{i['metadata']['name']}"
            for i in items
            if not i["metadata"].get("deletionTimestamp")
        ]
    return left


def test_uninstall_leaves_only_the_volume_it_was_told_to_keep(installed: Installed) -> None:
    kube = installed.kube
    started = time.monotonic()
    result = installed.helm.run(
        "uninstall",
        RELEASE,
        "-n",
        NAMESPACE,
        "--wait",
        "--timeout",
        "120s",
        kubeconfig=installed.admin_kubeconfig,
    )
    assert result.returncode == 0, result.stderr
    claim = f"{_ns_path(NAMESPACE)}/persistentvolumeclaims/data-{RELEASE}-k8s-chatops-redis-0"

    def only_the_claim() -> list[str]:
        left = _left_behind(kube)
        return (
            left
            if left
            == [f"/api/v1/persistentvolumeclaims/{NAMESPACE}/data-{RELEASE}-k8s-chatops-redis-0"]
            else []
        )

    assert wait_for(only_the_claim, timeout=60)
    # whenDeleted: Retain kept the job history and audit trail; the rest is gone, the agent's
    # namespace and the cluster-wide objects included.
    with pytest.raises(KubeNotFound):
        kube.get(_ns_path(AGENT_NAMESPACE))
    kube.delete(claim)
    print(f"helm uninstall and the sweep: {time.monotonic() - started:.1f}s")


def test_every_power_on_installs_and_uninstalls_to_nothing(installed: Installed) -> None:
    """The other extreme, in the same namespace once the first release is gone: every optional
    grant, impersonation, Socket Mode, an Ingress, a remote cluster, Redis removed with its
    volume on uninstall."""
    kube = installed.kube
    wait_for(lambda: not _left_behind(kube), timeout=60)
    wait_for(lambda: _gone(kube, _ns_path(AGENT_NAMESPACE)), timeout=60)
    result = _install(
        installed,
        "-f",
        str(CI_VALUES / "all-powers-values.yaml"),
        "--set",
        "slack.mode=socket",
        "--set",
        "redis.internal.persistence.whenDeleted=Delete",
        "--set",
        "redis.internal.persistence.enabled=false",
        "--timeout",
        "120s",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    worker = f"{RELEASE}-k8s-chatops-worker-default"
    assert _review(kube, worker, verb="impersonate", resource="users", name="slack:U0ONCALL01")
    assert not _review(kube, worker, verb="impersonate", resource="users", name="slack:U0OTHER")
    assert not _review(kube, worker, verb="impersonate", resource="groups", name="system:masters")
    assert not _review(
        kube, worker, verb="impersonate", resource="users", name="system:kube-controller-manager"
    )
    assert _review(kube, worker, verb="create", resource="secrets", namespace="kube-system")
    assert not _review(kube, worker, verb="get", resource="secrets", namespace="kube-system")
    assert _review(
        kube, worker, verb="get", resource="nodes", subresource="proxy", name="k8s-node1"
    )
    staging = f"{RELEASE}-k8s-chatops-worker-staging"
    assert not _review(kube, staging, verb="list", resource="nodes")
    result = installed.helm.run(
        "uninstall",
        RELEASE,
        "-n",
        NAMESPACE,
        "--wait",
        "--timeout",
        "120s",
        kubeconfig=installed.admin_kubeconfig,
    )
    assert result.returncode == 0, result.stderr
    assert wait_for(lambda: not _left_behind(kube), timeout=60)
    with pytest.raises(KubeNotFound):
        kube.get(
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles/{RELEASE}-k8s-chatops-worker-join-tokens"
        )
