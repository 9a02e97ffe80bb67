"""Every sentence a person reads, in one catalogue: the English one, and the list of names.

Keeping user-facing text here means it can be reviewed in one sitting; ``core/messages_zh.py``
says each of them in 简体中文 under the same name, with the same ``{placeholders}``
(``tests/unit/test_catalogues.py`` fails otherwise). Code refers to these names and fills in
the placeholders with ``messages.NAME.format(...)``, which says the sentence in the language of
the request (:mod:`core.i18n`). A sentence whose words follow a number is a ``plural(...)``.
Where kubectl has a wording people know, the wording is kubectl's, in every language
(:data:`KUBECTL_VERBATIM`).
"""

from __future__ import annotations

from core.i18n import plural, register

# --- Command grammar -------------------------------------------------------------------------
EMPTY_COMMAND = "Type a command after /k8s, for example `/k8s get nodes`. `/k8s help` lists them."
UNKNOWN_COMMAND = "{word} is not a command I know."
UNKNOWN_RESOURCE = "I can't {verb} {word}."
DID_YOU_MEAN = " Did you mean {suggestion}?"
SEE_HELP = " Try `/k8s help`."
MISSING_ARGUMENT = "{usage}: {what} is missing."
TOO_MANY_ARGUMENTS = "{usage} takes no more arguments, but got {extra}."
UNKNOWN_FLAG = "{command} has no flag {flag}."
BAD_QUOTING = "I couldn't read that command: {detail}."
INVALID_NODE_NAME = (
    "{name} is not a valid node name: {reason}. Node names are lower-case letters, digits, "
    "'-' and '.', start and end with a letter or digit, and are at most 253 characters."
)
BAD_COUNT = "{value} is not a count from 1 to {limit}."
BAD_JOB_ID = "{value} is not a job id; job ids are numbers, as in `/k8s cancel 42`."
COMMAND_TOO_LONG = "That command is {length} characters long; the limit is {limit}."

# --- Help ---------------------------------------------------------------------------------------
HELP_HEADER = "k8s-chatops: Kubernetes maintenance from chat. Commands:"
HELP_FOOTER = (
    "Mutating commands are checked against policy; each runs as a job on a worker.\n"
    "Name the cluster before the command: `/k8s -C prod get nodes` (`clusters` lists them)."
)
#: Each command's help, named after its verb (``summary=messages.HELP_DRAIN_SUMMARY``).
HELP_HELP_SUMMARY = "list commands, or explain one"
HELP_WHOAMI_SUMMARY = "your roles, groups, and what you may do"
HELP_GET_SUMMARY = "list nodes like `kubectl get nodes`"
HELP_VERSION_SUMMARY = "the cluster's Kubernetes version, like `kubectl version`"
HELP_CORDON_SUMMARY = "mark a node unschedulable"
HELP_UNCORDON_SUMMARY = "mark a node schedulable again"
HELP_JOBS_SUMMARY = "active and recent jobs: state, requester, target, age"
HELP_CANCEL_SUMMARY = "stop a queued or running job at a safe point"
HELP_AUDIT_SUMMARY = "the last N entries of the audit trail (default 20)"
HELP_APPROVE_SUMMARY = "approve a change someone else asked for"
HELP_DENY_SUMMARY = "refuse a change that waits for approval"
HELP_LOGS_SUMMARY = "recent log lines of pods, stern's query; `help logs` for the flags"
HELP_LOGS_DETAILS = (
    "    QUERY is a regex on pod names, or KIND/NAME (pod, deploy, sts, ds, rs, job, svc, rc).\n"
    "    -n NS (repeat), -A, -l SELECTOR, --field-selector S, --node NODE, -c/-E CONTAINER-RE,\n"
    "    --exclude-pod RE, --init-containers=false, --container-state running|waiting|...,\n"
    "    --since 10m (0: all), --tail N, -i/-e LINE-RE (repeat), -t, -o default|raw|json,\n"
    "    --max-log-requests N, -p (previous run). Secrets are masked.\n"
    "    Node logs: logs node/NODE --query kubelet [--since D] [--tail N] [-i RE]"
)
HELP_CLUSTERS_SUMMARY = "the clusters I serve: workers, Kubernetes version, nodes, queued jobs"
HELP_DRAIN_SUMMARY = "cordon, then evict every pod like `kubectl drain` (same flags)"

# --- The terminal chat -------------------------------------------------------------------------
SHELL_BANNER = "k8s-chatops shell as {user}. Type `help`, or `exit` to leave."
SHELL_AS_USAGE = "Use `:as USER COMMAND`, for example `:as U0ONCALL02 /k8s approve 7`."

# --- Policy --------------------------------------------------------------------------------------
DENIED = "You ({user}) may not {verb}: {reason}"
DENIED_NO_ROLE_ALLOWS = (
    "none of your roles ({roles}) allows {verb}. Ask a cluster admin to grant you a role "
    "that does in the policy file."
)
DENIED_NO_ROLE = (
    "you hold no role in the policy file, and nothing is allowed by default. "
    "Ask a cluster admin to add you."
)
POLICY_RULE_DENIES = "policy rule {rule} forbids it."
POLICY_OUTSIDE_WINDOW = plural(
    by="count",
    one="changes are only allowed in the change window {windows}.",
    other="changes are only allowed in the change windows {windows}.",
)
POLICY_RATE = "you have reached the limit of {count} changes per {per}; try again later."
POLICY_UNSCHEDULABLE_LIMIT = plural(
    by="limit",
    one="at most {limit} node may be unschedulable at once; unschedulable now: {now}.",
    other="at most {limit} nodes may be unschedulable at once; unschedulable now: {now}.",
)
POLICY_ALLOWED_BY_ROLE = "allowed by role {role}"
POLICY_ALLOWED_BY_RULE = "allowed by rule {rule}"
POLICY_ALLOWED_NEEDS = "{allowed}; needs {needed}"
POLICY_OWN_JOB = "your own job"
#: What a change waits for (``Requirement.describe``): ``{approvers}`` are APPROVER_ROLE and
#: APPROVER_GROUP (and user ids) joined by APPROVER_SEPARATOR, ``{within}`` a DURATION_*.
APPROVALS_NEEDED = plural(
    one="{count} approval from {approvers} (not the requester), within {within}",
    other="{count} approvals from {approvers} (not the requester), within {within}",
)
APPROVER_ROLE = "role {name}"
APPROVER_GROUP = "group {name}"
#: Between approvers, any of whom may approve ("role admin or role operator").
APPROVER_SEPARATOR = " or "
APPROVE_OWN = "You asked for this change yourself; someone else has to approve it."
APPROVE_NOT_ELIGIBLE = "You are not one of the approvers this change needs: {needed}."
APPROVAL_NEEDED = (
    "Job {job_id} waits for approval: {needed}. Approvers: `/k8s approve {job_id}` "
    "(or `/k8s deny {job_id}`). It expires at {expires}."
)
APPROVAL_RECORDED = "Approval {have}/{need} for job {job_id} recorded."
APPROVAL_COMPLETE = "Job {job_id} approved by {approvers}; queued: {command}"
APPROVAL_ALREADY = "You already approved job {job_id}; approvals count once per person."
APPROVAL_NOT_WAITING = "Job {job_id} is not waiting for approval (it is {state})."
APPROVAL_EXPIRED = "Job {job_id} expired at {expires} before enough people approved it."
APPROVAL_NOT_ALLOWED_NOW = (
    "Job {job_id} can't be approved now: if {requester} asked for it now, it would be refused: "
    "{reason}"
)
APPROVAL_REASON_REQUIRED = "Approving job {job_id} needs a reason: `/k8s approve {job_id} REASON`."
DENIAL_RECORDED = "Job {job_id} denied by {user}{reason}; nothing was done."
#: ``{reason}`` of DENIAL_RECORDED when the person gave one.
DENIAL_REASON = " ({reason})"
WHOAMI = "You are {user}. Roles: {roles}. Groups: {groups}. You may: {verbs}."
WHOAMI_NONE = "none"
WHOAMI_NOTHING = "nothing"
POLICY_FILE_MISSING = "Policy file {path} does not exist (setting K8S_CHATOPS_POLICY_FILE)."
POLICY_FILE_INVALID = "Policy file {path} is not valid: {detail}"

