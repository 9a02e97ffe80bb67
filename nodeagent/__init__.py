"""The node agent: ``k8s-chatops node-agent``, one per node (a DaemonSet in the chart).

The Kubernetes API cannot list or remove a node's images, and cannot answer at all while the
API server is down; the node's container runtime can, over its CRI socket. The agent speaks
CRI v1 to that socket (:mod:`nodeagent.runtime`), announces itself with a heartbeat and takes
node-scoped tasks from Redis (:mod:`nodeagent.agent`, protocol in :mod:`core.nodework`). It
needs Redis and its node's name, and nothing else: no Slack token, no kubeconfig. It imports
only ``core`` (checked by import-linter), so it is small and starts fast.
"""
