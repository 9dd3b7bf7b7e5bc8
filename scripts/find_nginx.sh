#!/usr/bin/env bash
# Print the path of nginx; install Debian's package first when it is missing and we may (root, or sudo).
set -euo pipefail
found=$(command -v nginx 2>/dev/null || true)
[ -z "$found" ] && [ -x /usr/sbin/nginx ] && found=/usr/sbin/nginx
if [ -z "$found" ]; then
  if [ "$(id -u)" = 0 ]; then
    { apt-get update && apt-get install -y nginx; } >&2
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    { sudo apt-get update && sudo apt-get install -y nginx; } >&2
  else
    echo "nginx is needed in front of the Rasa servers: apt-get install nginx" >&2; exit 1
  fi
  found=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
fi
echo "$found"