# --- Jobs and queue -------------------------------------------------------------------------------
#: A job's state in a sentence ("it is expired"); the `jobs` table shows the raw value.
STATE_AWAITING_APPROVAL = "awaiting approval"
STATE_QUEUED = "queued"
STATE_RUNNING = "running"
STATE_SUCCEEDED = "succeeded"
STATE_FAILED = "failed"
STATE_CANCELLED = "cancelled"
STATE_DENIED = "denied"
STATE_EXPIRED = "expired"
QUEUED = "Job {job_id} queued: {command}"
QUEUE_UNAVAILABLE = "I can't reach the job queue (Redis), so nothing was done. Try again shortly."
JOB_FAILED = "Job {job_id} failed: {reason}"
JOB_CANCELLED = "Job {job_id} was cancelled. {reason}"
JOB_CRASHED = "Job {job_id} failed: the worker hit an internal error (logged as {incident})."
INTERNAL_ERROR = "Something went wrong on my side (logged as {incident}); nothing was changed."
JOB_NOT_FOUND = "There is no job {job_id} (finished jobs are kept for a while, then dropped)."
JOB_NOT_IN_CHANNEL = (
    "There is no job {job_id} in this channel: jobs are answered in the channel where they were "
    "asked."
)
JOB_UNREADABLE = (
    "Job {job_id}'s record could not be read (logged as {incident}); it is left out of lists "
    "and will not run."
)
JOB_CANCELLED_BEFORE_START = "Cancelled before it started; nothing was changed."
JOB_WAITING_FOR_LOCK = "Waiting: {target} is being changed by job {holder}; this job runs after it."
JOB_CAP_REACHED = plural(
    by="cap",
    one="Refused: at most {cap} node may be out of service because of k8s-chatops at once; "
    "out of service now: {holders}. {node} was not touched. Uncordon a node first, or raise "
    "K8S_CHATOPS_MAX_DISRUPTED_NODES.",
    other="Refused: at most {cap} nodes may be out of service because of k8s-chatops at once; "
    "out of service now: {holders}. {node} was not touched. Uncordon a node first, or raise "
    "K8S_CHATOPS_MAX_DISRUPTED_NODES.",
)
JOB_WINDOW_CLOSED = (
    "Refused: the change window closed at {closed} before this job could start; nothing was "
    "changed. Ask again inside a change window."
)
JOB_CAP_HOLDER = "{node} (job {job_id})"
CANCEL_QUEUED = "Job {job_id} cancelled before it started; nothing was changed."
CANCEL_RUNNING = "Cancel requested: job {job_id} stops at its next safe point."
CANCEL_FINISHED = "Job {job_id} already ended ({state}); nothing to cancel."
NOT_YOUR_JOB = (
    "job {job_id} is {requester}'s; for someone else's job you need a role that grants {verb}."
)
NO_JOBS = "No jobs yet."
NO_AUDIT = "The audit trail is empty."
BUTTON_NOT_A_JOB = "That button does not name a job, so nothing was done."
WRONG_WORKSPACE = "This app is not installed in that workspace."
JOB_TIMED_OUT = "No result for job {job_id} after {seconds}s; it is still queued or running."

# --- Clusters ------------------------------------------------------------------------------------
CLUSTER_NEEDS_VALUE = "{flag} needs a cluster name, as in `/k8s -C prod get nodes`."
INVALID_CLUSTER_NAME = "{name} is not a valid cluster name: {reason}."
TWO_CLUSTERS = "That names two clusters, {first} and {second}; name one."
CLUSTER_FLAG_FIRST = "Put {flag} before the command, as in `/k8s -C prod get nodes`."
UNKNOWN_CLUSTER = "I know no cluster named {name}.{hint} Known clusters: {known}."
NO_CLUSTERS_LISTED = "none"
WHICH_CLUSTER = (
    "Which cluster? There is no default cluster here, so name one, as in {example}. "
    "Known clusters: {known}."
)
NO_CLUSTER_KNOWN = (
    "No cluster is known yet: no worker has reported in and the policy file declares none. "
    "Start a worker for your cluster (`k8s-chatops worker`), or set K8S_CHATOPS_CLUSTER on the "
    "bot."
)
JOB_ON_OTHER_CLUSTER = "Job {job_id} is on cluster {cluster}, not {named}; nothing was done."
QUEUED_ON = " (cluster {cluster})"
WAITS_ON = " Cluster: {cluster}."
NO_WORKER = "No worker for cluster {cluster} is running; the job waits until one starts."
JOB_ON_CLUSTER = "Job {job_id} on cluster {cluster}:"
CLUSTERS_NONE = (
    "No cluster is known yet: no worker has reported in and the policy file declares none."
)
CLUSTERS_UNSERVED = "No worker for cluster {cluster} is running; jobs waiting for one: {waiting}."
CLUSTER_API_SILENT = "The workers of {cluster} could not read its API server at their last report."

