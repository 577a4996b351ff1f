#!/usr/bin/env bash
# Start/stop a real single-node SLURM cluster (with accounting, so `sacct` works) for tests.
#
#   tests/slurm/cluster.sh start    # munge, mariadb, slurmdbd, slurmctld, slurmd; waits until usable
#   tests/slurm/cluster.sh status   # exit 0 only if every daemon started here is alive
#   tests/slurm/cluster.sh stop     # cancels jobs, kills ONLY the PIDs recorded by `start`; safe to repeat
#   tests/slurm/cluster.sh clean    # stop, then delete the state dir (database included)
#   tests/slurm/cluster.sh park     # no cluster: a slurm.conf on which SLURM's client tools fail at once
#
# Why `park` (also done by `stop` and by install.sh): Snakemake imports every installed executor plugin at start,
# and the SLURM plugin then runs `scontrol show config`. With the client tools installed and no controller
# answering, that call waits 9 s (a slurm.conf naming a stopped controller) or the plugin's 10 s timeout (no
# slurm.conf: SLURM looks for its controller in DNS) before it fails: every `snakemake` started on such a machine
# (every workflow test) paid that wait. The parked slurm.conf sets MessageTimeout=1, with which the refused
# connection fails in milliseconds; `start` writes the cluster's full slurm.conf over it.
#
# Needs root and the packages from tests/slurm/install.sh. All state, spool, log, pid and database
# files live under one state dir: ${RFE_SLURM_STATE:-/tmp/rfe-slurm}. The only files written outside
# it are /etc/slurm/slurm.conf and /etc/slurm/slurmdbd.conf (SLURM only looks there: the jobstep
# plugin strips SLURM_CONF before its inner srun), and /etc/munge/munge.key if it is missing.
# Environment: RFE_SLURM_STATE, RFE_SLURM_CLUSTER (rfe), RFE_SLURM_ACCOUNT (rfe),
# RFE_SLURM_DB_PORT (33061), RFE_SLURM_TIMEOUT (60 s per wait), RFE_SLURM_KEEP_ON_FAIL (0).
set -euo pipefail

STATE=${RFE_SLURM_STATE:-/tmp/rfe-slurm}
CLUSTER=${RFE_SLURM_CLUSTER:-rfe}
ACCOUNT=${RFE_SLURM_ACCOUNT:-rfe}
DB_PORT=${RFE_SLURM_DB_PORT:-33061}
TIMEOUT=${RFE_SLURM_TIMEOUT:-60}
KEEP_ON_FAIL=${RFE_SLURM_KEEP_ON_FAIL:-0}
SLURM_CONF_FILE=/etc/slurm/slurm.conf
SLURMDBD_CONF_FILE=/etc/slurm/slurmdbd.conf
MARKER="# Written by rfe tests/slurm/cluster.sh"

PIDS="$STATE/pids"
LOGS="$STATE/log"
MUNGE_DIR="$STATE/munge"
MUNGE_SOCKET="$MUNGE_DIR/munge.socket"
DB_DIR="$STATE/mysql"
DB_SOCKET="$DB_DIR/run/mysqld.sock"
# Start order.
DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)

