"""简体中文: every sentence of ``core/messages.py``, under the same name, with the same
``{placeholders}``.

The words are the maintenance guide's (``shared/seed``): 节点 node, 排空 drain, 驱逐 evict,
封锁 cordon, 恢复调度 uncordon, 不可调度 unschedulable, 污点 taint, 容忍 tolerate, 名字空间
namespace, 控制器 controller; and Slack's own: 频道 channel, 消息列 thread. Kubernetes kinds and
fields (Pod, PodDisruptionBudget, DaemonSet, spec.nodeName) stay as the API spells them, and
kubectl's own lines (``messages.KUBECTL_VERBATIM``) are not here at all: every language shows
them as kubectl prints them. ``tests/unit/test_catalogues.py`` fails when a name is missing here
or its placeholders differ; CONTRIBUTING.md says how a new command adds its sentences.
"""

from __future__ import annotations

# --- Command grammar -------------------------------------------------------------------------
EMPTY_COMMAND = "请在 /k8s 后输入命令，例如 `/k8s get nodes`。`/k8s help` 会列出所有命令。"
UNKNOWN_COMMAND = "{word} 不是我认识的命令。"
UNKNOWN_RESOURCE = "我无法 {verb} {word}。"
DID_YOU_MEAN = "你是想输入 {suggestion} 吗？"
SEE_HELP = "试试 `/k8s help`。"
MISSING_ARGUMENT = "{usage}：缺少 {what}。"
TOO_MANY_ARGUMENTS = "{usage} 不接受更多参数，但收到了 {extra}。"
UNKNOWN_FLAG = "{command} 没有选项 {flag}。"
BAD_QUOTING = "无法解析该命令：{detail}。"
INVALID_NODE_NAME = (
    "{name} 不是有效的节点名称：{reason}。节点名称由小写字母、数字、'-' 和 '.' 组成，"
    "以字母或数字开头和结尾，最长 253 个字符。"
)
BAD_COUNT = "{value} 不是 1 到 {limit} 之间的数目。"
BAD_JOB_ID = "{value} 不是任务编号；任务编号是数字，例如 `/k8s cancel 42`。"
COMMAND_TOO_LONG = "该命令长 {length} 个字符，上限为 {limit}。"

# --- Help ---------------------------------------------------------------------------------------
HELP_HEADER = "k8s-chatops：在聊天中维护 Kubernetes。命令："
HELP_FOOTER = (
    "会改动集群的命令先经策略检查，再作为任务由 worker 执行。\n"
    "在命令前指定集群：`/k8s -C prod get nodes`（`clusters` 列出所有集群）。"
)
HELP_HELP_SUMMARY = "列出命令，或解释某个命令"
HELP_WHOAMI_SUMMARY = "你的角色、所在的组，以及你可以做什么"
HELP_GET_SUMMARY = "列出节点，同 `kubectl get nodes`"
HELP_VERSION_SUMMARY = "集群的 Kubernetes 版本，同 `kubectl version`"
HELP_CORDON_SUMMARY = "封锁节点（标记为不可调度）"
HELP_UNCORDON_SUMMARY = "恢复节点调度（标记为可调度）"
HELP_JOBS_SUMMARY = "进行中和最近的任务：状态、申请人、目标、时长"
HELP_CANCEL_SUMMARY = "在安全点停止排队中或运行中的任务"
HELP_AUDIT_SUMMARY = "审计记录的最后 N 条（默认 20）"
HELP_APPROVE_SUMMARY = "批准他人申请的变更"
HELP_DENY_SUMMARY = "拒绝等待批准的变更"
HELP_LOGS_SUMMARY = "Pod 的最近日志，查询方式同 stern；`help logs` 查看选项"
HELP_LOGS_DETAILS = (
    "    QUERY 是匹配 Pod 名称的正则，或 KIND/NAME（pod、deploy、sts、ds、rs、job、svc、rc）。\n"
    "    -n NS（可重复）、-A、-l SELECTOR、--field-selector S、--node NODE、"
    "-c/-E CONTAINER-RE、\n"
    "    --exclude-pod RE、--init-containers=false、--container-state running|waiting|...、\n"
    "    --since 10m（0：全部）、--tail N、-i/-e LINE-RE（可重复）、-t、-o default|raw|json、\n"
    "    --max-log-requests N、-p（上一次运行）。密钥会被遮盖。\n"
    "    节点日志：logs node/NODE --query kubelet [--since D] [--tail N] [-i RE]"
)
HELP_DRAIN_SUMMARY = "先封锁，再像 `kubectl drain` 一样驱逐所有 Pod（选项相同）"

# --- The terminal chat -------------------------------------------------------------------------
SHELL_BANNER = "k8s-chatops 终端，当前用户 {user}。输入 `help` 查看命令，输入 `exit` 退出。"
SHELL_AS_USAGE = "用法：`:as USER COMMAND`，例如 `:as U0ONCALL02 /k8s approve 7`。"

# --- Policy --------------------------------------------------------------------------------------
DENIED = "你（{user}）不能执行 {verb}：{reason}"
DENIED_NO_ROLE_ALLOWS = (
    "你的角色（{roles}）都不允许 {verb}。请集群管理员在策略文件中授予你具有该权限的角色。"
)
DENIED_NO_ROLE = "你在策略文件中没有任何角色，而默认不允许任何操作。请集群管理员添加你。"
POLICY_RULE_DENIES = "策略规则 {rule} 禁止此操作。"
POLICY_OUTSIDE_WINDOW = "只允许在变更窗口内变更：{windows}。"
POLICY_RATE = "你已达到每 {per} {count} 次变更的上限，请稍后再试。"
POLICY_UNSCHEDULABLE_LIMIT = "同时最多允许 {limit} 个节点不可调度；当前不可调度：{now} 个。"
POLICY_ALLOWED_BY_ROLE = "由角色 {role} 允许"
POLICY_ALLOWED_BY_RULE = "由规则 {rule} 允许"
POLICY_ALLOWED_NEEDS = "{allowed}；需要 {needed}"
POLICY_OWN_JOB = "你自己的任务"
APPROVALS_NEEDED = "{count} 次批准（批准人：{approvers}；申请人本人不算），{within}内有效"
APPROVER_ROLE = "角色 {name}"
APPROVER_GROUP = "组 {name}"
APPROVER_SEPARATOR = "、"
APPROVE_OWN = "这是你自己申请的变更，必须由其他人批准。"
APPROVE_NOT_ELIGIBLE = "你不是此变更所需的批准人：{needed}。"
APPROVAL_NEEDED = (
    "任务 {job_id} 等待批准：需要 {needed}。批准人请输入 `/k8s approve {job_id}`"
    "（或 `/k8s deny {job_id}` 拒绝）。{expires} 过期。"
)
APPROVAL_RECORDED = "已记录任务 {job_id} 的批准 {have}/{need}。"
APPROVAL_COMPLETE = "任务 {job_id} 已由 {approvers} 批准，已排队：{command}"
APPROVAL_ALREADY = "你已经批准过任务 {job_id}；每人的批准只计一次。"
APPROVAL_NOT_WAITING = "任务 {job_id} 不在等待批准（当前状态：{state}）。"
APPROVAL_EXPIRED = "任务 {job_id} 在获得足够批准之前已于 {expires} 过期。"
APPROVAL_NOT_ALLOWED_NOW = (
    "任务 {job_id} 现在不能批准：如果 {requester} 现在提出该请求，会被拒绝：{reason}"
)
APPROVAL_REASON_REQUIRED = "批准任务 {job_id} 需要说明理由：`/k8s approve {job_id} REASON`。"
DENIAL_RECORDED = "任务 {job_id} 已被 {user} 拒绝{reason}；未执行任何操作。"
DENIAL_REASON = "（{reason}）"
WHOAMI = "你是 {user}。角色：{roles}。组：{groups}。你可以：{verbs}。"
WHOAMI_NONE = "无"
WHOAMI_NOTHING = "无"
POLICY_FILE_MISSING = "策略文件 {path} 不存在（设置项 K8S_CHATOPS_POLICY_FILE）。"
POLICY_FILE_INVALID = "策略文件 {path} 无效：{detail}"

