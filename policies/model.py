"""The policy document and the vocabulary of decisions.

One YAML file says who may do what, where, and who must approve: named groups and channels,
roles (sets of verbs), bindings of roles to users, groups, channels or everyone, rules that
allow, deny or require approval for verbs on targets, protected targets, and limits (how many
nodes may be out of service, when changes are allowed, how often one person may ask).
Everything is validated when the file is loaded; :mod:`policies.engine` decides.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SkipValidation,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core import formats, messages
from core.i18n import LANGUAGES, joined
from core.selectors import parse_selector
from policies.images import ImagesPolicy


class Access(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Vocabulary:
    """The verbs and flags the policy may name, and whether each verb changes anything.

    Policies are pure and know no commands; the bot hands in its command registry's
    vocabulary when it loads a file (``policies.loader``), so a rule naming a verb or a flag
    no command has (a typo that would silently never match) is refused with its line.
    """

    verbs: Mapping[str, Access]
    #: Flag names (without dashes) each verb's command accepts.
    flags: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def flags_of(self, verbs: list[str]) -> frozenset[str]:
        chosen = self.verbs if ALL in verbs else verbs
        return frozenset(name for verb in chosen for name in self.flags.get(verb, frozenset()))


#: A cluster's name, as workers report it (``K8S_CHATOPS_CLUSTER``): a DNS-1123 label.
ClusterName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]


def _vocabulary(info: ValidationInfo) -> Vocabulary | None:
    context = info.context
    found = context.get("vocabulary") if isinstance(context, dict) else None
    return found if isinstance(found, Vocabulary) else None


ALL = "*"
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DIGITS = frozenset("0123456789")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _check_verbs(verbs: list[str], info: ValidationInfo) -> list[str]:
    vocabulary = _vocabulary(info)
    if vocabulary is None:
        return verbs
    unknown = sorted(set(verbs) - set(vocabulary.verbs) - {ALL})
    if unknown:
        known = ", ".join(sorted(vocabulary.verbs))
        raise ValueError(f"unknown verb(s) {', '.join(unknown)}; known verbs: {known}")
    return verbs


def _is_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` and ``int`` also take other scripts' digits."""
    return bool(text) and set(text) <= _DIGITS


