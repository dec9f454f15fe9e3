#!/usr/bin/env bash
# Compiles every gettext catalog (ui/locale: domain ui; kiosk/locale: the core's keys) to .mo.
# Called by scripts/setup.sh; msgfmt --check-format refuses a catalog with a format error.
set -euo pipefail
cd "$(dirname "$0")/.."
for po in ui/locale/*/LC_MESSAGES/*.po kiosk/locale/*/LC_MESSAGES/*.po; do
  [ -f "$po" ] || continue
  mo="${po%.po}.mo"
  if [ ! -f "$mo" ] || [ "$po" -nt "$mo" ]; then
    msgfmt --check-format -o "$mo" "$po"
  fi
done