# --- Jobs and queue -------------------------------------------------------------------------------
STATE_AWAITING_APPROVAL = "等待批准"
STATE_QUEUED = "排队中"
STATE_RUNNING = "运行中"
STATE_SUCCEEDED = "已成功"
STATE_FAILED = "已失败"
STATE_CANCELLED = "已取消"
STATE_DENIED = "已拒绝"
STATE_EXPIRED = "已过期"
QUEUED = "任务 {job_id} 已排队：{command}"
QUEUE_UNAVAILABLE = "无法连接任务队列（Redis），未执行任何操作。请稍后再试。"
JOB_FAILED = "任务 {job_id} 失败：{reason}"
JOB_CANCELLED = "任务 {job_id} 已取消。{reason}"
JOB_CRASHED = "任务 {job_id} 失败：worker 内部出错（已记录为 {incident}）。"
INTERNAL_ERROR = "我这边出了问题（已记录为 {incident}）；未做任何改动。"
JOB_NOT_FOUND = "没有任务 {job_id}（已结束的任务保留一段时间后会被删除）。"
JOB_NOT_IN_CHANNEL = "此频道中没有任务 {job_id}：任务只在提出它的频道中答复。"
JOB_UNREADABLE = (
    "无法读取任务 {job_id} 的记录（已记录为 {incident}）；它不会出现在列表中，也不会运行。"
)
JOB_CANCELLED_BEFORE_START = "在开始前已取消；未做任何改动。"
JOB_WAITING_FOR_LOCK = "等待中：{target} 正被任务 {holder} 修改；本任务将在其后运行。"
JOB_CAP_REACHED = (
    "已拒绝：因 k8s-chatops 而停止服务的节点同时最多 {cap} 个；当前停止服务：{holders}。"
    "未触碰 {node}。请先恢复某个节点的调度，或调高 K8S_CHATOPS_MAX_DISRUPTED_NODES。"
)
JOB_CAP_HOLDER = "{node}（任务 {job_id}）"
CANCEL_QUEUED = "任务 {job_id} 在开始前已取消；未做任何改动。"
CANCEL_RUNNING = "已请求取消：任务 {job_id} 将在下一个安全点停止。"
CANCEL_FINISHED = "任务 {job_id} 已经结束（{state}）；无需取消。"
JOB_WINDOW_CLOSED = (
    "已拒绝：变更窗口已于 {closed} 关闭，任务未能在此之前开始；未做任何更改。"
    "请在变更窗口内重新提交。"
)
NOT_YOUR_JOB = "任务 {job_id} 属于 {requester}；你需要 {verb} 权限才能这样做。"
NO_JOBS = "还没有任务。"
NO_AUDIT = "审计记录为空。"
BUTTON_NOT_A_JOB = "该按钮没有指向任务，未执行任何操作。"
WRONG_WORKSPACE = "此应用未安装在该工作区。"
JOB_TIMED_OUT = "{seconds} 秒后仍没有任务 {job_id} 的结果；它仍在排队或运行中。"

# --- Kubernetes -----------------------------------------------------------------------------------
LOGGED_AS = "（已记录为 {incident}）"
KUBE_API_ERROR = "Kubernetes API 拒绝了此请求（{status}）：{detail}"
KUBE_UNREACHABLE = "无法连接 Kubernetes API 服务器；此后未做任何改动（已记录为 {incident}）。"
KUBE_TIMEOUT = "Kubernetes API 服务器未及时响应；此后未做任何改动（已记录为 {incident}）。"
KUBE_SERVER_ERROR = (
    "Kubernetes API 服务器处理此请求失败（{status}）；此后未做任何改动（已记录为 {incident}）。"
)
KUBE_UNAUTHORIZED = "集群不接受 worker 的凭据；请集群管理员检查（已记录为 {incident}）。"
KUBE_FORBIDDEN = (
    "集群拒绝了此操作：{detail}。聊天请求同样受集群自身 RBAC 约束；"
    "请向集群管理员申请该权限（已记录为 {incident}）。"
)
KUBE_ANSWER_LOGGED = "一个 {status} 响应，已记录为 {incident}"
KUBE_NOT_ALLOWED = "{actor} 无权{action}"
KUBE_ACTOR_WORKER = "worker"
KUBE_ACTOR_REQUESTER = "你在集群中的身份（{user}）"
KUBE_ACTION = "执行 {verb} {resource}"
KUBE_IN_NAMESPACE = "{action}（名字空间 {namespace}）"
KUBE_EVICT_PODS = "驱逐 Pod"
KUBE_READ_POD_LOGS = "读取 Pod 日志"
KUBE_READ_NODE_LOGS = "读取节点日志（nodes/proxy）"
KUBE_UNKNOWN_KIND = "本机器人不处理 {kind} 类资源。"
KUBECONFIG_MISSING = "没有集群凭据：请设置 KUBECONFIG（或在集群内以服务账号运行）。"
KUBECONFIG_INVALID = "无法加载 kubeconfig {path}。"

