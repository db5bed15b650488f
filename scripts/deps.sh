#!/usr/bin/env bash
# Installs the Debian packages the project needs (only those missing).
set -euo pipefail
pkgs=(build-essential cmake pkg-config libopenblas-openmp-dev libmujoco-dev libhdf5-dev libmicrohttpd-dev libcjson-dev
      python3-numpy python3-torch python3-matplotlib python3-h5py python3-pytest python3-sklearn python3-pandas clang libclang-rt-14-dev
      libopenmpi-dev openmpi-bin libsimde-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
