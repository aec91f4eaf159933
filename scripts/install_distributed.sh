#!/usr/bin/env bash
# Install what Ray and SLURM sweeps (and their tests) need into .venv; SLURM daemons from Debian when root.
#   bash scripts/install_distributed.sh [all|ray|slurm]
# Ray: ray[default] (the ".[ray]" extra), then hydra-ray-launcher with --no-deps: it pins cloudpickle<3,
# which breaks joblib 1.6 and dask; pip extras cannot say --no-deps, so this script does it.
# SLURM: hydra-submitit-launcher (the ".[slurm]" extra); slurmctld, slurmd, munge, iproute2 via apt-get (tests only:
# nothing is configured or started here, the tests run them inside their own network namespace).
# Idempotent: does nothing when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
WHAT=${1:-all}
PY=.venv/bin/python
[ -x "$PY" ] || bash scripts/bootstrap.sh
case "$WHAT" in all|ray|slurm) ;; *) echo "install_distributed: '$WHAT' is not allowed: allowed all, ray, slurm" >&2; exit 2;; esac
if [ "$WHAT" != ray ]; then
  if ! "$PY" -c "import submitit, hydra_plugins.hydra_submitit_launcher" 2>/dev/null; then
    "$PY" -m pip install -q -e ".[slurm]"
  fi
  if ! { command -v slurmctld && command -v slurmd && command -v munged && command -v sbatch && command -v ip \
         && command -v nsenter; } >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "install_distributed: slurmctld, slurmd, munge missing (apt-get needs root)" >&2; exit 1
    fi
    # policy-rc.d: do not let the packages start their daemons (they would run outside any namespace)
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge iproute2 util-linux >/dev/null
  fi
fi
if [ "$WHAT" != slurm ]; then
  if ! "$PY" -c "import ray, hydra_plugins.hydra_ray_launcher" 2>/dev/null; then
    "$PY" -m pip install -q -e ".[ray]"
    "$PY" -m pip install -q --no-deps "hydra-ray-launcher==1.2.2"
  fi
fi
echo "install_distributed: $WHAT ready"
