"""The terminal chat in Chinese (``k8s-chatops shell --lang zh-CN``): its answers, refusals
and the results its jobs bring back, with kubectl's own lines as kubectl prints them."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from helpers import make_worker

from bot.commands.dispatcher import Dispatcher
from bot.jobs import facts
from bot.jobs.store import JobStore
from bot.surfaces.shell import Shell
from handlers.kube import KubeClient
from policies.loader import parse_policy

pytestmark = pytest.mark.integration


def test_the_shell_speaks_chinese_with_a_separate_worker_process(
    worker_env: dict[str, str], pristine: KubeClient
) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        shell = subprocess.run(
            [sys.executable, "-m", "bot.cli", "shell", "--user", "U_OPS", "--lang", "zh-CN"],
            input="/k8s cordon k8s-node1\n/k8s cordn k8s-node1\n/k8s drain k8s-node1\n"
            "/k8s audit 1\n",
            env=worker_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        worker.terminate()
        _, worker_log = worker.communicate(timeout=15)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines()[:3] == [
        "node/k8s-node1 cordoned",  # kubectl's line, in every language
        "`cordn` 不是我认识的命令。你是想输入 `cordon` 吗？",
        "你（U_OPS）不能执行 `drain`：你的角色（viewer, operator）都不允许 `drain`。"
        "请集群管理员在策略文件中授予你具有该权限的角色。",
    ]
    # The audit trail stays English for the operators who read it.
    assert "none of your roles (viewer, operator) allows `drain`" in shell.stdout.splitlines()[3]
    assert "Traceback" not in worker_log


def test_a_drain_approved_in_the_chinese_shell_reports_in_chinese(
    store: JobStore, pristine: KubeClient
) -> None:
    policy = parse_policy(
        "roles: {op: {verbs: [drain, approve, get]}}\n"
        "bindings: [{role: op, users: [U1, U2]}]\n"
        "rules:\n  - {name: two-eyes, verbs: [drain], effect: require_approval,\n"
        "     approval: {count: 1, approvers: {roles: [op]}, expires_in: 30m}}\n",
        "inline",
    )
    facts.publish(pristine, store.redis, "sandbox")
    shell = Shell(Dispatcher(policy, store), store, user="U1", job_timeout=30, lang="zh-CN")
    worker = make_worker(store, pristine, name="w")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        asked = shell.handle("/k8s drain k8s-node1 --ignore-daemonsets --force")
        own = shell.handle("/k8s approve 1")
        done = shell.handle(":as U2 /k8s approve 1")
    finally:
        worker.stop()
        thread.join(timeout=10)
    assert asked is not None and asked.startswith(
        "任务 1 等待批准：需要 1 次批准（批准人：角色 op；申请人本人不算），30 分钟内有效。"
    )
    assert own == "这是你自己申请的变更，必须由其他人批准。"
    assert done is not None
    lines = done.splitlines()
    assert lines[0] == (
        "任务 1 已由 U2 批准，已排队：`drain k8s-node1 --ignore-daemonsets --force`"
    )
    assert "evicting pod default/go-http" in lines
    assert "node/k8s-node1 drained" in lines
    summary = next(line for line in lines if line.startswith("已排空 k8s-node1"))
    assert "：已移除 4 个 Pod，2 个保留在原处。该节点保持封锁；恢复调度：" in summary
    assert "• 容量：足够（3 个 Pod 需要 300m CPU、198Mi 内存；" in done
    assert store.get("1").origin.language == "zh-CN"
