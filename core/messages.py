"""Every sentence a person reads, in one catalogue.

Keeping user-facing text here means it can be reviewed in one sitting and translated later;
code refers to these names and fills in the ``{placeholders}``. Where kubectl has a wording
people know, the wording is kubectl's.
"""

from __future__ import annotations

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
POLICY_OUTSIDE_WINDOW = "changes are only allowed in the change window(s): {windows}."
POLICY_RATE = "you have reached the limit of {count} changes per {per}; try again later."
POLICY_UNSCHEDULABLE_LIMIT = (
    "at most {limit} node(s) may be unschedulable at once and {now} already are."
)
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
WHOAMI = "You are {user}. Roles: {roles}. Groups: {groups}. You may: {verbs}."
POLICY_FILE_MISSING = "Policy file {path} does not exist (setting K8S_CHATOPS_POLICY_FILE)."
POLICY_FILE_INVALID = "Policy file {path} is not valid: {detail}"

# --- Jobs and queue -------------------------------------------------------------------------------
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
JOB_CAP_REACHED = (
    "Refused: at most {cap} node(s) may be out of service because of k8s-chatops at once, and "
    "{holders} already is. {node} was not touched. Uncordon a node first, or raise "
    "K8S_CHATOPS_MAX_DISRUPTED_NODES."
)
JOB_WINDOW_CLOSED = (
    "Refused: the change window closed at {closed} before this job could start; nothing was "
    "changed. Ask again inside a change window."
)
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
CLUSTERS_UNSERVED = "No worker for cluster {cluster} is running; {waiting} job(s) wait for one."
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
KUBE_ANSWER_LOGGED = "a {status} answer, logged as {incident}"
KUBE_NOT_ALLOWED = "{actor} is not allowed to {action}"
KUBE_ACTOR_WORKER = "the worker"
KUBE_ACTOR_REQUESTER = "your identity in the cluster ({user})"
KUBE_ACTION = "{verb} {resource}"
KUBE_IN_NAMESPACE = "{action} in namespace {namespace}"
#: Permissions better said in words than as a verb on a subresource.
KUBE_SPECIAL_ACTIONS = {
    ("create", "pods/eviction"): "evict pods",
    ("get", "pods/log"): "read the logs of pods",
    ("get", "nodes/proxy"): "read node logs (nodes/proxy)",
}
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

# --- Drain -------------------------------------------------------------------------------------
PLAN_PDB_BLOCKS = (
    "{pdb} allows {allowed} disruption(s) now, so {count} eviction(s) will wait: {pods}"
)
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
PLAN_HEADER = "Plan for draining {node} ({pods} pods on it):"
DRAIN_DONE = (
    "Drained {node} in {seconds:.1f}s: {removed} pods removed, {ignored} left in place. "
    "It stays cordoned; to bring it back: /k8s uncordon {node}"
)
DRAIN_FAILED = (
    "Drain of {node} stopped after {seconds:.1f}s: {removed} pods removed, {failed} error(s). "
    "{node} stays cordoned; to bring it back: /k8s uncordon {node}"
)
DRAIN_DRY_RUN = (
    "Dry run ({mode}) for {node}: {count} pods would be removed, {ignored} left in place; "
    "nothing was changed."
)
DRAIN_CANCELLED = "Drain of {node} cancelled; it stays cordoned. Pods left on it: {left}"
INVALID_DURATION = "{setting} is not a duration (examples: 0, 90s, 5m, 1h30m)."
INVALID_FLAG_VALUE = "{setting}: {detail}."
FLAG_NEEDS_VALUE = "{flag} needs a value, e.g. {example}."
FLAG_TAKES_NO_VALUE = "{flag} is a switch and takes no value, or {forms}."

# --- Selectors (``-l``, ``--pod-selector``, ``--field-selector``, policy node selectors) -------
INVALID_SELECTOR = "{setting} must be a valid {kind} selector: {detail}."
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

# --- Logs ----------------------------------------------------------------------------------------
LOGS_USAGE = "logs QUERY [-n NS] [-i REGEX] [--since 10m] [...]"
LOGS_HELP = (
    "    QUERY is a regex on pod names, or KIND/NAME (pod, deploy, sts, ds, rs, job, svc, rc).\n"
    "    -n NS (repeat), -A, -l SELECTOR, --field-selector S, --node NODE, -c/-E CONTAINER-RE,\n"
    "    --exclude-pod RE, --init-containers=false, --container-state running|waiting|...,\n"
    "    --since 10m (0: all), --tail N, -i/-e LINE-RE (repeat), -t, -o default|raw|json,\n"
    "    --max-log-requests N, -p (previous run). Secrets are masked.\n"
    "    Node logs: logs node/NODE --query kubelet [--since D] [--tail N] [-i RE]"
)
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
LOGS_NO_LINES = "No log lines in that window. Widen it with `--since` (for example `--since 1h`)."
LOGS_NO_MATCH = "None of the {fetched} lines matched the filters; loosen `-i`/`-e`."
LOGS_TRUNCATED = (
    "Truncated: showing the newest {shown} of {matched} lines (cap: {cap}). Narrow the query "
    "with `--since`, `--tail`, `-i REGEX` or `-c CONTAINER`."
)
LOGS_FAILURES = "{count} container(s) could not be read: {details}"
#: Appended to a log line longer than K8S_CHATOPS_LOGS_MAX_LINE_BYTES, in place of its rest.
LOGS_LINE_CUT = " … [line cut at {limit} bytes]"
LOGS_EXCLUDED_NAMESPACES = "Left out by policy: {namespaces}."
