#!/bin/sh
# pipelines/slurm (make check-slow): crawl.mk's stages as Slurm job arrays on a one-node cluster
# the test starts itself (munged, slurmctld, slurmd run directly, as root, state in the test's
# folder) and stops at the end. The array's shards are the make-driven build's, byte for byte;
# a resubmit with half the tasks' markers runs only the other half; a task warned of its time
# limit (SIGUSR1) stops, cleans up and requeues itself, a task cancelled (SIGTERM) leaves no
# temporary, and a resubmit finishes the build; crawl-status counts what is done, and reads the
# finished jobs' states from sacct (accounting: slurmdbd over a MariaDB server the test starts
# too). lm-train under srun (--mpi=pmix, inside an sbatch job of 2 tasks): 2 ranks x -b 4 end
# with the weights of 1 x -b 8 (and --zero 1 the same bits), a rank killed stops the step, and
# the run resumes exactly. pipelines/scaling/sweep.mk with each run an srun job: the same fit.
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
	rev=
	if [ -n "$pids" ] && [ -n "$(squeue -h 2>/dev/null)" ]; then
		scancel --user=root 2>/dev/null
		i=0
		while [ -n "$(squeue -h 2>/dev/null)" ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
	fi
	for p in $pids; do rev="$p $rev"; done	# the last started first: slurmd ... munged
	for p in $rev; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
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

free_port() {	# a TCP port nothing listens on or uses (/proc/net/tcp*), none of $1 (a|b|...)
	while :; do
		p=$(shuf -i 20000-40000 -n 1)
		case "|${1:-}|" in *"|$p|"*) continue ;; esac
		hex=$(printf '%04X' "$p")
		awk -v h="$hex" 'FNR > 1 { split($2, a, ":"); if (a[2] == h) f = 1 } END { exit !f }' \
			/proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$p"; return; }
	done
}
p1=$(free_port)
p2=$(free_port "$p1")
p3=$(free_port "$p1|$p2")
p4=$(free_port "$p1|$p2|$p3")
host=$(hostname -s)
mem=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)

# accounting: a MariaDB server (its files in the test's folder, TCP on 127.0.0.1 only) and
# slurmdbd over it, so that sacct answers; without Debian's mariadb-server and slurmdbd the
# sacct checks are skipped
acct=
if command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null &&
	command -v slurmdbd >/dev/null && command -v sacctmgr >/dev/null; then
	acct=1
	mariadb-install-db --no-defaults --user=root --datadir="$C/db" --skip-test-db \
		--auth-root-authentication-method=normal >"$C/db-install.out" 2>&1 ||
		skip_all "mariadb-install-db failed: $(tail -n 1 "$C/db-install.out")"
	mariadbd --no-defaults --user=root --datadir="$C/db" --socket="$C/db.sock" --port=$p3 \
		--bind-address=127.0.0.1 --pid-file="$C/db.pid" --log-error="$C/db.err" \
		--innodb-buffer-pool-size=64M --skip-log-bin >/dev/null 2>&1 &
	pids="$pids $!"
	i=0
	until mariadb --no-defaults -S "$C/db.sock" -u root -e "
		CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'crawl2lm';
		GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'" 2>/dev/null; do
		[ $i -lt 300 ] || skip_all "MariaDB did not start: $(tail -n 1 "$C/db.err")"
		sleep 0.2
		i=$((i + 1))
	done
	# slurmdbd reads slurmdbd.conf beside SLURM_CONF, and only if its mode is 600
	cat >"$C/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$C/munge/sock
DbdHost=localhost
DbdPort=$p4
SlurmUser=root
PidFile=$C/slurmdbd.pid
LogFile=$C/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$p3
StorageUser=slurm
StoragePass=crawl2lm
StorageLoc=slurm_acct_db
EOF
	chmod 600 "$C/slurmdbd.conf"
	accounting="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$p4
AccountingStoragePass=$C/munge/sock
JobAcctGatherType=jobacct_gather/linux"
else
	accounting="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
fi
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
$accounting
MpiDefault=none
ReturnToService=2
MaxArraySize=4
KillWait=10
MinJobAge=600
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$C/slurm.conf"
if [ -n "$acct" ]; then
	slurmdbd -D >"$C/slurmdbd.out" 2>&1 &
	pids="$pids $!"
	i=0	# slurmdbd listening: the cluster registered
	until sacctmgr -i add cluster crawl2lm-test >"$C/sacctmgr.out" 2>&1; do
		[ $i -lt 150 ] || skip_all "slurmdbd did not start: $(tail -n 1 "$C/slurmdbd.log" "$C/sacctmgr.out" 2>&1 | tr '\n' ' ')"
		sleep 0.2
		i=$((i + 1))
	done
fi
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
if [ -n "$acct" ]; then	# slurmctld sends a finished job's record to slurmdbd a moment later
	want="sacct +crawl-global COMPLETED 1, crawl-report COMPLETED 1, crawl-tasks COMPLETED 5$"
	i=0
	until "$STATUS" a 2>&1 | grep -Eq "$want" || [ $i -ge 60 ]; do sleep 0.5; i=$((i + 1)); done
	like "$("$STATUS" a 2>&1)" "$want" "  sacct: the 5 tasks, the global and the report job completed"
else
	echo "ok $((test_count += 1)) # SKIP no mariadb-server and slurmdbd: no accounting to read"
	like "$(cat st.out)" "sacct +\(no accounting on this cluster\)" "  sacct: no accounting, saying so"
fi

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

