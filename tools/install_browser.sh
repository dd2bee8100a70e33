#!/usr/bin/env bash
# Make sure Debian's Chromium is present for the browser tests (Playwright's own
# browser download does not work offline), with a CJK font. Installs them when running as root.
set -euo pipefail
# A CJK font, so that the Chinese terms render in screenshots (readers' own browsers have one).
fonts=$(fc-list 2>/dev/null || true)  # (not piped into grep -q: pipefail + SIGPIPE)
if [ -x /usr/bin/chromium ] && grep -qi "wqy\|noto sans cjk" <<<"$fonts"; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
else
  echo "The browser tests need Chromium at /usr/bin/chromium: run 'sudo apt-get install chromium'." >&2
  exit 1
fi
