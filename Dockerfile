# syntax=docker/dockerfile:1
# The k8s-chatops image, for people who build with Docker (or any BuildKit-compatible builder):
#   docker build -t k8s-chatops:0.1.0.dev0 .
# The same image is built here without Docker by `k8s-chatops-sandbox image` (docs/deploy.md).
#
# Stage 1 (build): the CRI v1 stubs the node agent speaks (generated from the k8s.io/cri-api Go
# module's api.proto, never committed: scripts/gen-cri.sh), the project's wheel, and a venv with
# the wheel and its dependencies. Stage 2 (runtime): the same slim Python, the venv copied in,
# one unprivileged user. Go, grpcio-tools, pip's caches and the source stay in stage 1.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS go

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# Go only fetches the CRI API's proto (go mod download; nothing is compiled).
COPY --from=go /usr/local/go /usr/local/go
ENV PATH=/usr/local/go/bin:$PATH GOFLAGS=-mod=mod GOTOOLCHAIN=local
WORKDIR /src
COPY . .
RUN python -m pip install grpcio-tools \
    && if [ -f scripts/gen-cri.sh ]; then scripts/gen-cri.sh "$(command -v python)"; fi \
    && python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/k8s-chatops \
    && /opt/k8s-chatops/bin/pip install /wheels/*.whl

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="k8s-chatops" \
      org.opencontainers.image.description="Kubernetes maintenance from Slack" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 k8s-chatops \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin k8s-chatops
COPY --from=build /opt/k8s-chatops /opt/k8s-chatops
# The chart runs every process with a read-only root filesystem: nothing is compiled at run time.
ENV PATH=/opt/k8s-chatops/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8
USER 10001:10001
WORKDIR /
ENTRYPOINT ["/opt/k8s-chatops/bin/k8s-chatops"]
CMD ["--help"]
