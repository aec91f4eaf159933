#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium (the dashboard and its browser tests use it;
# Playwright drives this one, no browser download). Installs it with apt-get when run as root;
# otherwise stops with one line saying what to run.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure_chromium: Debian chromium is needed at $CHROMIUM: run 'sudo apt-get install chromium' (or make test as root)" >&2
  exit 1
fi
command -v apt-get >/dev/null || { echo "ensure_chromium: apt-get not found: install Chromium at $CHROMIUM by hand" >&2; exit 1; }
echo "ensure_chromium: installing Debian's chromium (apt-get)" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
[ -x "$CHROMIUM" ] || { echo "ensure_chromium: apt-get did not install $CHROMIUM" >&2; exit 1; }
