#!/usr/bin/env bash
# End-to-end smoke test of the SLURM setup: installs the packages, starts the local cluster, runs a
# toy workflow (written to a temp dir, not the repo) through `snakemake --profile profiles/slurm`,
# checks with sacct that the jobs went through the scheduler, checks that a failing job is reported
# as FAILED and makes snakemake exit non-zero without hanging, then stops the cluster and checks
# that no daemon it started is left. Needs root. Usage: tests/slurm/smoke.sh
# Environment: SNAKEMAKE (default: snakemake next to this Python venv, else on PATH),
# RFE_SLURM_STATE (cluster state dir), RFE_SMOKE_TIMEOUT (seconds per snakemake run, 600).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PROFILE="$REPO/profiles/slurm"
SNAKEMAKE=${SNAKEMAKE:-$(command -v snakemake || echo /work/venv/bin/snakemake)}
RUN_TIMEOUT=${RFE_SMOKE_TIMEOUT:-600}
export RFE_SLURM_STATE=${RFE_SLURM_STATE:-/tmp/rfe-slurm}
# Jobs run `snakemake` again inside SLURM (sbatch exports this environment): put its venv first.
PATH="$(dirname "$SNAKEMAKE"):$PATH"
export PATH

now() { date +%s%N; }
since() { local d=$((($(date +%s%N) - $1) / 100000000)); echo "$((d / 10)).$((d % 10))"; }
# PIDs of processes whose command name is exactly $1 (read from /proc, no procps needed).
pids_named() { grep -lx "$1" /proc/[0-9]*/comm 2>/dev/null | cut -d/ -f3 || true; }
fail() { echo "smoke.sh: FAIL: $*" >&2; exit 1; }
say() { echo "smoke.sh: $*"; }

t=$(now)
"$HERE/install.sh"
say "install: $(since "$t") s"

WORK=$(mktemp -d /tmp/rfe-slurm-smoke.XXXXXX)
cleanup() {
    local rc=$?
    "$HERE/cluster.sh" stop || rc=1
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

t=$(now)
"$HERE/cluster.sh" start
say "cluster start: $(since "$t") s"
DAEMON_PIDS=$(cat "$RFE_SLURM_STATE"/pids/*.pid)

# Toy workflow; its rule names are rules of the real workflow, so the profile's set-resources
# apply to them (checked below via sacct ReqMem/Timelimit).
cat >"$WORK/Snakefile" <<'EOF'
SHARDS = [1, 2, 3]

rule all:
    input: "model.txt"

rule hpo_shard:
    output: "hpo/{i}.txt"
    shell: "echo shard {wildcards.i} job $SLURM_JOB_ID > {output}"

rule train_model:
    input: expand("hpo/{i}.txt", i=SHARDS)
    output: "model.txt"
    shell: "cat {input} > {output}; echo model job $SLURM_JOB_ID >> {output}"

rule workbook:
    output: "broken.txt"
    shell: "echo 'failing on purpose' >&2; exit 3"
EOF
cd "$WORK"

# 1) Successful run: 4 SLURM jobs (3 shards + train_model).
t=$(now)
set +e
timeout "$RUN_TIMEOUT" "$SNAKEMAKE" --profile "$PROFILE" --jobs 4 >run-ok.log 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] || { tail -n 60 run-ok.log >&2; fail "successful toy run failed (rc $rc)"; }
ok_secs=$(since "$t")
say "toy run, 4 jobs: ${ok_secs} s"
grep -q "^model job [0-9]" model.txt || fail "model.txt was not written inside a SLURM job"
[ "$(grep -c '^shard [0-9] job [0-9]' model.txt)" -eq 3 ] || fail "shard outputs not from SLURM jobs"

# sacct must list each job that snakemake submitted, COMPLETED.
mapfile -t ids < <(grep -o "^shard [0-9] job [0-9]*\|^model job [0-9]*" model.txt | awk '{print $NF}')
for id in "${ids[@]}"; do
    state=$(sacct -n -X -P -j "$id" -o State | head -n 1)
    [ "$state" = COMPLETED ] || fail "sacct: job $id state '$state', want COMPLETED"
done
sacct -X -j "$(IFS=,; echo "${ids[*]}")" -o JobID,JobName%45,Partition,ReqMem,Timelimit,State,ExitCode
# Default resources of the profile (2000 MB, 60 min) reached sbatch for a rule without its own.
shard_id=$(grep -m1 -o "^shard 1 job [0-9]*" model.txt | awk '{print $NF}')
got=$(sacct -n -X -P -j "$shard_id" -o Partition,ReqMem,Timelimit)
[ "$got" = "debug|2000M|01:00:00" ] || fail "hpo_shard did not get the profile's default-resources: $got"

# 2) Failing run: snakemake must report the failure, exit non-zero, and not hang.
t=$(now)
set +e
timeout "$RUN_TIMEOUT" "$SNAKEMAKE" --profile "$PROFILE" --jobs 4 broken.txt >run-fail.log 2>&1
rc=$?
set -e
say "failing run: $(since "$t") s, snakemake exit code $rc"
[ "$rc" -ne 124 ] || { tail -n 60 run-fail.log >&2; fail "snakemake hung on a failing job (timeout)"; }
[ "$rc" -ne 0 ] || fail "snakemake exited 0 although a job failed"
grep -q "SLURM status is: 'FAILED'" run-fail.log || { tail -n 60 run-fail.log >&2; fail "no FAILED report"; }
failed_id=$(grep -o "SLURM-job '[0-9]*' failed" run-fail.log | head -n 1 | tr -dc '0-9')
state=$(sacct -n -X -P -j "$failed_id" -o State,ExitCode | head -n 1)
case "$state" in FAILED\|[1-9]*) ;; *) fail "sacct: failing job $failed_id is '$state', want FAILED with a non-zero exit code" ;; esac
say "failing job $failed_id: sacct says $state"
# The profile's set-resources for workbook (4000 MB, 30 min) reached sbatch. (Not a plot rule: the
# profile bundles those into group jobs, which report failures as "Error in group plots".)
got=$(sacct -n -X -P -j "$failed_id" -o ReqMem,Timelimit)
[ "$got" = "4000M|00:30:00" ] || fail "workbook did not get the profile's set-resources: $got"
[ -z "$(squeue -h)" ] || fail "jobs left in the queue: $(squeue -h)"

# 3) Stop the cluster; no daemon it started may remain.
trap - EXIT
t=$(now)
"$HERE/cluster.sh" stop
say "cluster stop: $(since "$t") s"
for pid in $DAEMON_PIDS; do
    ! kill -0 "$pid" 2>/dev/null || fail "daemon pid $pid still alive after stop"
done
left=$(pids_named slurmstepd)
[ -z "$left" ] || fail "slurmstepd processes left: $left"
"$HERE/cluster.sh" stop >/dev/null # second stop is a no-op
rm -rf "$WORK"
say "PASS"