# --- Drain -------------------------------------------------------------------------------------
PLAN_PDB_BLOCKS = "{pdb} 目前允许 {disruptions}，因此 {evictions}将等待：{pods}"
DISRUPTIONS = "{count} 次中断"
EVICTIONS = "{count} 次驱逐"
PLAN_MANY_PDBS = "{pod} 被多个 PodDisruptionBudget 覆盖（{pdbs}）：驱逐会失败"
PLAN_PINNED = "{workload} 用 spec.nodeName 把 Pod 固定在 {node} 上：新 Pod 会绕过封锁"
PLAN_TOLERATES = "{workload} 容忍 node.kubernetes.io/unschedulable 污点：其新 Pod 可能回到 {node}"
PLAN_POD_NEW = "{pod} 在计划之后出现在该节点上"
PLAN_POD_GONE = "{pod} 在计划之后离开了该节点"
PLAN_POD_FATE = "{pod}：计划为{before}，现在为{after}"
PLAN_PDB_CHANGED = "PodDisruptionBudget 的余量在计划之后发生了变化"
PLAN_CAPACITY_CHANGED = "剩余容量在计划之后发生了变化：{before} → {after}"
PLAN_HEADER = "排空 {node} 的计划（其上有 {pods} 个 Pod）："
PLAN_FATE_EVICT = "驱逐"
PLAN_FATE_DELETE = "删除"
PLAN_FATE_IGNORED = "忽略"
PLAN_FATE_SKIPPED = "跳过"
PLAN_FATE_BLOCKED = "受阻"
PLAN_GROUP_DELETE = "删除（不经驱逐，绕过 PDB）"
PLAN_GROUP_SKIPPED = "跳过（静态 Pod 或早已删除）"
PLAN_GROUP = "• {fate}（{count}）："
PLAN_POD = "    {pod}（{workload}）"
PLAN_POD_WHY = "    {pod}（{workload}）— {why}"
PLAN_CAPACITY_FITS = "足够"
PLAN_CAPACITY_TIGHT = "紧张"
PLAN_CAPACITY_DOES_NOT_FIT = "不足"
PLAN_CAPACITY_NOTHING_TO_PLACE = "没有需要在别处重建的 Pod"
PLAN_CAPACITY_NO_NODE = "没有其他可调度且 Ready 的节点"
PLAN_CAPACITY_NEED = "{count} 个 Pod 需要 {cpu} CPU、{memory} 内存"
PLAN_CAPACITY_BUSIEST = "{need}；{node} 将达到 CPU {cpu:.0%}、内存 {memory:.0%}"
PLAN_LOSS_EMPTYDIR = "emptyDir 数据会被删除"
PLAN_LOSS_BARE_POD = "裸 Pod：没有控制器会重建它"
PLAN_DATA_LOST = "• 数据丢失：{losses}"
PLAN_DATA_LOSS = "{pod}：{loss}"
PLAN_PDB = "• PDB：{text}"
PLAN_CAPACITY = "• 容量：{capacity}（{detail}）"
PLAN_NO_ROOM = "{capacity}；放不下 {workloads}"
PLAN_RISK = "• 风险：{risk}"
PLAN_CHANGED = "• 计划之后的变化：{change}"
PODS = "{count} 个 Pod"
ERRORS = "{count} 个错误"
DRAIN_DONE = (
    "已排空 {node}，用时 {duration}：已移除 {removed}，{ignored} 个保留在原处。"
    "该节点保持封锁；恢复调度：/k8s uncordon {node}"
)
DRAIN_FAILED = (
    "{node} 的排空在 {duration} 后停止：已移除 {removed}，{failed}。"
    "{node} 保持封锁；恢复调度：/k8s uncordon {node}"
)
DRAIN_DRY_RUN = "{node} 的试运行（{mode}）：将移除 {count}，{ignored} 个保留在原处；未做任何改动。"
DRAIN_CANCELLED = "{node} 的排空已取消；该节点保持封锁。仍在其上的 Pod：{left}"
DRAIN_NONE_LEFT = "无"
INVALID_DURATION = "{setting} 不是时长（例如：0、90s、5m、1h30m）。"
INVALID_FLAG_VALUE = "{setting}：{detail}。"
FLAG_NEEDS_VALUE = "{flag} 需要一个值，例如 {example}。"
FLAG_TAKES_NO_VALUE = "{flag} 是开关，不接受值，或写作 {forms}。"
FLAG_AT_LEAST = "不能小于 {bound}"
FLAG_AT_MOST = "不能大于 {bound}"
FLAG_TOO_LONG = "超过 {limit} 个字符"
FLAG_NOT_A_NUMBER = "不是整数"
FLAG_NOT_FINITE = "不是有限的时长"
FLAG_ONE_OF = "必须是以下之一：{choices}"

# --- Selectors ---------------------------------------------------------------------------------
INVALID_SELECTOR = "{setting} 必须是有效的{kind}选择算符：{detail}。"
SELECTOR_KIND_LABEL = "标签"
SELECTOR_KIND_FIELD = "字段"
SELECTOR_TOO_LONG = "长 {length} 个字符，上限为 {limit}"
SELECTOR_EXPECTED = "在 {after} 之后应为 {expected}，实际为 {found}"
SELECTOR_EXPECTED_FIRST = "开头应为 {expected}，实际为 {found}"
SELECTOR_THE_END = "结尾"
SELECTOR_A_KEY = "标签键或 `!KEY`"
SELECTOR_COMMA_OR_END = "`,` 或结尾"
SELECTOR_AN_OPERATOR = "`=`、`==`、`!=`、`in` 或 `notin`"
SELECTOR_OPEN_PARENTHESIS = "`(`"
SELECTOR_A_VALUE = "值、`,` 或 `)`"
SELECTOR_A_VALUE_OR_END = "值、`,` 或结尾"
SELECTOR_COMMA_OR_CLOSE = "`,` 或 `)`"
SELECTOR_NO_COMPARISON = (
    "{operator} 比较的是数字，而 LabelSelector 无法表示；请使用 `=`、`!=`、`in (…)` 或 `notin (…)`"
)
SELECTOR_BAD_KEY = "{key} 不是有效的标签键：{reason}"
SELECTOR_BAD_VALUE = "{value} 不是有效的标签值：{reason}"
FIELD_SELECTOR_NO_OPERATOR = (
    "{term} 没有运算符；条件的形式为 FIELD=VALUE、FIELD==VALUE 或 FIELD!=VALUE"
)
FIELD_SELECTOR_BAD_PATH = (
    "{path} 不是字段路径：由 '.' 连接的字母和数字，例如 status.phase 或 spec.nodeName"
)
FIELD_SELECTOR_UNESCAPED = "在 {term} 中，值里的 {char} 必须写作 {escaped}"
FIELD_SELECTOR_BAD_ESCAPE = (
    "在 {term} 中，{sequence} 不是转义序列；转义序列为 `\\\\`、`\\,` 和 `\\=`"
)

# --- Label keys and values ------------------------------------------------------------------------
NAME_ITSELF = "它"
NAME_AFTER_PREFIX = "'/' 之后的名称"
NAME_IS_EMPTY = "{part}为空"
NAME_TOO_LONG = "{part}长 {length} 个字符（上限为 {limit}）"
NAME_BAD_CHARACTERS = "{part}包含 {characters}；只允许字母、数字、'-'、'_' 和 '.'"
NAME_BAD_ENDS = "{part}必须以字母或数字开头和结尾"
KEY_TOO_MANY_SLASHES = "它包含多个 '/'（形式为 PREFIX/NAME 或 NAME）"
KEY_PREFIX_EMPTY = "'/' 之前的前缀为空"
KEY_BAD_PREFIX = "前缀 {prefix} 不是 DNS 子域名：{reason}"

