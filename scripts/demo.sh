#!/usr/bin/env bash
# The local demo: the sandbox cluster, a private redis-server, one worker, and the terminal
# chat in front. Everything but the sandbox stops when the shell exits; the sandbox keeps
# running so you can look at it with kubectl (stop it with `k8s-chatops-sandbox down`).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.venv/bin
state="${XDG_CACHE_HOME:-$HOME/.cache}/k8s-chatops/demo"
mkdir -p "$state"

"$bin/k8s-chatops-sandbox" up
kubeconfig=$("$bin/k8s-chatops-sandbox" kubeconfig)

port=$("$bin/python" -c 'from sandbox.cluster import free_port; print(free_port())')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$state" \
  >"$state/redis.log" 2>&1 &
redis_pid=$!
worker_pid=""
cleanup() {
  if [ -n "$worker_pid" ]; then kill "$worker_pid" 2>/dev/null; wait "$worker_pid" 2>/dev/null || true; fi
  kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null || true
}
trap cleanup EXIT

export K8S_CHATOPS_REDIS_URL="redis://127.0.0.1:$port/0"
export K8S_CHATOPS_POLICY_FILE="${K8S_CHATOPS_POLICY_FILE:-policies/default.yaml}"
export K8S_CHATOPS_CLUSTER=sandbox
export KUBECONFIG="$kubeconfig"
for _ in $(seq 50); do
  "$bin/python" -c "import redis,sys; redis.Redis(port=$port).ping()" 2>/dev/null && break
  sleep 0.1
done

"$bin/k8s-chatops" worker >"$state/worker.log" 2>&1 &
worker_pid=$!
# Policy decisions use node facts the worker publishes; without them every node is treated
# as protected. Wait for the first snapshot.
for _ in $(seq 100); do
  "$bin/python" -c "import redis,sys; sys.exit(0 if redis.Redis(port=$port).exists('k8s-chatops:sandbox:nodes') else 1)" 2>/dev/null && break
  sleep 0.1
done

user="${DEMO_USER:-U0ONCALL01}"
lang="${DEMO_LANG:-en}"   # DEMO_LANG=zh-CN make demo: the terminal chat in Chinese
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
"$bin/k8s-chatops" shell --user "$user" --lang "$lang"
