#!/usr/bin/env bash
# Install the Debian 12 packages salient needs (as root, or through sudo).
# Idempotent: when every package is already installed it changes nothing.
set -euo pipefail

packages=(
  # toolchain
  gcc make cmake pkg-config
  # MPI, dense linear algebra
  openmpi-bin libopenmpi-dev libscalapack-openmpi-dev libopenblas-dev
  # NetCDF-4 (serial tools, the MPI build salient links, and its HDF5)
  libnetcdf-dev netcdf-bin libnetcdf-mpi-dev libhdf5-openmpi-dev
  # JSON (NeuroX JSON import)
  libjson-c-dev
  # job files
  libconfig-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
