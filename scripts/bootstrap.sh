#!/usr/bin/env bash
# Install everything the lab needs, idempotently: Debian packages (when root), a venv, the project.
# Sourced by scripts/demo and scripts/test; safe to run again (each step checks before it acts).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${G7LAB_VENV:-$ROOT/.venv}"

# Debian packages. QEMU + libvirt for the real-emulation tier, parted/libvirt headers for the
# Python bindings, syslinux/mtools/dosfstools for the DriveKey, e2fsprogs/fdisk/parted for restored
# filesystems and their read-back checks, partclone/zstd for the benchmarks' baselines,
# console-setup-linux for the VGA text font of the PNG screens (fonts-dejavu-core when it is missing),
# chromium and its driver for the procedure book's browser test (tests/book: Selenium drives
# /usr/bin/chromedriver, so nothing is downloaded at test time).
DEB_PACKAGES=(
  qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients libvirt-dev
  libparted-dev parted fdisk pkg-config gcc python3-dev python3-venv
  syslinux syslinux-common mtools dosfstools e2fsprogs partclone cpio zstd busybox-static
  fonts-dejavu-core console-setup-linux mmdebstrap chromium chromium-driver
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

# libvirt (9.x) checks /dev/kvm as its qemu user: when only root may open the node (no udev rule ran, as in
# containers), its QEMU capability cache never validates and every guest start re-probes QEMU (~60 s on
# 2 cores, measured: POST -> Recovery Environment 81 s vs 14 s). Give the node udev's usual permissions.
fix_kvm_node() {
  [ "$(id -u)" -eq 0 ] && [ -c /dev/kvm ] && getent group kvm >/dev/null 2>&1 || return 0
  [ "$(stat -c %a /dev/kvm)" = 600 ] || return 0
  chgrp kvm /dev/kvm && chmod 0660 /dev/kvm && echo "bootstrap: /dev/kvm made group kvm, mode 0660 (as udev does)"
}

install_debs
fix_kvm_node
install_venv
export PATH="$VENV/bin:$PATH"