# --- Settings ------------------------------------------------------------------------------------
SETTING_MISSING = "k8s-chatops：缺少设置项 {name}（请在环境变量中设置）。"
SETTING_INVALID = "k8s-chatops：设置项 {name} 无效：{detail}"
SETTING_EMPTY = "k8s-chatops：设置项 {name} 为空；{why}"
NEEDED_TO_CALL_SLACK = "机器人需要它来访问 Slack。"
NEEDED_TO_VERIFY_REQUESTS = "HTTP 模式需要它来验证请求来自 Slack。"
NEEDED_FOR_SOCKET_MODE = "Socket Mode 需要它来连接 Slack。"

# --- Sandbox -------------------------------------------------------------------------------------
SANDBOX_NO_GO = "沙箱由 Go 模块构建，但 PATH 中没有 `go`。"
SANDBOX_BUILD_FAILED = "构建沙箱模块 {module} 失败；go 的输出见上文。"
SANDBOX_BUILDING = "正在把沙箱二进制文件构建到 {target}（仅首次，需要一些时间）"
SANDBOX_COMPONENT_FAILED = "沙箱组件 {name} 未能变为健康状态（{why}）；参见 {log}"
SANDBOX_TIMEOUT = "等待沙箱中的 {what} 超时。"
SANDBOX_NOT_RUNNING = "沙箱没有运行；请用 `k8s-chatops-sandbox up` 启动。"
SANDBOX_ALREADY_RUNNING = "沙箱已在运行（API 服务器 {server}）。"
SANDBOX_STARTED = "沙箱运行中：API 服务器 {server}，kubeconfig {kubeconfig}"
SANDBOX_STOPPED = "沙箱已停止：{names}。"
SANDBOX_NOTHING_TO_STOP = "无需停止：沙箱没有运行。"
SANDBOX_RESET_DONE = "沙箱已重置为初始场景，用时 {seconds:.1f} 秒。"

# --- Logs ----------------------------------------------------------------------------------------
LOGS_BAD_REGEX = "{flag} {value} 不是可用的正则表达式：{detail}。"
LOGS_BAD_RESOURCE = (
    "无法从 {word} 类资源获取日志。请使用匹配 Pod 名称的正则，或以 `KIND/NAME` 形式使用 "
    "pod、deployment、statefulset、daemonset、replicaset、job、service、replicationcontroller"
    "（或其简称）之一。"
)
LOGS_BAD_NAME = "{name} 不是有效的 {kind} 名称：{reason}。"
LOGS_BAD_NAMESPACE = "{name} 不是有效的名字空间名称：{reason}。"
LOGS_BAD_STATE = (
    "`--container-state` {value} 不是状态；请使用 running、waiting、terminated 或 all。"
)
LOGS_NODE_FLAGS = "`logs node/NODE` 读取节点自身服务的日志；{flags} 只适用于 Pod 日志。"
LOGS_QUERY_NEEDS_NODE = "`--query` 用于节点日志：`/k8s logs node/NODE --query kubelet`。"
LOGS_NO_SELECTOR = "{kind}/{name} 没有选择算符，因此不选中任何 Pod。"
LOGS_RESOURCE_NOT_FOUND = "找不到 {kind}/{name}（名字空间：{where}）。"
LOGS_ANY_NAMESPACE = "任意"
LOGS_NOT_A_SERVICE = "不是服务名称"
LOGS_PROGRESS = "已读取 {done}/{total} 个容器"
LOGS_ALL_FAILED = "{count} 个容器都无法读取；第一个的错误：{detail}"
NODE_LOGS_UNAVAILABLE = (
    "{node} 上不能使用节点日志查询：集群关闭了 NodeLogQuery 特性门控，或 kubelet 的 "
    "enableSystemLogQuery 设置为 false。请集群管理员同时开启两者，或在节点上直接读取日志。"
    "（API 服务器的回复：{detail}）"
)
LOGS_DENIED_IN = "在名字空间 {namespace} 中：{reason}"
LOGS_DENIED_EVERYWHERE = "在所有名字空间中：{reason}请用 `-n` 指定名字空间。"
LOGS_NO_PODS = (
    "没有已启动的容器匹配 {command}。请检查名字空间（`-n`，或用 `-A` 表示全部）、"
    "查询（匹配 Pod 名称的正则，或 `KIND/NAME`，例如 `deploy/api`）"
    "以及容器筛选条件（`-c`、`-E`、`--container-state`）。"
)
LOGS_SUMMARY = "{lines}，来自 {pods} / {containers}，时间范围：{since}"
LOGS_SUMMARY_NODE = "{lines}，来自 {source}，时间范围：{since}"
LOGS_SINCE_START = "全部"
LOGS_LINES = "{count} 行"
LOGS_PODS = "{count} 个 Pod"
LOGS_CONTAINERS = "{count} 个容器"
LOGS_REDACTIONS = "{count} 处遮盖"
LOGS_MATCHED = "{count} 行匹配 {filters}"
LOGS_CAP_BYTES = "{count} 字节"
LOGS_SUMMARY_END = "。"
LOGS_NO_LINES = "该时间范围内没有日志。可用 `--since` 放宽范围（例如 `--since 1h`）。"
LOGS_NO_MATCH = "{fetched} 行日志都不匹配筛选条件；请放宽 `-i`/`-e`。"
LOGS_TRUNCATED = (
    "已截断：显示 {matched} 行中最新的 {shown} 行（上限：{cap}）。"
    "可用 `--since`、`--tail`、`-i REGEX` 或 `-c CONTAINER` 缩小查询范围。"
)
LOGS_FAILURES = "{count} 个容器无法读取：{details}"
LOGS_LINE_CUT = " … [该行在 {limit} 字节处截断]"
LOGS_EXCLUDED_NAMESPACES = "按策略排除：{namespaces}。"

# --- Times, durations -----------------------------------------------------------------------------
CLOCK_UTC = "UTC {time}"
TOOK_SECONDS = "{seconds:.1f} 秒"
DURATION_SECONDS = "{count} 秒"
DURATION_MINUTES = "{count} 分钟"
DURATION_HOURS = "{count} 小时"
DURATION_DAYS = "{count} 天"
LIST_SEPARATOR = "、"
CLAUSE_SEPARATOR = "；"