log() { echo "cluster.sh: $*"; }
die() { echo "cluster.sh: ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------- PID bookkeeping
pid_of() { [ -s "$PIDS/$1.pid" ] && cat "$PIDS/$1.pid" || true; }

# Alive AND still the program we started (guards against PID reuse).
is_ours() {
    local name=$1 pid
    pid=$(pid_of "$name")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$name"
}

# Run a daemon in the foreground, detached (own session, no inherited stdio so callers that capture
# output never hang on it), and record its PID. setsid execs in place (no job control => not a group
# leader), so $! is the daemon itself.
launch() {
    local name=$1; shift
    setsid "$@" </dev/null >>"$LOGS/$name.out" 2>&1 &
    echo $! >"$PIDS/$name.pid"
}

wait_for() { # wait_for DESCRIPTION DAEMON CMD...
    local what=$1 daemon=$2; shift 2
    local deadline=$((SECONDS + TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if [ -n "$daemon" ] && ! is_ours "$daemon"; then
            fail "$daemon died while waiting for: $what"
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${TIMEOUT}s waiting for: $what"
        sleep 0.2
    done
}

show_logs() {
    local f
    for f in "$LOGS"/*; do
        [ -f "$f" ] || continue
        echo "----- $f (last 40 lines)" >&2
        tail -n 40 "$f" >&2 || true
    done
}

fail() {
    echo "cluster.sh: ERROR: $*" >&2
    show_logs
    if [ "$KEEP_ON_FAIL" != 1 ]; then do_stop >&2 || true; fi
    exit 1
}

# ---------------------------------------------------------------- config files
write_confs() {
    local host node cpus_line mem real
    host=$(hostname -s)
    # e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
    node=$(slurmd -C | head -n 1)
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
    [ -n "$mem" ] || die "cannot parse 'slurmd -C': $node"
    real=$((mem * 95 / 100))
    cpus_line=$(sed -e "s/^NodeName=[^ ]* //" -e "s/ RealMemory=[0-9]*//" <<<"$node")

    mkdir -p /etc/slurm
    local f
    for f in "$SLURM_CONF_FILE" "$SLURMDBD_CONF_FILE"; do
        if [ -f "$f" ] && ! grep -qF "$MARKER" "$f" && [ ! -e "$f.rfe-bak" ]; then
            cp -p "$f" "$f.rfe-bak" && log "kept the previous $f as $f.rfe-bak"
        fi
    done

    cat >"$SLURM_CONF_FILE" <<EOF
$MARKER (state dir $STATE); regenerated on every start.
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
MailProg=/bin/true
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
ReturnToService=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
MinJobAge=300
KillWait=5
InactiveLimit=0
Waittime=0
SchedulerType=sched/backfill
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE/spool/slurmctld
SlurmdSpoolDir=$STATE/spool/slurmd
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=6819
# With auth/munge, AccountingStoragePass names the munge socket for slurmdbd connections
# (AuthInfo alone is not used for them).
AccountingStoragePass=$MUNGE_SOCKET
JobCompType=jobcomp/none
NodeName=$host $cpus_line RealMemory=$real NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    chmod 644 "$SLURM_CONF_FILE"

    cat >"$SLURMDBD_CONF_FILE" <<EOF
$MARKER (state dir $STATE); regenerated on every start.
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdAddr=127.0.0.1
DbdHost=$host
DbdPort=6819
SlurmUser=root
LogFile=$LOGS/slurmdbd.log
PidFile=$STATE/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$SLURMDBD_CONF_FILE"
}

# No cluster: a slurm.conf on which the client tools fail at once (see the header). Leaves a foreign slurm.conf alone.
do_park() {
    if [ -f "$SLURM_CONF_FILE" ] && ! grep -qF "$MARKER" "$SLURM_CONF_FILE"; then
        log "not parking: $SLURM_CONF_FILE was not written here"
        return 0
    fi
    mkdir -p /etc/slurm
    printf '%s\n' "$MARKER (parked: no cluster runs; 'cluster.sh start' writes the real one)." \
        "ClusterName=$CLUSTER" "SlurmctldHost=$(hostname -s)(127.0.0.1)" "MessageTimeout=1" >"$SLURM_CONF_FILE"
    chmod 644 "$SLURM_CONF_FILE"
}

# ---------------------------------------------------------------- daemons
start_munge() {
    if [ ! -s /etc/munge/munge.key ]; then
        mungekey -c -f -k /etc/munge/munge.key
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    install -d -o munge -g munge -m 755 "$MUNGE_DIR"
    launch munged setpriv --reuid=munge --regid=munge --init-groups -- \
        munged -F --force --socket="$MUNGE_SOCKET" --pid-file="$MUNGE_DIR/munged.pid" \
        --seed-file="$MUNGE_DIR/munged.seed" --log-file="$MUNGE_DIR/munged.log"
    wait_for "munge credential round trip" munged \
        bash -c "munge -n --socket='$MUNGE_SOCKET' | unmunge --socket='$MUNGE_SOCKET'"
}

db_sql() { mariadb --no-defaults --socket="$DB_SOCKET" -u root "$@"; }

start_mariadb() {
    install -d -o mysql -g mysql -m 755 "$DB_DIR" "$DB_DIR/run" "$DB_DIR/log"
    if [ ! -d "$DB_DIR/data/mysql" ]; then
        rm -rf "$DB_DIR/data"
        install -d -o mysql -g mysql -m 750 "$DB_DIR/data"
        mariadb-install-db --no-defaults --user=mysql --datadir="$DB_DIR/data" \
            --auth-root-authentication-method=socket --skip-test-db \
            >"$LOGS/mariadb-install-db.log" 2>&1 || fail "mariadb-install-db failed"
    fi
    # mariadbd drops to user mysql itself (same PID). Durability settings are relaxed: test data only.
    launch mariadbd mariadbd --no-defaults --user=mysql --datadir="$DB_DIR/data" \
        --socket="$DB_SOCKET" --pid-file="$DB_DIR/run/mariadbd.pid" \
        --log-error="$DB_DIR/log/mariadbd.log" --bind-address=127.0.0.1 --port="$DB_PORT" \
        --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=128M \
        --innodb-log-file-size=64M --innodb-lock-wait-timeout=900 \
        --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --sync-binlog=0
    wait_for "mariadb answers on $DB_SOCKET" mariadbd db_sql -e "SELECT 1"
    db_sql -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
               GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;" \
        || fail "cannot create the slurm database user"
}

start_slurmdbd() {
    launch slurmdbd slurmdbd -D
    wait_for "slurmdbd answers sacctmgr" slurmdbd sacctmgr -n list cluster
    if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
        sacctmgr -i add cluster "$CLUSTER" >/dev/null || fail "sacctmgr add cluster failed"
    fi
    if ! sacctmgr -n -P list account format=account | grep -qx "$ACCOUNT"; then
        sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description=tests Organization=rfe \
            >/dev/null || fail "sacctmgr add account failed"
    fi
    local user
    user=$(id -un)
    # (sacctmgr creates user root under account root with the cluster; add the association anyway.)
    if ! sacctmgr -n -P list assoc cluster="$CLUSTER" account="$ACCOUNT" user="$user" format=user \
        | grep -qx "$user"; then
        sacctmgr -i add user "$user" Account="$ACCOUNT" DefaultAccount="$ACCOUNT" Cluster="$CLUSTER" \
            >/dev/null || fail "sacctmgr add user failed"
    fi
}

node_idle() { sinfo -h -o %T | grep -qx idle; }

start_slurm() {
    launch slurmctld slurmctld -D -i
    wait_for "slurmctld answers scontrol ping" slurmctld bash -c "scontrol ping | grep -q UP"
    launch slurmd slurmd -D
    wait_for "node idle in sinfo" slurmd node_idle
    wait_for "srun -N1 -n1 true" slurmd timeout 20 srun -N1 -n1 true
}

# ---------------------------------------------------------------- commands
do_start() {
    [ "$(id -u)" -eq 0 ] || die "must run as root"
    local b
    for b in munged mariadbd mariadb-install-db slurmdbd slurmctld slurmd sacctmgr setpriv; do
        command -v "$b" >/dev/null || die "$b not found: run tests/slurm/install.sh first"
    done
    if do_status >/dev/null 2>&1; then
        log "already running (state dir $STATE)"
        return 0
    fi
    do_stop >/dev/null # leftovers from a partial start
    mkdir -p "$PIDS" "$LOGS" "$STATE/run" "$STATE/spool/slurmctld" "$STATE/spool/slurmd"
    chmod 755 "$STATE"
    local t0=$SECONDS
    write_confs
    start_munge
    start_mariadb
    start_slurmdbd
    start_slurm
    log "started in $((SECONDS - t0))s: cluster '$CLUSTER', partition 'debug', state dir $STATE"
}

# Cancel jobs while the controller is still up, so no slurmstepd outlives the cluster.
cancel_jobs() {
    is_ours slurmctld || return 0
    local jobs
    jobs=$(timeout 10 squeue -h -o %i 2>/dev/null || true)
    [ -n "$jobs" ] || return 0
    timeout 10 scancel $jobs 2>/dev/null || true
    for _ in $(seq 1 50); do
        [ -z "$(timeout 5 squeue -h -o %i 2>/dev/null || true)" ] && return 0
        sleep 0.2
    done
}

# SIGTERM the named daemons together, wait for all, SIGKILL any still alive after 20 s.
stop_group() {
    local name pid alive
    local -a pids=()
    for name in "$@"; do
        pid=$(pid_of "$name")
        if [ -n "$pid" ] && is_ours "$name"; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done
    for _ in $(seq 1 100); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" -eq 1 ] || break
        sleep 0.2
    done
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            log "pid $pid ignored SIGTERM for 20s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for _ in $(seq 1 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        fi
    done
    for name in "$@"; do rm -f "$PIDS/$name.pid"; done
}

do_stop() {
    [ -d "$PIDS" ] || { log "nothing to stop"; return 0; }
    cancel_jobs
    # slurmctld flushes job records to slurmdbd on shutdown, which needs mariadb and munge.
    stop_group slurmd slurmctld
    stop_group slurmdbd
    stop_group mariadbd munged
    do_park
    log "stopped (state dir $STATE kept; slurm.conf parked)"
}

do_status() {
    local name pid ok=0
    for name in "${DAEMONS[@]}"; do
        pid=$(pid_of "$name")
        if is_ours "$name"; then
            echo "$name: running (pid $pid)"
        else
            echo "$name: not running${pid:+ (stale pid $pid)}"
            ok=1
        fi
    done
    if [ "$ok" -eq 0 ]; then
        sinfo 2>&1 || true
    fi
    return "$ok"
}

case "${1:-}" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    clean) do_stop; rm -rf "$STATE"; log "removed $STATE" ;;
    park) do_park ;;
    *) echo "usage: $0 start|stop|status|clean|park" >&2; exit 2 ;;
esac
