#!/usr/bin/env bash
# The local demo: the sandbox cluster, a private redis-server, one worker, and the terminal
# chat in front. Everything but the sandbox stops when the shell exits; the sandbox keeps
# running so you can look at it with kubectl (stop it with `k8s-chatops-sandbox down`).
#
# DEMO_CLUSTERS=2 starts a second sandbox cluster from its own run directory, with its own
# worker: the two are `sandbox` and `sandbox-b`, the chat has no default cluster, and
# commands name theirs with `-C` (`/k8s -C sandbox-b get nodes`).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.venv/bin
state="${XDG_CACHE_HOME:-$HOME/.cache}/k8s-chatops/demo"
clusters="${DEMO_CLUSTERS:-1}"
case "$clusters" in
  1|2) ;;
  *) echo "DEMO_CLUSTERS must be 1 or 2 (got $clusters)" >&2; exit 2 ;;
esac
mkdir -p "$state"

"$bin/k8s-chatops-sandbox" up
kubeconfig=$("$bin/k8s-chatops-sandbox" kubeconfig)
second_run_dir="${DEMO_SECOND_RUN_DIR:-$state/sandbox-b}"
if [ "$clusters" = 2 ]; then
  K8S_CHATOPS_SANDBOX_RUN_DIR="$second_run_dir" "$bin/k8s-chatops-sandbox" up
  kubeconfig_b=$(K8S_CHATOPS_SANDBOX_RUN_DIR="$second_run_dir" "$bin/k8s-chatops-sandbox" kubeconfig)
fi

port=$("$bin/python" -c 'from sandbox.cluster import free_port; print(free_port())')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$state" \
  >"$state/redis.log" 2>&1 &
redis_pid=$!
worker_pids=()
cleanup() {
  for pid in "${worker_pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
  kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null || true
}
trap cleanup EXIT

export K8S_CHATOPS_REDIS_URL="redis://127.0.0.1:$port/0"
export K8S_CHATOPS_POLICY_FILE="${K8S_CHATOPS_POLICY_FILE:-policies/default.yaml}"
for _ in $(seq 50); do
  "$bin/python" -c "import redis,sys; redis.Redis(port=$port).ping()" 2>/dev/null && break
  sleep 0.1
done

# One worker per cluster, each with its own kubeconfig and its own log.
K8S_CHATOPS_CLUSTER=sandbox KUBECONFIG="$kubeconfig" \
  "$bin/k8s-chatops" worker >"$state/worker.log" 2>&1 &
worker_pids+=($!)
names=(sandbox)
if [ "$clusters" = 2 ]; then
  K8S_CHATOPS_CLUSTER=sandbox-b KUBECONFIG="$kubeconfig_b" \
    "$bin/k8s-chatops" worker >"$state/worker-b.log" 2>&1 &
  worker_pids+=($!)
  names+=(sandbox-b)
fi
# One node agent per sandbox node, on that node's containerd (the sandbox's node runtimes):
# `/k8s images k8s-node1`, `/k8s prune images --all --dry-run`, `/k8s runtime ps k8s-master`.
while IFS=$'\t' read -r node endpoint log_dir image_fs; do
  K8S_CHATOPS_CLUSTER=sandbox K8S_CHATOPS_NODE_NAME="$node" \
    K8S_CHATOPS_RUNTIME_ENDPOINT="$endpoint" K8S_CHATOPS_POD_LOG_DIR="$log_dir" \
    K8S_CHATOPS_IMAGE_FS_PATH="$image_fs" \
    "$bin/k8s-chatops" node-agent >"$state/agent-$node.log" 2>&1 &
  worker_pids+=($!)
done < <("$bin/python" -c '
from sandbox import runtime
for n in runtime.nodes():
    print(n.name, n.endpoint, n.log_dir, n.image_fs, sep="\t")
')
# Policy decisions use node facts the workers publish; without them every node is treated
# as protected. Wait for each cluster's first snapshot.
for name in "${names[@]}"; do
  for _ in $(seq 100); do
    "$bin/python" -c "import redis,sys; sys.exit(0 if redis.Redis(port=$port).exists('k8s-chatops:$name:nodes') else 1)" 2>/dev/null && break
    sleep 0.1
  done
done

user="${DEMO_USER:-U0ONCALL01}"
lang="${DEMO_LANG:-en}"   # DEMO_LANG=zh-CN make demo: the terminal chat in Chinese
if [ "$clusters" = 2 ]; then
  # No default cluster for the chat: with two known, a command names its own.
  unset K8S_CHATOPS_CLUSTER
  if [ -t 0 ]; then
    cat <<MSG
Demo ready, with two clusters: sandbox and sandbox-b. You are $user (role operator in
$K8S_CHATOPS_POLICY_FILE). Commands name their cluster:
      /k8s clusters    /k8s -C sandbox-b get nodes    /k8s -C sandbox cordon k8s-node1
      /k8s get nodes   (refused: which cluster?)      /k8s jobs
In other terminals:  KUBECONFIG=$kubeconfig kubectl get nodes
                     KUBECONFIG=$kubeconfig_b kubectl get nodes
Worker logs: $state/worker.log, $state/worker-b.log
The second sandbox keeps running too: K8S_CHATOPS_SANDBOX_RUN_DIR=$second_run_dir k8s-chatops-sandbox down
MSG
  fi
else
  export K8S_CHATOPS_CLUSTER=sandbox
  if [ -t 0 ] && [ "$lang" = "zh-CN" ]; then
    cat <<MSG
演示已就绪。你是 $user（$K8S_CHATOPS_POLICY_FILE 中的 operator 角色）。
试试：/k8s get nodes    /k8s cordon k8s-node1    /k8s uncordon k8s-node1    /k8s help
      /k8s drain k8s-node1 --ignore-daemonsets --force   （需要另一个人批准：）
      :as U0ONCALL02 /k8s approve 1
在另一个终端中：KUBECONFIG=$kubeconfig kubectl get nodes
Worker 日志：$state/worker.log
MSG
  elif [ -t 0 ]; then
    cat <<MSG
Demo ready. You are $user (role operator in $K8S_CHATOPS_POLICY_FILE).
Try:  /k8s get nodes    /k8s cordon k8s-node1    /k8s uncordon k8s-node1    /k8s help
      /k8s drain k8s-node1 --ignore-daemonsets --force   (waits for a second person:)
      :as U0ONCALL02 /k8s approve 1
In another terminal:  KUBECONFIG=$kubeconfig kubectl get nodes
Worker log: $state/worker.log
MSG
  fi
fi
"$bin/k8s-chatops" shell --user "$user" --lang "$lang"
