"""The node agent's settings, from the environment (``K8S_CHATOPS_`` prefix, as the other
processes'). The chart sets ``K8S_CHATOPS_NODE_NAME`` from the downward API's
``spec.nodeName``; the Redis passwords (if any) are SecretStr."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from core.redis_target import RedisSettings

_CLUSTER_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
#: A node name is a DNS subdomain (RFC 1123).
_NODE_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"


class NodeAgentSettings(RedisSettings):
    """Redis as every other process finds it (a URL or a Sentinel set: core.redis_target)."""

    model_config = SettingsConfigDict(env_prefix="K8S_CHATOPS_", extra="ignore", frozen=True)

    node_name: str = Field(pattern=_NODE_NAME, max_length=253)
    cluster: str = Field(default="default", pattern=_CLUSTER_NAME, max_length=63)
    runtime_endpoint: str = Field(
        default="unix:///run/containerd/containerd.sock", pattern=r"^unix://(/|@)."
    )
    #: The host's pod log directory, mounted read-only (``runtime logs``).
    pod_log_dir: Path = Path("/var/log/pods")
    #: Where the image filesystem is visible to the agent, for its capacity (optional).
    image_fs_path: Path | None = None
    #: After a prune or rmi removed images, how long to wait for the runtime's next measure
    #: of its image filesystem (containerd's is every 10 s), for the result's "before →
    #: after"; 0: no wait (the result then leaves "after" out unless already measured).
    image_fs_resample_seconds: float = Field(default=12.0, ge=0, le=120)
    redact_patterns_file: Path | None = None
    #: Seconds the runtime may stay unreachable before the agent exits non-zero, so the
    #: kubelet starts it again with a fresh mount of the runtime's socket; 0: never.
    runtime_give_up_seconds: float = Field(default=60.0, ge=0, le=86_400)
    #: The ``/healthz`` port for the kubelet's liveness probe (nodeagent.health); 0: none.
    health_port: int = Field(default=0, ge=0, le=65_535)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