# --- Kubernetes -----------------------------------------------------------------------------------
# No sentence here names the API server's address, a request path or the worker's identity:
# those go to the log, under the incident id the sentence shows.
LOGGED_AS = "(logged as {incident})"
KUBE_API_ERROR = "The Kubernetes API refused this ({status}): {detail}"
KUBE_UNREACHABLE = (
    "The Kubernetes API server can't be reached; nothing was changed after that point "
    "(logged as {incident})."
)
KUBE_TIMEOUT = (
    "The Kubernetes API server did not answer in time; nothing was changed after that point "
    "(logged as {incident})."
)
KUBE_SERVER_ERROR = (
    "The Kubernetes API server failed this request ({status}); nothing was changed after that "
    "point (logged as {incident})."
)
KUBE_UNAUTHORIZED = (
    "The cluster did not accept the worker's credentials; ask a cluster admin to check them "
    "(logged as {incident})."
)
KUBE_FORBIDDEN = (
    "The cluster refused this: {detail}. The cluster's own RBAC applies to chat requests; ask a "
    "cluster admin for that permission (logged as {incident})."
)
#: What the API server is doing while a request is retried (``{state}`` below).
KUBE_STATE_SILENT = "not answering"
KUBE_STATE_UNREACHABLE = "not reachable"
KUBE_STATE_FAILING = "answering {status}"
KUBE_STATE_THROTTLING = "asking us to slow down (429)"
#: A job's progress line while it waits for the API server (at most one every ~10 s).
KUBE_RETRYING = "API server {state} for {waited}, retrying (giving up in {left})"
KUBE_RECOVERED = "API server answering again after {waited}"
#: ``{for_how_long}`` is KUBE_FOR_HOW_LONG, or nothing when the job saw it for under a second.
KUBE_FOR_HOW_LONG = " for {waited}"
KUBE_GAVE_UP_AT_DEADLINE = (
    "Gave up on the Kubernetes API server at this job's deadline: it was {state}"
    "{for_how_long}; nothing was changed after that point (logged as {incident})."
)
KUBE_GAVE_UP_AFTER = (
    "Gave up on the Kubernetes API server: it was {state}{for_how_long}, the longest a {verb} "
    "waits for it; nothing was changed after that point (logged as {incident})."
)
KUBE_GAVE_UP_RETRY_AFTER = (
    "Gave up on the Kubernetes API server: it asked us to wait {wait}, longer than this job "
    "may still wait; nothing was changed after that point (logged as {incident})."
)
KUBE_CANCELLED_WAITING = (
    "Cancelled while waiting for the Kubernetes API server ({state}{for_how_long}); nothing "
    "was changed after that point."
)
KUBE_ANSWER_LOGGED = "a {status} answer, logged as {incident}"
KUBE_NOT_ALLOWED = "{actor} is not allowed to {action}"
KUBE_ACTOR_WORKER = "the worker"
KUBE_ACTOR_REQUESTER = "your identity in the cluster ({user})"
KUBE_ACTION = "{verb} {resource}"
KUBE_IN_NAMESPACE = "{action} in namespace {namespace}"
#: Permissions better said in words than as a verb on a subresource (KUBE_SPECIAL_ACTIONS).
KUBE_EVICT_PODS = "evict pods"
KUBE_READ_POD_LOGS = "read the logs of pods"
KUBE_READ_NODE_LOGS = "read node logs (nodes/proxy)"
KUBE_UNKNOWN_KIND = "Kind {kind} is not one this bot works with."
KUBECONFIG_MISSING = (
    "No cluster credentials: set KUBECONFIG (or run inside a cluster with a service account)."
)
KUBECONFIG_INVALID = "Kubeconfig {path} could not be loaded."
NODE_NOT_FOUND = 'Error from server (NotFound): nodes "{name}" not found'
#: ``kubectl version``'s server line, with the platform the server reports.
SERVER_VERSION = "Server Version: {version} ({platform})"
NODE_CORDONED = "node/{name} cordoned"
NODE_ALREADY_CORDONED = "node/{name} already cordoned"
NODE_UNCORDONED = "node/{name} uncordoned"
NODE_ALREADY_UNCORDONED = "node/{name} already uncordoned"
NO_NODES = "No resources found"
#: kubectl's own lines: people compare them with kubectl's output, so every language shows
#: them exactly as kubectl prints them (the other catalogues leave them out).
KUBECTL_VERBATIM = frozenset(
    {
        "NODE_NOT_FOUND",
        "SERVER_VERSION",
        "NODE_CORDONED",
        "NODE_ALREADY_CORDONED",
        "NODE_UNCORDONED",
        "NODE_ALREADY_UNCORDONED",
        "NO_NODES",
    }
)

# --- Drain -------------------------------------------------------------------------------------
PLAN_PDB_BLOCKS = "{pdb} allows {disruptions} now, so {evictions} will wait: {pods}"
DISRUPTIONS = plural(one="{count} disruption", other="{count} disruptions")
EVICTIONS = plural(one="{count} eviction", other="{count} evictions")
PLAN_MANY_PDBS = "{pod} is covered by more than one PodDisruptionBudget ({pdbs}): eviction fails"
PLAN_PINNED = "{workload} pins its pods to {node} with spec.nodeName: new pods bypass the cordon"
PLAN_TOLERATES = (
    "{workload} tolerates node.kubernetes.io/unschedulable: its new pods may land back on {node}"
)
PLAN_POD_NEW = "{pod} appeared on the node since the plan"
PLAN_POD_GONE = "{pod} left the node since the plan"
PLAN_POD_FATE = "{pod}: planned {before}, now {after}"
PLAN_PDB_CHANGED = "PodDisruptionBudget headroom changed since the plan"
PLAN_CAPACITY_CHANGED = "spare capacity changed since the plan: {before} → {after}"
PLAN_HEADER = plural(
    by="pods",
    one="Plan for draining {node} ({pods} pod on it):",
    other="Plan for draining {node} ({pods} pods on it):",
)
#: What happens to a pod (the plan's groups, the card's counts, PLAN_POD_FATE).
PLAN_FATE_EVICT = "evict"
PLAN_FATE_DELETE = "delete"
PLAN_FATE_IGNORED = "ignored"
PLAN_FATE_SKIPPED = "skipped"
PLAN_FATE_BLOCKED = "blocked"
#: The plan's group headings, when the fate needs a word of explanation.
PLAN_GROUP_DELETE = "delete (no eviction, PDBs bypassed)"
PLAN_GROUP_SKIPPED = "skipped (mirror pod or long-deleted)"
PLAN_GROUP = "• {fate} ({count}):"
PLAN_POD = "    {pod} ({workload})"
PLAN_POD_WHY = "    {pod} ({workload}) — {why}"
#: Whether the pods re-created elsewhere fit on the other nodes.
PLAN_CAPACITY_FITS = "fits"
PLAN_CAPACITY_TIGHT = "tight"
PLAN_CAPACITY_DOES_NOT_FIT = "does not fit"
PLAN_CAPACITY_NOTHING_TO_PLACE = "no pods to re-create elsewhere"
PLAN_CAPACITY_NO_NODE = "no other schedulable, Ready node"
PLAN_CAPACITY_NEED = plural(
    one="{count} pod needs {cpu} CPU, {memory} memory",
    other="{count} pods need {cpu} CPU, {memory} memory",
)
PLAN_CAPACITY_BUSIEST = "{need}; {node} would be at {cpu:.0%} CPU, {memory:.0%} memory"
PLAN_LOSS_EMPTYDIR = "emptyDir data is deleted"
PLAN_LOSS_BARE_POD = "bare pod: nothing re-creates it"
#: The lines under a plan, in the shell and in a result (PLAN_CARD_* on the Slack card).
PLAN_DATA_LOST = "• data lost: {losses}"
PLAN_DATA_LOSS = "{pod}: {loss}"
PLAN_PDB = "• PDB: {text}"
PLAN_CAPACITY = "• capacity: {capacity} ({detail})"
PLAN_NO_ROOM = "{capacity}; no room for {workloads}"
PLAN_RISK = "• risk: {risk}"
PLAN_CHANGED = "• changed since the plan: {change}"
PODS = plural(one="{count} pod", other="{count} pods")
ERRORS = plural(one="{count} error", other="{count} errors")
DRAIN_DONE = (
    "Drained {node} in {duration}: {removed} removed, {ignored} left in place. "
    "It stays cordoned; to bring it back: /k8s uncordon {node}"
)
DRAIN_FAILED = (
    "Drain of {node} stopped after {duration}: {removed} removed, {failed}. "
    "{node} stays cordoned; to bring it back: /k8s uncordon {node}"
)
DRAIN_DRY_RUN = (
    "Dry run ({mode}) for {node}: {count} would be removed, {ignored} left in place; "
    "nothing was changed."
)
DRAIN_CANCELLED = "Drain of {node} cancelled; it stays cordoned. Pods left on it: {left}"
DRAIN_NONE_LEFT = "none"
DRAIN_STOPPED_AFTER_CORDON = (
    "Drain of {node} stopped after it was cordoned: {reason} {node} stays cordoned; to bring it "
    "back: /k8s uncordon {node}"
)
INVALID_DURATION = "{setting} is not a duration (examples: 0, 90s, 5m, 1h30m)."
INVALID_FLAG_VALUE = "{setting}: {detail}."
FLAG_NEEDS_VALUE = "{flag} needs a value, e.g. {example}."
FLAG_TAKES_NO_VALUE = "{flag} is a switch and takes no value, or {forms}."
#: ``{detail}`` of INVALID_FLAG_VALUE.
FLAG_AT_LEAST = "must be at least {bound}"
FLAG_AT_MOST = "must be at most {bound}"
FLAG_TOO_LONG = "longer than {limit} characters"
FLAG_NOT_A_NUMBER = "not a whole number"
FLAG_NOT_FINITE = "not a finite duration"
FLAG_ONE_OF = "must be one of {choices}"

