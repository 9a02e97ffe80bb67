"""The command line of each sandbox component.

One table, so ``up`` and a restart of a single component (``sandbox restart kube-apiserver``)
start exactly the same process: same ports, certificates and etcd data.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sandbox import versions

if TYPE_CHECKING:
    from sandbox.cluster import Paths, SandboxState

SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"


def component_argv(p: Paths, state: SandboxState) -> dict[str, list[str]]:
    """Each component's command line, from the run's paths and ports."""
    bins = versions.bin_dir()
    port = state.ports
    ca, sa_key = p.pki / "ca.crt", p.pki / "service-account.key"
    etcd_url = f"http://127.0.0.1:{port['etcd']}"
    peer_url = f"http://127.0.0.1:{port['etcd-peer']}"
    stages = Path(__file__).resolve().parent / "stages"

    def secure_component(name: str, cert: str) -> list[str]:
        kubeconfig = str(p.kubeconfig(name))
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={port[name]}",
            f"--tls-cert-file={p.pki / (cert + '.crt')}",
            f"--tls-private-key-file={p.pki / (cert + '.key')}",
            "--leader-elect=false",
        ]

    return {
        "etcd": [
            str(bins / "etcd"),
            "--name=sandbox",
            f"--data-dir={p.etcd_data}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=sandbox={peer_url}",
            "--unsafe-no-fsync=true",
            "--quota-backend-bytes=8589934592",
            "--log-level=warn",
        ],
        "kube-apiserver": [
            str(bins / "kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port['kube-apiserver']}",
            f"--tls-cert-file={p.pki / 'apiserver.crt'}",
            f"--tls-private-key-file={p.pki / 'apiserver.key'}",
            f"--client-ca-file={ca}",
            f"--kubelet-client-certificate={p.pki / 'kubelet-client.crt'}",
            f"--kubelet-client-key={p.pki / 'kubelet-client.key'}",
            "--kubelet-preferred-address-types=InternalIP",
            f"--service-account-key-file={sa_key}",
            f"--service-account-signing-key-file={sa_key}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            # On by default; named so the chart's install test (restricted namespaces, the
            # node agent's privileged one) never silently loses it.
            "--enable-admission-plugins=PodSecurity",
            "--allow-privileged=true",
            # Loopback may not be published as the kubernetes Service endpoint.
            "--endpoint-reconciler-type=none",
            "--profiling=false",
            "--v=1",
        ],
        "kube-controller-manager": [
            str(bins / "kube-controller-manager"),
            *secure_component("kube-controller-manager", "controller-manager"),
            f"--root-ca-file={ca}",
            f"--service-account-private-key-file={sa_key}",
            "--use-service-account-credentials=true",
            f"--cluster-signing-cert-file={ca}",
            f"--cluster-signing-key-file={p.pki / 'ca.key'}",
            "--cluster-name=sandbox",
            "--node-monitor-period=5s",
            "--node-monitor-grace-period=40s",
            "--profiling=false",
            "--v=1",
        ],
        "kube-scheduler": [
            str(bins / "kube-scheduler"),
            *secure_component("kube-scheduler", "scheduler"),
            "--profiling=false",
            "--v=1",
        ],
        "kwok": [
            str(bins / "kwok"),
            f"--kubeconfig={p.kubeconfig('kwok')}",
            f"--config={stages / 'kwok.yaml'}",
            f"--config={stages / 'node-health.yaml'}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-ip=127.0.0.1",
            f"--node-port={port['kwok']}",
            f"--server-address=127.0.0.1:{port['kwok']}",
            f"--tls-cert-file={p.pki / 'kwok-serving.crt'}",
            f"--tls-private-key-file={p.pki / 'kwok-serving.key'}",
            f"--cidr={POD_CIDR}",
            "--node-lease-duration-seconds=40",
            "--enable-crds=Logs,ClusterLogs",
        ],
    }
