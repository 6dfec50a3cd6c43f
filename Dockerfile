# clawtrail, the execution-governance sidecar: a static Go binary on an empty base,
# running as uid 1000 (the uid OpenClaw's image writes its 0600 transcripts as).
#
#   docker build -t clawtrail .
#   docker run -d --name clawtrail --restart unless-stopped \
#     -v "$HOME/.openclaw:/state:ro" -v clawtrail-ledger:/ledger clawtrail
#
# docs/deploy.md has the compose sidecar, systemd and cron set-ups.
#
# The final stage is also what internal/deploytest builds on a machine that cannot
# pull images: it substitutes a binary built on the host for "--from=build /out/"
# and builds FROM scratch. Keep that stage to COPY --from=build /out/..., USER, ENV,
# VOLUME, EXPOSE, HEALTHCHECK, ENTRYPOINT and CMD lines so the test keeps testing it.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: no libc, so the binary runs on an image with nothing else in it.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/clawtrail ./cmd/clawtrail \
 && mkdir -p /out/ledger

FROM scratch
COPY --from=build /out/clawtrail /clawtrail
# A named volume mounted at /ledger starts as a copy of this directory, owner
# included, so the non-root process can create the ledger in it.
COPY --from=build --chown=1000:1000 /out/ledger /ledger
USER 1000:1000
ENV OPENCLAW_STATE_DIR=/state
VOLUME ["/ledger"]
EXPOSE 7391
# No shell or curl in the image: the binary asks its own /healthz (token from
# $CLAWTRAIL_TOKEN when the daemon requires one).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/clawtrail", "health"]
ENTRYPOINT ["/clawtrail"]
# Loopback inside the container by default: publishing the UI takes an explicit
# --listen 0.0.0.0:7391 --token ... (see deploy/compose).
CMD ["run", "--source", "/state", "--ledger", "/ledger/governance.jsonl"]