# --- Selectors (``-l``, ``--pod-selector``, ``--field-selector``, policy node selectors) -------
INVALID_SELECTOR = "{setting} must be a valid {kind} selector: {detail}."
#: ``{kind}`` of INVALID_SELECTOR.
SELECTOR_KIND_LABEL = "label"
SELECTOR_KIND_FIELD = "field"
SELECTOR_TOO_LONG = "it is {length} characters long; the limit is {limit}"
SELECTOR_EXPECTED = "expected {expected} after {after} but found {found}"
SELECTOR_EXPECTED_FIRST = "expected {expected} at the start but found {found}"
SELECTOR_THE_END = "the end"
SELECTOR_A_KEY = "a label key or `!KEY`"
SELECTOR_COMMA_OR_END = "`,` or the end"
SELECTOR_AN_OPERATOR = "`=`, `==`, `!=`, `in` or `notin`"
SELECTOR_OPEN_PARENTHESIS = "`(`"
SELECTOR_A_VALUE = "a value, `,` or `)`"
SELECTOR_A_VALUE_OR_END = "a value, `,` or the end"
SELECTOR_COMMA_OR_CLOSE = "`,` or `)`"
SELECTOR_NO_COMPARISON = (
    "{operator} compares numbers, which a LabelSelector cannot hold; use `=`, `!=`, "
    "`in (…)` or `notin (…)`"
)
SELECTOR_BAD_KEY = "{key} is not a valid label key: {reason}"
SELECTOR_BAD_VALUE = "{value} is not a valid label value: {reason}"
FIELD_SELECTOR_NO_OPERATOR = (
    "{term} has no operator; a term is FIELD=VALUE, FIELD==VALUE or FIELD!=VALUE"
)
FIELD_SELECTOR_BAD_PATH = (
    "{path} is not a field path: letters and digits in parts joined by '.', "
    "such as status.phase or spec.nodeName"
)
FIELD_SELECTOR_UNESCAPED = "in {term}, a {char} inside the value must be written {escaped}"
FIELD_SELECTOR_BAD_ESCAPE = (
    "in {term}, {sequence} is not an escape; the escapes are `\\\\`, `\\,` and `\\=`"
)

# --- Label keys and values (Kubernetes' qualified names) --------------------------------------
#: ``{part}`` is NAME_ITSELF or NAME_AFTER_PREFIX.
NAME_ITSELF = "it"
NAME_AFTER_PREFIX = "the name after '/'"
NAME_IS_EMPTY = "{part} is empty"
NAME_TOO_LONG = "{part} is {length} characters long (the limit is {limit})"
NAME_BAD_CHARACTERS = (
    "{part} contains {characters}; only letters, digits, '-', '_' and '.' may appear"
)
NAME_BAD_ENDS = "{part} must start and end with a letter or digit"
KEY_TOO_MANY_SLASHES = "it has more than one '/' (the form is PREFIX/NAME or NAME)"
KEY_PREFIX_EMPTY = "the prefix before '/' is empty"
KEY_BAD_PREFIX = "the prefix {prefix} is not a DNS subdomain: {reason}"

# --- Settings ------------------------------------------------------------------------------------
SETTING_MISSING = "k8s-chatops: setting {name} is missing (set it in the environment)."
SETTING_INVALID = "k8s-chatops: setting {name} is invalid: {detail}"
SETTING_EMPTY = "k8s-chatops: setting {name} is empty; {why}"
NEEDED_TO_CALL_SLACK = "the bot needs it to talk to Slack."
NEEDED_TO_VERIFY_REQUESTS = "HTTP mode needs it to check that requests come from Slack."
NEEDED_FOR_SOCKET_MODE = "Socket Mode needs it to connect to Slack."

# --- Sandbox -------------------------------------------------------------------------------------
SANDBOX_NO_GO = "The sandbox is built from Go modules, but `go` is not on PATH."
SANDBOX_BUILD_FAILED = "Building the sandbox module {module} failed; the go output is above."
SANDBOX_BUILDING = "Building the sandbox binaries into {target} (first time only; takes a while)"
SANDBOX_COMPONENT_FAILED = "Sandbox component {name} did not become healthy ({why}); see {log}"
SANDBOX_TIMEOUT = "Timed out waiting for {what} in the sandbox."
SANDBOX_NOT_RUNNING = "The sandbox is not running; start it with `k8s-chatops-sandbox up`."
SANDBOX_ALREADY_RUNNING = "The sandbox is already running (API server {server})."
SANDBOX_STARTED = "Sandbox running: API server {server}, kubeconfig {kubeconfig}"
SANDBOX_STOPPED = "Sandbox stopped: {names}."
SANDBOX_NOTHING_TO_STOP = "Nothing to stop: the sandbox is not running."
SANDBOX_RESET_DONE = "Sandbox reset to the seed scenario in {seconds:.1f}s."
SANDBOX_UNKNOWN_COMPONENT = "{name} is not a sandbox component; the components are {names}."
SANDBOX_COMPONENT_NOT_RUNNING = (
    "Sandbox component {name} is not running; start it with: k8s-chatops-sandbox start {name}"
)
SANDBOX_COMPONENT_STOPPED = "{name} stopped; start it again with: k8s-chatops-sandbox start {name}"
SANDBOX_COMPONENT_WAS_STOPPED = "{name} was not running."
SANDBOX_COMPONENT_STARTED = "{name} running (pid {pid})."
SANDBOX_COMPONENT_RESTARTED = (
    "{name} restarted: a new process (pid {pid}), healthy {seconds:.1f}s after the old one "
    "began to stop."
)
SANDBOX_COMPONENT_PAUSED = (
    "{name} paused (SIGSTOP to pid {pid}): its connections stay open and nothing answers. "
    "Continue it with: k8s-chatops-sandbox resume {name}"
)
SANDBOX_COMPONENT_RESUMED = "{name} resumed (SIGCONT to pid {pid})."