# --- lm-train as 2 ranks under srun, in an sbatch job of 2 tasks (Slurm's PMIx plugin and
# Debian's OpenMPI): rank and size from srun's environment
mkdir lm
cd lm || exit 1
tiny_run
common="--data s/*.bin -t tok.json --model model.json --context 32 -j 1 --lr 3e-3 --warmup 2 -q"
# srun inside the job: its 2 tasks, each a rank
train() {	# OUTPUT-NAME LM-TRAIN-ARGS...: an sbatch job of 2 tasks running srun lm-train; its id
	n=$1
	shift
	sbatch --parsable --job-name="lm-$n" --ntasks=2 --cpus-per-task=1 --mem=1G -o "$n.log" \
		--wrap "srun --mpi=pmix lm-train $* -o $n"
}
lm-train $common -b 8 --steps 20 -o one
ok $? "1 process x -b 8"
j2=$(train two $common -b 4 --steps 20)
ok_run "  an sbatch job of 2 tasks: srun lm-train -b 4" wait_jobs
rel=$(rel_diff one/step-0000020/model.safetensors two/step-0000020/model.safetensors)
echo "# |w(srun, 2 ranks) - w(1)| / |w(1)| = $rel"
ok "$(awk -v r="$rel" 'BEGIN { print !(r <= 1e-4) }')" "  the weights of 1 x -b 8 within 1e-4 (relative norm $rel)"
is "$(jq .options.ranks two/step-0000020/trainer.json)" 2 "  trained by 2 ranks (trainer.json)"
if [ -n "$acct" ]; then
	i=0
	until sacct -n -P -j "$j2.0" -o NTasks,State 2>/dev/null | grep -q COMPLETED || [ $i -ge 60 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	is "$(sacct -n -P -j "$j2.0" -o JobName,NTasks,State)" "lm-train|2|COMPLETED" "  sacct: the step, 2 tasks, completed"
else
	echo "ok $((test_count += 1)) # SKIP no accounting"
fi

# ZeRO-1 under srun: AdamW's moments split over the 2 tasks, the same weights bit for bit
train twoz $common -b 4 --steps 20 --zero 1 >/dev/null
ok_run "  --zero 1: an sbatch job of 2 tasks" wait_jobs
test_cmp two/step-0000020/model.safetensors twoz/step-0000020/model.safetensors \
	"  --zero 1: the weights of the run without it, bit for bit"

# a rank killed mid-run: the step stops (no hang), and the run resumes exactly
args="$common -b 4 --steps 120 --save-every 1 --keep 2"
train A $args >/dev/null
ok_run "uninterrupted 2-rank job" wait_jobs
jk=$(train K $args)
i=0
while [ ! -f K/latest ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
victim=
for p in $(pgrep -x lm-train); do
	tr '\0' '\n' </proc/$p/environ 2>/dev/null | grep -qx "SLURM_JOB_ID=$jk" &&
		tr '\0' '\n' </proc/$p/environ | grep -qx SLURM_PROCID=1 && victim=$p
done
[ -n "$victim" ] && kill -9 "$victim"
ok $? "rank 1 killed mid-run"
ok_run "  the job ends (hang guard: 10 minutes)" wait_jobs
like "$(cat K.log)" "task 1: Killed" "  srun says which task died"
ok "$(test ! -e K/step-0000120; echo $?)" "  the run did not finish"
[ -z "$acct" ] || like "$(sacct -n -X -P -j "$jk" -o State)" "FAILED|CANCELLED" "  sacct: the job failed"
killed_at=$(cat K/latest)
train K $args --resume >/dev/null
ok_run "  resumed from $killed_at in a new job" wait_jobs
test_cmp A/step-0000120/model.safetensors K/step-0000120/model.safetensors "  weights bitwise equal to the uninterrupted run"
test_cmp A/step-0000120/optimizer.safetensors K/step-0000120/optimizer.safetensors "  optimizer state bitwise equal"

# --- pipelines/scaling/sweep.mk through Slurm: each run an srun job, make -j 2 beside
sweep() {	# OUT [LAUNCH]
	make -s -f "$SRCDIR/pipelines/scaling/sweep.mk" -j 2 BIN="$BUILD/bin" TRAIN='s/*.bin' VAL='s/*.bin' \
		TOK=tok.json OUT="$1" BUDGETS='1e10 3e10' SHAPES='1x16 1x32 2x32' MIN_STEPS=5 BOOTSTRAP=10 \
		CONTEXT=32 BATCH=8 ${2:+LAUNCH="$2"}
}
sweep sw-local >sweep-local.log 2>&1
is "$?" 0 "the scaling sweep with make -j 2"
sweep sw-slurm "srun -n1 -c1 --mem=500M -J sweep-run" >sweep-slurm.log 2>&1
is "$?" 0 "  and with each run an srun job (LAUNCH)"
is "$(ls sw-slurm/runs | grep -vc json)" 6 "  6 runs (2 budgets x 3 shapes)"
test_cmp sw-local/fit.txt sw-slurm/fit.txt "  the same fit as the runs made without Slurm"
ok "$(test -s sw-slurm/scaling.png && test -s sw-slurm/plan.txt; echo $?)" "  the plan and the plot"
if [ -n "$acct" ]; then
	i=0
	until [ "$(sacct -n -X -P --name=sweep-run -o State 2>/dev/null | grep -c COMPLETED)" = 6 ] || [ $i -ge 60 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	is "$(sacct -n -X -P --name=sweep-run -o State | sort | uniq -c | tr -s ' ')" " 6 COMPLETED" "  sacct: 6 run jobs completed"
fi
cd .. || exit 1

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
