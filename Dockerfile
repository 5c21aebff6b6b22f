# The strategy-scoring service: gunicorn serving service.wsgi:app on port 8000, as a non-root user.
#   docker build -t strategy-scoring:1.0.0 .
#   docker run --rm -p 8000:8000 strategy-scoring:1.0.0
# tests/test_delivery.py lints this file, and runs its pip steps and its CMD outside Docker.
# In production nginx is in front (deploy/k8s: a sidecar, gunicorn on 127.0.0.1:8001); exposed alone, as above,
# slow or idle clients can hold every worker (docs/operations.md, "Without the proxy").

# Stage 1: the project's wheel and the wheels of all its dependencies.
FROM python:3.11.13-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels .

# Stage 2: those wheels installed from the folder alone (no index), no build tools, no source tree.
FROM python:3.11.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PROMETHEUS_MULTIPROC_DIR=/dev/shm/strategy-metrics \
    GUNICORN_CMD_ARGS="--worker-tmp-dir /dev/shm"
RUN groupadd --system --gid 10001 strategy \
    && useradd --system --no-log-init --uid 10001 --gid strategy --no-create-home --shell /usr/sbin/nologin strategy
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir --no-index --find-links /wheels /wheels/strategy_scoring-*.whl \
    && rm -rf /wheels
# gunicorn.conf.py is not in the wheel; gunicorn finds it (and nothing else) in the working folder.
WORKDIR /app
COPY gunicorn.conf.py ./
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('STRATEGY_BIND', ':8000').rsplit(':', 1)[1]; urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "service.wsgi:app"]