# --- Logs ----------------------------------------------------------------------------------------
LOGS_BAD_REGEX = "{flag} {value} is not a regular expression I can use: {detail}."
LOGS_BAD_RESOURCE = (
    "{word} is not a kind I can take logs from. Use a pod-name regex, or one of "
    "pod, deployment, statefulset, daemonset, replicaset, job, service, replicationcontroller "
    "(or their short names) as `KIND/NAME`."
)
LOGS_BAD_NAME = "{name} is not a valid {kind} name: {reason}."
LOGS_BAD_NAMESPACE = "{name} is not a valid namespace name: {reason}."
LOGS_BAD_STATE = (
    "`--container-state` {value} is not a state; use running, waiting, terminated or all."
)
LOGS_NODE_FLAGS = "`logs node/NODE` reads the node's own services; {flags} only apply to pod logs."
LOGS_QUERY_NEEDS_NODE = "`--query` is for node logs: `/k8s logs node/NODE --query kubelet`."
LOGS_NO_SELECTOR = "{kind}/{name} has no selector, so it selects no pods."
LOGS_RESOURCE_NOT_FOUND = "{kind}/{name} was not found in {where}."
LOGS_ANY_NAMESPACE = "any namespace"
LOGS_NOT_A_SERVICE = "not a service name"
LOGS_PROGRESS = "read {done} of {total} containers"
LOGS_ALL_FAILED = "None of the {count} containers could be read; the first said: {detail}"
NODE_LOGS_UNAVAILABLE = (
    "The node log query is not available on {node}: the cluster has the NodeLogQuery feature "
    "gate off, or the kubelet's enableSystemLogQuery setting is false. Ask a cluster admin to "
    "enable both, or read the node's logs on the node. (The API server said: {detail})"
)
LOGS_DENIED_IN = "in namespace {namespace}: {reason}"
LOGS_DENIED_EVERYWHERE = "in every namespace: {reason} Name the namespaces with `-n`."
LOGS_NO_PODS = (
    "No started containers match {command}. Check the namespace (`-n`, or `-A` for all), the "
    "query (a regex on pod names, or `KIND/NAME` such as `deploy/api`) and the container "
    "filters (`-c`, `-E`, `--container-state`)."
)
LOGS_SUMMARY = "{lines} from {pods} / {containers} since {since}"
LOGS_SUMMARY_NODE = "{lines} from {source} since {since}"
#: ``{since}`` of a fetch without a time limit (``--since 0``).
LOGS_SINCE_START = "the start"
LOGS_LINES = plural(one="{count} line", other="{count} lines")
LOGS_PODS = plural(one="{count} pod", other="{count} pods")
LOGS_CONTAINERS = plural(one="{count} container", other="{count} containers")
LOGS_REDACTIONS = plural(one="{count} redaction", other="{count} redactions")
LOGS_MATCHED = "{count} matched {filters}"
LOGS_CAP_BYTES = "{count} bytes"
#: After the last part of a summary line.
LOGS_SUMMARY_END = "."
LOGS_NO_LINES = "No log lines in that window. Widen it with `--since` (for example `--since 1h`)."
LOGS_NO_MATCH = "None of the {fetched} lines matched the filters; loosen `-i`/`-e`."
LOGS_TRUNCATED = (
    "Truncated: showing the newest {shown} of {matched} lines (cap: {cap}). Narrow the query "
    "with `--since`, `--tail`, `-i REGEX` or `-c CONTAINER`."
)
LOGS_FAILURES = plural(
    one="{count} container could not be read: {details}",
    other="{count} containers could not be read: {details}",
)
#: Appended to a log line longer than K8S_CHATOPS_LOGS_MAX_LINE_BYTES, in place of its rest.
LOGS_LINE_CUT = " … [line cut at {limit} bytes]"
LOGS_EXCLUDED_NAMESPACES = "Left out by policy: {namespaces}."

# --- Times, durations -----------------------------------------------------------------------------
#: A time of day, always in UTC (the bot's clock; people are in many zones).
CLOCK_UTC = "{time} UTC"
#: How long something took (``0.4s``).
TOOK_SECONDS = "{seconds:.1f}s"
#: A duration from the policy file (``30m``, ``1h``, ``2d``), said in this language.
DURATION_SECONDS = "{count}s"
DURATION_MINUTES = "{count}m"
DURATION_HOURS = "{count}h"
DURATION_DAYS = "{count}d"
#: Between items of a list ("role admin, role operator").
LIST_SEPARATOR = ", "
#: Between clauses of one line ("120 lines from …; 3 redactions").
CLAUSE_SEPARATOR = "; "