# --- Slack cards and captions ---------------------------------------------------------------------
CARD_AWAITING_APPROVAL = ":hourglass_flowing_sand: 等待批准"
CARD_APPROVED_AND_QUEUED = ":inbox_tray: 已批准，排队中"
CARD_QUEUED = ":inbox_tray: 排队中"
CARD_RUNNING = ":gear: 运行中"
CARD_SUCCEEDED = ":white_check_mark: 已完成"
CARD_FAILED = ":x: 失败"
CARD_CANCELLED = ":no_entry_sign: 已取消"
CARD_DENIED = ":no_entry: 已拒绝"
CARD_EXPIRED = ":alarm_clock: 已过期：无人及时批准"
CARD_ASKS = "{requester} 申请：{command}（集群 *{cluster}*）"
CARD_STATE_DETAIL = "{state}：{detail}"
CARD_NEEDS = "*需要* {needed}；{expires} 过期。"
CARD_APPROVED_BY = "*已批准* {who}（{have}/{need}）"
CARD_APPROVER = "{user}（{time}）"
CARD_APPROVER_REASON = "{user}（{time}，{reason}）"
CARD_WARNING = ":warning: {flag} {warning}"
CARD_WARN_DISABLE_EVICTION = "直接删除 Pod 而不是驱逐：会绕过 PodDisruptionBudget"
CARD_WARN_FORCE = "也会删除没有控制器重建的 Pod"
CARD_WARN_DELETE_EMPTYDIR_DATA = "会删除 emptyDir 卷中的数据"
CARD_CONFIRM_TITLE = "批准此变更？"
CARD_CONFIRM_TEXT = "批准后，{command} 将在集群上执行。"
CARD_CONFIRM_YES = "批准"
CARD_CONFIRM_NO = "暂不"
CARD_BUTTON_APPROVE = "批准"
CARD_BUTTON_DENY = "拒绝"
CARD_BUTTON_CANCEL = "取消"
CARD_CONTEXT = "任务 {job_id} · 集群 {cluster} · 策略：{decision}"
CARD_FALLBACK = "{requester} 申请：{command}，集群 {cluster}（{state}）"
CARD_DONE_IN = "用时 {duration}；输出见消息列"
PLAN_CARD_HEAD = "*计划：* {counts}"
PLAN_CARD_COUNT = "{fate} {count}"
PLAN_CARD_COUNT_SEPARATOR = " · "
PLAN_CARD_BLOCKED = "• 受阻：{pod}：{message}"
PLAN_CARD_DATA_LOST = "• 数据丢失：{pod}：{loss}"
PLAN_CARD_CAPACITY = "• 容量：*{capacity}*（{detail}）"
SLACK_JOB_CAPTION = "任务 {job_id} · {command} · 集群 *{cluster}* · 申请人 {requester}"

# --- Riding out control-plane blips (handlers/retry.py) ----------------------------------------
DRAIN_STOPPED_AFTER_CORDON = (
    "节点 {node} 在被封锁后停止了排空：{reason} {node} 仍处于封锁状态；"
    "恢复调度：/k8s uncordon {node}"
)
KUBE_CANCELLED_WAITING = (
    "在等待 Kubernetes API 服务器时被取消（{state}{for_how_long}）；此后未做任何更改。"
)
KUBE_FOR_HOW_LONG = "，已持续 {waited}"
KUBE_GAVE_UP_AFTER = (
    "已放弃等待 Kubernetes API 服务器：它{state}{for_how_long}，这是 {verb} 等待它的最长时间；"
    "此后未做任何更改（已记录为 {incident}）。"
)
KUBE_GAVE_UP_AT_DEADLINE = (
    "已在本任务的截止时间放弃等待 Kubernetes API 服务器：它{state}{for_how_long}；"
    "此后未做任何更改（已记录为 {incident}）。"
)
KUBE_GAVE_UP_RETRY_AFTER = (
    "已放弃等待 Kubernetes API 服务器：它要求等待 {wait}，超过本任务还能等待的时间；"
    "此后未做任何更改（已记录为 {incident}）。"
)
KUBE_RECOVERED = "API 服务器在 {waited} 后恢复响应"
KUBE_RETRYING = "API 服务器{state}已 {waited}，正在重试（{left} 后放弃）"
KUBE_STATE_FAILING = "返回 {status}"
KUBE_STATE_SILENT = "无响应"
KUBE_STATE_THROTTLING = "要求放慢请求（429）"
KUBE_STATE_UNREACHABLE = "无法连接"

# --- Sandbox components --------------------------------------------------------------------------
SANDBOX_COMPONENT_NOT_RUNNING = "沙箱组件 {name} 没有运行；启动它：k8s-chatops-sandbox start {name}"
SANDBOX_COMPONENT_PAUSED = (
    "{name} 已暂停（向 pid {pid} 发送 SIGSTOP）：连接保持打开，但不会有任何响应。"
    "继续运行：k8s-chatops-sandbox resume {name}"
)
SANDBOX_COMPONENT_RESTARTED = (
    "{name} 已重启：新进程（pid {pid}），在旧进程开始停止后 {seconds:.1f} 秒恢复健康。"
)
SANDBOX_COMPONENT_RESUMED = "{name} 已继续运行（向 pid {pid} 发送 SIGCONT）。"
SANDBOX_COMPONENT_STARTED = "{name} 正在运行（pid {pid}）。"
SANDBOX_COMPONENT_STOPPED = "{name} 已停止；重新启动：k8s-chatops-sandbox start {name}"
SANDBOX_COMPONENT_WAS_STOPPED = "{name} 本来就没有运行。"
SANDBOX_UNKNOWN_COMPONENT = "{name} 不是沙箱组件；组件有：{names}。"

# --- Clusters --------------------------------------------------------------------------------
HELP_CLUSTERS_SUMMARY = "我服务的集群：worker、Kubernetes 版本、节点数、排队的任务"
CLUSTERS_NONE = "还不知道任何集群：没有 worker 上报过，策略文件也没有声明集群。"
CLUSTERS_UNSERVED = "集群 {cluster} 没有运行中的 worker；等待 worker 的任务数：{waiting}。"
CLUSTER_API_SILENT = "{cluster} 的 worker 在上次上报时无法读取它的 API 服务器。"
CLUSTER_FLAG_FIRST = "请把 {flag} 放在命令之前，例如 `/k8s -C prod get nodes`。"
CLUSTER_NEEDS_VALUE = "{flag} 需要一个集群名，例如 `/k8s -C prod get nodes`。"
INVALID_CLUSTER_NAME = "{name} 不是有效的集群名：{reason}。"
JOB_ON_CLUSTER = "任务 {job_id}，集群 {cluster}："
JOB_ON_OTHER_CLUSTER = "任务 {job_id} 在集群 {cluster} 上，而不是 {named}；未执行任何操作。"
NO_CLUSTERS_LISTED = "无"
NO_CLUSTER_KNOWN = (
    "还不知道任何集群：没有 worker 上报过，策略文件也没有声明集群。"
    "请为你的集群启动一个 worker（`k8s-chatops worker`），或在 bot 上设置 K8S_CHATOPS_CLUSTER。"
)
NO_WORKER = "集群 {cluster} 没有运行中的 worker；任务会等待，直到有 worker 启动。"
QUEUED_ON = "（集群 {cluster}）"
TWO_CLUSTERS = "这里指定了两个集群：{first} 和 {second}；请只指定一个。"
UNKNOWN_CLUSTER = "我不知道名为 {name} 的集群。{hint}已知集群：{known}。"
WAITS_ON = "集群：{cluster}。"
WHICH_CLUSTER = "哪个集群？这里没有默认集群，请指定一个，例如 {example}。已知集群：{known}。"


