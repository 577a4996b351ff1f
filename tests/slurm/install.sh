#!/usr/bin/env bash
# Idempotent install of a single-node SLURM cluster's Debian packages (Debian 12, run as root).
# Installs: slurm-wlm (slurmctld, slurmd, client tools), slurmdbd + mariadb-server (accounting, so
# `sacct` works), munge (authentication). Daemons are NOT started here: tests/slurm/cluster.sh does that.
# A temporary /usr/sbin/policy-rc.d that exits 101 stops apt from starting the daemons while installing.
set -euo pipefail

PKGS=(slurm-wlm slurmdbd munge mariadb-server)

if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: must run as root" >&2
    exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
# With the client tools installed and no cluster running, park slurm.conf so that they fail at once instead of
# making every `snakemake` start wait 9-10 s (tests/slurm/cluster.sh, "Why park").
park() { bash "$(dirname "$0")/cluster.sh" park; }

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install.sh: all packages already installed (${PKGS[*]})"
    park
    exit 0
fi

POLICY=/usr/sbin/policy-rc.d
had_policy=0
if [ -e "$POLICY" ]; then
    had_policy=1
    cp -p "$POLICY" "$POLICY.rfe-bak"
fi
restore_policy() {
    if [ "$had_policy" -eq 1 ]; then
        mv -f "$POLICY.rfe-bak" "$POLICY"
    else
        rm -f "$POLICY"
    fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/rfe-slurm-install.XXXXXX.log)
echo "install.sh: installing ${missing[*]} (log: $log)"
if ! apt-get update -qq >>"$log" 2>&1; then
    echo "install.sh: apt-get update failed" >&2; tail -n 30 "$log" >&2; exit 1
fi
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    echo "install.sh: apt-get install failed" >&2; tail -n 30 "$log" >&2; exit 1
fi
for b in slurmctld slurmd slurmdbd sacct sacctmgr munged mariadbd; do
    command -v "$b" >/dev/null || { echo "install.sh: $b missing after install" >&2; exit 1; }
done
rm -f "$log"
park
echo "install.sh: done"