# --- Slack cards and captions ---------------------------------------------------------------------
#: The card's state line, with its emoji.
CARD_AWAITING_APPROVAL = ":hourglass_flowing_sand: waiting for approval"
CARD_APPROVED_AND_QUEUED = ":inbox_tray: approved and queued"
CARD_QUEUED = ":inbox_tray: queued"
CARD_RUNNING = ":gear: running"
CARD_SUCCEEDED = ":white_check_mark: done"
CARD_FAILED = ":x: failed"
CARD_CANCELLED = ":no_entry_sign: cancelled"
CARD_DENIED = ":no_entry: denied"
CARD_EXPIRED = ":alarm_clock: expired: nobody approved in time"
CARD_ASKS = "{requester} asks: {command} on *{cluster}*"
CARD_STATE_DETAIL = "{state}: {detail}"
CARD_NEEDS = "*Needs* {needed}; expires {expires}."
CARD_APPROVED_BY = "*Approved by* {who} ({have}/{need})"
CARD_APPROVER = "{user} at {time}"
CARD_APPROVER_REASON = "{user} at {time} ({reason})"
CARD_WARNING = ":warning: {flag} {warning}"
CARD_WARN_DISABLE_EVICTION = (
    "deletes pods instead of evicting them: PodDisruptionBudgets are bypassed"
)
CARD_WARN_FORCE = "also deletes pods that no controller will re-create"
CARD_WARN_DELETE_EMPTYDIR_DATA = "deletes the data in emptyDir volumes"
CARD_CONFIRM_TITLE = "Approve this change?"
CARD_CONFIRM_TEXT = "{command} will run on the cluster once approved."
CARD_CONFIRM_YES = "Approve"
CARD_CONFIRM_NO = "Not yet"
CARD_BUTTON_APPROVE = "Approve"
CARD_BUTTON_DENY = "Deny"
CARD_BUTTON_CANCEL = "Cancel"
CARD_CONTEXT = "Job {job_id} · cluster {cluster} · policy: {decision}"
CARD_FALLBACK = "{requester} asks: {command} on {cluster} ({state})"
#: The card's last line once the job has run.
CARD_DONE_IN = "in {duration}; output in the thread"
#: The drain plan on the card, for approvers.
PLAN_CARD_HEAD = "*Plan:* {counts}"
PLAN_CARD_COUNT = "{fate} {count}"
PLAN_CARD_COUNT_SEPARATOR = " · "
PLAN_CARD_BLOCKED = "• blocked: {pod}: {message}"
PLAN_CARD_DATA_LOST = "• data lost: {pod}: {loss}"
PLAN_CARD_CAPACITY = "• capacity: *{capacity}* ({detail})"
#: Under a result: which job it is and who asked.
SLACK_JOB_CAPTION = "Job {job_id} · {command} · cluster *{cluster}* · requested by {requester}"

# --- images and runtime commands (issue 17: images, prune images, rmi, runtime) ---------------
HELP_IMAGES_SUMMARY = "a node's images (crictl's columns, what uses each, pinned), or per node"
HELP_IMAGES_DETAILS = (
    "    images NODE: IMAGE, TAG, IMAGE ID, SIZE as `crictl images` shows them, USED BY, PINNED,\n"
    "    and the image filesystem. images --all | -l SELECTOR: per node image count, bytes,\n"
    "    bytes a prune could free, and the nodes without a live node agent."
)
HELP_PRUNE_SUMMARY = "remove the images no container uses; `help prune` for the flags"
HELP_PRUNE_DETAILS = (
    "    prune images NODE | --all | -l SELECTOR [--dry-run] [--older-than 7d] [--keep RE]...\n"
    "    Never removes an image a container uses (running or exited), a pinned one, the\n"
    "    runtime's sandbox image, or one on a keep list (the policy's, and --keep RE2 patterns).\n"
    "    --older-than: only images whose config says they were built at least that long ago.\n"
    "    --dry-run removes nothing and is decided as `images`."
)
HELP_RMI_SUMMARY = "remove one image from a node; refused while a container uses it"
HELP_RUNTIME_SUMMARY = (
    "a node's pods, containers or a container's log from its runtime, even with the API server down"
)
HELP_RUNTIME_DETAILS = (
    "    runtime ps NODE: the pods and containers (`crictl pods`, `crictl ps -a`).\n"
    "    runtime logs NODE CONTAINER [--tail N]: the container's log (`crictl logs`), by id,\n"
    "    id prefix or name; secrets are masked on the node."
)
IMAGES_ONE_SCOPE = "{usage} takes one of NODE, `--all` or `-l SELECTOR`, but got {given}."
IMAGES_TOO_MANY_KEEPS = "{count} `--keep` patterns is too many; the limit is {limit}."
INVALID_AGE = "{setting} is not a duration (examples: 12h, 7d, 1d12h)."
PRUNE_NEEDS_IMAGES = "`prune` removes images only: write {example}. Usage: {usage}."
RMI_BAD_IMAGE = (
    "{image} is not an image reference or id: use letters, digits and `. _ - / : @` only, "
    "at most {limit} characters, as `/k8s images NODE` shows them."
)
RUNTIME_WHICH = "`runtime` takes `ps` or `logs`, not {word}. Usage: {usage}."
RUNTIME_BAD_CONTAINER = (
    "{container} is not a container id or name: use letters, digits, `.`, `_` and `-`, "
    "at most {limit} characters."
)
IMAGES_COUNT = plural(one="{count} image", other="{count} images")
IMAGES_NODES = plural(one="{count} node", other="{count} nodes")
IMAGES_NONE = "{node} has no images."
IMAGES_NODE_SUMMARY = "{images} on {node}, {size} in all."
IMAGES_SANDBOX_NOTE = (
    "{images}: the runtime's sandbox (pause) image; every pod needs it, and prunes never remove it."
)
IMAGES_FS_LINE = "Image filesystem {mountpoint}: {details}."
IMAGES_FS_USED = "{used} used"
IMAGES_FS_INODES = plural(one="{count} inode used", other="{count} inodes used")
IMAGES_FS_CAPACITY = "{available} free of {capacity}"
IMAGES_FS_NO_CAPACITY = (
    "capacity unknown (CRI reports none, and the node agent cannot see this filesystem)"
)
IMAGES_FS_UNKNOWN = "The runtime reported no image filesystem."
IMAGES_AGENT_LINE = "{runtime} {version} on {node}; node agent last heard {age} ago."
IMAGES_FLEET_SUMMARY = "{nodes}: {images}, {size}; a prune could free {reclaimable}."
IMAGES_NOT_REACHED = "Not reached:"
#: Why a node gave no answer; ``{detail}`` is IMAGES_DETAIL or empty.
IMAGES_DETAIL = " ({detail})"
IMAGES_NO_AGENT = (
    "{node}: no node agent is reporting from this node{detail}. Is the k8s-chatops node-agent "
    "DaemonSet scheduled there (its tolerations and node selector)?"
)
IMAGES_RUNTIME_UNREACHABLE = (
    "{node}: the node agent runs but cannot reach the container runtime's socket{detail}. Is "
    "the runtime up, and is its socket mounted into the agent?"
)
IMAGES_AGENT_LOST = (
    "{node}: the node agent stopped answering part-way (its heartbeat ended){detail}; it was "
    "probably restarted or killed."
)
IMAGES_NODE_GONE = "{node}: the node left the cluster while the command ran{detail}."
IMAGES_TIMEOUT = (
    "{node}: the node agent did not answer in time{detail}; nothing more was asked of it."
)
IMAGES_CONTAINER_NOT_FOUND = (
    "{node}: no container there matches what was asked{detail}. {listing} lists them."
)
IMAGES_CONTAINER_AMBIGUOUS = (
    "{node}: more than one container matches{detail}; give more of the id ({listing} lists them)."
)
IMAGES_PROBLEM_OTHER = "{node}: not reached ({reason}){detail}."
#: The line on a card when a job ended without doing everything (the result says why).
IMAGES_PRUNE_UNFINISHED = "not finished on {nodes}; the result in the thread says what was done"
IMAGES_RMI_NOT_REMOVED = "nothing was removed from {node} ({reason})"
IMAGES_NODE_UNANSWERED = "{node} gave no answer ({reason})"
PRUNE_KEPT = "kept {count}: {reasons}"
PRUNE_KEPT_IN_USE = "{count} in use"
PRUNE_KEPT_PINNED = "{count} pinned"
PRUNE_KEPT_SANDBOX = plural(one="{count} sandbox image", other="{count} sandbox images")
PRUNE_KEPT_KEEP = "{count} on a keep list"
PRUNE_KEPT_TOO_NEW = "{count} newer than --older-than"
PRUNE_KEPT_IN_USE_NOW = "{count} in use since the plan"
PRUNE_WHY_IN_USE = "in use"
PRUNE_WHY_PINNED = "pinned"
PRUNE_WHY_SANDBOX = "the runtime's sandbox image"
PRUNE_WHY_KEEP = "on a keep list"
PRUNE_WHY_TOO_NEW = "newer than --older-than"
PRUNE_WHY_IN_USE_NOW = "a container started using it after the plan"
PRUNE_PLAN_HEAD = "Plan: remove {images} ({size}) on {nodes}."
PRUNE_PLAN_NOTHING = (
    "Plan: nothing to remove; every image is in use, pinned, kept or newer than asked."
)
PRUNE_PLAN_NODE = "{node}: remove {images}, {size}"
PRUNE_PLAN_NODE_NOTHING = "{node}: nothing to remove"
PRUNE_PLAN_MORE = "… and {count} more"
PRUNE_PLAN_NOT_REACHED = "Not reached (nothing is removed there):"
PRUNE_DONE_HEAD = "Removed {images} ({size} freed) on {nodes}."
PRUNE_DRY_RUN_HEAD = "Dry run: would remove {images} ({size}) on {nodes}; nothing was removed."
PRUNE_NOTHING_REMOVED = "Nothing was removed."
PRUNE_NODE_REMOVED = "{node}: removed {images} ({size})"
PRUNE_NODE_WOULD_REMOVE = "{node}: would remove {images} ({size})"
PRUNE_NODE_FAILED = "{count} failed"
PRUNE_NODE_FS = "image filesystem {before} → {after} used"
PRUNE_ALREADY_REMOVED = (
    "Removed there before it stopped: {images}. Running the same prune again is safe: it "
    "removes only what is still unused."
)
PRUNE_NOTHING_REMOVED_YET = (
    "Nothing was removed there. Running the same prune again is safe: it removes only what is "
    "still unused."
)
PRUNE_OUTCOME_REMOVED = "removed"
PRUNE_OUTCOME_WOULD_REMOVE = "would remove"
PRUNE_OUTCOME_KEPT = "kept: {why}"
PRUNE_OUTCOME_FAILED = "failed: {error}"
RMI_REMOVED = "Removed {image} ({image_id}, {size}) from {node}."
RMI_FS = "Image filesystem: {before} → {after} used."
RMI_NOT_FOUND = "{node} has no such image; nothing was removed. {listing} lists its images."
RMI_IN_USE = (
    "Refused: {image} is in use on {node} by {users}; nothing was removed. The runtime itself "
    "would have removed it: stop those containers first."
)
RMI_PINNED = "Refused: {image} is pinned on {node} (the runtime keeps it); nothing was removed."
RMI_SANDBOX_IMAGE = (
    "Refused: {image} is the runtime's sandbox (pause) image on {node}; every pod needs it, so "
    "nothing was removed."
)
RMI_USERS_MORE = "{users} and {count} more"
RUNTIME_PODS = plural(one="{count} pod", other="{count} pods")
RUNTIME_PS_SUMMARY = "{pods} and {containers} on {node}, as its runtime reports them."
RUNTIME_PS_PODS = "Pods (crictl pods):"
RUNTIME_PS_CONTAINERS = "Containers (crictl ps -a):"
RUNTIME_LOGS_SUMMARY = (
    "{lines} of container {container} ({container_id}) on {node}, read by the node agent; {masked}."
)
RUNTIME_LOGS_OMITTED = plural(
    one="{count} earlier line was left out (--tail or the output caps).",
    other="{count} earlier lines were left out (--tail or the output caps).",
)
RUNTIME_LOGS_EMPTY = "The log is empty."
# --- helm chart and container image (sandbox tools)
HELM_BUILDING = "Building helm into {target} (first time only; takes a few minutes)"
IMAGE_TOOL_MISSING = "Building the image needs {tool}, which is not on PATH."
IMAGE_NEEDS_ROOT = "Building the image needs root (debootstrap, chroot and mount)."
IMAGE_STEP_FAILED = "Building the image failed at {step} (exit code {code}); its output is above."
IMAGE_BUILDING_ROOTFS = "Building the Debian root filesystem into {target} (first time only)"
IMAGE_BUILT = "Image {ref} written to {path}"

