"""The one place that talks to the ``kubernetes`` client library.

Everything else in the project sees plain JSON dicts and the error classes below. Requests go
through ``ApiClient.call_api`` with ``_preload_content=False`` and are decoded with ``json``:
the client's model deserialisation is an order of magnitude slower, which matters on lists of
thousands of nodes, and dicts are what the handlers turn into their own typed models anyway.

Server error bodies are cut short before they reach a message or a log line: they can echo
request content, and nothing the API server says should carry a secret into Slack.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3 import HTTPHeaderDict

from core import messages
from core.errors import ChatOpsError, ConfigurationError
from handlers.lines import MAX_LINE_BYTES, split_lines

JSON = dict[str, Any]
_BODY_LIMIT = 300
DEFAULT_TIMEOUT = (3.05, 30.0)
#: Query parameters: a mapping, or pairs when a name repeats (``?query=a&query=b``).
Query = Mapping[str, str | int | bool] | Sequence[tuple[str, str | int | bool]]


class KubeError(ChatOpsError):
    """The Kubernetes API refused or failed a request."""

    def __init__(
        self, user_message: str, *, status: int = 0, reason: str = "", detail: str = ""
    ) -> None:
        super().__init__(user_message)
        self.status = status
        self.reason = reason
        #: The server's own ``Status.message`` (cut short), as kubectl would print it.
        self.detail = detail or user_message


class KubeNotFound(KubeError):
    """404: the object does not exist."""


class KubeForbidden(KubeError):
    """401/403: the worker's credentials may not do this."""


class KubeConflict(KubeError):
    """409: the object changed underneath us, or already exists."""


class KubeInvalid(KubeError):
    """400/422: the request was malformed or rejected by validation."""


class KubeTooManyRequests(KubeError):
    """429: throttled, or an eviction refused by a PodDisruptionBudget."""


