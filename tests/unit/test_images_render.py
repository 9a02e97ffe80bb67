"""What the image and runtime commands say, from results built here as the agents would report
them: crictl's columns and values, the plan on the card, the result with what was removed,
kept and why, failed, and one clear sentence for every way a node can go unanswered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.commands import render_images, render_prune, render_runtime
from bot.commands.registry import registry
from core.i18n import CHINESE, ENGLISH, language
from handlers.images_models import (
    AgentInfo,
    ContainerRow,
    FailedImage,
    FleetImageRow,
    FleetImages,
    ImageFs,
    ImageRef,
    ImageRow,
    KeptImage,
    NodeImages,
    NodeProblem,
    NodePruneOutcome,
    NodePrunePlan,
    NodeUnreached,
    PodSandboxRow,
    PrunePlan,
    PruneResult,
    RemoveImage,
    RemoveImageResult,
    RuntimeContainers,
    RuntimeLogLines,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PAUSE_ID = "sha256:873ed75102791e5b0b8a7fcd41606c92fcec98d56d05ead4ac5131650004c136"
AGENT = AgentInfo(
    node="k8s-node1",
    runtime_name="containerd",
    runtime_version="v2.4.2",
    seen_at=NOW - timedelta(seconds=4),
)
FS = ImageFs(
    mountpoint="/var/lib/containerd/overlayfs", used_bytes=2_100_000_000, inodes_used=12345
)


def ref(name: str, size: int, digit: str = "c") -> ImageRef:
    return ImageRef(reference=name, image_id="sha256:" + digit * 64, size_bytes=size)


# --- crictl's values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0B"),
        (999, "999B"),
        (1000, "1kB"),
        (320_368, "320kB"),
        (999_999, "1e+03kB"),  # go-units' %.3g, as crictl prints it
        (72_400_123, "72.4MB"),
        (1_234_567_890, "1.23GB"),
        (1_500_000_000_000, "1.5TB"),
    ],
)
def test_sizes_are_crictls(size: int, shown: str) -> None:
    assert render_images.human_size(size) == shown


def test_ids_are_crictls_thirteen_characters() -> None:
    assert render_images.short_id(PAUSE_ID) == "873ed75102791"
    assert render_images.short_id("abc") == "abc"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.5, "Less than a second ago"),
        (1, "1 second ago"),
        (59, "59 seconds ago"),
        (119, "About a minute ago"),
        (3599, "59 minutes ago"),
        (3600, "About an hour ago"),
        (5400, "2 hours ago"),
        (47 * 3600, "47 hours ago"),
        (3 * 86400, "3 days ago"),
        (20 * 86400, "2 weeks ago"),
        (90 * 86400, "3 months ago"),
        (800 * 86400, "2 years ago"),
    ],
)
def test_created_is_crictls(seconds: float, shown: str) -> None:
    assert render_runtime.crictl_age(seconds) == shown


# --- images NODE -------------------------------------------------------------------------------


def node_images(fs: list[ImageFs] | None = None) -> NodeImages:
    rows = [
        ImageRow(
            repository="registry.k8s.io/pause",
            tag="3.10",
            image_id=PAUSE_ID,
            size_bytes=320_368,
            pinned=True,
            sandbox_image=True,
            used_by=("default/web-1", "default/web-2", "kube-system/dns"),
        ),
        ImageRow(
            repository="docker.io/library/nginx",
            tag="1.27",
            image_id="sha256:" + "a" * 64,
            size_bytes=72_400_123,
            used_by=("default/web-1/nginx",),
        ),
        ImageRow(
            repository="docker.io/library/nginx",
            tag="latest",
            image_id="sha256:" + "a" * 64,
            size_bytes=72_400_123,
            used_by=("default/web-1/nginx",),
        ),
        ImageRow(repository="", tag="", image_id="sha256:" + "b" * 64, size_bytes=5_000_000),
    ]
    return NodeImages(agent=AGENT, rows=rows, fs=[FS] if fs is None else fs)


def test_one_node_lists_crictls_columns_and_what_crictl_lacks() -> None:
    text = render_images.render_images(node_images(), NOW)
    lines = text.splitlines()
    assert lines[0].split() == ["IMAGE", "TAG", "IMAGE", "ID", "SIZE", "USED", "BY", "PINNED"]
    assert lines[1].split() == [
        "registry.k8s.io/pause",
        "3.10",
        "873ed75102791",
        "320kB",
        "default/web-1,default/web-2,+1",
        "true",
    ]
    assert lines[2].split()[1:] == [
        "1.27",
        "aaaaaaaaaaaaa",
        "72.4MB",
        "default/web-1/nginx",
        "false",
    ]
    assert lines[4].split() == ["<none>", "<none>", "bbbbbbbbbbbbb", "5MB", "-", "false"]
    # One image with two tags is counted and sized once.
    assert "3 images on k8s-node1, 77.7MB in all." in text
    assert "`registry.k8s.io/pause:3.10`: the runtime's sandbox (pause) image" in text
    assert (
        "Image filesystem `/var/lib/containerd/overlayfs`: 2.1GB used; 12345 inodes used; "
        "capacity unknown (CRI reports none, and the node agent cannot see this filesystem)."
    ) in text
    assert text.endswith("containerd v2.4.2 on k8s-node1; node agent last heard 4s ago.")


def test_capacity_is_shown_when_the_agent_can_see_the_filesystem() -> None:
    seen = FS.model_copy(
        update={"capacity_bytes": 100_000_000_000, "available_bytes": 40_000_000_000}
    )
    text = render_images.render_images(node_images([seen]), NOW)
    assert "2.1GB used; 12345 inodes used; 40GB free of 100GB." in text
    assert "capacity unknown" not in text
    no_fs = render_images.render_images(node_images([]), NOW)
    assert "The runtime reported no image filesystem." in no_fs


def test_a_node_without_images() -> None:
    empty = NodeImages(agent=AGENT, rows=[], fs=[FS])
    assert render_images.render_images(empty, NOW).startswith("k8s-node1 has no images.")


def test_a_long_listing_goes_into_the_thread() -> None:
    many = node_images().model_copy(
        update={
            "rows": [
                ImageRow(repository=f"r/{i}", tag="1", image_id=f"sha256:{i:064d}", size_bytes=i)
                for i in range(200)
            ]
        }
    )
    parts = render_images.thread_parts(many, "7")
    assert parts is not None and parts.file_name == "images-k8s-node1-job-7.txt"
    assert parts.summary.startswith("200 images on k8s-node1")
    assert len(parts.body.splitlines()) == 201
    assert render_images.thread_parts(node_images(), "7") is None


# --- images --all ------------------------------------------------------------------------------


def fleet() -> FleetImages:
    return FleetImages(
        rows=[
            FleetImageRow(
                node="k8s-master",
                images=14,
                bytes=1_200_000_000,
                reclaimable_bytes=300_000_000,
                agent_seen_at=NOW - timedelta(seconds=3),
            ),
            FleetImageRow(
                node="k8s-node1",
                images=9,
                bytes=800_000_000,
                reclaimable_bytes=0,
                agent_seen_at=NOW - timedelta(minutes=2),
            ),
        ],
        problems=[NodeProblem(node="k8s-node2", reason="no-agent")],
    )


def test_the_fleet_shows_counts_bytes_reclaimable_age_and_who_was_not_reached() -> None:
    lines = render_images.render_images(fleet(), NOW).splitlines()
    assert lines[0].split() == ["NODE", "IMAGES", "SIZE", "RECLAIMABLE", "AGENT", "SEEN"]
    assert lines[1].split() == ["k8s-master", "14", "1.2GB", "300MB", "3s"]
    assert lines[2].split() == ["k8s-node1", "9", "800MB", "0B", "2m"]
    assert "2 nodes: 23 images, 2GB; a prune could free 300MB." in lines
    assert lines[-2:] == [
        "Not reached:",
        "  k8s-node2: no node agent is reporting from this node. Is the k8s-chatops node-agent "
        "DaemonSet scheduled there (its tolerations and node selector)?",
    ]


# --- Every reason a node went unanswered -------------------------------------------------------

REASONS = {
    "no-agent": "Is the k8s-chatops node-agent DaemonSet scheduled there",
    "runtime-unreachable": "cannot reach the container runtime's socket",
    "agent-lost": "stopped answering part-way",
    "node-gone": "the node left the cluster",
    "timeout": "did not answer in time",
    "container-not-found": "no container there matches",
    "ambiguous-container": "more than one container matches",
    "agent-outdated": "it is older than this worker. Nothing was done there",
}
REASONS_ZH = {
    "no-agent": "DaemonSet 是否调度到了该节点",
    "runtime-unreachable": "连不上容器运行时的套接字",
    "agent-lost": "节点代理中途停止了响应",
    "node-gone": "该节点离开了集群",
    "timeout": "节点代理没有及时响应",
    "container-not-found": "没有与请求匹配的容器",
    "ambiguous-container": "有多个容器匹配",
    "agent-outdated": "它的版本比此 worker 旧",
}


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_every_reason_is_one_clear_sentence_in_both_languages(reason: str) -> None:
    english = render_images.problem_sentence("k8s-node1", reason, "dial unix /x.sock")
    assert english.startswith("k8s-node1: ") and REASONS[reason] in english
    assert "(`dial unix /x.sock`)" in english
    assert english.endswith((".", "?", ")."))
    with language(CHINESE):
        chinese = render_images.problem_sentence("k8s-node1", reason)
    assert chinese.startswith("k8s-node1：") and REASONS_ZH[reason] in chinese
    unreached = NodeUnreached(node="k8s-node1", reason=reason, detail="dial unix /x.sock")
    assert render_images.render_images(unreached) == english
    assert render_runtime.render_runtime(unreached) == english


def test_an_unknown_reason_still_reads_as_a_sentence() -> None:
    assert render_images.problem_sentence("n1", "new-thing") == "n1: not reached (`new-thing`)."


def test_a_node_that_did_not_answer_is_posted_as_text_not_a_table() -> None:
    unreached = NodeUnreached(node="n1", reason="no-agent")
    parts = render_images.thread_parts(unreached, "3")
    assert parts is not None and parts.body == "" and "n1: no node agent" in parts.summary
    assert render_runtime.thread_parts(unreached, "3") == parts
    with language(CHINESE):
        assert unreached.failure == "n1 没有响应（no-agent）"


# --- The plan approvers see --------------------------------------------------------------------


def plan() -> PrunePlan:
    return PrunePlan(
        nodes=[
            NodePrunePlan(
                node="k8s-node1",
                remove=[ref(f"example.com/old{i}:v1", 10_000_000 * i) for i in range(1, 8)],
                kept=[
                    KeptImage(
                        image=ref("registry.k8s.io/pause:3.10", 320_000), reason="sandbox-image"
                    ),
                    KeptImage(image=ref("nginx:1.27", 7), reason="in-use"),
                    KeptImage(image=ref("keep-me:1", 7), reason="keep", detail="policy: ^keep-me"),
                    KeptImage(image=ref("new:1", 7), reason="too-new"),
                ],
            ),
            NodePrunePlan(
                node="k8s-master", remove=[], kept=[KeptImage(image=ref("p:1", 1), reason="pinned")]
            ),
        ],
        problems=[NodeProblem(node="k8s-node2", reason="runtime-unreachable")],
    )


def test_the_plan_says_per_node_what_goes_the_bytes_and_what_stays() -> None:
    lines = render_prune.render_plan(plan()).splitlines()
    assert lines[0] == "Plan: remove 7 images (280MB) on 1 node."
    # Second, so a card that cuts a long plan short still says what approving allows.
    assert lines[1] == (
        "Approving allows these removals and no others: an image that becomes unused later stays."
    )
    assert lines[2] == (
        "• k8s-node1: remove 7 images, 280MB; kept 4: 1 in use, 1 sandbox image, "
        "1 on a keep list, 1 newer than --older-than"
    )
    assert lines[3:8] == [f"    `example.com/old{i}:v1` {i}0MB" for i in range(1, 6)]
    assert lines[8] == "    … and 2 more"
    assert lines[9] == "• k8s-master: nothing to remove; kept 1: 1 pinned"
    assert lines[10] == "Not reached (nothing is removed there):"
    assert lines[11].startswith("  k8s-node2: the node agent runs but cannot reach")


def test_an_empty_plan_says_so() -> None:
    empty = PrunePlan(nodes=[NodePrunePlan(node="n1", remove=[])])
    assert render_prune.render_plan(empty).startswith("Plan: nothing to remove;")
    assert "Approving allows" not in render_prune.render_plan(empty)


def test_the_plan_is_what_the_registry_shows_on_the_card_in_the_channels_language() -> None:
    request = RemoveImage(node="k8s-node1", image="old:1")
    assert registry().plan_model(request) is PrunePlan
    assert registry().plan_text(request, plan()) == render_prune.render_plan(plan())
    with language(CHINESE):
        text = render_prune.render_plan(plan())
    assert text.startswith("计划：删除 7 个镜像（280MB），涉及 1 个节点。")
    assert "保留 4 个：1 个正在使用、1 个沙箱镜像、1 个在保留列表中、1 个比 --older-than 新" in text


# --- The result --------------------------------------------------------------------------------


def result(dry_run: bool = False) -> PruneResult:
    return PruneResult(
        dry_run=dry_run,
        nodes=[
            NodePruneOutcome(
                node="k8s-node1",
                removed=[ref("example.com/old1:v1", 10_000_000)],
                kept=[
                    KeptImage(
                        image=ref("nginx:1.27", 7),
                        reason="in-use-now",
                        detail="default/web-3/nginx",
                    )
                ],
                fs_before=[FS],
                fs_after=[FS.model_copy(update={"used_bytes": 2_090_000_000})],
            ),
            NodePruneOutcome(
                node="k8s-master",
                removed=[ref("example.com/a:1", 5_000_000), ref("example.com/b:1", 6_000_000)],
                failed=[
                    FailedImage(image=ref("example.com/c:1", 1), error="rpc error: Unavailable")
                ],
                problem=NodeProblem(node="k8s-master", reason="agent-lost"),
            ),
        ],
        problems=[NodeProblem(node="k8s-node2", reason="no-agent")],
    )


def test_the_result_says_per_node_what_was_removed_kept_and_failed() -> None:
    text = render_prune.render_prune(result())
    lines = text.splitlines()
    assert lines[0] == "Removed 3 images (21MB freed) on 2 nodes."
    assert lines[1] == (
        "k8s-node1: removed 1 image (10MB); kept 1: 1 in use since the plan; "
        "image filesystem 2.1GB → 2.09GB used"
    )
    assert lines[2] == "k8s-master: removed 2 images (11MB); 1 failed"
    assert "stopped answering part-way" in lines[3]
    assert lines[4] == (
        "  Removed there before it stopped: `example.com/a:1`, `example.com/b:1`. Running the "
        "same prune again is safe: it removes only what is still unused."
    )
    assert lines[5] == "Not reached:"
    table = lines[lines.index("") + 1 :]
    assert table[0].split() == ["NODE", "IMAGE", "IMAGE", "ID", "SIZE", "OUTCOME"]
    assert table[2].endswith(
        "7B     kept: a container started using it after the plan (default/web-3/nginx)"
    )
    assert table[-1].endswith("failed: rpc error: Unavailable")
    assert result().failure == (
        "not finished on k8s-master, k8s-node2; the result in the thread says what was done"
    )


def test_a_node_lost_before_removing_anything_says_a_rerun_is_safe() -> None:
    lost = PruneResult(
        dry_run=False,
        nodes=[NodePruneOutcome(node="n1", problem=NodeProblem(node="n1", reason="agent-lost"))],
    )
    text = render_prune.render_prune(lost)
    assert text.startswith("Nothing was removed.")
    assert "Nothing was removed there. Running the same prune again is safe" in text


def test_a_dry_run_says_nothing_was_removed() -> None:
    text = render_prune.render_prune(result(dry_run=True))
    assert text.startswith("Dry run: would remove 3 images (21MB) on 2 nodes; nothing was removed.")
    assert "k8s-node1: would remove 1 image (10MB)" in text
    assert "→" not in text and "would remove" in text.split("\n\n")[1]
    assert "Removed there before it stopped" not in text


def test_a_long_result_puts_every_image_in_the_thread() -> None:
    many = result().model_copy(
        update={
            "nodes": [
                NodePruneOutcome(
                    node="n1", removed=[ref(f"r/{i}:1", 1_000_000, "d") for i in range(40)]
                )
            ],
            "problems": [],
        }
    )
    parts = render_prune.thread_parts(many, "9")
    assert parts is not None and parts.file_name == "prune-images-job-9.txt"
    assert parts.summary.splitlines()[0] == "Removed 40 images (40MB freed) on 1 node."
    assert len(parts.body.splitlines()) == 41
    assert render_prune.thread_parts(result(), "9") is None


def test_the_result_in_chinese() -> None:
    with language(CHINESE):
        text = render_prune.render_prune(result())
        failure = result().failure
    assert text.startswith("已删除 3 个镜像（释放 21MB），涉及 2 个节点。")
    assert (
        "停止前已在该节点删除：`example.com/a:1`、`example.com/b:1`。再次运行同一清理是安全的"
        in text
    )
    assert "保留：计划之后有容器开始使用它（default/web-3/nginx）" in text
    assert failure == "在 k8s-master、k8s-node2 上没有完成；消息列中的结果说明了已做的操作"


# --- rmi ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "sentence"),
    [
        (
            "in-use",
            "Refused: `nginx:1.27` is in use on k8s-node1 by `default/web-1/nginx`; nothing was "
            "removed. The runtime itself would have removed it: stop those containers first.",
        ),
        ("pinned", "Refused: `nginx:1.27` is pinned on k8s-node1 (the runtime keeps it)"),
        (
            "sandbox-image",
            "Refused: `nginx:1.27` is the runtime's sandbox (pause) image on k8s-node1",
        ),
        ("not-found", "k8s-node1 has no such image; nothing was removed."),
        ("no-agent", "k8s-node1: no node agent is reporting from this node."),
        ("runtime-unreachable", "k8s-node1: the node agent runs but cannot reach"),
        ("agent-lost", "k8s-node1: the node agent stopped answering part-way"),
    ],
)
def test_rmi_refusals(reason: str, sentence: str) -> None:
    refused = RemoveImageResult(
        node="k8s-node1",
        image=ref("nginx:1.27", 72_000_000),
        removed=False,
        reason=reason,
        used_by=("default/web-1/nginx",),
    )
    assert sentence in render_prune.render_rmi(refused)
    assert refused.failure == f"nothing was removed from k8s-node1 ({reason})"


def test_rmi_in_use_by_many_names_a_few() -> None:
    users = tuple(f"default/web-{i}/nginx" for i in range(8))
    refused = RemoveImageResult(
        node="n1", image=ref("nginx:1.27", 1), removed=False, reason="in-use", used_by=users
    )
    text = render_prune.render_rmi(refused)
    assert "`default/web-4/nginx` and 3 more;" in text and "web-5" not in text


def test_rmi_removed_says_what_and_the_filesystem() -> None:
    removed = RemoveImageResult(
        node="k8s-node1",
        image=ref("old:1", 72_000_000),
        removed=True,
        fs_before=[FS],
        fs_after=[FS.model_copy(update={"used_bytes": 2_028_000_000})],
    )
    assert render_prune.render_rmi(removed) == (
        "Removed `old:1` (ccccccccccccc, 72MB) from k8s-node1. "
        "Image filesystem: 2.1GB → 2.03GB used."
    )
    assert removed.failure is None
    missing = RemoveImageResult(node="n1", image=None, removed=False, reason="not-found")
    assert render_prune.render_rmi(missing).startswith("n1 has no such image")


# --- runtime ps / logs -------------------------------------------------------------------------


def test_runtime_ps_shows_crictl_pods_and_ps_columns() -> None:
    containers = RuntimeContainers(
        agent=AGENT,
        pods=[
            PodSandboxRow(
                pod_id="f" * 64,
                name="web-1",
                namespace="default",
                state="SANDBOX_READY",
                created=NOW - timedelta(minutes=5),
                attempt=1,
            )
        ],
        containers=[
            ContainerRow(
                container_id="e" * 64,
                image="sha256:" + "a" * 64,
                created=NOW - timedelta(hours=3),
                state="CONTAINER_EXITED",
                name="nginx",
                attempt=2,
                pod_id="f" * 64,
                pod_name="web-1",
                pod_namespace="default",
            )
        ],
    )
    lines = render_runtime.render_runtime(containers, NOW).splitlines()
    assert lines[0] == "1 pod and 1 container on k8s-node1, as its runtime reports them."
    pods = lines.index("Pods (crictl pods):")
    assert lines[pods + 1].split() == [
        "POD",
        "ID",
        "CREATED",
        "STATE",
        "NAME",
        "NAMESPACE",
        "ATTEMPT",
    ]
    assert lines[pods + 2].split() == [
        "fffffffffffff",
        "5",
        "minutes",
        "ago",
        "Ready",
        "web-1",
        "default",
        "1",
    ]
    ps = lines.index("Containers (crictl ps -a):")
    assert lines[ps + 1].split() == [
        "CONTAINER",
        "IMAGE",
        "CREATED",
        "STATE",
        "NAME",
        "ATTEMPT",
        "POD",
        "ID",
        "POD",
        "NAMESPACE",
    ]
    assert lines[ps + 2].split() == [
        "eeeeeeeeeeeee",
        "aaaaaaaaaaaaa",
        "3",
        "hours",
        "ago",
        "Exited",
        "nginx",
        "2",
        "fffffffffffff",
        "web-1",
        "default",
    ]
    assert render_runtime.thread_parts(containers, "1") is None


def test_runtime_logs_go_in_the_thread_like_logs() -> None:
    lines = RuntimeLogLines(
        node="k8s-node1",
        container_id="e" * 64,
        container_name="nginx",
        lines=["GET /", "token=***"],
        omitted=10,
        masked=1,
    )
    parts = render_runtime.thread_parts(lines, "4")
    assert parts is not None and parts.file_name == "runtime-logs-k8s-node1-job-4.log"
    assert parts.summary == (
        "2 lines of container `nginx` (eeeeeeeeeeeee) on k8s-node1, read by the node agent; "
        "1 redaction.\n10 earlier lines were left out (--tail or the output caps)."
    )
    assert parts.body == "GET /\ntoken=***"
    empty = lines.model_copy(update={"lines": [], "omitted": 0, "masked": 0})
    assert render_runtime.render_runtime(empty).endswith("The log is empty.")
    with language(CHINESE):
        said = render_runtime.logs_summary(lines)
    assert said.startswith(
        "k8s-node1 上容器 `nginx`（eeeeeeeeeeeee）的 2 行，由节点代理读取；1 处遮盖。"
    )


@pytest.mark.parametrize("language_code", [ENGLISH, CHINESE])
def test_everything_renders_in_both_languages(language_code: str) -> None:
    with language(language_code):
        for text in (
            render_images.render_images(node_images(), NOW),
            render_images.render_images(fleet(), NOW),
            render_prune.render_plan(plan()),
            render_prune.render_prune(result()),
            render_prune.render_prune(result(dry_run=True)),
        ):
            assert text and "{" not in text
