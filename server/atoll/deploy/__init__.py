"""Serving recipes for the GPU box, generated from atoll's own configuration.

:func:`plan_vllm` / :func:`plan_qdrant` turn the endpoints atoll is configured to use
into the servers that must run; :mod:`atoll.deploy.render` prints them as command
lines, systemd units, a compose file and Qdrant's config. The files in the repository's
``deploy/`` folder are this generator's output for ``deploy/atoll.toml``.
"""

from atoll.deploy.plan import DeployError, QdrantPlan, VllmPlan, plan_qdrant, plan_vllm
from atoll.deploy.render import render_all

__all__ = ["DeployError", "QdrantPlan", "VllmPlan", "plan_qdrant", "plan_vllm", "render_all"]