class KubeUnavailable(KubeError):
    """The API server could not be reached or answered 5xx."""


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the REST API."""

    group_version: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        prefix = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        parts = [prefix]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
        return "/".join(parts)


RESOURCES: Mapping[str, Resource] = {
    "Namespace": Resource("v1", "namespaces", namespaced=False),
    "Node": Resource("v1", "nodes", namespaced=False),
    "Pod": Resource("v1", "pods", namespaced=True),
    "Service": Resource("v1", "services", namespaced=True),
    "ServiceAccount": Resource("v1", "serviceaccounts", namespaced=True),
    "ConfigMap": Resource("v1", "configmaps", namespaced=True),
    "Deployment": Resource("apps/v1", "deployments", namespaced=True),
    "ReplicaSet": Resource("apps/v1", "replicasets", namespaced=True),
    "StatefulSet": Resource("apps/v1", "statefulsets", namespaced=True),
    "DaemonSet": Resource("apps/v1", "daemonsets", namespaced=True),
    "Job": Resource("batch/v1", "jobs", namespaced=True),
    "PodDisruptionBudget": Resource("policy/v1", "poddisruptionbudgets", namespaced=True),
    "Lease": Resource("coordination.k8s.io/v1", "leases", namespaced=True),
    "CustomResourceDefinition": Resource(
        "apiextensions.k8s.io/v1", "customresourcedefinitions", namespaced=False
    ),
    "ClusterRole": Resource("rbac.authorization.k8s.io/v1", "clusterroles", namespaced=False),
    "ClusterRoleBinding": Resource(
        "rbac.authorization.k8s.io/v1", "clusterrolebindings", namespaced=False
    ),
    "Logs": Resource("kwok.x-k8s.io/v1alpha1", "logs", namespaced=True),
    "ClusterLogs": Resource("kwok.x-k8s.io/v1alpha1", "clusterlogs", namespaced=False),
}


def resource_for(kind: str) -> Resource:
    try:
        return RESOURCES[kind]
    except KeyError:
        raise KubeInvalid(messages.KUBE_UNKNOWN_KIND.format(kind=kind)) from None


def object_path(obj: Mapping[str, Any], *, with_name: bool = True) -> str:
    meta = obj.get("metadata", {})
    resource = resource_for(str(obj["kind"]))
    name = meta.get("name") if with_name else None
    return resource.path(meta.get("namespace", "default"), name)


class KubeClient:
    """A thin, typed-at-the-edges wrapper over one API server connection."""

    def __init__(
        self,
        api_client: k8s_client.ApiClient,
        *,
        server: str,
        impersonate_user: str | None = None,
        impersonate_groups: tuple[str, ...] = (),
    ) -> None:
        self._api = api_client
        self.server = server
        self.impersonate_user = impersonate_user
        self.impersonate_groups = impersonate_groups

    def impersonating(self, user: str, groups: tuple[str, ...] = ()) -> KubeClient:
        """The same connection, acting as ``user`` (and ``groups``) so the cluster's own RBAC
        decides too. Needs the ``impersonate`` permission for the worker's own identity."""
        return KubeClient(
            self._api, server=self.server, impersonate_user=user, impersonate_groups=groups
        )

    @classmethod
    def connect(cls, kubeconfig: str | None = None, *, pool_size: int = 16) -> KubeClient:
        """Load a kubeconfig file (or the in-cluster service account when none is given)."""
        configuration = k8s_client.Configuration()
        try:
            if kubeconfig:
                k8s_config.load_kube_config(
                    config_file=kubeconfig, client_configuration=configuration
                )
            elif os.environ.get("KUBERNETES_SERVICE_HOST"):
                k8s_config.load_incluster_config(client_configuration=configuration)
            else:
                raise ConfigurationError(messages.KUBECONFIG_MISSING)
        except (ConfigException, OSError) as error:
            raise ConfigurationError(
                messages.KUBECONFIG_INVALID.format(path=kubeconfig or "in-cluster")
            ) from error
        configuration.connection_pool_maxsize = pool_size
        configuration.retries = False
        return cls(k8s_client.ApiClient(configuration), server=str(configuration.host))

    def close(self) -> None:
        self._api.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int | bool] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> JSON:
        """Send one request and return the decoded JSON body, or raise a :class:`KubeError`."""
        response = self._send(
            method, path, query=query, body=body, content_type=content_type, timeout=timeout
        )
        try:
            data = response.read()
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise _unavailable(error, self.server, method, path) from error
        return cast(JSON, json.loads(data)) if data else {}

    def stream_lines(
        self,
        path: str,
        *,
        query: Query | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> Iterator[bytes]:
        """GET a text body (a container log) and yield it line by line, without the newline,
        as it arrives: a long log never sits in memory whole, nor does one long line (each is
        cut at ``max_line_bytes``, see :mod:`handlers.lines`)."""
        response = self._send(
            "GET",
            path,
            query=query,
            body=None,
            content_type="application/json",
            timeout=timeout,
            accept="*/*",
        )
        try:
            yield from split_lines(response.response.stream(65536), max_line_bytes)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise _unavailable(error, self.server, "GET", path) from error
        finally:
            response.response.release_conn()

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: Query | None,
        body: Any,
        content_type: str,
        timeout: float | tuple[float, float],
        accept: str = "application/json",
    ) -> Any:
        headers = {"Accept": accept, "Content-Type": content_type}
        try:
            serialized = self._api.param_serialize(
                method,
                path,
                query_params=_pairs(query),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            url, request_body = serialized[1], serialized[3]
            header_params: Any = serialized[2]
            if self.impersonate_user:
                header_params = self._impersonation_headers(header_params)
            response = self._api.call_api(
                method,
                url,
                header_params=header_params,
                body=request_body,
                _request_timeout=timeout,
            )
        except ApiException as error:
            raise _translate(int(error.status or 0), error.body, method, path) from error
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise _unavailable(error, self.server, method, path) from error
        if not 200 <= response.status <= 299:
            try:
                data = response.read()
            except (urllib3.exceptions.HTTPError, OSError):
                data = b""
            raise _translate(response.status, data, method, path)
        return response

    def _impersonation_headers(self, headers: dict[str, str]) -> HTTPHeaderDict:
        merged = HTTPHeaderDict(headers)
        merged["Impersonate-User"] = str(self.impersonate_user)
        for group in self.impersonate_groups:
            merged.add("Impersonate-Group", group)  # one header line per group
        return merged

    def get(self, path: str) -> JSON:
        return self.request("GET", path)

    def list_pages(
        self,
        path: str,
        *,
        field_selector: str | None = None,
        label_selector: str | None = None,
        page_size: int = 500,
    ) -> Iterator[JSON]:
        """Yield every item of a list, fetched in pages so memory stays bounded."""
        continue_token: str | None = None
        while True:
            query: dict[str, str | int | bool] = {"limit": page_size}
            if field_selector:
                query["fieldSelector"] = field_selector
            if label_selector:
                query["labelSelector"] = label_selector
            if continue_token:
                query["continue"] = continue_token
            page = self.request("GET", path, query=query)
            yield from page.get("items", [])
            continue_token = page.get("metadata", {}).get("continue")
            if not continue_token:
                return

    def patch_merge(self, path: str, patch: JSON) -> JSON:
        return self.request("PATCH", path, body=patch, content_type="application/merge-patch+json")

    def patch_strategic(self, path: str, patch: JSON) -> JSON:
        return self.request(
            "PATCH", path, body=patch, content_type="application/strategic-merge-patch+json"
        )

    def apply(self, obj: JSON, *, field_manager: str) -> JSON:
        """Server-side apply ``obj`` (create or converge), taking ownership of its fields."""
        return self.request(
            "PATCH",
            object_path(obj),
            query={"fieldManager": field_manager, "force": True},
            body=obj,
            content_type="application/apply-patch+yaml",
        )

    def create(self, obj: JSON) -> JSON:
        return self.request("POST", object_path(obj, with_name=False), body=obj)

    def delete(self, path: str, *, grace_period_seconds: int | None = None) -> JSON:
        body: JSON = {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "propagationPolicy": "Background",
        }
        if grace_period_seconds is not None:
            body["gracePeriodSeconds"] = grace_period_seconds
        return self.request("DELETE", path, body=body)

    def delete_collection(
        self, path: str, *, label_selector: str | None = None, grace_period_seconds: int = 0
    ) -> JSON:
        """Delete every object under ``path``; thousands of objects take the server a while."""
        query: dict[str, str | int | bool] = {"gracePeriodSeconds": grace_period_seconds}
        if label_selector:
            query["labelSelector"] = label_selector
        return self.request("DELETE", path, query=query, timeout=(3.05, 600.0))

    def server_version(self) -> str:
        return str(self.request("GET", "/version").get("gitVersion", "unknown"))


def _pairs(query: Query | None) -> list[tuple[str, str | int | bool]]:
    if query is None:
        return []
    if isinstance(query, Mapping):
        return list(query.items())
    return list(query)


def _unavailable(error: Exception, server: str, method: str, path: str) -> KubeUnavailable:
    if isinstance(error, urllib3.exceptions.ReadTimeoutError | TimeoutError):
        return KubeUnavailable(
            messages.KUBE_TIMEOUT.format(server=server, method=method, path=path),
            reason="Timeout",
        )
    return KubeUnavailable(
        messages.KUBE_UNREACHABLE.format(server=server), reason=type(error).__name__
    )


def _translate(status: int, body: Any, method: str, path: str) -> KubeError:
    detail = _status_message(body)
    reason = _status_reason(body)
    text = messages.KUBE_API_ERROR.format(method=method, path=path, status=status, detail=detail)
    error_class: type[KubeError]
    if status == 404:
        error_class = KubeNotFound
    elif status in (401, 403):
        error_class = KubeForbidden
        text = messages.KUBE_FORBIDDEN.format(detail=detail)
    elif status == 409:
        error_class = KubeConflict
    elif status in (400, 422):
        error_class = KubeInvalid
    elif status == 429:
        error_class = KubeTooManyRequests
    elif status >= 500 or status == 0:
        error_class = KubeUnavailable
    else:
        error_class = KubeError
    return error_class(text, status=status, reason=reason, detail=detail)


def _decode_status(body: Any) -> JSON:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            decoded = json.loads(body)
        except ValueError:
            return {}
        if isinstance(decoded, dict):
            return decoded
    return {}


def _status_reason(body: Any) -> str:
    """The server's machine-readable ``Status.reason`` (e.g. ``TooManyRequests``)."""
    return str(_decode_status(body).get("reason", ""))


def _status_message(body: Any) -> str:
    """The server's ``Status.message``, cut short; never the raw body."""
    message = str(_decode_status(body).get("message", ""))
    if len(message) > _BODY_LIMIT:
        message = message[:_BODY_LIMIT] + "…"
    return message or "no details"
