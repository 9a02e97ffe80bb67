"""Pieces every layer may use: the error tree and the catalogue of user-facing text.

Nothing here imports Slack, Redis or Kubernetes, so ``bot``, ``handlers`` and ``policies``
can all depend on it without pulling each other in.
"""
