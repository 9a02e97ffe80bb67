"""The vocabulary of the policy layer: subjects, actions, decisions, and the policy document."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Access(StrEnum):
    READ = "read"
    WRITE = "write"


#: Every verb the bot understands, and whether it changes the cluster.
VERBS: dict[str, Access] = {
    "help": Access.READ,
    "get": Access.READ,
    "cordon": Access.WRITE,
    "uncordon": Access.WRITE,
    "drain": Access.WRITE,
    "jobs": Access.READ,
    "audit": Access.READ,
    "cancel": Access.WRITE,
}
READ_VERBS = frozenset(v for v, access in VERBS.items() if access is Access.READ)
ALL = "*"


class Subject(BaseModel):
    """Who is asking: a chat user id (Slack ``U…`` or a shell ``--user``)."""

    model_config = ConfigDict(frozen=True)

    user_id: str


class Action(BaseModel):
    """What is asked: a verb on a target (``node/k8s-node1``, ``nodes``)."""

    model_config = ConfigDict(frozen=True)

    verb: str
    target: str


class Outcome(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    reason: str
    roles: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW


def _check_verbs(verbs: list[str]) -> list[str]:
    unknown = sorted(set(verbs) - set(VERBS) - {ALL})
    if unknown:
        raise ValueError(
            f"unknown verb(s) {', '.join(unknown)}; known verbs: {', '.join(sorted(VERBS))}"
        )
    return verbs


class Role(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = ""
    verbs: list[str] = Field(min_length=1)

    _verbs_known = field_validator("verbs")(_check_verbs)

    def allows(self, verb: str) -> bool:
        return ALL in self.verbs or verb in self.verbs


class PolicyDocument(BaseModel):
    """The reviewed file: roles, who holds them, and what unlisted people may do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    roles: dict[str, Role]
    users: dict[str, list[str]] = Field(default_factory=dict)
    unknown_users: list[str] = Field(default_factory=lambda: ["get", "help", "jobs"])

    _unknown_known = field_validator("unknown_users")(_check_verbs)

    @field_validator("version")
    @classmethod
    def _supported_version(cls, version: int) -> int:
        if version != 1:
            raise ValueError(f"version {version} is not supported (this build reads version 1)")
        return version

    @model_validator(mode="after")
    def _consistent(self) -> PolicyDocument:
        for user, roles in self.users.items():
            missing = sorted(set(roles) - set(self.roles))
            if missing:
                raise ValueError(f"user {user} has undefined role(s) {', '.join(missing)}")
        writes = sorted(v for v in self.unknown_users if v == ALL or VERBS[v] is Access.WRITE)
        if writes:
            raise ValueError(f"unknown_users may only read, but lists {', '.join(writes)}")
        return self
