// Package deploytest holds tests only: it deploys clawtrail the way an operator
// does, on the machine's real Docker engine, and checks what the operator relies
// on. An agent simulator (cmd/agentsim) runs commands in its own container and
// writes OpenClaw transcripts to a shared volume; the clawtrail sidecar audits them
// from another container. The tests check that the audited output comes from the
// agent's container (its hostname, not the host's), that `check isolation` inside
// the sidecar sees separate namespaces and no Docker socket while a privileged
// sidecar with the socket mounted is reported critical, and that a sidecar killed
// with SIGKILL from the host is restarted by its restart policy and ends with
// every exec in the ledger exactly once and an intact hash chain.
//
// No image is pulled: the binaries are built on the host (CGO_ENABLED=0) and the
// images are built FROM scratch. The sidecar image is the final stage of the
// repository's Dockerfile with the host-built binary in place of the build stage's;
// the agent image gets Debian's busybox-static as /bin/sh.
//
// Without a reachable Docker engine (`docker info` fails) the Docker tests skip,
// saying so; with CI=true they fail instead. The deployment files are also checked
// without Docker: the Dockerfile's final stage, the compose file's two layouts
// (with docker compose or docker-compose), and the systemd unit's flags and paths.
package deploytest
