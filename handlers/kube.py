"""The one place that talks to the ``kubernetes`` client library.

Everything else in the project sees plain JSON dicts and the error classes below. Requests go
through ``ApiClient.call_api`` with ``_preload_content=False`` and are decoded with ``json``:
the client's model deserialisation is an order of magnitude slower, which matters on lists of
thousands of nodes, and dicts are what the handlers turn into their own typed models anyway.

Server error bodies are cut short before they reach a message or a log line: they can echo
request content, and nothing the API server says should carry a secret into Slack. The sentence
a person reads never names the API server's address, the request path or the worker's own
identity (``system:serviceaccount:…``): an error that would need them is logged here, with an
incident id, and the sentence says that id.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3 import HTTPHeaderDict

from core import messages
from core.errors import ChatOpsError, ConfigurationError
from handlers.lines import MAX_LINE_BYTES, split_lines

log = logging.getLogger(__name__)

JSON = dict[str, Any]
_BODY_LIMIT = 300
DEFAULT_TIMEOUT = (3.05, 30.0)
#: Query parameters: a mapping, or pairs when a name repeats (``?query=a&query=b``).
Query = Mapping[str, str | int | bool] | Sequence[tuple[str, str | int | bool]]
#: Seconds for the whole request, or (connect, read).
Timeout = float | tuple[float, float]
#: The cause of an eviction a PodDisruptionBudget refused (``Status.details.causes[].reason``,
#: Go's ``StatusCause.Type``).
DISRUPTION_BUDGET_CAUSE = "DisruptionBudget"
_T = TypeVar("_T")


class KubeError(ChatOpsError):
    """The Kubernetes API refused or failed a request."""

    def __init__(
        self,
        user_message: str,
        *,
        status: int = 0,
        reason: str = "",
        detail: str = "",
        server_message: str = "",
        incident: str = "",
        retry_after: float | None = None,
        causes: tuple[str, ...] = (),
    ) -> None:
        super().__init__(user_message)
        self.status = status
        self.reason = reason
        #: What kubectl would print after ``error: …``, safe to show: the server's own
        #: ``Status.message`` (cut short), or our sentence where that names an identity.
        self.detail = detail or user_message
        #: The server's ``Status.message`` as it was (cut short): for decisions and logs only.
        self.server_message = server_message or self.detail
        #: The id the full story was logged under, when the sentence leaves details out.
        self.incident = incident
        #: Seconds the server asked us to wait (``Retry-After``, or ``details.retryAfterSeconds``).
        self.retry_after = retry_after
        #: ``Status.details.causes[].reason``: ``DisruptionBudget`` tells a PDB refusal from APF.
        self.causes = causes


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

    @property
    def disruption_budget(self) -> bool:
        """An eviction a PodDisruptionBudget refused (drain's to wait out), not throttling."""
        return DISRUPTION_BUDGET_CAUSE in self.causes


class KubeUnavailable(KubeError):
    """The API server could not be reached or answered 5xx."""


class Retrying(Protocol):
    """Runs one request's attempts (see :mod:`handlers.retry`): ``attempt`` is called with the
    timeout for that attempt and raises :class:`KubeError` when it fails."""

    def call(
        self,
        attempt: Callable[[Timeout], _T],
        *,
        method: str,
        path: str,
        timeout: Timeout,
        stream: bool = False,
    ) -> _T: ...


@dataclass(frozen=True)
class _Call:
    """One request, for saying what went wrong with it: to people, and to the log."""

    method: str
    path: str
    server: str
    acting_as: str | None = None


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
        retrier: Retrying | None = None,
    ) -> None:
        self._api = api_client
        self.server = server
        self.impersonate_user = impersonate_user
        self.impersonate_groups = impersonate_groups
        #: Sends each request again while the API server has a blip; None: one attempt.
        self.retrier = retrier

    def impersonating(self, user: str, groups: tuple[str, ...] = ()) -> KubeClient:
        """The same connection, acting as ``user`` (and ``groups``) so the cluster's own RBAC
        decides too. Needs the ``impersonate`` permission for the worker's own identity."""
        return KubeClient(
            self._api,
            server=self.server,
            impersonate_user=user,
            impersonate_groups=groups,
            retrier=self.retrier,
        )

    def retrying(self, retrier: Retrying | None) -> KubeClient:
        """The same connection and identity, with every request run by ``retrier`` (None: each
        request is tried once, and a failure is raised at once)."""
        return KubeClient(
            self._api,
            server=self.server,
            impersonate_user=self.impersonate_user,
            impersonate_groups=self.impersonate_groups,
            retrier=retrier,
        )

    def _attempts(
        self, attempt: Callable[[Timeout], _T], method: str, path: str, timeout: Timeout, **kw: bool
    ) -> _T:
        if self.retrier is None:
            return attempt(timeout)
        return self.retrier.call(attempt, method=method, path=path, timeout=timeout, **kw)

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
                raise ConfigurationError(messages.KUBECONFIG_MISSING.format())
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
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> JSON:
        """Send one request and return the decoded JSON body, or raise a :class:`KubeError`.

        With a :attr:`retrier`, a failure that heals by itself is sent again, whole."""

        def attempt(attempt_timeout: Timeout) -> bytes:
            response = self._send(
                method,
                path,
                query=query,
                body=body,
                content_type=content_type,
                timeout=attempt_timeout,
            )
            try:
                return cast(bytes, response.read())
            except (urllib3.exceptions.HTTPError, OSError) as error:
                raise _unavailable(error, self._call(method, path)) from error

        data = self._attempts(attempt, method, path, timeout)
        return cast(JSON, json.loads(data)) if data else {}

    def _call(self, method: str, path: str) -> _Call:
        return _Call(method, path, self.server, self.impersonate_user)

    def stream_lines(
        self,
        path: str,
        *,
        query: Query | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> Iterator[bytes]:
        """GET a text body (a container log) and yield it line by line, without the newline,
        as it arrives: a long log never sits in memory whole, nor does one long line (each is
        cut at ``max_line_bytes``, see :mod:`handlers.lines`). A :attr:`retrier` retries the
        opening of the stream only: lines already yielded cannot be taken back."""
        yield from self.open_lines(
            path, query=query, timeout=timeout, max_line_bytes=max_line_bytes
        )

    def open_lines(
        self,
        path: str,
        *,
        query: Query | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> Generator[bytes, None, None]:
        """:meth:`stream_lines`, but the request is sent now: a failure to open the stream is
        raised here, a failure while reading it from the iterator (a watch resumes only then)."""

        def attempt(attempt_timeout: Timeout) -> Any:
            return self._send(
                "GET",
                path,
                query=query,
                body=None,
                content_type="application/json",
                timeout=attempt_timeout,
                accept="*/*",
            )

        response = self._attempts(attempt, "GET", path, timeout, stream=True)
        return self._lines(response, path, max_line_bytes)

    def _lines(self, response: Any, path: str, max_line_bytes: int) -> Generator[bytes, None, None]:
        body = response.response
        finished = False
        try:
            yield from split_lines(body.stream(65536), max_line_bytes)
            finished = True
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise _unavailable(error, self._call("GET", path)) from error
        finally:
            if not finished:
                body.close()  # left unread: the server may still be sending on this socket
            body.release_conn()

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: Query | None,
        body: Any,
        content_type: str,
        timeout: Timeout,
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
            if not error.status:  # the client's own wrapping of a TLS failure
                raise _unavailable(error, self._call(method, path)) from error
            raise _translate(
                int(error.status), error.body, self._call(method, path), error.headers
            ) from error
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise _unavailable(error, self._call(method, path)) from error
        if not 200 <= response.status <= 299:
            try:
                data = response.read()
            except (urllib3.exceptions.HTTPError, OSError):
                data = b""
            headers = response.getheaders()
            raise _translate(response.status, data, self._call(method, path), headers)
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


def _incident() -> str:
    return uuid.uuid4().hex[:8]


def _timed_out(error: Exception) -> bool:
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        error = error.reason
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return False  # a refused connection, though urllib3 files it under timeouts
    return isinstance(error, urllib3.exceptions.TimeoutError | TimeoutError)


def _certificate_rejected(error: Exception) -> bool:
    return "CERTIFICATE_VERIFY_FAILED" in str(error)


def _unavailable(error: Exception, call: _Call) -> KubeUnavailable:
    incident = _incident()
    log.warning(
        "Kubernetes API %s %s at %s failed (incident %s): %s",
        call.method,
        call.path,
        call.server,
        incident,
        error,
    )
    if _timed_out(error):
        return KubeUnavailable(
            messages.KUBE_TIMEOUT.format(incident=incident), reason="Timeout", incident=incident
        )
    return KubeUnavailable(
        messages.KUBE_UNREACHABLE.format(incident=incident),
        reason=CERTIFICATE_REJECTED if _certificate_rejected(error) else type(error).__name__,
        incident=incident,
    )


#: ``KubeError.reason`` of a TLS handshake that failed on the server's certificate.
CERTIFICATE_REJECTED = "CertificateRejected"


def _translate(
    status: int, body: Any, call: _Call, headers: Mapping[str, str] | None = None
) -> KubeError:
    message = _status_message(body)
    reason = _status_reason(body)
    hints: dict[str, Any] = {
        "retry_after": _retry_after(body, headers),
        "causes": _status_causes(body),
    }
    if status in (401, 403) or status >= 500 or status == 0:
        return _hidden(status, reason, message, call, hints)
    error_class: type[KubeError] = {
        404: KubeNotFound,
        409: KubeConflict,
        400: KubeInvalid,
        422: KubeInvalid,
        429: KubeTooManyRequests,
    }.get(status, KubeError)
    return error_class(
        messages.KUBE_API_ERROR.format(status=status, detail=message),
        status=status,
        reason=reason,
        detail=message,
        **hints,
    )


#: An RBAC refusal, as the API server words it.
_RBAC_REFUSAL = re.compile(
    r'User "(?P<user>[^"]*)" cannot (?P<verb>[a-z]+) resource "(?P<resource>[^"]+)"'
    r'(?: in API group "(?P<group>[^"]*)")?(?: in the namespace "(?P<namespace>[^"]+)")?'
)
_NAMES_AN_IDENTITY = re.compile(r'User "|system:|serviceaccount', re.IGNORECASE)


def _hidden(
    status: int, reason: str, message: str, call: _Call, hints: Mapping[str, Any]
) -> KubeError:
    """401, 403 and 5xx: what the server said may name the worker's identity or the cluster's
    insides, so people get a sentence of ours and the log gets the rest."""
    if status == 403 and not _NAMES_AN_IDENTITY.search(message):
        # Not RBAC (a terminating namespace, an admission rule): the server's words are fine.
        return KubeForbidden(
            messages.KUBE_API_ERROR.format(status=status, detail=message),
            status=status,
            reason=reason,
            detail=message,
            **hints,
        )
    incident = _incident()
    log.warning(
        "Kubernetes API %s %s at %s answered %s (incident %s): %s",
        call.method,
        call.path,
        call.server,
        status,
        incident,
        message,
    )
    if status == 401:
        text = messages.KUBE_UNAUTHORIZED.format(incident=incident)
        return KubeForbidden(
            text, status=status, reason=reason, server_message=message, incident=incident
        )
    if status != 403:
        text = messages.KUBE_SERVER_ERROR.format(status=status, incident=incident)
        return KubeUnavailable(
            text,
            status=status,
            reason=reason,
            server_message=message,
            incident=incident,
            **hints,
        )
    sentence = _not_allowed(message, call)
    subject, forbidden, _ = message.partition(" is forbidden: ")
    prefix = subject + forbidden if forbidden and not _NAMES_AN_IDENTITY.search(subject) else ""
    return KubeForbidden(
        messages.KUBE_FORBIDDEN.format(detail=sentence, incident=incident),
        status=status,
        reason=reason,
        detail=f"{prefix}{sentence} {messages.LOGGED_AS.format(incident=incident)}",
        server_message=message,
        incident=incident,
    )


def _not_allowed(message: str, call: _Call) -> str:
    """Who may not do what, in words: from the server's RBAC message when it has the usual
    form, else from our own request; the identity is named only when it is the requester's."""
    refusal = _RBAC_REFUSAL.search(message)
    if refusal:
        refused_user: str | None = refusal["user"]
        verb, resource = refusal["verb"], refusal["resource"]
        group, namespace = refusal["group"] or "", refusal["namespace"]
    else:
        refused_user = None
        verb, resource, group, namespace = _requested(call.method, call.path)
    requester = (
        call.acting_as is not None
        and refused_user in (None, call.acting_as)
        and verb != "impersonate"
    )
    actor = (
        messages.KUBE_ACTOR_REQUESTER.format(user=call.acting_as)
        if requester
        else messages.KUBE_ACTOR_WORKER.format()
    )
    return messages.KUBE_NOT_ALLOWED.format(
        actor=actor, action=_action(verb, resource, group, namespace)
    )


def _action(verb: str, resource: str, group: str, namespace: str | None) -> str:
    special = messages.KUBE_SPECIAL_ACTIONS.get((verb, resource)) if not group else None
    if special is None:
        base, _, subresource = resource.partition("/")
        named = f"{base}.{group}" if group else base
        special = messages.KUBE_ACTION.format(
            verb=verb, resource=f"{named}/{subresource}" if subresource else named
        )
    if namespace:
        return messages.KUBE_IN_NAMESPACE.format(action=special, namespace=namespace)
    return special


_REQUEST_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch"}


def _requested(method: str, path: str) -> tuple[str, str, str, str | None]:
    """The RBAC verb, resource, group and namespace our own request needed."""
    parts = [part for part in path.split("?", 1)[0].split("/") if part]
    group = ""
    if parts[:1] == ["api"]:
        parts = parts[2:]
    elif parts[:1] == ["apis"]:
        group, parts = (parts[1] if len(parts) > 1 else ""), parts[3:]
    namespace = None
    if len(parts) >= 3 and parts[0] == "namespaces":
        namespace, parts = parts[1], parts[2:]
    if not parts:
        return _REQUEST_VERBS.get(method, method.lower()), path, "", None
    resource = "/".join([parts[0], *parts[2:3]])
    named = len(parts) > 1
    if method == "DELETE":
        verb = "delete" if named else "deletecollection"
    elif method == "GET" and not named:
        verb = "list"
    else:
        verb = _REQUEST_VERBS.get(method, method.lower())
    return verb, resource, group, namespace


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


def _retry_after(body: Any, headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``Retry-After`` (APF sends it with a plain-text body), else from the
    Status's ``details.retryAfterSeconds``; None when the server asked for no wait."""
    header = (headers or {}).get("Retry-After")
    if header is not None:
        try:
            seconds = float(header)
        except ValueError:
            seconds = -1.0  # an HTTP date: the API server never sends one
        if 0 <= seconds <= 86400:
            return seconds
    details = _decode_status(body).get("details")
    asked = details.get("retryAfterSeconds") if isinstance(details, dict) else None
    if isinstance(asked, int) and 0 < asked <= 86400:
        return float(asked)
    return None


def _status_causes(body: Any) -> tuple[str, ...]:
    details = _decode_status(body).get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    if not isinstance(causes, list):
        return ()
    return tuple(str(c.get("reason", "")) for c in causes if isinstance(c, dict))


def _status_reason(body: Any) -> str:
    """The server's machine-readable ``Status.reason`` (e.g. ``TooManyRequests``)."""
    return str(_decode_status(body).get("reason", ""))


def _status_message(body: Any) -> str:
    """The server's ``Status.message``, cut short; never the raw body."""
    message = str(_decode_status(body).get("message", ""))
    if len(message) > _BODY_LIMIT:
        message = message[:_BODY_LIMIT] + "…"
    return message or "no details"
