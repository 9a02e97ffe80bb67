"""The two catalogues say the same things: every name in both, the same placeholders, kubectl's
lines only in kubectl's words, and no sentence that reaches a person without going through
the language of its request."""

from __future__ import annotations

import ast
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.commands.parsing import check_selector
from bot.commands.registry import registry
from core import formats, messages, messages_zh
from core.errors import CommandError
from core.i18n import (
    CHINESE,
    ENGLISH,
    LANGUAGES,
    Forms,
    Message,
    Text,
    catalogue,
    english,
    from_locale,
    in_language,
    joined,
    language,
    placeholders,
    supported_language,
    templates,
)
from policies.model import Approvers, Requirement

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "core", "handlers", "policies", "sandbox")


def _selector(entry: object) -> set[str]:
    """The number a plural entry is chosen by: each language may show it or not."""
    return {entry.by} if isinstance(entry, Forms) else set()


def test_every_sentence_is_in_both_catalogues() -> None:
    english_names = set(catalogue(ENGLISH))
    chinese_names = set(catalogue(CHINESE))
    missing = sorted(english_names - chinese_names - messages.KUBECTL_VERBATIM)
    unknown = sorted(chinese_names - english_names)
    assert missing == [], f"add these to core/messages_zh.py: {missing}"
    assert unknown == [], f"core/messages_zh.py has names core/messages.py lacks: {unknown}"


@pytest.mark.parametrize("module", [messages, messages_zh])
def test_no_sentence_is_defined_twice(module: object) -> None:
    """A second assignment silently replaces the first (two branches merged, each adding a
    ``IMAGES_NODE_GONE`` of its own, left one caller with the other's sentence)."""
    source = Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8")
    seen: set[str] = set()
    twice = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    if target.id in seen:
                        twice.append(target.id)
                    seen.add(target.id)
    assert len(seen) > 100
    assert twice == []


def test_both_catalogues_fill_in_the_same_placeholders() -> None:
    english_entries, chinese_entries = catalogue(ENGLISH), catalogue(CHINESE)
    differ = {}
    for name, chinese in chinese_entries.items():
        english_entry = english_entries[name]
        by = _selector(english_entry)
        if placeholders(english_entry) - by != placeholders(chinese) - by:
            differ[name] = (sorted(placeholders(english_entry)), sorted(placeholders(chinese)))
    assert differ == {}


def test_plural_forms_of_one_sentence_fill_in_the_same_placeholders() -> None:
    for language_code in LANGUAGES:
        for name, entry in catalogue(language_code).items():
            if isinstance(entry, Forms):
                filled = {frozenset(placeholders(t)) for t in entry.templates()}
                assert len(filled) == 1, f"{language_code} {name}: forms differ in placeholders"


def test_kubectls_lines_are_kubectls_in_every_language() -> None:
    assert {"NODE_CORDONED", "NODE_NOT_FOUND", "NO_NODES"} <= messages.KUBECTL_VERBATIM
    assert set(catalogue(ENGLISH)) >= messages.KUBECTL_VERBATIM
    assert messages.KUBECTL_VERBATIM.isdisjoint(catalogue(CHINESE))
    with language(CHINESE):
        assert messages.NODE_CORDONED.format(name="k8s-node1") == "node/k8s-node1 cordoned"
        assert messages.NO_NODES.format() == "No resources found"


@pytest.mark.parametrize("language_code", LANGUAGES)
def test_every_template_renders(language_code: str) -> None:
    """A stray brace or a format spec that does not fit its value fails here, not in Slack."""
    for name, entry in catalogue(language_code).items():
        for template in templates(entry):
            values: dict[str, object] = {}
            for _, field, spec, _ in string.Formatter().parse(template):
                if field:
                    values[field] = 0.5 if spec else 1
            template.format(**values)
        values = dict.fromkeys(placeholders(entry) | _selector(catalogue(ENGLISH)[name]), 2)
        with language(language_code):
            assert isinstance(getattr(messages, name).format(**values), Text), name


def _words(template: str) -> str:
    return "".join(literal for literal, _, _, _ in string.Formatter().parse(template))


def test_chinese_is_not_english() -> None:
    """A name copied into messages_zh.py without translating it is caught here."""
    english_entries = catalogue(ENGLISH)
    same = [
        name
        for name, chinese in catalogue(CHINESE).items()
        if templates(chinese)[-1] == templates(english_entries[name])[-1]
        and any(c.isascii() and c.isalpha() for c in _words(templates(chinese)[-1]))
    ]
    # Said the same way in both: an emoji's name and kubectl's notation, not words.
    assert sorted(same) == ["CARD_WARNING"]


# --- Saying a sentence in a language -----------------------------------------------------------


def test_a_message_says_itself_in_the_current_language() -> None:
    assert isinstance(messages.QUEUED, Message) and messages.QUEUED.key == "QUEUED"
    assert messages.QUEUED.format(job_id="7", command="`get nodes`") == (
        "Job 7 queued: `get nodes`"
    )
    with language(CHINESE):
        assert messages.QUEUED.format(job_id="7", command="`get nodes`") == (
            "任务 7 已排队：`get nodes`"
        )
    with language("fr"):  # not spoken here: English
        assert messages.NO_JOBS.format() == "No jobs yet."


def test_plurals_follow_the_number() -> None:
    assert messages.PODS.format(count=1) == "1 pod"
    assert messages.PODS.format(count=0) == "0 pods"
    assert messages.PODS.format(count=4) == "4 pods"
    with language(CHINESE):
        assert messages.PODS.format(count=1) == "1 个 Pod"
        assert messages.PODS.format(count=4) == "4 个 Pod"


