#!/bin/sh
# pipelines/slurm (make check-slow): crawl.mk's stages as Slurm job arrays on a one-node cluster
# the test starts itself (munged, slurmctld, slurmd run directly, as root, state in the test's
# folder) and stops at the end. The array's shards are the make-driven build's, byte for byte;
# a resubmit with half the tasks' markers runs only the other half; a task warned of its time
# limit (SIGUSR1) stops, cleans up and requeues itself, a task cancelled (SIGTERM) leaves no
# temporary, and a resubmit finishes the build; crawl-status counts what is done.
. "${SRCDIR:-.}/tests/lib.sh"
[ -n "${SLOW:-}" ] || skip_all "make check-slow runs this"
[ "$(id -u)" = 0 ] || skip_all "not root: the test runs slurmctld, slurmd and munged itself"
for p in munged slurmctld slurmd sbatch scontrol squeue scancel sinfo; do
	command -v $p >/dev/null || skip_all "no $p (Debian's slurm-wlm and munge: sh mk/deps.sh slow)"
done

# --- the cluster: one node, this machine's CPUs and memory
C=$TMP/cluster
mkdir -p "$C/state" "$C/spool" "$C/munge" && chmod 700 "$C/munge"
pids=
stop_cluster() {	# the jobs left (a test stopped midway) cancelled first, then the daemons
	if [ -n "$pids" ] && [ -n "$(squeue -h 2>/dev/null)" ]; then
		scancel --user=root 2>/dev/null
		i=0
		while [ -n "$(squeue -h 2>/dev/null)" ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
	fi
	[ -z "$pids" ] || { kill $pids 2>/dev/null; for p in $pids; do wait "$p" 2>/dev/null; done; }
	pids=
}
trap 'stop_cluster; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
dd if=/dev/urandom of="$C/munge/key" bs=1024 count=1 2>/dev/null && chmod 400 "$C/munge/key"
munged -F -f --key-file="$C/munge/key" --socket="$C/munge/sock" --pid-file="$C/munge/pid" \
	--log-file="$C/munge/log" --seed-file="$C/munge/seed" >"$C/munged.out" 2>&1 &
pids="$pids $!"
i=0
while [ ! -S "$C/munge/sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$C/munge/sock" ] || skip_all "munged did not start: $(tail -n 1 "$C/munged.out")"

free_port() {	# a TCP port nothing listens on or uses (/proc/net/tcp*), other than $1
	while :; do
		p=$(shuf -i 20000-40000 -n 1)
		[ "$p" != "${1:-}" ] || continue
		hex=$(printf '%04X' "$p")
		awk -v h="$hex" 'FNR > 1 { split($2, a, ":"); if (a[2] == h) f = 1 } END { exit !f }' \
			/proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$p"; return; }
	done
}
p1=$(free_port)
p2=$(free_port "$p1")
host=$(hostname -s)
mem=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
# MaxArraySize=4: five tasks need two arrays. cred_expire=5: a requeued job waits 5 s, not 120.
cat >"$C/slurm.conf" <<EOF
ClusterName=crawl2lm-test
SlurmctldHost=$host
SlurmctldPort=$p1
SlurmdPort=$p2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$C/munge/sock,cred_expire=5
StateSaveLocation=$C/state
SlurmdSpoolDir=$C/spool
SlurmctldPidFile=$C/slurmctld.pid
SlurmdPidFile=$C/slurmd.pid
SlurmctldLogFile=$C/slurmctld.log
SlurmdLogFile=$C/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MaxArraySize=4
KillWait=10
MinJobAge=600
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$C/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >"$C/slurmctld.out" 2>&1 &
pids="$pids $!"
slurmd -D -f "$SLURM_CONF" >"$C/slurmd.out" 2>&1 &
pids="$pids $!"
i=0
while [ "$(sinfo -h -o %t 2>/dev/null)" != idle ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] ||
	skip_all "Slurm did not start: $(tail -n 1 "$C/slurmctld.log" "$C/slurmd.log" 2>&1 | tr '\n' ' ')"

wait_jobs() {	# until the queue is empty (a hang guard of 10 minutes)
	i=0
	while [ -n "$(squeue -h 2>/dev/null)" ] && [ $i -lt 600 ]; do sleep 1; i=$((i + 1)); done
	[ -z "$(squeue -h)" ]
}
wait_for() {	# FILE ERE: until FILE has a line matching ERE (60 s at most)
	i=0
	while ! grep -Eq "$2" "$1" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
	grep -Eq "$2" "$1" 2>/dev/null
}

# --- the make-driven build (tests/9001's files and settings): the reference
SUBMIT=$SRCDIR/pipelines/slurm/crawl-submit
STATUS=$SRCDIR/pipelines/slurm/crawl-status
mkdir in
for f in chatnoir-resiliparse_warcfile.warc.gz dolma_warc_sample-0000.warc.gz dolma_warc_sample-0001.warc.gz \
	whirlwind-python_whirlwind.warc.gz warcio_example.warc.gz; do
	cp "$DATA/warc/$f" in/
done
set -- LANGS= VOCAB=400 SHARD_TOKENS=5000 VAL_FRACTION=0.1
make -f "$SRCDIR/pipelines/crawl.mk" -j 2 IN=in OUT=ref BIN="$BUILD/bin" "$@" >ref.log 2>&1
is "$?" 0 "the make-driven build"
ref=$(cat ref/shards/*.bin | cksum)
# the jobs' resources: this node's (a node of 2 CPUs runs no job asking for 8)
set -- "$@" MEM=200M GLOBAL_CPUS=1 GLOBAL_MEM=500M

# --- the whole build as arrays: a task a file, 5 tasks in two arrays (MaxArraySize=4)
"$SUBMIT" IN=in OUT=a THROTTLE=2 BIN="$BUILD/bin" "$@" >sub.out 2>sub.err
is "$?" 0 "crawl-submit: exit 0"
is "$(grep -c '^crawl-submit: array [0-9]*: tasks' sub.out)" 2 "  two arrays (MaxArraySize 4, five tasks)"
like "$(cat sub.out)" "array [0-9]+: tasks 0 \+ \(0-3\), at most 2 at once" "  the first: indices 0-3, %2"
like "$(cat sub.out)" "5 of 5 tasks to run \(5 files\)" "  five tasks to run"
ok_run "  the jobs end (hang guard: 10 minutes)" wait_jobs
is "$(cat a/shards/*.bin | cksum)" "$ref" "the array's shards are the make-driven build's"
is "$(ls a/slurm/tasks | tr '\n' ' ')" "0.done 1.done 2.done 3.done 4.done " "  a marker per task"
is "$(ls a/slurm/logs/task-*.log | wc -l | tr -d ' ')" 5 "  a log per task"
like "$(cat a/slurm/logs/report-*.log)" "crawl: all 5 files done" "  the report job ran"
"$STATUS" a >st.out 2>&1
is "$?" 0 "crawl-status: exit 0"
like "$(cat st.out)" "tasks +5 of 5 done, 0 with failed files, 0 to do" "  the tasks"
like "$(cat st.out)" "files +5 of 5 signed, 0 failed" "  the files"
like "$(cat st.out)" "shards +done" "  the shards"
like "$(cat st.out)" "queue +\(none of them queued\)" "  the queue"

# --- half the markers gone (and the files of those tasks): only those tasks run again
for t in 1 3; do
	rm a/slurm/tasks/$t.done
	for n in $(sed -e 's#.*/##' -e 's/\.warc\.gz$//' a/slurm/lists/$t.txt); do
		rm -f a/text/$n.* a/quality/$n.* a/pii/$n.* a/domain/$n.* a/sig/$n.*
	done
done
"$STATUS" a >st.out 2>&1
like "$(cat st.out)" "tasks +3 of 5 done, 0 with failed files, 2 to do" "crawl-status: tasks 1 and 3 to do"
like "$(cat st.out)" "files +3 of 5 signed" "  three files signed"
"$SUBMIT" IN=in OUT=a THROTTLE=2 BIN="$BUILD/bin" "$@" >sub.out 2>sub.err
like "$(cat sub.out)" "2 of 5 tasks to run" "a resubmit with 3 of 5 markers: 2 tasks to run"
like "$(cat sub.out)" "array [0-9]+: tasks 0 \+ \(1,3\)" "  indices 1 and 3"
ok_run "  the jobs end" wait_jobs
starts=
for t in 0 1 2 3 4; do starts="$starts$(grep -c ': start ' a/slurm/logs/task-$t.log)"; done
is "$starts" 12121 "  tasks 1 and 3 ran again, the others did not"
is "$(cat a/shards/*.bin | cksum)" "$ref" "  the same shards"

# --- a task warned of its time limit (SIGUSR1, as --signal=B:USR1@120 sends it) and a task
# cancelled (SIGTERM), each in the middle of a stage: boilerplate-strip waits, with a partial
# output, while hold/NAME exists
mkdir kbin hold
for p in "$BUILD"/bin/*; do ln -s "$p" kbin/; done
rm kbin/boilerplate-strip
cat >kbin/boilerplate-strip <<EOF
#!/bin/sh
for a in "\$@"; do case \$a in *.tmp) out=\$a ;; esac; done
for h in $PWD/hold/*; do
	[ -e "\$h" ] || continue
	case "\$*" in *"\${h##*/}"*) echo partial >"\$out"; while [ -e "\$h" ]; do sleep 0.2; done ;; esac
done
exec "$BUILD/bin/boilerplate-strip" "\$@"
EOF
chmod +x kbin/boilerplate-strip
touch hold/chatnoir-resiliparse_warcfile hold/warcio_example	# one in each task of two
"$SUBMIT" IN=in OUT=k TASKS=2 BIN="$PWD/kbin" "$@" >sub.out 2>sub.err
is "$?" 0 "two tasks, each held in a stage"
arr=$(sed -n 's/^crawl-submit: array \([0-9]*\):.*/\1/p' sub.out)
i=0
while { [ ! -e k/text/chatnoir-resiliparse_warcfile.jsonl.gz.tmp ] || [ ! -e k/text/warcio_example.jsonl.gz.tmp ]; } &&
	[ $i -lt 300 ]; do
	sleep 0.2
	i=$((i + 1))
done
ok $([ -e k/text/chatnoir-resiliparse_warcfile.jsonl.gz.tmp ] && [ -e k/text/warcio_example.jsonl.gz.tmp ] &&
	echo 0 || echo 1) "  both stages started (partial outputs)"
"$SUBMIT" IN=in OUT=k TASKS=2 BIN="$PWD/kbin" "$@" >out 2>err
like "$?:$(cat err)" "^2:.*still queued or running" "  a second submit meanwhile: refused"
scancel --signal=USR1 --batch "${arr}_0"
ok_run "SIGUSR1 to task 0: it requeues itself" wait_for k/slurm/logs/task-0.log "stopped, its temporaries removed; requeued"
ok $([ ! -e k/text/chatnoir-resiliparse_warcfile.jsonl.gz.tmp ] && echo 0 || echo 1) "  its partial output removed"
rm hold/chatnoir-resiliparse_warcfile
scancel "${arr}_1"
ok_run "scancel task 1: it stops" wait_for k/slurm/logs/task-1.log "stopped, its temporaries removed$"
ok $([ ! -e k/text/warcio_example.jsonl.gz.tmp ] && echo 0 || echo 1) "  its partial output removed"
ok_run "  the jobs end: task 0 requeued and done, global and report" wait_jobs
is "$(grep -c 'restart 1,' k/slurm/logs/task-0.log)" 1 "  task 0 ran again (restart 1)"
is "$(ls k/slurm/tasks | tr '\n' ' ')" "0.done " "  task 0 done, task 1 not"
is "$(find k -name '*.tmp' | wc -l | tr -d ' ')" 0 "  no temporary anywhere"
ok $([ ! -e k/text/warcio_example.jsonl.gz ] && [ ! -e k/shards/manifest.json ] && echo 0 || echo 1) \
	"  no output of the cancelled file, no shards (the global job did not run)"
is "$(ls k/failed | wc -l | tr -d ' ')" 0 "  the stopped files not recorded as failed"
"$STATUS" k >st.out 2>&1
like "$(cat st.out)" "tasks +1 of 2 done, 0 with failed files, 1 to do" "  crawl-status: 1 of 2 tasks done"
rm hold/warcio_example
"$SUBMIT" IN=in OUT=k TASKS=2 BIN="$BUILD/bin" "$@" >sub.out 2>sub.err
like "$(cat sub.out)" "1 of 2 tasks to run" "resubmitted: the cancelled task runs"
ok_run "  the jobs end" wait_jobs
is "$(cat k/shards/*.bin | cksum)" "$ref" "  the same shards as the make-driven build"
"$STATUS" k >st.out 2>&1
like "$(cat st.out)" "tasks +2 of 2 done" "  crawl-status: 2 of 2 tasks done"

# --- a damaged file among the inputs: its task records it, the others and the global stages go on
mkdir in2
cp in/* in2/
head -c 3000 /dev/urandom | gzip >in2/garbage.warc.gz
"$SUBMIT" IN=in2 OUT=b TASKS=2 BIN="$BUILD/bin" "$@" >sub.out 2>sub.err
is "$?" 0 "a damaged file among 6: submitted"
ok_run "  the jobs end" wait_jobs
is "$(ls b/slurm/tasks | tr '\n' ' ')" "0.done 1.failed " "  its task (1) leaves N.failed, not N.done"
is "$(cat b/slurm/tasks/1.failed)" garbage "  naming the file"
is "$(cat b/shards/*.bin | cksum)" "$ref" "  the shards: the other files', as the make-driven build makes them"
is "$(jq -c '[.failed[] | [.name, .stage]]' b/stats/build.json)" '[["garbage","text"]]' "  the report: build.json names it"
like "$(cat b/slurm/logs/report-*.log)" "crawl: +garbage: text, exit [0-9]+" "  and the report job's log"
"$STATUS" b >st.out 2>&1
like "$(cat st.out)" "tasks +1 of 2 done, 1 with failed files, 0 to do" "  crawl-status: a task with failed files"
like "$(cat st.out)" "files +5 of 6 signed, 1 failed" "  5 files signed, 1 failed"
"$SUBMIT" IN=in2 OUT=b TASKS=2 BIN="$BUILD/bin" "$@" >sub.out 2>sub.err
like "$(cat sub.out)" "1 of 2 tasks to run" "  a resubmit retries that task"
ok_run "  the jobs end" wait_jobs

# --- usage
"$SUBMIT" OUT=x >out 2>err
like "$?:$(cat err)" "^2:.*IN is not set" "crawl-submit without IN: exit 2, saying so"
mkdir empty
"$SUBMIT" IN=empty OUT=x >out 2>err
like "$?:$(cat err)" "^2:.*no inputs" "  a folder without WARC files: saying so"
"$STATUS" nowhere >out 2>err
like "$?:$(cat err)" "^2:.*no build submitted" "crawl-status of a folder without a build: exit 2"

stop_cluster
done_testing
