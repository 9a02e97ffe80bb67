"""Tests for the local Slack Web API emulator, driven through the real slack_sdk clients."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator

import pytest
from slack_emulator import RecordedCall, SlackEmulator
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.webhook import WebhookClient

TOKEN = "xoxb-" + "emulator-test-token"  # split so it never looks like a real token
CHANNEL = "C0DEPLOYS"
TS_PATTERN = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator(valid_tokens={TOKEN}) as slack:
        yield slack


@pytest.fixture
def client(emulator: SlackEmulator) -> WebClient:
    """A client with every retry handler disabled, so failures surface at once."""
    return WebClient(token=TOKEN, base_url=emulator.base_url, retry_handlers=[], timeout=5)


def plan_blocks() -> list[SectionBlock | ActionsBlock]:
    return [
        SectionBlock(text=MarkdownTextObject(text="*Plan:* drain `node-1`")),
        ActionsBlock(
            block_id="approval",
            elements=[ButtonElement(text="Approve", action_id="approve", value="plan-1")],
        ),
    ]


def test_base_url_is_loopback_api_root(emulator: SlackEmulator) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", emulator.base_url)


def test_auth_test_answers_bot_identity(client: WebClient) -> None:
    response = client.auth_test()

    assert response["ok"] is True
    assert response["user_id"].startswith("U")
    assert response["bot_id"].startswith("B")
    assert response["team_id"].startswith("T")
    assert response["url"].startswith("https://")


def test_post_message_is_recorded_with_channel_text_and_blocks(
    emulator: SlackEmulator, client: WebClient
) -> None:
    blocks = plan_blocks()

    response = client.chat_postMessage(channel=CHANNEL, text="Plan ready", blocks=blocks)

    assert response["channel"] == CHANNEL
    assert TS_PATTERN.match(response["ts"])
    assert response["message"]["text"] == "Plan ready"
    assert response["message"]["ts"] == response["ts"]
    assert response["message"]["blocks"] == [block.to_dict() for block in blocks]
    call = emulator.wait_for("chat.postMessage", timeout=1)
    assert call.args["channel"] == CHANNEL
    assert call.args["text"] == "Plan ready"
    assert call.args["blocks"] == [block.to_dict() for block in blocks]
    assert call.token == TOKEN
    assert call.status == 200
    assert call.error is None


def test_post_message_ts_values_are_unique_and_increasing(client: WebClient) -> None:
    first = client.chat_postMessage(channel=CHANNEL, text="one")["ts"]
    reply = client.chat_postMessage(channel=CHANNEL, text="two", thread_ts=first)

    assert float(reply["ts"]) > float(first)
    assert reply["message"]["thread_ts"] == first


def test_json_text_in_form_bodies_is_decoded(emulator: SlackEmulator, client: WebClient) -> None:
    blocks = [block.to_dict() for block in plan_blocks()]

    client.api_call("chat.postMessage", params={"channel": CHANNEL, "blocks": json.dumps(blocks)})

    assert emulator.calls_to("chat.postMessage")[0].args["blocks"] == blocks


def test_post_message_without_text_or_channel_is_rejected(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as no_text, pytest.warns(UserWarning, match="`text`"):
        client.chat_postMessage(channel=CHANNEL)
    with pytest.raises(SlackApiError) as no_channel:
        client.chat_postMessage(channel="", text="hello")

    assert no_text.value.response["error"] == "no_text"
    assert no_channel.value.response["error"] == "channel_not_found"
    assert no_text.value.response.status_code == 200


def test_update_changes_the_stored_message(emulator: SlackEmulator, client: WebClient) -> None:
    posted = client.chat_postMessage(channel=CHANNEL, text="Waiting for approval")

    updated = client.chat_update(channel=CHANNEL, ts=posted["ts"], text="Approved by <@U2>")
    with pytest.warns(UserWarning, match="`text`"):  # slack_sdk nags when text is omitted
        again = client.chat_update(channel=CHANNEL, ts=posted["ts"], blocks=plan_blocks())

    assert updated["ts"] == posted["ts"]
    assert updated["text"] == "Approved by <@U2>"
    assert updated["message"]["text"] == "Approved by <@U2>"
    assert "edited" in updated["message"]
    assert again["message"]["text"] == "Approved by <@U2>"  # kept from the first update
    assert again["message"]["blocks"][1]["block_id"] == "approval"
    assert emulator.calls_to("chat.update")[0].args["ts"] == posted["ts"]


def test_update_of_missing_message_fails(emulator: SlackEmulator, client: WebClient) -> None:
    client.chat_postMessage(channel=CHANNEL, text="exists")

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel=CHANNEL, ts="1600000000.000001", text="nope")

    assert excinfo.value.response.status_code == 200
    assert excinfo.value.response["error"] == "message_not_found"
    assert emulator.calls_to("chat.update")[0].error == "message_not_found"


def test_invalid_and_missing_tokens_are_rejected(emulator: SlackEmulator) -> None:
    wrong = WebClient(token="xoxb-wrong-token", base_url=emulator.base_url, retry_handlers=[])
    anonymous = WebClient(base_url=emulator.base_url, retry_handlers=[])

    with pytest.raises(SlackApiError) as invalid:
        wrong.chat_postMessage(channel=CHANNEL, text="hi")
    with pytest.raises(SlackApiError) as missing:
        anonymous.auth_test()

    assert invalid.value.response["error"] == "invalid_auth"
    assert missing.value.response["error"] == "not_authed"
    rejected = emulator.calls_to("chat.postMessage")[0]
    assert rejected.token == "xoxb-wrong-token"
    assert "xoxb-wrong-token" not in repr(rejected)
    assert "xoxb-wrong-token" not in rejected.describe()


def test_fail_next_429_without_retries_raises(emulator: SlackEmulator, client: WebClient) -> None:
    emulator.fail_next("chat.postMessage", 429, retry_after=1)

    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel=CHANNEL, text="hi")
    retried_by_hand = client.chat_postMessage(channel=CHANNEL, text="hi")

    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response["error"] == "ratelimited"
    assert excinfo.value.response.headers["Retry-After"] == "1"
    assert retried_by_hand["ok"] is True
    assert [c.status for c in emulator.calls_to("chat.postMessage")] == [429, 200]


def test_rate_limit_retry_handler_waits_and_succeeds(
    emulator: SlackEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler sleeps Retry-After plus random.random() seconds; pin the jitter
    # to zero so the test takes a predictable ~1 s.
    monkeypatch.setattr("slack_sdk.http_retry.builtin_handlers.random.random", lambda: 0.0)
    retrying = WebClient(
        token=TOKEN,
        base_url=emulator.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    emulator.fail_next("chat.postMessage", 429, retry_after=1)

    response = retrying.chat_postMessage(channel=CHANNEL, text="eventually")

    assert response["ok"] is True
    first, second = emulator.calls_to("chat.postMessage")
    assert (first.status, first.error) == (429, "ratelimited")
    assert (second.status, second.error) == (200, None)
    assert second.at - first.at >= 1.0


def test_fail_next_500_times_two(emulator: SlackEmulator, client: WebClient) -> None:
    emulator.fail_next("auth.test", 500, times=2)

    for _ in range(2):
        with pytest.raises(SlackApiError) as excinfo:
            client.auth_test()
        assert excinfo.value.response.status_code == 500
        assert excinfo.value.response["error"] == "internal_error"
    assert client.auth_test()["ok"] is True
    assert [c.status for c in emulator.calls_to("auth.test")] == [500, 500, 200]


def test_fail_next_rejects_statuses_slack_would_not_send(emulator: SlackEmulator) -> None:
    with pytest.raises(ValueError, match="429 or 5xx"):
        emulator.fail_next("chat.postMessage", 404)


def test_files_upload_v2_in_a_thread_end_to_end(emulator: SlackEmulator, client: WebClient) -> None:
    parent_ts = client.chat_postMessage(channel=CHANNEL, text="Plan")["ts"]
    content = "kubectl drain node-1 --ignore-daemonsets\n"

    response = client.files_upload_v2(
        channel=CHANNEL,
        thread_ts=parent_ts,
        content=content,
        filename="plan.txt",
        initial_comment="Full plan attached",
    )

    assert [c.method for c in emulator.calls] == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    get_url, upload, complete = emulator.calls[1:]
    file_id = response["file"]["id"]
    assert file_id.startswith("F")
    assert response["files"] == [{"id": file_id, "title": "plan.txt"}]
    assert get_url.args["filename"] == "plan.txt"
    assert int(get_url.args["length"]) == len(content.encode())
    assert upload.args["file_id"] == file_id
    assert upload.args["content"] == content.encode()
    assert upload.args["text"] == content
    assert upload.args["size"] == len(content.encode())
    assert complete.args["channel_id"] == CHANNEL
    assert complete.args["thread_ts"] == parent_ts
    assert complete.args["initial_comment"] == "Full plan attached"
    assert complete.args["files"] == [{"id": file_id, "title": "plan.txt"}]


def test_complete_upload_of_unknown_file_fails(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.files_completeUploadExternal(files=[{"id": "F404", "title": "x"}])

    assert excinfo.value.response["error"] == "file_not_found"


def test_response_url_posts_are_recorded(emulator: SlackEmulator) -> None:
    url = emulator.response_url("T1/cmd 42")

    response = WebhookClient(url).send(text="Working on it", response_type="ephemeral")

    assert response.status_code == 200
    call = emulator.wait_for("response_url", lambda c: c.args["key"] == "T1/cmd 42", timeout=1)
    assert call.args["text"] == "Working on it"
    assert call.args["response_type"] == "ephemeral"
    assert url.startswith(emulator.base_url.removesuffix("api/"))


def test_wait_for_blocks_until_a_call_arrives(emulator: SlackEmulator, client: WebClient) -> None:
    def post_later() -> None:
        time.sleep(0.2)
        client.chat_postEphemeral(channel=CHANNEL, user="U2", text="only you")

    sender = threading.Thread(target=post_later)
    started = time.monotonic()
    sender.start()
    call = emulator.wait_for("chat.postEphemeral", timeout=5)
    sender.join()

    assert time.monotonic() - started >= 0.2
    assert call.args["user"] == "U2"


def test_wait_for_times_out_with_a_listing(emulator: SlackEmulator, client: WebClient) -> None:
    client.chat_postMessage(channel=CHANNEL, text="not an update")
    started = time.monotonic()

    with pytest.raises(AssertionError, match=r"no call to chat\.update") as excinfo:
        emulator.wait_for("chat.update", timeout=0.2)

    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 2
    assert "chat.postMessage" in str(excinfo.value)
    assert TOKEN not in str(excinfo.value)


def test_wait_for_predicate_must_match(emulator: SlackEmulator, client: WebClient) -> None:
    client.chat_postMessage(channel=CHANNEL, text="first")

    def is_second(call: RecordedCall) -> bool:
        return call.args.get("text") == "second"

    with pytest.raises(AssertionError, match="matching the predicate"):
        emulator.wait_for("chat.postMessage", is_second, timeout=0.05)
    client.chat_postMessage(channel=CHANNEL, text="second")
    assert emulator.wait_for("chat.postMessage", is_second, timeout=1).args["text"] == "second"


def test_info_methods_and_ephemeral(client: WebClient) -> None:
    channel = client.conversations_info(channel=CHANNEL)["channel"]
    user = client.users_info(user="U2")["user"]
    ephemeral = client.chat_postEphemeral(channel=CHANNEL, user="U2", text="psst")

    assert channel["id"] == CHANNEL
    assert channel["is_channel"] is True
    assert user["id"] == "U2"
    assert user["is_bot"] is False
    assert "locale" not in user  # only when asked for
    assert TS_PATTERN.match(ephemeral["message_ts"])


def test_users_info_says_the_locale_it_was_given(
    emulator: SlackEmulator, client: WebClient
) -> None:
    emulator.set_locale("U2", "zh-CN")
    assert client.users_info(user="U2", include_locale=True)["user"]["locale"] == "zh-CN"
    assert client.users_info(user="U3", include_locale=True)["user"]["locale"] == "en-US"


def test_unknown_method_is_answered_and_recorded(
    emulator: SlackEmulator, client: WebClient
) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.reactions_add(channel=CHANNEL, name="eyes", timestamp="1700000000.000100")

    assert excinfo.value.response["error"] == "unknown_method"
    call = emulator.calls_to("reactions.add")[0]
    assert call.args["name"] == "eyes"
    assert call.error == "unknown_method"


def test_reset_forgets_calls_and_pending_failures(
    emulator: SlackEmulator, client: WebClient
) -> None:
    client.auth_test()
    emulator.fail_next("auth.test", 503)

    emulator.reset()

    assert emulator.calls == []
    assert client.auth_test()["ok"] is True
    assert [c.status for c in emulator.calls] == [200]


def test_messages_over_slacks_limits_are_rejected() -> None:
    with SlackEmulator() as emulator:
        client = WebClient(token="xoxb-x", base_url=emulator.base_url)
        long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
        for kwargs, error in (
            ({"text": "x" * 40_001}, "msg_too_long"),
            ({"text": "t", "blocks": long_section}, "invalid_blocks"),
            ({"text": "t", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
        ):
            with pytest.raises(SlackApiError) as caught:
                client.chat_postMessage(channel="C1", **kwargs)
            assert caught.value.response["error"] == error
        assert client.chat_postMessage(channel="C1", text="x" * 40_000)["ok"]