def parse_duration(text: str) -> timedelta:
    """``30m``, ``1h``, ``2d``: a whole number and one unit, as the policy file writes them."""
    stripped = text.strip()
    number, unit = stripped[:-1], stripped[-1:]
    try:
        if _is_number(number) and unit in _UNIT:
            return timedelta(seconds=int(number) * _UNIT[unit])
    except OverflowError:
        pass
    raise ValueError(f"{text!r} is not a duration like 30m, 1h or 2d")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Subject(BaseModel):
    """Who is asking: a chat user, the groups they are in (resolved), where they asked."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    groups: frozenset[str] = frozenset()
    channel: str | None = None


class Action(BaseModel):
    """What is asked, with the facts about its target that rules may look at."""

    model_config = ConfigDict(frozen=True)

    verb: str
    target: str
    #: The cluster it is for; ``None`` for commands about no one cluster (``help``, ``jobs``
    #: without ``-C``), which rules scoped to clusters do not match.
    cluster: str | None = None
    node: str | None = None
    #: The node's labels when known; ``None`` means unknown, and selector rules that restrict
    #: (deny, require approval) then apply, to be safe.
    node_labels: dict[str, str] | None = None
    namespace: str | None = None
    flags: frozenset[str] = frozenset()
    disrupts: bool = False
    #: Reads only: change windows, rate limits and protected targets do not apply. Defaults
    #: to a change, so an action built without saying is held to every limit.
    read_only: bool = False


class Group(_Strict):
    users: list[str] = Field(default_factory=list)
    slack_usergroup: str | None = None


class Role(_Strict):
    description: str = ""
    verbs: list[str] = Field(min_length=1)

    _verbs_known = field_validator("verbs")(_check_verbs)

    def allows(self, verb: str) -> bool:
        return ALL in self.verbs or verb in self.verbs


class Binding(_Strict):
    """Who holds ``role``: listed users, members of groups, everyone; optionally only when
    the command comes from one of ``channels``."""

    role: str
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    everyone: bool = False
    channels: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_someone(self) -> Binding:
        if not (self.users or self.groups or self.everyone):
            raise ValueError(f"binding of role {self.role} names no users, groups or everyone")
        return self


class Approvers(_Strict):
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_someone(self) -> Approvers:
        if not (self.roles or self.groups or self.users):
            raise ValueError("approvers names no roles, groups or users")
        return self


class ApprovalSpec(_Strict):
    count: int = Field(default=1, ge=1, le=5)
    approvers: Approvers
    expires_in: str = "1h"
    reason_required: bool = False

    @field_validator("expires_in")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class NodeMatch(_Strict):
    """Nodes by name (shell-style globs) and/or by label selector; either one matching counts."""

    names: list[str] = Field(default_factory=list)
    selector: str | None = None

    @field_validator("selector")
    @classmethod
    def _valid_selector(cls, value: str | None) -> str | None:
        if value is not None:
            parse_selector(value)
        return value

    def names_match(self, node: str) -> bool:
        return any(fnmatch.fnmatchcase(node, pattern) for pattern in self.names)


class RuleSubjects(_Strict):
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)


class Rule(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][-a-z0-9]*$")
    verbs: list[str] = Field(min_length=1)
    #: Only on these clusters (empty: on every cluster).
    clusters: list[ClusterName] = Field(default_factory=list)
    nodes: NodeMatch | None = None
    namespaces: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    subjects: RuleSubjects | None = None
    #: The rule does not apply to these (``deny … unless: {roles: [operator]}``).
    unless: RuleSubjects | None = None
    effect: Literal["allow", "deny", "require_approval"]
    approval: ApprovalSpec | None = None
    reason: str = ""

    _verbs_known = field_validator("verbs")(_check_verbs)

    @field_validator("flags")
    @classmethod
    def _flags_known(cls, flags: list[str], info: ValidationInfo) -> list[str]:
        vocabulary = _vocabulary(info)
        verbs = info.data.get("verbs")
        if vocabulary is None or not isinstance(verbs, list):
            return flags
        known = vocabulary.flags_of(verbs)
        unknown = sorted(set(flags) - known)
        if unknown:
            raise ValueError(
                f"unknown flag(s) {', '.join(unknown)} for verb(s) {', '.join(verbs)}; "
                f"known: {', '.join(sorted(known)) or 'none'} (write them without dashes)"
            )
        return flags

    @model_validator(mode="after")
    def _approval_present(self) -> Rule:
        if self.effect == "require_approval" and self.approval is None:
            raise ValueError(f"rule {self.name} requires approval but has no `approval`")
        if self.effect != "require_approval" and self.approval is not None:
            raise ValueError(f"rule {self.name} has `approval` but its effect is {self.effect}")
        return self


class Protected(_Strict):
    #: Only on these clusters (empty: on every cluster).
    clusters: list[ClusterName] = Field(default_factory=list)
    nodes: NodeMatch | None = None
    namespaces: list[str] = Field(default_factory=list)
    approval: ApprovalSpec | None = None


class ChangeWindow(_Strict):
    days: list[str] = Field(default_factory=lambda: list(_DAYS[:5]))
    start: time
    end: time
    timezone: str = "UTC"

    @field_validator("days")
    @classmethod
    def _known_days(cls, days: list[str]) -> list[str]:
        unknown = sorted(set(d.lower() for d in days) - set(_DAYS))
        if unknown:
            raise ValueError(f"unknown day(s) {', '.join(unknown)}; use {', '.join(_DAYS)}")
        return [d.lower() for d in days]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r}") from None
        return zone

    def describe(self) -> str:
        return f"{','.join(self.days)} {self.start:%H:%M}-{self.end:%H:%M} {self.timezone}"


class RateLimit(_Strict):
    requests: int = Field(ge=1)
    per: str = "1h"

    @field_validator("per")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class ClusterLimits(_Strict):
    """Limits for one cluster: each field given replaces the file-wide one (``null`` for
    ``max_unschedulable`` or ``rate`` lifts it there); a field left out is inherited."""

    max_unschedulable: int | str | None = None
    change_windows: list[ChangeWindow] = Field(default_factory=list)
    rate: RateLimit | None = None

    @field_validator("max_unschedulable")
    @classmethod
    def _count_or_percent(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, str) and not (
            value.endswith("%") and len(value) <= 4 and _is_number(value[:-1])
        ):
            raise ValueError("max_unschedulable is a number of nodes or a percentage like 10%")
        if isinstance(value, int) and value < 1:
            raise ValueError("max_unschedulable must be at least 1")
        return value


def _check_languages(chosen: dict[str, str]) -> dict[str, str]:
    wrong = sorted({language for language in chosen.values() if language not in LANGUAGES})
    if wrong:
        raise ValueError(f"unknown language(s) {', '.join(wrong)}; use {', '.join(LANGUAGES)}")
    return chosen


class Languages(_Strict):
    """Which language the bot speaks where (English where nothing is said): a channel's cards
    and messages, read by everyone in it, by channel set; a person's own replies, by user id
    (otherwise their Slack locale, then their channel's language)."""

    channels: dict[str, str] = Field(default_factory=dict)
    users: dict[str, str] = Field(default_factory=dict)

    _known = field_validator("channels", "users")(_check_languages)


class Limits(ClusterLimits):
    #: Overrides by cluster name: ``per_cluster: {prod: {max_unschedulable: 1}}``.
    per_cluster: dict[ClusterName, ClusterLimits] = Field(default_factory=dict)

    def for_cluster(self, cluster: str | None) -> ClusterLimits:
        """The limits in force on ``cluster``: the file-wide ones, with its overrides."""
        override = self.per_cluster.get(cluster) if cluster else None
        if override is None:
            return self
        return ClusterLimits(
            **{
                name: getattr(override if name in override.model_fields_set else self, name)
                for name in ClusterLimits.model_fields
            }
        )


class ChannelDefault(_Strict):
    """What a set of channels gets when a command names no cluster."""

    cluster: ClusterName


class PolicyDocument(_Strict):
    """The reviewed file. Nothing is allowed unless a binding or rule allows it."""

    version: int = 1
    groups: dict[str, Group] = Field(default_factory=dict)
    channels: dict[str, list[str]] = Field(default_factory=dict)
    #: Names from ``channels`` whose members see and answer jobs from every channel (an
    #: on-call room). Everywhere else, ``jobs``, ``audit``, approvals and cancels only reach
    #: jobs asked in the same channel, so a job from a private channel stays in it.
    oversight_channels: list[str] = Field(default_factory=list)
    #: The clusters this file names (rules, protected targets, limits and channel defaults may
    #: only name these); each is a cluster commands may be routed to.
    clusters: list[ClusterName] = Field(default_factory=list)
    #: By name from ``channels``: the cluster a command from there goes to without ``-C``.
    channel_defaults: dict[str, ChannelDefault] = Field(default_factory=dict)
    roles: dict[str, Role]
    bindings: list[Binding] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    protected: Protected = Field(default_factory=Protected)
    limits: Limits = Field(default_factory=Limits)
    languages: Languages = Field(default_factory=Languages)
    #: What image prunes never remove (``images.keep``: RE2 patterns; docs/images.md).
    images: ImagesPolicy = Field(default_factory=ImagesPolicy)

    def default_cluster(self, channel: str | None) -> str | None:
        """The cluster a command from ``channel`` goes to when it names none."""
        if channel is None:
            return None
        return next(
            (
                default.cluster
                for name, default in self.channel_defaults.items()
                if channel in self.channels.get(name, ())
            ),
            None,
        )

    def oversees(self, channel: str | None) -> bool:
        """Whether a command from ``channel`` reaches jobs of every channel."""
        return channel is not None and any(
            channel in self.channels.get(name, ()) for name in self.oversight_channels
        )

    def channel_language(self, channel: str | None) -> str | None:
        """The language this file sets for ``channel`` (the first channel set naming it)."""
        if channel is None:
            return None
        return next(
            (
                language
                for name, language in self.languages.channels.items()
                if channel in self.channels.get(name, ())
            ),
            None,
        )

    def user_language(self, user: str) -> str | None:
        """The language this file sets for one person, over their Slack locale."""
        return self.languages.users.get(user)

    @field_validator("version")
    @classmethod
    def _supported_version(cls, version: int) -> int:
        if version != 1:
            raise ValueError(f"version {version} is not supported (this build reads version 1)")
        return version

    @model_validator(mode="after")
    def _references_exist(self) -> PolicyDocument:
        def check(kind: str, names: list[str], known: dict[str, object], where: str) -> None:
            missing = sorted(set(names) - set(known))
            if missing:
                raise ValueError(f"{where} names undefined {kind}(s) {', '.join(missing)}")

        for index, binding in enumerate(self.bindings):
            where = f"bindings[{index}]"
            check("role", [binding.role], dict(self.roles), where)
            check("group", binding.groups, dict(self.groups), where)
            check("channel", binding.channels, dict(self.channels), where)
        check("channel", self.oversight_channels, dict(self.channels), "oversight_channels")
        check("channel", list(self.languages.channels), dict(self.channels), "languages.channels")
        approvals = [(f"rules.{r.name}", r.approval) for r in self.rules]
        approvals.append(("protected", self.protected.approval))
        for where, approval in approvals:
            if approval:
                check("role", approval.approvers.roles, dict(self.roles), where)
                check("group", approval.approvers.groups, dict(self.groups), where)
        for rule in self.rules:
            for who in (rule.subjects, rule.unless):
                if who:
                    check("role", who.roles, dict(self.roles), f"rules.{rule.name}")
                    check("group", who.groups, dict(self.groups), f"rules.{rule.name}")
        self._check_clusters()
        names = [rule.name for rule in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique: {', '.join(duplicates)}")
        return self

    def _check_clusters(self) -> None:
        """Every cluster named must be declared in ``clusters`` (a typo would silently never
        match), and a channel in two sets must not get two different default clusters."""
        named = [(f"rules.{rule.name}", rule.clusters) for rule in self.rules]
        named.append(("protected", self.protected.clusters))
        named.append(("limits.per_cluster", list(self.limits.per_cluster)))
        named += [(f"channel_defaults.{n}", [d.cluster]) for n, d in self.channel_defaults.items()]
        for where, clusters in named:
            undeclared = sorted(set(clusters) - set(self.clusters))
            if undeclared:
                raise ValueError(
                    f"{where} names cluster(s) {', '.join(undeclared)} that `clusters` does not "
                    f"declare (declared: {', '.join(self.clusters) or 'none'})"
                )
        defaults: dict[str, str] = {}
        for name, default in self.channel_defaults.items():
            if name not in self.channels:
                raise ValueError(f"channel_defaults names undefined channel(s) {name}")
            for channel in self.channels[name]:
                if defaults.setdefault(channel, default.cluster) != default.cluster:
                    raise ValueError(
                        f"channel {channel} gets two default clusters in channel_defaults: "
                        f"{defaults[channel]} and {default.cluster}"
                    )


class Outcome(StrEnum):
    ALLOW = "allow"
    NEEDS_APPROVAL = "needs_approval"
    DENY = "deny"


class Requirement(BaseModel):
    """The approvals a request needs before it may run."""

    model_config = ConfigDict(frozen=True)

    count: int
    approvers: Approvers
    expires_in: str
    reason_required: bool = False
    because: tuple[str, ...] = ()

    def describe(self) -> str:
        """``1 approval from role admin or role operator (not the requester), within 1h``,
        in the language of the request."""
        who = [messages.APPROVER_ROLE.format(name=r) for r in self.approvers.roles]
        who += [messages.APPROVER_GROUP.format(name=g) for g in self.approvers.groups]
        who += self.approvers.users
        return messages.APPROVALS_NEEDED.format(
            count=self.count,
            approvers=joined(who, messages.APPROVER_SEPARATOR),
            within=formats.duration(parse_duration(self.expires_in).total_seconds()),
        )


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    #: Kept as the catalogue made it (not copied into a plain ``str``), so it can be said
    #: again in another language: the audit's English, a card's channel language.
    reason: SkipValidation[str]
    rule: str = ""
    roles: tuple[str, ...] = ()
    requirement: Requirement | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW
