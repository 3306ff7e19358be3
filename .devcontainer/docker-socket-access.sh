#!/bin/sh
# Entrypoint of the dev container: lets the `node` user use the host's Docker socket. The socket's group
# id differs from host to host, so it is read here, at start, and `node` joins a group with that id;
# VS Code and `docker exec -u node` read the groups afresh for every process they start.
set -eu
socket=/var/run/docker.sock
if [ -S "$socket" ] && [ "$(id -u)" = 0 ]; then
  gid="$(stat -c %g "$socket")"
  group="$(getent group "$gid" | cut -d: -f1)"
  if [ -z "$group" ]; then
    group=docker-host
    groupadd --gid "$gid" "$group"
  fi
  usermod -aG "$group" node
fi
exec "$@"
