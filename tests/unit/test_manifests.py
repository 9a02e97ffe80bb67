"""The Slack app manifests in the repository are valid for Slack and match the bot."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "tests/data/slack/manifest.schema.1.0.0.json").read_text())


@pytest.mark.parametrize("name", ["manifest.http.json", "manifest.socket.json"])
def test_manifest_is_valid(name: str) -> None:
    manifest = json.loads((REPO / "slack" / name).read_text())
    jsonschema.validate(manifest, SCHEMA)
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == ["/k8s"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # What the bot calls: chat.postMessage/update, files upload v2, usergroups.users.list, and
    # users.info for a person's language (their Slack locale).
    assert {"commands", "chat:write", "files:write", "usergroups:read", "users:read"} <= scopes
    socket = manifest["settings"]["socket_mode_enabled"]
    assert socket == (name == "manifest.socket.json")
    if not socket:
        assert manifest["features"]["slash_commands"][0]["url"].endswith("/slack/events")
        assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")


def test_schema_rejects_a_broken_manifest() -> None:
    broken = json.loads((REPO / "slack/manifest.http.json").read_text())
    broken["features"]["slash_commands"][0]["command"] = "k8s without a slash " * 10
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
