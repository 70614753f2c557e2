# gitops-policy-bot container: the App (gunicorn) by default, `gitops-bot-worker` or `gitops-bot check` on request.
#   docker build -t gitops-policy-bot:0.1.0 .
# Stage 1 builds the wheel (sdist first, then the wheel from it: the policy library travels inside);
# stage 2 installs only that wheel and its dependencies, drops pip, and runs as an unprivileged user.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
RUN python -m pip install --no-cache-dir "build>=1.2,<2"
COPY pyproject.toml setup.py README.md ./
COPY bot ./bot
COPY policies ./policies
RUN python -m build --outdir /dist .

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8080 \
    GITOPS_BOT_DATA_DIR=/var/lib/gitops-bot
COPY --from=build /dist/*.whl /tmp/wheels/
RUN python -m pip install --no-cache-dir /tmp/wheels/*.whl \
 && rm -rf /tmp/wheels \
 && python -m pip uninstall -y pip setuptools wheel \
 && groupadd --gid 10001 gitops-bot \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin gitops-bot \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/gitops-bot
USER 10001:10001
WORKDIR /var/lib/gitops-bot
EXPOSE 8080
CMD ["gunicorn", "bot.app.web:create_app()", "-c", "python:bot.app.gunicorn_conf"]
