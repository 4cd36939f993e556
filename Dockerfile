# syntax=docker/dockerfile:1
#
# Inlay in a container: the UI is built with Node, the server with Go and cgo (DuckDB is a C++
# library linked into the binary, so the runtime needs glibc and libstdc++: Debian slim, not
# distroless static or Alpine), and the result runs as an unprivileged user.
#
#   docker build -t inlay .
#   docker run -p 8470:8470 -e INLAY_SECRET=$(openssl rand -hex 32) -v $PWD/my-project:/project:ro inlay

# ---- 1. viewer page and SDK bundle -------------------------------------------------------
FROM node:20-bookworm-slim AS ui
WORKDIR /src
COPY web/viewer/package.json web/viewer/package-lock.json web/viewer/
COPY sdk/embed/package.json sdk/embed/package-lock.json sdk/embed/
COPY web/looker-sdk/package.json web/looker-sdk/package-lock.json web/looker-sdk/
RUN npm --prefix web/viewer ci --no-audit --no-fund \
 && npm --prefix sdk/embed ci --no-audit --no-fund \
 && npm --prefix web/looker-sdk ci --no-audit --no-fund
COPY web/ web/
COPY sdk/ sdk/
COPY internal/web/dist/.keep internal/web/dist/.keep
# The same steps as scripts/build-ui.sh.
RUN npm --prefix web/viewer run build \
 && npm --prefix sdk/embed run build \
 && npm --prefix web/looker-sdk run build

# ---- 2. the server -----------------------------------------------------------------------
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=ui /src/internal/web/dist/ internal/web/dist/
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/inlay ./cmd/inlay

# ---- 3. runtime --------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates libstdc++6 tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 inlay \
 && useradd --system --uid 10001 --gid inlay --home-dir /var/lib/inlay --shell /usr/sbin/nologin inlay \
 && mkdir -p /project /var/lib/inlay \
 && chown inlay:inlay /var/lib/inlay
COPY --from=build /out/inlay /usr/local/bin/inlay
USER 10001:10001
# The working folder is writable (DuckDB spills to ./.tmp there); the project is mounted
# read-only at /project. State: SQLite in /var/lib/inlay for one replica, or
# `state: {driver: postgres}` in inlay.yaml for several.
WORKDIR /var/lib/inlay
ENV INLAY_LISTEN=0.0.0.0:8470 \
    INLAY_STATE_PATH=/var/lib/inlay/state.db
EXPOSE 8470
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/inlay"]
CMD ["serve", "--project", "/project"]
