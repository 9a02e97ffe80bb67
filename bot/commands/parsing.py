"""The pieces every command's parser shares: splitting text into words, and checking the
names, job ids, regexes and selectors people type.

Each check refuses with a sentence naming what is wrong (``CommandError``), before anything
touches Redis or the cluster, and reads its input in linear time (tokenizers and RE2).
"""

from __future__ import annotations

import shlex

from core import limits, messages
from core.errors import CommandError
from core.names import dns1123_label_problem, dns1123_subdomain_problem
from core.regex import compile_user_regex
from core.selectors import parse_field_selector, parse_selector
from core.text import code

MAX_COMMAND_LENGTH = limits.MAX_COMMAND_CHARS


def tokenize(text: str) -> list[str]:
    """Split like a shell, after dropping a leading ``/k8s`` (the shell lets people type it)."""
    if len(text) > MAX_COMMAND_LENGTH:
        raise CommandError(
            messages.COMMAND_TOO_LONG.format(length=len(text), limit=MAX_COMMAND_LENGTH)
        )
    try:
        words = shlex.split(text.replace("\u201c", '"').replace("\u201d", '"'))
    except ValueError as error:
        raise CommandError(messages.BAD_QUOTING.format(detail=str(error).lower())) from None
    if words and words[0] == "/k8s":
        words = words[1:]
    return words


#: The global option that names the cluster, written before the command.
CLUSTER_FLAGS = ("-C", "--cluster")


def split_cluster(words: list[str]) -> tuple[str | None, list[str]]:
    """``-C NAME``, ``--cluster NAME`` or ``--cluster=NAME`` before the verb: the cluster,
    checked as a name, and the words of the command itself.

    Only before the verb: after it, words belong to the command (an approval's free-text
    reason may well contain ``-C``), so there the option is refused with where it goes.
    """
    cluster: str | None = None
    rest = list(words)
    while rest and (rest[0] in CLUSTER_FLAGS or rest[0].startswith("--cluster=")):
        word = rest.pop(0)
        if "=" in word:
            value = word.partition("=")[2]
        elif rest:
            value = rest.pop(0)
        else:
            raise CommandError(messages.CLUSTER_NEEDS_VALUE.format(flag=code(word)))
        problem = dns1123_label_problem(value)
        if problem:
            raise CommandError(
                messages.INVALID_CLUSTER_NAME.format(name=code(value[:80]), reason=problem)
            )
        if cluster is not None and value != cluster:
            raise CommandError(
                messages.TWO_CLUSTERS.format(first=code(cluster), second=code(value))
            )
        cluster = value
    return cluster, rest


def cluster_flag_misplaced(words: list[str]) -> str | None:
    """The cluster option, if someone wrote it after the verb (where it is not read)."""
    return next((w for w in words if w in CLUSTER_FLAGS or w.startswith("--cluster=")), None)


def reject_flags(spec_usage: str, args: list[str]) -> None:
    for arg in args:
        if arg.startswith("-"):
            raise CommandError(
                messages.UNKNOWN_FLAG.format(command=code(spec_usage), flag=code(arg))
            )


def no_arguments(usage: str, args: list[str]) -> None:
    reject_flags(usage, args)
    if args:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(usage=code(usage), extra=code(" ".join(args)))
        )


def one_node(usage: str, args: list[str]) -> str:
    reject_flags(usage, args)
    if not args:
        raise CommandError(messages.MISSING_ARGUMENT.format(usage=code(usage), what="NODE"))
    if len(args) > 1:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(usage=code(usage), extra=code(" ".join(args[1:])))
        )
    name = args[0]
    problem = dns1123_subdomain_problem(name)
    if problem:
        raise CommandError(messages.INVALID_NODE_NAME.format(name=code(name[:80]), reason=problem))
    return name


def job_id(usage: str, args: list[str]) -> str:
    if not args:
        raise CommandError(messages.MISSING_ARGUMENT.format(usage=code(usage), what="JOB"))
    return checked_job_id(args[0])


def checked_job_id(word: str) -> str:
    """``42`` or ``#42``: ASCII digits only (``isdigit`` alone accepts ``²``)."""
    job_id = word.removeprefix("#")
    if not (job_id.isascii() and job_id.isdigit()) or len(job_id) > limits.MAX_JOB_ID_DIGITS:
        raise CommandError(messages.BAD_JOB_ID.format(value=code(word[:20])))
    return str(int(job_id))


def check_name(kind: str, name: str) -> None:
    problem = dns1123_subdomain_problem(name)
    if problem:
        raise CommandError(
            messages.LOGS_BAD_NAME.format(name=code(name[:80]), kind=kind, reason=problem)
        )


def check_regex(flag: str, value: str) -> None:
    try:
        compile_user_regex(value)
    except ValueError as error:
        raise CommandError(
            messages.LOGS_BAD_REGEX.format(flag=code(flag), value=code(value[:80]), detail=error)
        ) from None


def check_selector(flag: str, text: str, *, field: bool = False) -> None:
    """Refuse a selector the API server would refuse, with the parser's reason."""
    try:
        if field:
            parse_field_selector(text)
        else:
            parse_selector(text)
    except ValueError as error:
        raise CommandError(
            messages.INVALID_SELECTOR.format(
                setting=code(f"{flag}={text[:80]}"),
                kind=messages.SELECTOR_KIND_FIELD if field else messages.SELECTOR_KIND_LABEL,
                detail=error,
            )
        ) from None
