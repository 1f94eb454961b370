#!/usr/bin/env bash
# Install the Debian 12 packages salient needs (as root, or through sudo).
# Idempotent: when every package is already installed it changes nothing.
set -euo pipefail

packages=(
  # toolchain
  gcc make cmake pkg-config
  # MPI, dense linear algebra
  openmpi-bin libopenmpi-dev libscalapack-openmpi-dev libopenblas-dev
  # the probe's quasi-Newton solver (L-BFGS-B 3.0)
  liblbfgsb-dev
  # NetCDF-4 (serial tools, the MPI build salient links, and its HDF5)
  libnetcdf-dev netcdf-bin libnetcdf-mpi-dev libhdf5-openmpi-dev
  # JSON (NeuroX JSON import)
  libjson-c-dev
  # job files
  libconfig-dev
  # plots (salient report): PLplot, and its cairo driver for PNG (SVG is built in)
  libplplot-dev plplot-driver-cairo
  # a single-node Slurm for tests/test-slurm.sh (the daemons are started by the test only)
  slurmctld slurmd slurm-client munge
)

# munge's postinst normally creates /etc/munge/munge.key; make one if it did not.
munge_key() {
  { [ -e /etc/munge/munge.key ] || ! getent passwd munge >/dev/null; } && return 0
  echo "install-deps: creating /etc/munge/munge.key"
  $sudo mkdir -p /etc/munge
  $sudo dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  $sudo chown munge:munge /etc/munge/munge.key
  $sudo chmod 400 /etc/munge/munge.key
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js >= 18 and npm for the extractor (src/extract): Debian's nodejs and npm, unless a
# node >= 18 and an npm are there already (NodeSource's nodejs bundles npm and conflicts
# with Debian's npm package).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 18 ] || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ "${#missing[@]}" -eq 0 ]; then
  munge_key
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
munge_key
echo "install-deps: done"
