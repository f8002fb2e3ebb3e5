#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, for trying `--executor slurm` on a laptop and
# for CI. Debian's slurm-wlm and munge; no systemd, no cgroups, no accounting daemon.
#
#   scripts/slurm-local.sh start    install if needed, write slurm.conf, start munged/slurmctld/slurmd
#   scripts/slurm-local.sh stop     scontrol shutdown, stop munged
#   scripts/slurm-local.sh status   sinfo
#
# Needs root (it installs packages and writes /etc/slurm). Set SLURM_LOCAL_MAX_ARRAY to change
# MaxArraySize (default 1001, Slurm's own default).
set -euo pipefail

CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
LOGS=/var/log/slurm
RUN=/run/slurm

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "slurm-local: needs root (it installs slurm-wlm and munge and writes $CONF); try: sudo $0 $*" >&2
    exit 2
  fi
}

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; then return; fi
  echo "slurm-local: installing slurm-wlm and munge from apt" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

write_conf() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  # leave room for the OS and the driver: Slurm rejects requests above RealMemory at submit
  mem=$(( $(free -m | awk '/^Mem:/ {print $2}') - 1024 ))
  mkdir -p "$CONF_DIR" "$STATE" "$SPOOL" "$LOGS" "$RUN"
  cat >"$CONF" <<EOF
# written by scripts/slurm-local.sh: one node, this machine
ClusterName=mathdag-local
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGS/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without a default, every job claims the whole node and array tasks run one at a time
DefMemPerCPU=100
# the default batch delay adds seconds to every scheduling round
SchedulerParameters=batch_sched_delay=0
# impossible requests are rejected at submit instead of pending forever
EnforcePartLimits=ALL
MaxArraySize=${SLURM_LOCAL_MAX_ARRAY:-1001}
ReturnToService=2
MailProg=/bin/true
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

wait_gone() { # a pid file's process has ended (zombies count as ended: PID 1 reaps them late)
  local pid=$1 i
  for i in $(seq 1 100); do
    if [ ! -e "/proc/$pid/status" ] || grep -q '^State:.*Z' "/proc/$pid/status"; then return 0; fi
    sleep 0.1
  done
  return 1
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  [ -s /etc/munge/munge.key ] || mungekey -c
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  # munged refuses to run as root ("Logfile is insecure")
  runuser -u munge -- munged
  for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return; sleep 0.1; done
  echo "slurm-local: munged did not start; see /var/log/munge/munged.log" >&2
  exit 1
}

start() {
  need_root start
  install
  if scontrol ping 2>/dev/null | grep -q UP && sinfo -h -N -o %t 2>/dev/null | grep -Eq 'idle|mix|alloc'; then
    echo "slurm-local: already running"
    return
  fi
  write_conf
  start_munge
  # a fresh controller state: old job ids and jobs would otherwise come back
  rm -rf "${STATE:?}"/* "${SPOOL:?}"/*
  slurmctld
  slurmd
  for _ in $(seq 1 100); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
    case "$state" in idle|mix|alloc) echo "slurm-local: up (node $(hostname -s), $(nproc) CPUs, state $state)"; return ;; esac
    sleep 0.1
  done
  echo "slurm-local: the node did not become idle; see $LOGS/slurmctld.log and $LOGS/slurmd.log" >&2
  exit 1
}

stop() {
  need_root stop
  scontrol shutdown >/dev/null 2>&1 || true
  for f in "$RUN/slurmctld.pid" "$RUN/slurmd.pid"; do
    [ -s "$f" ] && wait_gone "$(cat "$f")" || true
  done
  if [ -s /run/munge/munged.pid ]; then
    pid=$(cat /run/munge/munged.pid)
    kill "$pid" 2>/dev/null || true
    wait_gone "$pid" || true
  fi
  echo "slurm-local: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