def test_a_sentence_can_be_said_again_in_another_language() -> None:
    with language(CHINESE):
        said = (
            messages.APPROVAL_NOT_WAITING.format(job_id="3", state=messages.STATE_EXPIRED.format())
            + messages.SEE_HELP.format()
        )
    assert said == "任务 3 不在等待批准（当前状态：已过期）。试试 `/k8s help`。"
    assert english(said) == ("Job 3 is not waiting for approval (it is expired). Try `/k8s help`.")
    assert in_language("typed by someone", CHINESE) == "typed by someone"


def test_a_refusal_built_on_a_parsers_error_is_said_again_whole() -> None:
    """The audit trail gets the English of a Chinese refusal, down to the parser's reason."""
    with language(CHINESE), pytest.raises(CommandError) as refused:
        check_selector("-l", "app in (a")
    assert refused.value.user_message.startswith("`-l=app in (a` 必须是有效的标签选择算符：")
    assert english(refused.value.user_message) == (
        "`-l=app in (a` must be a valid label selector: expected `,` or `)` after "
        "`app in (a` but found the end."
    )


def test_times_durations_and_lists_follow_the_language() -> None:
    moment = datetime(2025, 1, 2, 14, 5, tzinfo=UTC)
    assert (formats.clock(moment), formats.took(0.42), formats.duration(3600)) == (
        "14:05 UTC",
        "0.4s",
        "1h",
    )
    assert formats.listing(["a", "b"]) == "a, b"
    with language(CHINESE):
        assert (formats.clock(moment), formats.took(0.42), formats.duration(1800)) == (
            "UTC 14:05",
            "0.4 秒",
            "30 分钟",
        )
        assert formats.listing(["a", "b"]) == "a、b"
        assert joined(["x", "y"], messages.CLAUSE_SEPARATOR) == "x；y"


def test_a_requirement_reads_without_plural_brackets() -> None:
    one = Requirement(count=1, approvers=Approvers(roles=["admin", "operator"]), expires_in="1h")
    assert one.describe() == (
        "1 approval from role admin or role operator (not the requester), within 1h"
    )
    two = one.model_copy(update={"count": 2, "expires_in": "30m"})
    assert two.describe().startswith("2 approvals from ")
    with language(CHINESE):
        assert one.describe() == (
            "1 次批准（批准人：角色 admin、角色 operator；申请人本人不算），1 小时内有效"
        )


@pytest.mark.parametrize(
    ("code", "language_code"),
    [("zh-CN", CHINESE), ("zh_cn", CHINESE), ("EN", ENGLISH), ("zh-TW", None), ("", None)],
)
def test_language_codes(code: str, language_code: str | None) -> None:
    assert supported_language(code) == language_code


@pytest.mark.parametrize(
    ("locale", "language_code"),
    [
        ("zh-CN", CHINESE),
        ("zh-Hans", CHINESE),
        ("en-US", ENGLISH),
        ("en-GB", ENGLISH),
        ("zh-TW", None),  # Traditional script: not Simplified Chinese
        ("ja-JP", None),
        (None, None),
    ],
)
def test_slack_locales(locale: str | None, language_code: str | None) -> None:
    assert from_locale(locale) == language_code


# --- Nothing reaches a person without its language ---------------------------------------------


def test_every_command_has_its_help_in_the_catalogue() -> None:
    for command in registry().commands:
        for text in (command.summary, command.details):
            if not text:
                continue
            assert isinstance(text, Message), (
                f"{command.verb}: put its help in core/messages.py and core/messages_zh.py as "
                f"HELP_{command.verb.upper().replace('-', '_')}_SUMMARY (CONTRIBUTING.md)"
            )
            assert text.key.startswith(f"HELP_{command.verb.upper().replace('-', '_')}_")
    with language(CHINESE):
        help_text = registry().help_text()
        assert help_text.startswith("k8s-chatops：在聊天中维护 Kubernetes。命令：")
        assert "先封锁，再像 `kubectl drain` 一样驱逐所有 Pod" in help_text
        assert "节点日志" in registry().help_text("logs")


#: Where a catalogue entry may appear without ``.format(...)``: as what is formatted, as a value
#: formatted into another sentence (said in the same language), as a command's help (said when
#: shown), in a lookup table, or handed to the functions that say it.
_CARRIERS = frozenset({"joined", "said", "in_language"})


def _allowed(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    while isinstance(parent, ast.IfExp | ast.BoolOp):
        node, parent = parent, parents.get(parent)
    if isinstance(parent, ast.Attribute) and parent.attr == "format":
        return True
    if isinstance(parent, ast.keyword):
        call = parents.get(parent)
        assert isinstance(call, ast.Call)
        formats_it = isinstance(call.func, ast.Attribute) and call.func.attr == "format"
        return formats_it or parent.arg in ("summary", "details")
    if isinstance(parent, ast.Dict | ast.Tuple | ast.List | ast.Set):
        return True
    return (
        isinstance(parent, ast.Call)
        and isinstance(parent.func, ast.Name)
        and parent.func.id in _CARRIERS
    )


def test_no_sentence_is_used_without_being_said_in_a_language() -> None:
    """``Reply(messages.NO_JOBS)`` would show English to everyone: write
    ``messages.NO_JOBS.format()``."""
    offenders = []
    for package in SOURCES:
        for path in (REPO / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            parents = {c: n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "messages"
                    and isinstance(getattr(messages, node.attr, None), Message)
                    and not _allowed(node, parents)
                ):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno} {node.attr}")
    assert offenders == []


def test_the_chinese_catalogue_is_plain_data() -> None:
    """No code in it: names and sentences (and plurals, though Chinese needs none)."""
    names = [n for n in vars(messages_zh) if n.isupper()]
    assert names and all(isinstance(getattr(messages_zh, n), str) for n in names)
