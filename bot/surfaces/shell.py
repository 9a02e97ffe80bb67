"""The terminal chat: the same dispatcher, queue and workers as Slack, with a prompt.

On a TTY it is interactive (readline history, a prompt). Otherwise it reads one command per
line, prints each reply once its job has finished, and exits 0 at end of input, so
``echo "/k8s get nodes" | k8s-chatops shell --user U1`` can be scripted. ``:as USER command``
runs one line as another user, so a second person's approval can be tried without Slack.
``--lang zh-CN`` says everything in Chinese, results included (the shell's jobs carry it).
When more than one cluster is known, each result says which cluster and job it is from.
"""

from __future__ import annotations

import sys
from typing import TextIO

from bot.commands.dispatcher import Dispatcher
from bot.commands.registry import registry
from bot.jobs.model import JobState, Origin
from bot.jobs.store import JobStore
from core import messages
from core.i18n import ENGLISH, language

PROMPT = "k8s> "
#: ``:as U2 /k8s approve 7`` runs one line as another chat user (to try approvals locally).
AS_PREFIX = ":as "
QUIT_WORDS = frozenset({"exit", "quit", ":q"})


class Shell:
    def __init__(
        self,
        dispatcher: Dispatcher,
        store: JobStore,
        *,
        user: str,
        out: TextIO = sys.stdout,
        job_timeout: float = 120.0,
        lang: str = ENGLISH,
    ) -> None:
        self.dispatcher = dispatcher
        self.store = store
        self.user = user
        self.out = out
        self.job_timeout = job_timeout
        self.lang = lang
        #: Say at once that a job waits for a worker (only to a person at a prompt: a script
        #: gets one reply per command).
        self.interactive = False

    def handle(self, line: str) -> str | None:
        """Run one line and return the text to print (None for a blank line)."""
        with language(self.lang):
            return self._handle(line)

    def _handle(self, line: str) -> str | None:
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        user = self.user
        if text == AS_PREFIX.strip() or text.startswith(AS_PREFIX):
            _, _, rest = text.partition(" ")
            user, _, text = rest.strip().partition(" ")
            if not user or not text:
                return messages.SHELL_AS_USAGE.format()
        origin = Origin(surface="shell", language=self.lang)
        reply = self.dispatcher.submit(text, user=user, origin=origin)
        if reply.job is None or reply.job.state is not JobState.QUEUED or not reply.ok:
            return reply.text
        if reply.no_worker and self.interactive:
            print(reply.text, file=self.out, flush=True)
        finished = self.store.wait_finished(reply.job.id, timeout=self.job_timeout)
        if finished is None:
            timed_out = messages.JOB_TIMED_OUT.format(
                job_id=reply.job.id, seconds=int(self.job_timeout)
            )
            if reply.no_worker:
                timed_out += " " + messages.NO_WORKER.format(cluster=reply.job.cluster)
            return timed_out
        result = registry().render_job(finished)
        if len(self.dispatcher.router.known()) > 1:
            result = messages.JOB_ON_CLUSTER.format(job_id=finished.id, cluster=finished.cluster)
            result += "\n" + registry().render_job(finished)
        if reply.job.requester != user:  # an approval that queued someone else's job
            return f"{reply.text}\n{result}"
        return result

    def run(self, source: TextIO = sys.stdin) -> int:
        interactive = self.interactive = source.isatty()
        if interactive:
            import readline  # noqa: F401, PLC0415 - line editing and history for the prompt

            with language(self.lang):
                print(messages.SHELL_BANNER.format(user=self.user), file=self.out)
        while True:
            if interactive:
                try:
                    line = input(PROMPT)
                except EOFError:
                    print(file=self.out)
                    return 0
                except KeyboardInterrupt:
                    print(file=self.out)
                    continue
            else:
                line = source.readline()
                if not line:
                    return 0
            if line.strip() in QUIT_WORDS:
                return 0
            text = self.handle(line)
            if text is not None:
                print(text, file=self.out, flush=True)