# --- sandbox node runtime
SANDBOX_RUNTIME_UNKNOWN_NODE = "{name} has no runtime in the sandbox; the nodes are {names}."
SANDBOX_RUNTIME_PATH_TOO_LONG = (
    "The runtime socket path {path} is longer than {limit} characters (a unix socket limit);"
    " use a shorter K8S_CHATOPS_SANDBOX_RUN_DIR."
)
SANDBOX_RUNTIME_TOOL_FAILED = "Sandbox runtime: {tool} {args} failed: {detail}"
SANDBOX_RUNTIME_IMAGE_MISSING = "Sandbox runtime: seed image {image} is missing on {node}."
SANDBOX_RUNTIME_NOT_RUNNING = (
    "The sandbox's node runtime is not running; start it with `k8s-chatops-sandbox up`."
)
SANDBOX_RUNTIME_STARTED = "Node runtimes: {nodes}"
# --- node agent ----------------------------------------------------------------------------------
AGENT_NONE = (
    "No node agent answers on {node}: is the node agent's DaemonSet scheduled there, and can it "
    "reach Redis?"
)
AGENT_LOST = (
    "The node agent on {node} stopped answering in the middle of the work; what it finished is "
    "listed, and running the command again is safe."
)
AGENT_RUNTIME_UNREACHABLE = (
    "The node agent on {node} cannot reach the container runtime's socket "
    "(K8S_CHATOPS_RUNTIME_ENDPOINT): is the runtime running, and is its socket mounted?"
)
AGENT_TIMEOUT = "The node agent on {node} did not finish within {seconds} s."
AGENT_REFUSED = "The node agent on {node} could not do that: {reason}."
AGENTS_NOT_CONNECTED = (
    "This worker is not connected to node agents, so it cannot run image or runtime commands."
)
IMAGES_BAD_KEEP = "The keep pattern {pattern} is not a valid regular expression: {reason}."
IMAGES_PROGRESS_REMOVED = "{node}: removed {image}"
IMAGES_PROGRESS_NODE = "{node}: finished ({done} of {total} nodes)"
IMAGES_NOT_A_NODE = "{node} is not a node of this cluster (any more)."