# --- images and runtime commands (issue 17: images, prune images, rmi, runtime) ---------------
HELP_IMAGES_SUMMARY = "节点上的镜像（crictl 的列、谁在使用、是否固定），或按节点汇总"
HELP_IMAGES_DETAILS = (
    "    images NODE：IMAGE、TAG、IMAGE ID、SIZE（同 `crictl images`）、USED BY、PINNED，\n"
    "    以及镜像文件系统。images --all | -l SELECTOR：每个节点的镜像数、字节数、\n"
    "    清理可释放的字节数，以及没有在线节点代理的节点。"
)
HELP_PRUNE_SUMMARY = "删除没有容器使用的镜像；`help prune` 查看选项"
HELP_PRUNE_DETAILS = (
    "    prune images NODE | --all | -l SELECTOR [--dry-run] [--older-than 7d] [--keep RE]...\n"
    "    从不删除容器（运行中或已退出）正在使用的镜像、固定的镜像、运行时的沙箱镜像，\n"
    "    以及保留列表（策略中的，以及 --keep 给出的 RE2 模式）匹配的镜像。\n"
    "    --older-than：只删除镜像配置中构建时间早于该时长的镜像。\n"
    "    --dry-run 不删除任何镜像，按 `images` 判定。"
)
HELP_RMI_SUMMARY = "从节点删除一个镜像；有容器使用时拒绝"
HELP_RUNTIME_SUMMARY = "直接从容器运行时查看节点的 Pod、容器或容器日志，API 服务器宕机时也可用"
HELP_RUNTIME_DETAILS = (
    "    runtime ps NODE：Pod 和容器（`crictl pods`、`crictl ps -a`）。\n"
    "    runtime logs NODE CONTAINER [--tail N]：容器日志（`crictl logs`），可用 ID、\n"
    "    ID 前缀或名称指定；机密信息在节点上即被遮盖。"
)
IMAGES_ONE_SCOPE = "{usage} 只接受 NODE、`--all` 或 `-l SELECTOR` 中的一个，但收到了 {given}。"
IMAGES_TOO_MANY_KEEPS = "`--keep` 模式有 {count} 个，太多了；上限是 {limit} 个。"
INVALID_AGE = "{setting} 不是时长（例如：12h、7d、1d12h）。"
PRUNE_NEEDS_IMAGES = "`prune` 只清理镜像：请写成 {example}。用法：{usage}。"
RMI_BAD_IMAGE = (
    "{image} 不是镜像引用或 ID：只能使用字母、数字和 `. _ - / : @`，"
    "最多 {limit} 个字符，写法同 `/k8s images NODE` 的输出。"
)
RUNTIME_WHICH = "`runtime` 后面要跟 `ps` 或 `logs`，而不是 {word}。用法：{usage}。"
RUNTIME_BAD_CONTAINER = (
    "{container} 不是容器 ID 或名称：只能使用字母、数字、`.`、`_` 和 `-`，最多 {limit} 个字符。"
)
IMAGES_COUNT = "{count} 个镜像"
IMAGES_NODES = "{count} 个节点"
IMAGES_NONE = "{node} 上没有镜像。"
IMAGES_NODE_SUMMARY = "{node} 上有 {images}，共 {size}。"
IMAGES_SANDBOX_NOTE = "{images}：运行时的沙箱（pause）镜像；每个 Pod 都需要它，清理从不删除它。"
IMAGES_FS_LINE = "镜像文件系统 {mountpoint}：{details}。"
IMAGES_FS_USED = "已用 {used}"
IMAGES_FS_INODES = "已用 {count} 个 inode"
IMAGES_FS_CAPACITY = "共 {capacity}，可用 {available}"
IMAGES_FS_NO_CAPACITY = "容量未知（CRI 不报告容量，节点代理也看不到这个文件系统）"
IMAGES_FS_UNKNOWN = "运行时没有报告镜像文件系统。"
IMAGES_AGENT_LINE = "{node} 上的 {runtime} {version}；节点代理上次报告在 {age} 前。"
IMAGES_FLEET_SUMMARY = "{nodes}：{images}，共 {size}；清理可释放 {reclaimable}。"
IMAGES_NOT_REACHED = "未能联系到："
IMAGES_DETAIL = "（{detail}）"
IMAGES_NO_AGENT = (
    "{node}：这个节点上没有节点代理在报告{detail}。k8s-chatops node-agent DaemonSet "
    "是否调度到了该节点（检查它的容忍和节点选择器）？"
)
IMAGES_RUNTIME_UNREACHABLE = (
    "{node}：节点代理在运行，但连不上容器运行时的套接字{detail}。运行时是否正常，"
    "套接字是否挂载进了代理？"
)
IMAGES_AGENT_LOST = "{node}：节点代理中途停止了响应（心跳中断）{detail}；它可能被重启或杀掉了。"
IMAGES_NODE_GONE = "{node}：命令执行期间该节点离开了集群{detail}。"
IMAGES_TIMEOUT = "{node}：节点代理没有及时响应{detail}；没有再向它发出请求。"
IMAGES_CONTAINER_NOT_FOUND = "{node}：该节点上没有与请求匹配的容器{detail}。{listing} 会列出它们。"
IMAGES_CONTAINER_AMBIGUOUS = (
    "{node}：有多个容器匹配{detail}；请给出更长的 ID（{listing} 会列出它们）。"
)
IMAGES_PROBLEM_OTHER = "{node}：未能联系到（{reason}）{detail}。"
IMAGES_PRUNE_UNFINISHED = "在 {nodes} 上没有完成；消息列中的结果说明了已做的操作"
IMAGES_RMI_NOT_REMOVED = "没有从 {node} 删除任何镜像（{reason}）"
IMAGES_NODE_UNANSWERED = "{node} 没有响应（{reason}）"
PRUNE_KEPT = "保留 {count} 个：{reasons}"
PRUNE_KEPT_IN_USE = "{count} 个正在使用"
PRUNE_KEPT_PINNED = "{count} 个已固定"
PRUNE_KEPT_SANDBOX = "{count} 个沙箱镜像"
PRUNE_KEPT_KEEP = "{count} 个在保留列表中"
PRUNE_KEPT_TOO_NEW = "{count} 个比 --older-than 新"
PRUNE_KEPT_IN_USE_NOW = "{count} 个在计划之后开始被使用"
PRUNE_WHY_IN_USE = "正在使用"
PRUNE_WHY_PINNED = "已固定"
PRUNE_WHY_SANDBOX = "运行时的沙箱镜像"
PRUNE_WHY_KEEP = "在保留列表中"
PRUNE_WHY_TOO_NEW = "比 --older-than 新"
PRUNE_WHY_IN_USE_NOW = "计划之后有容器开始使用它"
PRUNE_PLAN_HEAD = "计划：删除 {images}（{size}），涉及 {nodes}。"
PRUNE_PLAN_NOTHING = "计划：没有可删除的镜像；所有镜像都在使用、已固定、被保留或比要求的新。"
PRUNE_PLAN_NODE = "{node}：删除 {images}，{size}"
PRUNE_PLAN_NODE_NOTHING = "{node}：没有可删除的镜像"
PRUNE_PLAN_MORE = "……还有 {count} 个"
PRUNE_PLAN_NOT_REACHED = "未能联系到（这些节点上不会删除任何镜像）："
PRUNE_DONE_HEAD = "已删除 {images}（释放 {size}），涉及 {nodes}。"
PRUNE_DRY_RUN_HEAD = "试运行：将删除 {images}（{size}），涉及 {nodes}；实际没有删除任何镜像。"
PRUNE_NOTHING_REMOVED = "没有删除任何镜像。"
PRUNE_NODE_REMOVED = "{node}：已删除 {images}（{size}）"
PRUNE_NODE_WOULD_REMOVE = "{node}：将删除 {images}（{size}）"
PRUNE_NODE_FAILED = "{count} 个失败"
PRUNE_NODE_FS = "镜像文件系统已用 {before} → {after}"
PRUNE_ALREADY_REMOVED = (
    "停止前已在该节点删除：{images}。再次运行同一清理是安全的：它只删除仍未被使用的镜像。"
)
PRUNE_NOTHING_REMOVED_YET = (
    "该节点上没有删除任何镜像。再次运行同一清理是安全的：它只删除仍未被使用的镜像。"
)
PRUNE_OUTCOME_REMOVED = "已删除"
PRUNE_OUTCOME_WOULD_REMOVE = "将删除"
PRUNE_OUTCOME_KEPT = "保留：{why}"
PRUNE_OUTCOME_FAILED = "失败：{error}"
RMI_REMOVED = "已从 {node} 删除 {image}（{image_id}，{size}）。"
RMI_FS = "镜像文件系统已用 {before} → {after}。"
RMI_NOT_FOUND = "{node} 上没有这个镜像；没有删除任何镜像。{listing} 会列出它的镜像。"
RMI_IN_USE = (
    "已拒绝：{image} 在 {node} 上正被 {users} 使用；没有删除任何镜像。"
    "运行时本身不会拒绝删除：请先停止这些容器。"
)
RMI_PINNED = "已拒绝：{image} 在 {node} 上已固定（运行时保留它）；没有删除任何镜像。"
RMI_SANDBOX_IMAGE = (
    "已拒绝：{image} 是 {node} 上运行时的沙箱（pause）镜像；每个 Pod 都需要它，因此没有删除。"
)
RMI_USERS_MORE = "{users} 等（另有 {count} 个）"
RUNTIME_PODS = "{count} 个 Pod"
RUNTIME_PS_SUMMARY = "{node} 上的 {pods} 和 {containers}，来自它的运行时。"
RUNTIME_PS_PODS = "Pod（crictl pods）："
RUNTIME_PS_CONTAINERS = "容器（crictl ps -a）："
RUNTIME_LOGS_SUMMARY = (
    "{node} 上容器 {container}（{container_id}）的 {lines}，由节点代理读取；{masked}。"
)
RUNTIME_LOGS_OMITTED = "更早的 {count} 行被省略（--tail 或输出上限）。"
RUNTIME_LOGS_EMPTY = "日志为空。"
# --- helm chart and container image (sandbox tools)
HELM_BUILDING = "正在把 helm 构建到 {target}（仅首次，需要几分钟）"
IMAGE_TOOL_MISSING = "构建镜像需要 {tool}，但 PATH 中没有它。"
IMAGE_NEEDS_ROOT = "构建镜像需要 root 权限（debootstrap、chroot 和 mount）。"
IMAGE_STEP_FAILED = "构建镜像在 {step} 步骤失败（退出码 {code}）；输出见上方。"
IMAGE_BUILDING_ROOTFS = "正在把 Debian 根文件系统构建到 {target}（仅首次）"
IMAGE_BUILT = "镜像 {ref} 已写入 {path}"

