"""The pure pieces of the sandbox's node runtime: its containerd config, its seed image set,
and the talk lines the Go program prints."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from sandbox import build, runtime

NODE = runtime.RuntimeNode("k8s-node1", Path("/run-dir/runtime/k8s-node1"))


def test_config_is_version_4_and_private_to_the_node() -> None:
    config = tomllib.loads(runtime.render_config(NODE, runc=Path("/bin-dir/runc")))
    assert config["version"] == 4
    assert config["imports"] == []
    assert config["root"] == "/run-dir/runtime/k8s-node1/root"
    assert config["state"] == "/run-dir/runtime/k8s-node1/state"
    assert "io.containerd.nri.v1.nri" in config["disabled_plugins"]
    # Version 4 ignores a top-level [grpc]: the listeners are server plugins.
    assert "grpc" not in config and "ttrpc" not in config
    plugins = config["plugins"]
    assert plugins["io.containerd.server.v1.grpc"]["address"] == str(NODE.socket)
    assert plugins["io.containerd.server.v1.ttrpc"]["address"] == f"{NODE.socket}.ttrpc"
    for listener in ("debug", "grpc-tcp", "metrics"):
        assert plugins[f"io.containerd.server.v1.{listener}"]["address"] == ""
    cri = plugins["io.containerd.grpc.v1.cri"]
    assert cri["stream_server_port"] == "0" and cri["disable_tcp_service"] is True
    images = plugins["io.containerd.cri.v1.images"]
    assert images["pinned_images"]["sandbox"] == runtime.SANDBOX_IMAGE
    assert runtime.PINNED_IMAGE in images["pinned_images"].values()
    cri_runtime = plugins["io.containerd.cri.v1.runtime"]
    assert cri_runtime["restrict_oom_score_adj"] is True
    options = cri_runtime["containerd"]["runtimes"]["runc"]["options"]
    assert options == {"BinaryName": "/bin-dir/runc", "Root": "/run-dir/runtime/k8s-node1/runc"}
    for directory in (*cri_runtime["cni"]["bin_dirs"], cri_runtime["cni"]["conf_dir"]):
        assert directory.startswith("/run-dir/runtime/k8s-node1/")


def test_config_quotes_paths() -> None:
    odd = runtime.RuntimeNode("k8s-master", Path('/run "dir"\\x/runtime/k8s-master'))
    config = tomllib.loads(runtime.render_config(odd, runc=Path("/bin/runc")))
    assert config["root"] == '/run "dir"\\x/runtime/k8s-master/root'


def test_node_paths_follow_the_contract() -> None:
    assert NODE.endpoint == "unix:///run-dir/runtime/k8s-node1/cri.sock"
    assert NODE.image_fs == NODE.root / "io.containerd.snapshotter.v1.overlayfs"
    assert NODE.log_dir.parent == NODE.directory


def test_seed_images_have_every_role_and_new_ones_are_from_today() -> None:
    today = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)
    for node in runtime.SEED_PODS:
        shared, own = runtime.seed_images(node, today=today)
        everything = shared + own
        roles = [image.role for image in everything]
        for role in ("pause", "pinned", "keep-me", "in-use", "exited"):
            assert roles.count(role) == 1
        refs = [ref for image in everything for ref in image.refs]
        assert len(refs) == len(set(refs))
        keep = re.compile(runtime.KEEP_PATTERN)
        assert [ref for ref in refs if keep.search(ref)] == [runtime.KEEP_IMAGE]
        created = {image.created for image in everything if image.role == "unused"}
        assert "2026-11-28T00:00:00Z" in created and min(created) < "2024"
        # Random images carry a size; the ones that run carry our program instead.
        for image in everything:
            spec = image.spec(Path("/tools/sandboxproc"))
            assert ("binary" in spec) == (image.role in ("pause", "in-use", "exited"))
    # The shared images are the same on both nodes (one archive), the own ones differ.
    assert (
        runtime.seed_images("k8s-master", today=today)[0]
        == runtime.seed_images("k8s-node1", today=today)[0]
    )


def test_talk_lines_match_the_go_program() -> None:
    source = (build.RUNTIME_MODULE / "cmd" / "sandboxproc" / "main.go").read_text()
    block = source.split("var TalkLines = []string{", 1)[1].split("}", 1)[0]
    assert tuple(re.findall(r'"([^"]*)"', block)) == runtime.TALK_LINES
