"""Running the pinned helm on the chart, and reading what it renders and what docs/deploy.md
says it grants."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sandbox import build

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "helm" / "k8s-chatops"
CI_VALUES = CHART / "ci"
DEPLOY_DOC = REPO / "docs" / "deploy.md"

Obj = dict[str, Any]


@dataclass(frozen=True)
class Helm:
    """helm with private HELM_*_HOME directories: nothing read from or written to ~/.config."""

    binary: Path
    home: Path

    def env(self, kubeconfig: Path | None = None) -> dict[str, str]:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }
        if kubeconfig is not None:
            env["KUBECONFIG"] = str(kubeconfig)
        return env

    def run(
        self, *args: str, kubeconfig: Path | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args],
            env=self.env(kubeconfig),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def template(
        self,
        *values: str,
        sets: tuple[str, ...] = (),
        json_sets: tuple[str, ...] = (),
        namespace: str = "chatops",
    ) -> subprocess.CompletedProcess[str]:
        args = ["template", "rel", str(CHART), "--namespace", namespace]
        for name in values:
            args += ["-f", str(CI_VALUES / f"{name}-values.yaml")]
        for assignment in sets:
            args += ["--set", assignment]
        for assignment in json_sets:
            args += ["--set-json", assignment]
        return self.run(*args)


def make_helm(home: Path) -> Helm:
    return Helm(build.build_helm(), home)


def objects(rendered: str) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def find(objs: list[Obj], kind: str, name_suffix: str = "") -> list[Obj]:
    return [o for o in objs if o["kind"] == kind and o["metadata"]["name"].endswith(name_suffix)]


def one(objs: list[Obj], kind: str, name_suffix: str = "") -> Obj:
    found = find(objs, kind, name_suffix)
    assert len(found) == 1, f"{kind} *{name_suffix}: {[o['metadata']['name'] for o in found]}"
    return found[0]


def pod_specs(objs: list[Obj]) -> dict[str, Obj]:
    """Every pod template, by '<kind>/<name>'."""
    return {
        f"{o['kind']}/{o['metadata']['name']}": o["spec"]["template"]["spec"]
        for o in objs
        if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")
    }


def rules_of(role: Obj) -> set[tuple[str, str, str, str]]:
    """A Role's rules, flattened to (group, resource, verb, resourceName or '')."""
    flat = set()
    for rule in role["rules"]:
        for group in rule.get("apiGroups", [""]):
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    for name in rule.get("resourceNames") or [""]:
                        flat.add((group, resource, verb, name))
    return flat


_ROW = re.compile(
    r"^\|\s*`(?P<grant>[a-z-]+)`\s*\|\s*`(?P<group>[^`]*)`\s*\|\s*`(?P<resource>[^`]+)`\s*\|(?P<verbs>[^|]+)\|"
)


def documented_rbac() -> dict[str, set[tuple[str, str, str]]]:
    """docs/deploy.md's RBAC table: grant -> {(group, resource, verb)}."""
    text = DEPLOY_DOC.read_text()
    table = text.split("<!-- rbac:start -->", 1)[1].split("<!-- rbac:end -->", 1)[0]
    grants: dict[str, set[tuple[str, str, str]]] = {}
    for line in table.splitlines():
        row = _ROW.match(line)
        if not row:
            continue
        verbs = re.findall(r"`([a-z]+)`", row["verbs"])
        assert verbs, line
        for verb in verbs:
            group = "" if row["group"] == '""' else row["group"]  # the core group
            grants.setdefault(row["grant"], set()).add((group, row["resource"], verb))
    return grants