# --- sandbox node runtime
SANDBOX_RUNTIME_UNKNOWN_NODE = "沙箱中的 {name} 没有容器运行时；节点有：{names}。"
SANDBOX_RUNTIME_PATH_TOO_LONG = (
    "运行时套接字路径 {path} 超过 {limit} 个字符（unix 套接字的限制）；"
    "请使用更短的 K8S_CHATOPS_SANDBOX_RUN_DIR。"
)
SANDBOX_RUNTIME_TOOL_FAILED = "沙箱运行时：{tool} {args} 失败：{detail}"
SANDBOX_RUNTIME_IMAGE_MISSING = "沙箱运行时：节点 {node} 上缺少种子镜像 {image}。"
SANDBOX_RUNTIME_NOT_RUNNING = "沙箱的节点容器运行时未在运行；请用 `k8s-chatops-sandbox up` 启动。"
SANDBOX_RUNTIME_STARTED = "节点容器运行时：{nodes}"
# --- node agent
AGENT_NONE = (
    "{node} 上没有节点代理应答：节点代理的 DaemonSet 是否调度到了该节点，它能否连接 Redis？"
)
AGENT_LOST = "{node} 上的节点代理在工作中途停止了应答；已完成的部分已列出，重新运行该命令是安全的。"
AGENT_RUNTIME_UNREACHABLE = (
    "{node} 上的节点代理无法连接容器运行时的套接字（K8S_CHATOPS_RUNTIME_ENDPOINT）："
    "运行时是否在运行，套接字是否已挂载？"
)
AGENT_TIMEOUT = "{node} 上的节点代理未能在 {seconds} 秒内完成。"
AGENT_REFUSED = "{node} 上的节点代理无法完成该操作：{reason}。"
AGENTS_NOT_CONNECTED = "此 worker 未连接节点代理，因此无法运行镜像或运行时命令。"
IMAGES_BAD_KEEP = "保留模式 {pattern} 不是有效的正则表达式：{reason}。"
IMAGES_PROGRESS_REMOVED = "{node}：已删除 {image}"
IMAGES_PROGRESS_NODE = "{node}：已完成（{done}/{total} 个节点）"
IMAGES_NOT_A_NODE = "{node} 不是（或已不再是）该集群的节点。"

