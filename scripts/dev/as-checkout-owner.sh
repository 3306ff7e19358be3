#!/bin/sh
# Entrypoint of the development image (Dockerfile.dev): runs the command as the user who owns the
# bind-mounted checkout at /app, so that what the dev services write there (Vite's cache) and into the
# node_modules volume belongs to the developer, never to root.
#
# Why not `user: "${UID}:${GID}"` in the compose file: UID is a shell variable that most shells do not
# export, so compose would silently fall back to a default. The checkout's owner is the host user on Linux;
# on Docker Desktop and rootless Docker the files look root-owned and the container's root already writes
# as the host user, so the command runs as root there. DEV_UID and DEV_GID override the detection.
set -eu

uid="${DEV_UID:-$(stat -c %u /app)}"
gid="${DEV_GID:-$(stat -c %g /app)}"
if [ "$(id -u)" != 0 ] || [ "$uid" = 0 ]; then
  exec "$@"
fi

# Docker creates a named volume root-owned, and it keeps files of an earlier owner: hand it over once.
if [ "$(stat -c %u /app/node_modules)" != "$uid" ]; then
  chown -R "$uid:$gid" /app/node_modules
fi
# Docker also creates the volume's mount point, node_modules/ in the checkout, as root. The install service
# mounts the checkout a second time at /mnt/checkout, without the volume over it, to hand that folder back.
if [ -d /mnt/checkout/node_modules ]; then
  chown "$uid:$gid" /mnt/checkout/node_modules || true
fi

# npm keeps its cache and settings in HOME; a uid without an account here gets a fresh one.
home="$(getent passwd "$uid" | cut -d: -f6)"
if [ -z "$home" ] || [ "$(stat -c %u "$home" 2>/dev/null)" != "$uid" ]; then
  home=/tmp/home
  mkdir -p "$home"
  chown "$uid:$gid" "$home"
fi
export HOME="$home"

exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
