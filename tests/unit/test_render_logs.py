"""A log fetch as people read it: the summary's wording, the line formats, the file's name."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.commands.render_logs import body, file_name, render_logs, summary
from handlers.logs_models import LogLine, LogsResult

STAMP = "2026-11-25T21:29:38.123456789Z"


def line(text: str = "GET /api 200", **fields: str) -> LogLine:
    where = {"namespace": "shop", "pod": "web-7d9f", "container": "app", "node": "k8s-node1"}
    return LogLine(time=STAMP, text=text, **(where | fields))


def result(**fields: Any) -> LogsResult:
    defaults: dict[str, Any] = {
        "source": "logs web -n shop",
        "lines": [line()],
        "pods": 2,
        "containers": 3,
        "fetched": 120,
        "matched": 120,
        "redactions": 4,
        "since": "10m",
        "max_lines": 2000,
        "max_bytes": 1_000_000,
    }
    return LogsResult(**(defaults | fields))


def notes(text: str) -> list[str]:
    return text.splitlines()[1:]


# --- summary ---------------------------------------------------------------------------------


def test_summary_counts_lines_pods_containers_window_and_redactions() -> None:
    assert summary(result()) == "120 lines from 2 pods / 3 containers since 10m; 4 redactions."


def test_summary_uses_singular_for_one() -> None:
    one = result(fetched=1, matched=1, pods=1, containers=1, redactions=1, since="5m")
    assert summary(one) == "1 line from 1 pod / 1 container since 5m; 1 redaction."


def test_summary_says_zero_redactions_rather_than_leaving_them_out() -> None:
    assert summary(result(redactions=0)).endswith("; 0 redactions.")


def test_summary_says_how_many_lines_the_filters_kept_and_which_filters() -> None:
    text = summary(result(matched=7, include=("error", "warn"), exclude=("healthz",)))
    assert text == (
        "120 lines from 2 pods / 3 containers since 10m; "
        "7 matched `-i error -i warn -e healthz`; 4 redactions."
    )


def test_summary_names_only_exclude_filters_when_only_those_were_given() -> None:
    assert "; 110 matched `-e healthz`; " in summary(result(matched=110, exclude=("healthz",)))


def test_summary_leaves_the_matched_part_out_without_filters() -> None:
    assert "matched" not in summary(result())


@pytest.mark.parametrize(
    ("truncated", "cap"), [("lines", "cap: 2 lines"), ("bytes", "cap: 1000000 bytes")]
)
def test_truncation_names_the_cap_and_the_flags_that_narrow_the_query(
    truncated: str, cap: str
) -> None:
    cut = result(lines=[line("a"), line("b")], matched=120, max_lines=2, truncated=truncated)
    assert notes(summary(cut)) == [
        f"Truncated: showing the newest 2 of 120 lines ({cap}). Narrow the query with "
        "`--since`, `--tail`, `-i REGEX` or `-c CONTAINER`."
    ]


def test_no_truncation_notice_when_everything_fit() -> None:
    assert "Truncated" not in summary(result())


def test_failures_are_listed_with_their_reasons() -> None:
    failures = ["shop/web-1/app: forbidden", "shop/web-2/app: container not started"]
    assert notes(summary(result(failures=failures))) == [
        "2 containers could not be read: "
        "shop/web-1/app: forbidden; shop/web-2/app: container not started"
    ]


def test_more_than_three_failures_are_elided_but_counted() -> None:
    failures = [f"shop/web-{n}/app: forbidden" for n in range(1, 6)]
    note = notes(summary(result(failures=failures)))[0]
    assert note.startswith("5 containers could not be read: shop/web-1/app: forbidden; ")
    assert "shop/web-3/app" in note
    assert "shop/web-4/app" not in note
    assert note.endswith("shop/web-3/app: forbidden; …")


def test_exactly_three_failures_are_all_shown_without_an_ellipsis() -> None:
    failures = [f"shop/web-{n}/app: forbidden" for n in range(1, 4)]
    assert not notes(summary(result(failures=failures)))[0].endswith("…")


def test_namespaces_left_out_by_policy_are_named() -> None:
    text = summary(result(excluded_namespaces=("kube-system", "vault")))
    assert notes(text) == ["Left out by policy: kube-system, vault."]


def test_notes_come_in_order_truncation_failures_exclusions() -> None:
    text = summary(
        result(truncated="lines", failures=["a/b/c: gone"], excluded_namespaces=("kube-system",))
    )
    assert [note.split(" ")[0] for note in notes(text)] == ["Truncated:", "1", "Left"]


def test_no_pods_explains_where_to_look_and_quotes_the_command() -> None:
    empty = result(lines=[], pods=0, containers=0, fetched=0, matched=0, redactions=0)
    text = summary(empty)
    assert text.startswith("No started containers match `logs web -n shop`. Check the namespace")
    assert "`KIND/NAME`" in text
    assert "lines from" not in text


def test_no_pods_still_says_what_policy_left_out() -> None:
    empty = result(lines=[], pods=0, containers=0, excluded_namespaces=("kube-system",))
    assert summary(empty).endswith(" Left out by policy: kube-system.")


def test_no_lines_in_the_window_suggests_widening_it() -> None:
    quiet = result(lines=[], fetched=0, matched=0, redactions=0)
    assert notes(summary(quiet)) == [
        "No log lines in that window. Widen it with `--since` (for example `--since 1h`)."
    ]


def test_failed_containers_are_not_reported_as_a_quiet_window() -> None:
    failed = result(lines=[], fetched=0, matched=0, failures=["shop/web-1/app: forbidden"])
    assert "No log lines" not in summary(failed)


def test_node_logs_summary_names_the_source_not_pods() -> None:
    node = result(
        source="logs node/k8s-node1 --query kubelet", pods=0, containers=0, since="1h", fetched=35
    )
    assert summary(node) == (
        "35 lines from logs node/k8s-node1 --query kubelet since 1h; 4 redactions."
    )


def test_an_empty_node_log_is_a_quiet_window_not_a_missing_pod() -> None:
    node = result(
        source="logs node/k8s-node1 --query kubelet", lines=[], pods=0, containers=0, fetched=0
    )
    text = summary(node)
    assert "No started containers" not in text
    assert "No log lines in that window." in text


def test_lines_all_filtered_out_point_at_the_filters_not_the_window() -> None:
    filtered = result(lines=[], fetched=120, matched=0, include=("panic",))
    text = summary(filtered)
    assert "None of the 120 lines matched the filters; loosen `-i`/`-e`." in text
    assert "No log lines in that window" not in text


def test_patterns_with_spaces_are_quoted_in_the_summary() -> None:
    assert "matched `-e 'GET /ready'`" in summary(result(matched=3, exclude=("GET /ready",)))


# --- body --------------------------------------------------------------------------------------


def test_default_format_prefixes_pod_and_container_like_stern() -> None:
    two = result(lines=[line("one"), line("two", container="sidecar")])
    assert body(two) == "web-7d9f/app one\nweb-7d9f/sidecar two"


def test_namespace_is_shown_when_several_were_read() -> None:
    assert body(result(show_namespace=True)) == "shop/web-7d9f/app GET /api 200"


def test_timestamps_come_after_the_prefix() -> None:
    assert body(result(timestamps=True)) == f"web-7d9f/app {STAMP} GET /api 200"
    stamped = result(timestamps=True, show_namespace=True)
    assert body(stamped) == f"shop/web-7d9f/app {STAMP} GET /api 200"


def test_raw_format_is_the_bare_text() -> None:
    assert body(result(output="raw", show_namespace=True)) == "GET /api 200"
    assert body(result(output="raw", timestamps=True)) == f"{STAMP} GET /api 200"


def test_node_lines_have_no_pod_prefix() -> None:
    node_line = LogLine(time="", namespace="", pod="k8s-node1", container="kubelet", text="ok")
    assert body(result(lines=[node_line], timestamps=True)) == "ok"


def test_json_format_is_one_object_per_line_with_stern_field_names() -> None:
    lines = [line("first"), line('say "hi"\nagain', pod="web-2", node="k8s-node2")]
    rendered = body(result(lines=lines, output="json"))
    objects = [json.loads(text) for text in rendered.split("\n")]
    assert objects == [
        {
            "timestamp": STAMP,
            "namespace": "shop",
            "podName": "web-7d9f",
            "containerName": "app",
            "nodeName": "k8s-node1",
            "message": "first",
        },
        {
            "timestamp": STAMP,
            "namespace": "shop",
            "podName": "web-2",
            "containerName": "app",
            "nodeName": "k8s-node2",
            "message": 'say "hi"\nagain',
        },
    ]


def test_json_format_keeps_non_ascii_text_readable() -> None:
    rendered = body(result(lines=[line("Größe überschritten ✓")], output="json"))
    assert "Größe überschritten ✓" in rendered


def test_no_lines_render_as_an_empty_body() -> None:
    assert body(result(lines=[])) == ""
    assert body(result(lines=[], output="json")) == ""


def test_render_logs_puts_the_summary_above_the_lines() -> None:
    assert render_logs(result()) == (
        "120 lines from 2 pods / 3 containers since 10m; 4 redactions.\nweb-7d9f/app GET /api 200"
    )
    quiet = result(lines=[], fetched=0)
    assert render_logs(quiet) == summary(quiet)


@pytest.mark.parametrize(
    ("output", "name"),
    [("default", "logs-job-42.log"), ("raw", "logs-job-42.log"), ("json", "logs-job-42.jsonl")],
)
def test_file_name_says_jsonl_for_json_output(output: str, name: str) -> None:
    assert file_name("42", result(output=output)) == name


# --- LogsResult.failure ------------------------------------------------------------------------


def test_a_fetch_where_every_container_failed_is_a_failure() -> None:
    failures = ["shop/web-1/app: forbidden: no", "shop/web-2/app: timeout"]
    failed = result(lines=[], containers=2, failures=failures)
    assert failed.failure == (
        "None of the 2 containers could be read; the first said: forbidden: no"
    )


def test_a_fetch_where_some_containers_were_read_is_not_a_failure() -> None:
    assert result(containers=3, failures=["shop/web-1/app: forbidden"]).failure is None


def test_finding_no_containers_is_not_a_failure() -> None:
    assert result(lines=[], pods=0, containers=0).failure is None
