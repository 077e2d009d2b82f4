#!/usr/bin/env bash
# Installs the Debian packages the tests need (redis-server, postgresql, chromium, dovecot for the IMAP
# poller's tests), only when missing.
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v psql >/dev/null || missing+=(postgresql-client)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null || missing+=(npm)
[ -x /usr/sbin/dovecot ] && [ -e /usr/lib/dovecot/imap ] || missing+=(dovecot-imapd)
# A CJK font: without one Chromium draws the widget's Chinese texts as boxes in the screenshots.
fc-list 2>/dev/null | grep -qi "zen hei" || missing+=(fonts-wqy-zenhei)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged servers; the tests start their own on free ports, so stop these.
if command -v service >/dev/null; then
  $SUDO service redis-server stop >/dev/null 2>&1 || true
  $SUDO service postgresql stop >/dev/null 2>&1 || true
  $SUDO service dovecot stop >/dev/null 2>&1 || true
fi