# --- approved prunes are held to their plan (issue 17: the approval guarantee) ----------------
PRUNE_KEPT_NOT_APPROVED = "{count} not in the approved plan"
PRUNE_WHY_NOT_APPROVED = (
    "not in the plan the approvers saw (it became removable after the plan was shown)"
)
PRUNE_NOT_IN_PLAN = (
    "Not in the approved plan, so left untouched: {nodes}. Ask for a new prune to see their plan."
)
PRUNE_PLAN_BOUND = (
    "Approving allows these removals and no others: an image that becomes unused later stays."
)
RMI_NOT_APPROVED = (
    "Not removed: {image} ({image_id}) on {node} is not the image the approvers saw in the plan "
    "(the name points to another image now, or the plan had nothing to remove); nothing was "
    "removed. Ask again to see a new plan."
)
IMAGES_AGENT_OUTDATED = (
    "{node}: the node agent did not understand the task{detail}: it is older than this worker. "
    "Nothing was done there; upgrade the node-agent DaemonSet to the worker's version."
)
APPROVAL_PLAN_NOT_SHOWN = (
    "Job {job_id} can't be approved yet: its plan (what it would remove) is not on its card, "
    "and an approved job removes only what its plan shows. Approve it once the plan is shown; "
    "if none appears, no worker could plan it: deny it and ask again."
)

# --- describe (issue 20: describe node, describe pod) -------------------------------------------
HELP_DESCRIBE_SUMMARY = (
    "is this node or pod OK? `kubectl describe`'s facts, in one message and its thread"
)
DESCRIBE_NO_POD = "There is no pod {name} in namespace {namespace}."
DESCRIBE_NO_NAMESPACE = "There is no namespace {namespace} in this cluster."
DESCRIBE_WHICH = "{usage}: describe a `node` or a `pod`, not {word}."
DESCRIBE_NODE_READY = "Node {name} is {status} for {age}{reason}, {scheduling}."
DESCRIBE_SCHEDULABLE = "schedulable"
DESCRIBE_CORDONED = "cordoned (unschedulable)"
DESCRIBE_NODE_PODS = plural(
    one="{count} pod of at most {max_pods}; requests: cpu {cpu} ({cpu_percent}%), "
    "memory {memory} ({memory_percent}%).",
    other="{count} pods of at most {max_pods}; requests: cpu {cpu} ({cpu_percent}%), "
    "memory {memory} ({memory_percent}%).",
)
DESCRIBE_PODS_HIDDEN = "Its pods are not visible to the worker's account, so requests are unknown."
DESCRIBE_LEASE_FRESH = (
    "Heartbeat: Lease renewed {age} ago, within the {grace}s node-monitor grace period (assumed)."
)
DESCRIBE_LEASE_LATE = (
    "Heartbeat late: Lease last renewed {age} ago, past the {grace}s node-monitor grace period "
    "(assumed)."
)
DESCRIBE_LEASE_NONE = "Heartbeat unknown: the node has no Lease in kube-node-lease."
DESCRIBE_CONDITION_PROBLEM = "{type} is {status} for {age}{reason}."
DESCRIBE_EVICTION_TAINTED = plural(
    one="{count} pod is evicted {when} ({taint} since {age} ago; {seconds}s toleration).",
    other="{count} pods are evicted {when} ({taint} since {age} ago; {seconds}s toleration).",
)
DESCRIBE_EVICTION_AT = "at {time}"
DESCRIBE_EVICTION_NOW = "now"
DESCRIBE_EVICTION_PENDING = plural(
    one="{count} pod is evicted {seconds}s after the {taint} taint is added (not yet).",
    other="{count} pods are evicted {seconds}s after the {taint} taint is added (not yet).",
)
DESCRIBE_EVICTION_NEVER = plural(
    one="{count} pod tolerates {taint} for ever and stays.",
    other="{count} pods tolerate {taint} for ever and stay.",
)
DESCRIBE_TAINTS = "Taints: {taints}."
DESCRIBE_EVENTS_WARNINGS = plural(
    one="{count} warning event; the last: {reason} {age} ago.",
    other="{count} warning events; the last: {reason} {age} ago.",
)
DESCRIBE_POD_HEADLINE = "Pod {name} in {namespace} is {status} on {node}, {ready} containers ready."
DESCRIBE_POD_NOT_SCHEDULED = "no node yet"
DESCRIBE_POD_RESTARTS = "{container}: {restarts} restarts, {state}{reason}."
DESCRIBE_POD_STARTED = "Started {age} ago; IP {ip}; controlled by {controller}."
# --- get pods / get events
GET_NAMESPACE_NOT_FOUND = (
    "There is no namespace {namespace} on this cluster. Check its name; `get pods -A` lists "
    "the pods of every namespace."
)
GET_NO_RESOURCES = "No resources found"
GET_NO_RESOURCES_IN = "No resources found in {namespace} namespace."
GET_NO_EVENTS = "No events found."
GET_NO_EVENTS_IN = "No events found in {namespace} namespace."
GET_PODS_SUMMARY = "Pods: {total} ({counts})."
GET_EVENTS_SUMMARY = "Events: {total} ({counts})."
GET_EVENTS_BAD_TYPE = "{value} is not an event type: `--types` takes Normal or Warning."
GET_EVENTS_BAD_FOR = (
    "{value} is not KIND/NAME: `--for` takes a pod, node, deployment, statefulset, daemonset, "
    "replicaset, job or service and its name (`--for pod/web-0`)."
)

# --- node health (get nodes -o wide / -l / --problems; sandbox node) ---------------------------
NODE_PROBLEM_NOT_READY = "NotReady for {age} ({reason})"
NODE_PROBLEM_UNKNOWN = "Unknown for {age} ({reason})"
NODE_PROBLEM_PRESSURE = "{condition} for {age}"
NODE_PROBLEM_HEARTBEAT_LATE = "heartbeat late: Lease renewed {age} ago (grace {grace})"
NODE_PROBLEM_NO_LEASE = "no heartbeat: the node has no Lease"
NODE_PROBLEM_CORDONED = "cordoned for {age}"
NODE_PROBLEM_CORDONED_SINCE_UNKNOWN = "cordoned (since when is not recorded)"
NODE_PROBLEM_FULL = "no room for pods: {count}/{limit}"
NODE_PROBLEM_NO_REASON = "no reason given"
NODE_PROBLEM_AGE_UNKNOWN = "an unknown time"
NODE_PROBLEMS_SUMMARY = "{count} of {total} nodes need a look."
NODE_PROBLEMS_NONE = "No problems on {total} nodes."
NODE_PROBLEMS_ONLY = "{flag} only means something with `--problems`."
SANDBOX_NODE_HEALTH_SET = "Node {name}: {state}."
NODE_LIST_SUMMARY = "{count} nodes: {statuses}."

# Keep this last: it makes every entry above a Message that says itself in the request's
# language.
register(globals())

#: Permissions better said in words than as a verb on a subresource.
KUBE_SPECIAL_ACTIONS = {
    ("create", "pods/eviction"): KUBE_EVICT_PODS,
    ("get", "pods/log"): KUBE_READ_POD_LOGS,
    ("get", "nodes/proxy"): KUBE_READ_NODE_LOGS,
}