# --- approved prunes are held to their plan (issue 17: the approval guarantee) ----------------
PRUNE_KEPT_NOT_APPROVED = "{count} 个不在已批准的计划中"
PRUNE_WHY_NOT_APPROVED = "不在批准人看到的计划中（计划展示之后它才变为可删除）"
PRUNE_NOT_IN_PLAN = (
    "不在已批准的计划中，因此未做任何操作：{nodes}。如需查看它们的计划，请重新发起清理。"
)
PRUNE_PLAN_BOUND = "批准只允许上述删除，不会删除其他镜像：之后才变为未使用的镜像会被保留。"
RMI_NOT_APPROVED = (
    "未删除：{node} 上的 {image}（{image_id}）不是批准人在计划中看到的镜像"
    "（该名称现在指向另一个镜像，或计划中没有可删除的镜像）；没有删除任何镜像。请重新发起以查看新的计划。"
)
IMAGES_AGENT_OUTDATED = (
    "{node}：节点代理无法理解该任务{detail}：它的版本比此 worker 旧。"
    "该节点上没有做任何操作；请把 node-agent DaemonSet 升级到与 worker 相同的版本。"
)
APPROVAL_PLAN_NOT_SHOWN = (
    "任务 {job_id} 暂时不能批准：它的计划（将删除什么）还没有显示在卡片上，"
    "而已批准的任务只会删除计划中列出的内容。请在计划显示后再批准；"
    "如果一直没有出现计划，说明没有 worker 能为它制定计划：请拒绝它并重新发起。"
)

# --- describe (issue 20: describe node, describe pod) -------------------------------------------
HELP_DESCRIBE_SUMMARY = "这个节点或 Pod 正常吗？`kubectl describe` 的事实，一条消息加消息列"
DESCRIBE_NO_POD = "名字空间 {namespace} 中没有 Pod {name}。"
DESCRIBE_NO_NAMESPACE = "这个集群中没有名字空间 {namespace}。"
DESCRIBE_WHICH = "{usage}：可以 describe `node` 或 `pod`，不能是 {word}。"
DESCRIBE_NODE_READY = "节点 {name} 处于 {status} 已 {age}{reason}，{scheduling}。"
DESCRIBE_SCHEDULABLE = "可调度"
DESCRIBE_CORDONED = "已封锁（不可调度）"
DESCRIBE_NODE_PODS = (
    "{count} 个 Pod，上限 {max_pods}；请求：cpu {cpu}（{cpu_percent}%），"
    "内存 {memory}（{memory_percent}%）。"
)
DESCRIBE_PODS_HIDDEN = "worker 的账号看不到它的 Pod，请求量未知。"
DESCRIBE_LEASE_FRESH = "心跳：Lease 于 {age} 前续约，在 {grace} 秒的节点监控宽限期（假定值）内。"
DESCRIBE_LEASE_LATE = (
    "心跳迟到：Lease 上次续约在 {age} 前，超过 {grace} 秒的节点监控宽限期（假定值）。"
)
DESCRIBE_LEASE_NONE = "心跳未知：kube-node-lease 中没有这个节点的 Lease。"
DESCRIBE_CONDITION_PROBLEM = "{type} 为 {status} 已 {age}{reason}。"
DESCRIBE_EVICTION_TAINTED = (
    "{count} 个 Pod 将于{when}被驱逐（{taint} 已加上 {age}；容忍 {seconds} 秒）。"
)
DESCRIBE_EVICTION_AT = " {time} "
DESCRIBE_EVICTION_NOW = "现在"
DESCRIBE_EVICTION_PENDING = (
    "{count} 个 Pod 将在 {taint} 污点加上 {seconds} 秒后被驱逐（尚未加上）。"
)
DESCRIBE_EVICTION_NEVER = "{count} 个 Pod 永久容忍 {taint}，不会被驱逐。"
DESCRIBE_TAINTS = "污点：{taints}。"
DESCRIBE_EVENTS_WARNINGS = "{count} 个 Warning 事件；最近一个：{reason}，{age} 前。"
DESCRIBE_POD_HEADLINE = (
    "名字空间 {namespace} 中的 Pod {name} 处于 {status}，在 {node} 上，{ready} 个容器就绪。"
)
DESCRIBE_POD_NOT_SCHEDULED = "（尚未调度到任何节点）"
DESCRIBE_POD_RESTARTS = "{container}：重启 {restarts} 次，{state}{reason}。"
DESCRIBE_POD_STARTED = "{age} 前启动；IP {ip}；由 {controller} 控制。"
# --- get pods / get events
GET_NAMESPACE_NOT_FOUND = (
    "此集群上没有命名空间 {namespace}。请检查名称；`get pods -A` 会列出所有命名空间的 Pod。"
)
GET_NO_RESOURCES = "未找到资源"
GET_NO_RESOURCES_IN = "在命名空间 {namespace} 中未找到资源。"
GET_NO_EVENTS = "未找到事件。"
GET_NO_EVENTS_IN = "在命名空间 {namespace} 中未找到事件。"
GET_PODS_SUMMARY = "Pod：{total} 个（{counts}）。"
GET_EVENTS_SUMMARY = "事件：{total} 个（{counts}）。"
GET_EVENTS_BAD_TYPE = "{value} 不是事件类型：`--types` 只接受 Normal 或 Warning。"
GET_EVENTS_BAD_FOR = (
    "{value} 不是 KIND/NAME 形式：`--for` 接受 pod、node、deployment、statefulset、daemonset、"
    "replicaset、job 或 service 加上名称（`--for pod/web-0`）。"
)

# --- node health (get nodes -o wide / -l / --problems; sandbox node) ---------------------------
NODE_PROBLEM_NOT_READY = "NotReady 已持续 {age}（{reason}）"
NODE_PROBLEM_UNKNOWN = "Unknown 已持续 {age}（{reason}）"
NODE_PROBLEM_PRESSURE = "{condition} 已持续 {age}"
NODE_PROBLEM_HEARTBEAT_LATE = "心跳延迟：Lease 上次续约于 {age} 前（宽限期 {grace}）"
NODE_PROBLEM_NO_LEASE = "没有心跳：该节点没有 Lease"
NODE_PROBLEM_CORDONED = "已被 cordon {age}"
NODE_PROBLEM_CORDONED_SINCE_UNKNOWN = "已被 cordon（起始时间未记录）"
NODE_PROBLEM_FULL = "没有空间容纳 Pod：{count}/{limit}"
NODE_PROBLEM_NO_REASON = "未给出原因"
NODE_PROBLEM_AGE_UNKNOWN = "未知时长"
NODE_PROBLEMS_SUMMARY = "{total} 个节点中有 {count} 个需要查看。"
NODE_PROBLEMS_NONE = "{total} 个节点均无问题。"
NODE_PROBLEMS_ONLY = "{flag} 只能与 `--problems` 一起使用。"
SANDBOX_NODE_HEALTH_SET = "节点 {name}：{state}。"
NODE_LIST_SUMMARY = "共 {count} 个节点：{statuses}。"
