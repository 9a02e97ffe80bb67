"""The chart, rendered by the pinned helm for each main value combination (the files in
``helm/k8s-chatops/ci/``): ``helm lint --strict``, what is and is not rendered, and the RBAC
exactly as docs/deploy.md documents it. The API server's own verdict on the same objects is
``test_chart_install.py``."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from chart_helpers import (
    CI_VALUES,
    Helm,
    Obj,
    documented_rbac,
    find,
    make_helm,
    objects,
    one,
    pod_specs,
    rules_of,
)

COMBINATIONS = sorted(p.name.removesuffix("-values.yaml") for p in CI_VALUES.glob("*-values.yaml"))
GRANTS = {
    "worker",
    "worker-node-logs",
    "worker-delete-pods",
    "worker-rollouts",
    "worker-impersonate",
    "worker-join-tokens",
}


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return make_helm(tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="module")
def rendered(helm: Helm) -> dict[str, list[Obj]]:
    out = {}
    for name in COMBINATIONS:
        result = helm.template(name)
        assert result.returncode == 0, result.stderr
        out[name] = objects(result.stdout)
    return out


def test_the_combinations_are_the_documented_ones() -> None:
    assert COMBINATIONS == [
        "agent",
        "all-powers",
        "default",
        "external-redis",
        "impersonation",
        "sentinel",
        "socket",
    ]


def test_lint_is_clean_for_every_combination(helm: Helm) -> None:
    args = ["lint", "--strict", str(CI_VALUES.parent)]
    for name in COMBINATIONS:
        result = helm.run(*args, "-f", str(CI_VALUES / f"{name}-values.yaml"))
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
        assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout


def _kinds(objs: list[Obj]) -> list[str]:
    return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objs)


def test_the_default_install_renders_exactly_this(rendered: dict[str, list[Obj]]) -> None:
    assert _kinds(rendered["default"]) == [
        "ClusterRole/rel-k8s-chatops-worker",
        "ClusterRoleBinding/rel-k8s-chatops-worker",
        "ConfigMap/rel-k8s-chatops-policy",
        "ConfigMap/rel-k8s-chatops-policy-validate",
        "ConfigMap/rel-k8s-chatops-redis",
        "Deployment/rel-k8s-chatops-bot",
        "Deployment/rel-k8s-chatops-worker-default",
        "Job/rel-k8s-chatops-policy-validate",
        "NetworkPolicy/rel-k8s-chatops-redis",
        "PodDisruptionBudget/rel-k8s-chatops-bot",
        "Secret/rel-k8s-chatops-redis-auth",
        "Service/rel-k8s-chatops-bot",
        "Service/rel-k8s-chatops-redis",
        "ServiceAccount/rel-k8s-chatops-bot",
        "ServiceAccount/rel-k8s-chatops-redis",
        "ServiceAccount/rel-k8s-chatops-worker-default",
        "StatefulSet/rel-k8s-chatops-redis",
    ]
    objs = rendered["default"]
    bot = one(objs, "Deployment", "-bot")
    assert bot["spec"]["replicas"] == 2
    container = bot["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][:2] == ["bot", "--http"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert one(objs, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    redis = one(objs, "StatefulSet", "-redis")
    assert "appendonly yes" in one(objs, "ConfigMap", "-redis")["data"]["redis.conf"]
    assert redis["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"] == {
        "storage": "1Gi"
    }
    assert redis["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"
    # Nothing of the watcher: it is not part of this version.
    assert not [o for o in objs if "watch" in o["metadata"]["name"]]


def _env(container: Obj) -> dict[str, Obj]:
    return {e["name"]: e for e in container.get("env", [])}


def test_no_credential_is_ever_rendered(rendered: dict[str, list[Obj]]) -> None:
    for name, objs in rendered.items():
        text = json.dumps(objs)
        for marker in ("xoxb-", "xoxp-", "xapp-", "xoxa-"):
            assert marker not in text, name
        # The only Secret the chart writes is the generated Redis password.
        assert [o["metadata"]["name"] for o in find(objs, "Secret")] in (
            [],
            ["rel-k8s-chatops-redis-auth"],
            ["rel-k8s-chatops-redis-auth", "rel-k8s-chatops-redis-auth"],  # + agent namespace
        ), name
        for where, spec in pod_specs(objs).items():
            for container in spec["containers"]:
                for variable, entry in _env(container).items():
                    if variable.startswith("SLACK_") and variable != "SLACK_TEAM_ID":
                        ref = entry["valueFrom"]["secretKeyRef"]
                        assert ref["name"] == "k8s-chatops-slack", (name, where)
                    if variable in (
                        "REDIS_PASSWORD",
                        "K8S_CHATOPS_REDIS_PASSWORD",
                        "K8S_CHATOPS_REDIS_SENTINEL_PASSWORD",
                    ):
                        assert "secretKeyRef" in entry["valueFrom"], (name, where)
                    if variable == "K8S_CHATOPS_REDIS_URL" and "value" in entry:
                        # A password only by reference, or none (sentinel: db and TLS only).
                        url = entry["value"]
                        assert "$(REDIS_PASSWORD)" in url or "@" not in url, (name, where)
        for config in find(objs, "ConfigMap"):
            assert "password" not in json.dumps(config.get("data", {})).lower(), name


def test_every_pod_but_the_agent_meets_restricted(rendered: dict[str, list[Obj]]) -> None:
    for name, objs in rendered.items():
        for where, spec in pod_specs(objs).items():
            if "node-agent" in where:
                continue
            pod = spec["securityContext"]
            assert pod["runAsNonRoot"] is True, (name, where)
            assert pod["runAsUser"] != 0, (name, where)
            assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, (name, where)
            assert not spec.get("hostNetwork") and not spec.get("hostPID"), (name, where)
            assert not [v for v in spec.get("volumes", []) if "hostPath" in v], (name, where)
            for container in spec["containers"]:
                context = container["securityContext"]
                assert context["allowPrivilegeEscalation"] is False, (name, where)
                assert context["readOnlyRootFilesystem"] is True, (name, where)
                assert context["capabilities"] == {"drop": ["ALL"]}, (name, where)


def test_socket_mode_has_no_service_and_no_signing_secret(rendered: dict[str, list[Obj]]) -> None:
    objs = rendered["socket"]
    assert not find(objs, "Service", "-bot") and not find(objs, "Ingress")
    container = one(objs, "Deployment", "-bot")["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["bot", "--socket"]
    env = _env(container)
    assert env["SLACK_APP_TOKEN"]["valueFrom"]["secretKeyRef"]["key"] == "SLACK_APP_TOKEN"
    assert "SLACK_SIGNING_SECRET" not in env
    assert "readinessProbe" not in container  # no HTTP server in Socket Mode (a gap)


def test_external_redis_comes_from_a_secret(rendered: dict[str, list[Obj]]) -> None:
    objs = rendered["external-redis"]
    assert not find(objs, "StatefulSet") and not find(objs, "Secret")
    assert not find(objs, "NetworkPolicy")
    for where, spec in pod_specs(objs).items():
        for container in spec["containers"]:
            env = _env(container)
            if "K8S_CHATOPS_REDIS_URL" not in env:
                assert where.startswith("Job/"), where  # the policy check needs no Redis
                continue
            assert env["K8S_CHATOPS_REDIS_URL"]["valueFrom"]["secretKeyRef"] == {
                "name": "k8s-chatops-redis-url",
                "key": "url",
            }


SENTINEL_SECRET = "k8s-chatops-redis-sentinel"


def test_sentinel_redis_reaches_every_process(rendered: dict[str, list[Obj]]) -> None:
    """Bot, worker and node agent get the sentinels, the master's name and the passwords by
    reference; what they get is what the processes' own settings accept (loaded here with
    the rendered values)."""
    from bot.settings import ChatSettings  # noqa: PLC0415
    from nodeagent.settings import NodeAgentSettings  # noqa: PLC0415

    objs = rendered["sentinel"]
    assert not find(objs, "StatefulSet") and not find(objs, "Secret")
    assert not find(objs, "NetworkPolicy", "-redis")
    served = []
    for where, spec in pod_specs(objs).items():
        for container in spec["containers"]:
            env = _env(container)
            if "K8S_CHATOPS_REDIS_URL" not in env:
                assert where.startswith("Job/"), where  # the policy check needs no Redis
                continue
            served.append(where.split("/")[0])
            assert "REDIS_PASSWORD" not in env  # no URL composed with a password
            plain = {
                name: entry["value"]
                for name, entry in env.items()
                if name.startswith("K8S_CHATOPS_REDIS_") and "value" in entry
            }
            assert plain["K8S_CHATOPS_REDIS_SENTINEL_MASTER"] == "chatops"
            assert plain["K8S_CHATOPS_REDIS_URL"] == "redis://sentinel-managed/2"
            refs = {
                name: env[name]["valueFrom"]["secretKeyRef"]
                for name in ("K8S_CHATOPS_REDIS_PASSWORD", "K8S_CHATOPS_REDIS_SENTINEL_PASSWORD")
            }
            assert refs == {
                "K8S_CHATOPS_REDIS_PASSWORD": {"name": SENTINEL_SECRET, "key": "password"},
                "K8S_CHATOPS_REDIS_SENTINEL_PASSWORD": {
                    "name": SENTINEL_SECRET,
                    "key": "sentinel-password",
                },
            }, where
            settings_class = NodeAgentSettings if where.startswith("DaemonSet/") else ChatSettings
            fields = {name.removeprefix("K8S_CHATOPS_").lower(): v for name, v in plain.items()}
            target = settings_class(
                **fields,
                redis_password="from-the-secret",
                policy_file="/dev/null",
                node_name="node-1",
            ).redis_target()
            assert target.sentinels == (
                ("redis-sentinel-0.redis-sentinel.data.svc", 26379),
                ("redis-sentinel-1.redis-sentinel.data.svc", 26379),
                ("fd00::12", 26379),
            )
            assert target.master == "chatops" and target.password == "from-the-secret"
    assert sorted(set(served)) == ["DaemonSet", "Deployment"]
    assert len([kind for kind in served if kind == "Deployment"]) == 2  # the bot and the worker


def test_the_node_agent_takes_the_socket_the_logs_and_nothing_else(
    rendered: dict[str, list[Obj]],
) -> None:
    objs = rendered["agent"]
    namespace = one(objs, "Namespace")
    assert namespace["metadata"]["name"] == "k8s-chatops-node-agent"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    daemonset = one(objs, "DaemonSet")
    assert daemonset["metadata"]["namespace"] == "k8s-chatops-node-agent"
    spec = daemonset["spec"]["template"]["spec"]
    host = {v["name"]: v["hostPath"] for v in spec["volumes"] if "hostPath" in v}
    assert host == {
        # The socket's directory: a restarted containerd makes a new socket file there.
        "runtime-socket": {"path": "/run/containerd", "type": "Directory"},
        "pod-logs": {"path": "/var/log/pods", "type": "Directory"},
        "image-fs": {"path": "/var/lib/containerd", "type": "Directory"},
    }
    container = spec["containers"][0]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert all(mounts[name]["readOnly"] is True for name in host)
    assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
    assert spec["automountServiceAccountToken"] is False
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert spec["priorityClassName"] == one(objs, "PriorityClass")["metadata"]["name"]
    context = container["securityContext"]
    assert context["privileged"] is False and context["capabilities"] == {"drop": ["ALL"]}
    assert context["allowPrivilegeEscalation"] is False
    env = _env(container)
    assert env["K8S_CHATOPS_NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert env["K8S_CHATOPS_RUNTIME_ENDPOINT"]["value"] == "unix:///host/runtime/containerd.sock"
    assert mounts["runtime-socket"]["mountPath"] == "/host/runtime"
    assert env["K8S_CHATOPS_CLUSTER"]["value"] == "default"
    # Liveness: the agent's /healthz; the port is for the kubelet only (no Service, and the
    # agents' namespace denies all ingress; probes from the node itself always pass).
    assert env["K8S_CHATOPS_HEALTH_PORT"]["value"] == "8086"
    assert env["K8S_CHATOPS_RUNTIME_GIVE_UP_SECONDS"]["value"] == "60"
    probe = container["livenessProbe"]["httpGet"]
    assert (probe["path"], probe["port"]) == ("/healthz", "health")
    assert container["ports"] == [{"name": "health", "containerPort": 8086, "protocol": "TCP"}]
    assert not [
        s
        for s in find(objs, "Service")
        if s["metadata"].get("namespace") == "k8s-chatops-node-agent"
    ]
    deny = one(objs, "NetworkPolicy", "-node-agent")
    assert deny["metadata"]["namespace"] == "k8s-chatops-node-agent"
    assert deny["spec"]["policyTypes"] == ["Ingress"] and deny["spec"].get("ingress", []) == []
    assert container["args"] == ["node-agent"]
    assert not [e for e in env if e.startswith("SLACK_") or e == "KUBECONFIG"]
    # Redis lets the agents in from their namespace.
    peers = one(objs, "NetworkPolicy", "-redis")["spec"]["ingress"][0]["from"]
    assert {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": "k8s-chatops-node-agent"}
        },
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/instance": "rel",
                "app.kubernetes.io/component": "node-agent",
            }
        },
    } in peers
    # Both copies of the generated password agree (one render, one password).
    secrets = find(objs, "Secret")
    assert len({s["data"]["password"] for s in secrets}) == 1 and len(secrets) == 2


def _grants(objs: list[Obj]) -> dict[str, set[tuple[str, str, str]]]:
    roles = find(objs, "ClusterRole") + find(objs, "Role")
    return {
        r["metadata"]["name"].removeprefix("rel-k8s-chatops-"): {
            (g, res, v) for g, res, v, _ in rules_of(r)
        }
        for r in roles
    }


def test_rbac_is_exactly_the_documented_table(rendered: dict[str, list[Obj]]) -> None:
    documented = documented_rbac()
    assert set(documented) == GRANTS
    # By default: the base grant only, and nothing for the bot, Redis or the agent.
    assert _grants(rendered["default"]) == {"worker": documented["worker"]}
    everything = _grants(rendered["all-powers"])
    groups = documented["worker-impersonate"] - {("", "groups", "impersonate")}
    assert everything == {**documented, "worker-impersonate": groups}
    assert _grants(rendered["impersonation"]) == {
        "worker": documented["worker"],
        "worker-impersonate": documented["worker-impersonate"],
    }
    for name, objs in rendered.items():
        for binding in find(objs, "ClusterRoleBinding") + find(objs, "RoleBinding"):
            subjects = {s["name"] for s in binding["subjects"]}
            assert subjects == {"rel-k8s-chatops-worker-default"}, (name, subjects)
        flat = set().union(*_grants(objs).values())
        assert not [rule for rule in flat if "*" in rule], name
        assert ("", "secrets", "get") not in flat and ("", "secrets", "list") not in flat
        assert not [rule for rule in flat if rule[1] == "pods/exec"]
        assert ("", "nodes", "delete") not in flat


def test_impersonation_is_limited_to_the_listed_people(
    rendered: dict[str, list[Obj]], helm: Helm
) -> None:
    role = one(rendered["impersonation"], "ClusterRole", "-worker-impersonate")
    assert {(res, name) for _, res, _, name in rules_of(role)} == {
        ("users", "slack:U0ONCALL01"),
        ("users", "slack:U0ONCALL02"),
        ("groups", "k8s-chatops:operator"),
        ("groups", "k8s-chatops:admin"),
    }
    env = _env(
        one(rendered["impersonation"], "Deployment", "-worker-default")["spec"]["template"]["spec"][
            "containers"
        ][0]
    )
    assert env["K8S_CHATOPS_IMPERSONATE"]["value"] == "user-and-roles"
    refused = helm.template("default", sets=("worker.impersonate=user",))
    assert refused.returncode != 0
    assert "worker.impersonateUsers must list" in refused.stderr


def test_a_remote_cluster_worker_gets_a_kubeconfig_and_no_token(
    rendered: dict[str, list[Obj]],
) -> None:
    objs = rendered["all-powers"]
    staging = one(objs, "Deployment", "-worker-staging")["spec"]["template"]["spec"]
    assert staging["automountServiceAccountToken"] is False
    assert _env(staging["containers"][0])["KUBECONFIG"]["value"].endswith("/kubeconfig")
    assert {
        "name": "kubeconfig",
        "secret": {
            "secretName": "staging-kubeconfig",
            "items": [{"key": "kubeconfig", "path": "kubeconfig"}],
        },
    } in staging["volumes"]
    local = one(objs, "Deployment", "-worker-default")["spec"]["template"]["spec"]
    assert local["automountServiceAccountToken"] is True
    ingress = one(objs, "Ingress")
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["pathType"]) for p in paths] == [("/slack/events", "Exact")]
    assert one(objs, "Role")["metadata"]["namespace"] == "kube-system"


@pytest.mark.parametrize(
    ("sets", "says"),
    [
        (("watch.enabled=true",), "/watch/enabled"),
        (("slack.mode=webhook",), "/slack/mode"),
        (("worker.impersonate=everyone",), "/worker/impersonate"),
        (("workers[0].cluster=Prod",), "/workers/0/cluster"),
        (("redis.internal.persistence.whenDeleted=Maybe",), "whenDeleted"),
        (("bot.replicas=two",), "/bot/replicas"),
        (("redis.mode=sentinel", "redis.sentinel.hosts[0]=s1"), "/redis/sentinel/hosts/0"),
        (("redis.sentinel.hosts[0]=s1:26379;x",), "/redis/sentinel/hosts/0"),
        (("redis.sentinel.db=16",), "/redis/sentinel/db"),
        (("redis.sentinel.masterName=a b",), "/redis/sentinel/masterName"),
        (("unknownValue=1",), "unknownValue"),
    ],
)
def test_the_schema_refuses_bad_values(helm: Helm, sets: tuple[str, ...], says: str) -> None:
    result = helm.template("default", sets=sets)
    assert result.returncode != 0
    assert "schema" in result.stderr and says in result.stderr, result.stderr


def test_what_the_schema_cannot_say_fails_with_a_sentence(helm: Helm) -> None:
    missing = helm.run("template", "rel", str(CI_VALUES.parent))
    assert missing.returncode != 0 and "slack.existingSecret is required" in missing.stderr
    twice = helm.template(
        "default", json_sets=('workers=[{"cluster": "default"}, {"cluster": "default"}]',)
    )
    assert twice.returncode != 0 and "listed twice" in twice.stderr
    external = helm.template("default", sets=("redis.mode=external",))
    assert external.returncode != 0 and "redis.external.existingSecret" in external.stderr
    no_hosts = helm.template("default", sets=("redis.mode=sentinel",))
    assert no_hosts.returncode != 0 and "redis.sentinel.hosts is required" in no_hosts.stderr
    no_master = helm.template(
        "default", sets=("redis.mode=sentinel", "redis.sentinel.hosts[0]=s1:26379")
    )
    assert no_master.returncode != 0
    assert "redis.sentinel.masterName is required" in no_master.stderr


def _agent_redis_ref(objs: list[Obj]) -> dict[str, str]:
    container = one(objs, "DaemonSet")["spec"]["template"]["spec"]["containers"][0]
    env = _env(container)
    name = "REDIS_PASSWORD" if "REDIS_PASSWORD" in env else "K8S_CHATOPS_REDIS_URL"
    ref: dict[str, str] = env[name]["valueFrom"]["secretKeyRef"]
    return ref


def test_agents_with_a_redis_secret_the_chart_did_not_make_are_told_where_it_must_be(
    helm: Helm,
) -> None:
    """A pod reads Secrets of its own namespace only: with the operator's own Redis Secret
    (internal password or external URL), the agents cannot use the release namespace's. The
    render says so instead of leaving the pods in CreateContainerConfigError."""
    internal = ("redis.internal.auth.existingSecret=my-redis",)
    external = ("redis.mode=external", "redis.external.existingSecret=my-redis-url")
    sentinel = (
        "redis.mode=sentinel",
        "redis.sentinel.hosts[0]=s1:26379",
        "redis.sentinel.masterName=m",
        "redis.sentinel.existingSecret=my-redis-pass",
    )
    for sets in (internal, external, sentinel):
        refused = helm.template("agent", sets=sets)
        assert refused.returncode != 0, sets
        assert "nodeAgent.redisSecret" in refused.stderr
        assert "k8s-chatops-node-agent" in refused.stderr  # the namespace it must be in
        [said] = [line for line in refused.stderr.splitlines() if "redisSecret" in line]
        assert said.startswith("Error: execution error") and "key " in said

    objs = objects(
        helm.template("agent", sets=(*internal, "nodeAgent.redisSecret=agent-redis")).stdout
    )
    assert _agent_redis_ref(objs) == {"name": "agent-redis", "key": "password"}
    assert not [
        s for s in find(objs, "Secret") if s["metadata"]["namespace"] == "k8s-chatops-node-agent"
    ]  # the operator keeps it; the chart copies no password of theirs
    bot = _env(one(objs, "Deployment", "-bot")["spec"]["template"]["spec"]["containers"][0])
    assert bot["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "my-redis"

    # Sentinels and a master without a password: nothing to copy, nothing refused.
    open_set = helm.template("agent", sets=sentinel[:3])
    assert open_set.returncode == 0, open_set.stderr
    agent_env = _env(
        one(objects(open_set.stdout), "DaemonSet")["spec"]["template"]["spec"]["containers"][0]
    )
    assert agent_env["K8S_CHATOPS_REDIS_SENTINELS"]["value"] == "s1:26379"
    assert "K8S_CHATOPS_REDIS_PASSWORD" not in agent_env

    result = helm.template("agent", sets=(*external, "nodeAgent.redisSecret=agent-redis-url"))
    assert result.returncode == 0, result.stderr
    assert _agent_redis_ref(objects(result.stdout)) == {"name": "agent-redis-url", "key": "url"}


def test_agents_use_the_password_copy_the_chart_makes(rendered: dict[str, list[Obj]]) -> None:
    objs = rendered["agent"]
    ref = _agent_redis_ref(objs)
    copied = [
        s for s in find(objs, "Secret") if s["metadata"]["namespace"] == "k8s-chatops-node-agent"
    ]
    assert [s["metadata"]["name"] for s in copied] == [ref["name"]]


def _validate(policy_text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "policy.yaml"
    path.write_text(policy_text)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "policy", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_hook_runs_the_real_validator_on_the_rendered_policy(
    rendered: dict[str, list[Obj]], helm: Helm, tmp_path: Path
) -> None:
    objs = rendered["default"]
    job = one(objs, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["policy", "validate", "/etc/k8s-chatops/policy/policy.yaml"]
    hook_policy = one(objs, "ConfigMap", "-policy-validate")["data"]["policy.yaml"]
    assert hook_policy == one(objs, "ConfigMap", "-policy")["data"]["policy.yaml"]
    # The command the Job runs, run here on the file it would read: the default passes ...
    assert _validate(hook_policy, tmp_path).returncode == 0
    # ... and a policy with a mistake renders, but the hook would stop the release.
    broken = helm.template(
        "default", sets=("policy.content=version: 1\nroles: {x: {verbs: [fly]}}",)
    )
    assert broken.returncode == 0, broken.stderr
    text = one(objs := objects(broken.stdout), "ConfigMap", "-policy-validate")["data"]
    checked = _validate(text["policy.yaml"], tmp_path)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "fly" in checked.stdout + checked.stderr
    assert one(objs, "Job")  # still rendered: the check happens in the cluster


def test_an_existing_policy_configmap_is_used_as_it_is(helm: Helm) -> None:
    result = helm.template("default", sets=("policy.existingConfigMap=team-policy",))
    assert result.returncode == 0, result.stderr
    objs = objects(result.stdout)
    assert not find(objs, "ConfigMap", "-policy") and not find(objs, "ConfigMap", "-validate")
    for spec in (
        one(objs, "Deployment", "-bot")["spec"]["template"]["spec"],
        one(objs, "Job")["spec"]["template"]["spec"],
    ):
        assert {"name": "policy", "configMap": {"name": "team-policy"}} in spec["volumes"]


def test_the_chart_ships_the_projects_version() -> None:
    chart = yaml.safe_load((CI_VALUES.parent / "Chart.yaml").read_text())
    project = tomllib.loads((CI_VALUES.parents[2] / "pyproject.toml").read_text())
    assert chart["appVersion"] == project["project"]["version"]
