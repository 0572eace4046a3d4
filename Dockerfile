# ProdGuardian's image: `prodguardian serve` on $PORT (Cloud Run sets it; 8080 otherwise).
#   docker build -t prodguardian .
#   docker run -p 8080:8080 -v "$PWD/prodguardian.yaml:/etc/prodguardian/prodguardian.yaml:ro" \
#     -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET prodguardian
# Deploying on Cloud Run: docs/deploy-cloud-run.md. Plugins: add `RUN pip install ...` in an
# image built FROM this one (docs/plugins.md).

FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir --upgrade pip setuptools wheel
COPY pyproject.toml README.md ./
COPY agent agent
COPY checks checks
COPY runbooks runbooks
# Wheels of ProdGuardian and every dependency, so the final image needs no compiler or cache.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PRODGUARDIAN_CONFIG=/etc/prodguardian/prodguardian.yaml \
    PORT=8080
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-index --find-links=/tmp/wheels prodguardian \
    && rm -rf /tmp/wheels \
    && useradd --system --uid 10001 --create-home prodguardian
USER prodguardian
WORKDIR /home/prodguardian
EXPOSE 8080
# Shell form so that $PORT is read when the container starts; `exec` makes prodguardian PID 1,
# so Cloud Run's SIGTERM reaches it and it shuts down cleanly.
CMD exec prodguardian serve --host 0.0.0.0 --port "${PORT:-8080}"
