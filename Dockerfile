# syntax=docker/dockerfile:1
#
# Awareness: stateless HTTP MCP memory server.
#
#   docker build -t awareness .
#   docker run -d --name awareness -p 127.0.0.1:8420:8420 -v awareness-data:/app/data \
#     -e AWARENESS_AUTH_REQUIRED=true -e AWARENESS_JWT_SECRET="$(head -c 32 /dev/urandom | base64)" awareness
#   docker exec awareness node dist/cli/main.js token --user alice --expires 30d
#
# The image listens on 0.0.0.0, so it does not start with authentication off unless
# AWARENESS_ALLOW_UNAUTHENTICATED_NETWORK=true says so.
#
# No entrypoint script: the server runs its database migrations itself at start and exits
# non-zero if they (or the database) fail, so a failed migration still stops the container.
# `node` is PID 1 and handles SIGTERM itself.

# ---- build: compile TypeScript to dist/ -------------------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app

# Dependencies first, so source edits reuse this layer. patches/ is applied by the postinstall step.
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund

COPY . .
# A host with a restrictive umask can check files out as 0600; the runtime user must read them.
# Then the build-time packages go (tsx, esbuild, TypeScript, tap and the other devDependencies): what is
# left is the runtime's node_modules, already patched, so the runtime stage installs nothing.
RUN npm run build && chmod -R a+rX dist assets && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: production dependencies, compiled code, icons -----------------------------
FROM node:24-bookworm-slim AS runtime

# curl serves the HEALTHCHECK only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --system --no-create-home awareness

WORKDIR /app

# package.json also carries "type": "module", which dist/ needs at run time.
COPY package.json ./

# Code stays root-owned and read-only for the service user (deviation from the reference's
# `chown -R /app`: the process cannot rewrite its own code, and no layer duplicates
# node_modules). Only the data directory is writable. Runtime files that tsc does not emit
# (non-TypeScript text, SQL) must be copied here too if the product ever adds any.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/assets ./assets

# The embedded PGlite database lives here. No VOLUME is declared (parity: no anonymous
# volumes); mount a named volume or bind mount on /app/data to keep data across containers.
RUN install -d -o awareness -g awareness -m 0750 /app/data

ENV AWARENESS_TRANSPORT=streamable-http \
    AWARENESS_HOST=0.0.0.0 \
    AWARENESS_PORT=8420 \
    AWARENESS_DATA_DIR=/app/data \
    NODE_ENV=production

EXPOSE 8420

# /health pings the database and answers 503 while it does not answer (curl -f fails on it). The shell
# expands the variables when the check runs, so a port or a secret mount path set at `docker run` is
# honoured; the mount is normalised as the server does ("secret/" and "/secret" are both /secret).
HEALTHCHECK --interval=10s --timeout=10s --start-period=30s --retries=3 CMD m="${AWARENESS_MOUNT_PATH#/}"; m="${m%/}"; curl -fsS "http://127.0.0.1:${AWARENESS_PORT}${m:+/$m}/health" || exit 1

# Placeholder project URLs: override at publication with `docker build --label ...`.
# CI adds org.opencontainers.image.version, .revision and .created.
LABEL org.opencontainers.image.title="Awareness" \
      org.opencontainers.image.description="Shared, persistent memory and ambient awareness for every AI assistant, over the Model Context Protocol" \
      org.opencontainers.image.source="https://example.org/awareness/awareness" \
      org.opencontainers.image.url="https://example.org/awareness" \
      org.opencontainers.image.documentation="https://example.org/awareness/docs" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later" \
      org.opencontainers.image.authors="Awareness contributors" \
      org.opencontainers.image.vendor="Awareness project"

USER awareness

# Exec form: node is PID 1 and receives SIGTERM directly (the server drains and closes).
CMD ["node", "dist/app/main.js"]
