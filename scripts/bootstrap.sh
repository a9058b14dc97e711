#!/usr/bin/env bash
# Install everything the lab needs, idempotently: Debian packages (when root), a venv, the project.
# Sourced by scripts/demo and scripts/test; safe to run again (each step checks before it acts).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${G7LAB_VENV:-$ROOT/.venv}"

# Debian packages. QEMU + libvirt for the real-emulation tier, parted/libvirt headers for the
# Python bindings, syslinux/mtools/dosfstools for the DriveKey, e2fsprogs/fdisk/parted for restored
# filesystems and their read-back checks, partclone/zstd for the benchmarks' baselines.
DEB_PACKAGES=(
  qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients libvirt-dev
  libparted-dev parted fdisk pkg-config gcc python3-dev python3-venv
  syslinux syslinux-common mtools dosfstools e2fsprogs partclone cpio zstd busybox-static
  fonts-dejavu-core mmdebstrap
)

missing_debs() {
  local p
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

install_debs() {
  command -v dpkg-query >/dev/null 2>&1 || { echo "bootstrap: not a Debian system; install ${DEB_PACKAGES[*]} yourself" >&2; return 0; }
  local missing
  missing="$(missing_debs | tr '\n' ' ')"
  [ -z "${missing// /}" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages (run as root to install): $missing" >&2
    return 0
  fi
  echo "bootstrap: installing Debian packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

install_venv() {
  local stamp="$VENV/.g7lab-installed" want
  want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
    return 0
  fi
  echo "bootstrap: preparing venv $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
  echo "$want" > "$stamp"
}

install_debs
install_venv
export PATH="$VENV/bin:$PATH"
