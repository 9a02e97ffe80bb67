"""``version`` end to end: the dispatcher queues it, a worker asks the sandbox's API server."""

from __future__ import annotations

import pytest
from helpers import make_worker

from bot.commands.dispatcher import Dispatcher
from bot.commands.registry import registry
from bot.jobs.model import JobState, Origin
from bot.jobs.store import JobStore
from handlers.kube import KubeClient
from policies.model import PolicyDocument
from sandbox import versions

pytestmark = pytest.mark.integration


def test_version_reports_the_sandbox_api_server(
    store: JobStore, kube: KubeClient, policy: PolicyDocument
) -> None:
    reply = Dispatcher(policy, store).submit(
        "version", user="U_SOMEONE", origin=Origin(surface="shell")
    )
    assert reply.ok and reply.job is not None, reply.text
    assert make_worker(store, kube, name="w").run(burst=True) == 1
    job = store.get(reply.job.id)
    assert job.state is JobState.SUCCEEDED
    text = registry().render_job(job)
    assert text.startswith(f"Server Version: {versions.KUBERNETES}")
