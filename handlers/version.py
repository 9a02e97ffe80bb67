"""``version``: the API server's version, as ``kubectl version`` shows it."""

from __future__ import annotations

from typing import Literal

from handlers.base import RequestBase, ResultBase
from handlers.control import Control
from handlers.kube import KubeClient
from handlers.retry import retrying


class GetVersion(RequestBase):
    kind: Literal["version"] = "version"

    @property
    def verb(self) -> str:
        return "get"

    @property
    def target(self) -> str:
        return "version"

    def command_text(self) -> str:
        return "version"


class ServerVersion(ResultBase):
    kind: Literal["server_version"] = "server_version"
    git_version: str
    platform: str


def get_version(request: GetVersion, kube: KubeClient, control: Control) -> ServerVersion:
    kube = retrying(kube, control, verb=request.verb)
    info = kube.get("/version")
    return ServerVersion(
        git_version=str(info.get("gitVersion", "")), platform=str(info.get("platform", ""))
    )
