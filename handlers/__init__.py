"""Operations on a Kubernetes cluster.

A handler takes a typed request, a :class:`handlers.kube.KubeClient` and a progress callback,
and returns a typed result. Handlers know nothing about Slack or Redis, so the same operation
runs from the terminal shell, from Slack, or from a test.
"""
