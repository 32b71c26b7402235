# syntax=docker/dockerfile:1
# corespond: one image for the three services (triage, dispatch, notify) and the CLI.
#   docker build --platform linux/amd64 -t corespond:0.1.0 .   # the lock is resolved for x86_64
#   docker run corespond:0.1.0                              # dispatch (the default CMD)
#   docker run corespond:0.1.0 python -m services.triage    # another service: pass its command
#   docker run corespond:0.1.0 corespond topics create      # the CLI (init jobs)
# Production guide: deploy/README.md.

# Pinned to the patch release the lock was tested with (requires-python >= 3.11);
# pin the digest as well (python:3.11.13-slim-bookworm@sha256:...) once it is pulled.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /src
# The lock first, on its own layer: code changes do not reinstall the dependencies.
# Every file is checked against its hash; --no-deps so nothing unlocked slips in.
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock
# Then corespond itself, built with the locked setuptools (no build isolation, so
# nothing is fetched on the side) and installed without dependencies. The lock also
# holds the dev and build tools (pytest, mypy, playwright, setuptools: more than the
# runtime itself); they go, walked from corespond's own metadata, and pip check
# proves nothing left needs them.
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY services ./services
COPY deploy/docker/dev_only_packages.py ./
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation . \
    && dev_only="$(/opt/venv/bin/python dev_only_packages.py)" \
    && if [ -n "$dev_only" ]; then /opt/venv/bin/pip uninstall --yes $dev_only; fi \
    && /opt/venv/bin/pip check \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${PYTHON_IMAGE} AS runtime
# A fixed uid/gid, so volumes, PodSecurity (runAsNonRoot) and file ownership agree
# across hosts; no login shell, no home directory to write to.
RUN groupadd --system --gid 10001 corespond \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin corespond
COPY --from=build /opt/venv /opt/venv
# Jurisdiction policies live outside the Python package: the default path is
# relative to the source tree, so the image points at its copy (a ConfigMap can
# be mounted over it).
COPY deploy/policies /app/policies
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CORESPOND_HOST=0.0.0.0 \
    CORESPOND_PORT=8000 \
    CORESPOND_POLICY_DIR=/app/policies \
    CORESPOND_LOG_JSON=true
USER 10001:10001
EXPOSE 8000
# uvicorn drains on SIGTERM: stops accepting, finishes requests (up to 10 s), then the
# lifespan stops the consumer and flushes the outbox relay. Give it 30 s before SIGKILL.
STOPSIGNAL SIGTERM
# /healthz is liveness: a stalled consumer or a dead background task fails it.
# python's urllib, because the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "services.common.probe", "/healthz"]
# The command is the service: python runs as PID 1 (exec form, no shell), so
# SIGTERM reaches uvicorn directly.
CMD ["python", "-m", "services.dispatch"]
