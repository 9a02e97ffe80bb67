"""Who may do what: pure decisions from (who, what, where) to allow or deny.

Nothing here does I/O while deciding, and nothing imports Slack, Redis or Kubernetes. Loading
the YAML file is the only I/O, and it happens once at start-up (:mod:`policies.loader`).
"""
