#!/bin/sh
# lm-train data parallel on the CPU under OpenMPI's mpirun: 2 ranks x -b 4 end with the weights
# of 1 process x -b 8, a rank killed mid-run stops the other with a message (no hang) and the run
# resumed on 2 ranks ends bitwise where an uninterrupted one ends, SIGUSR1 to mpirun checkpoints,
# another number of ranks on --resume and options that differ between ranks are refused.
. "${SRCDIR:-.}/tests/lib.sh"

command -v mpirun >/dev/null || skip_all "no mpirun (Debian's openmpi-bin)"
# root in a container: OpenMPI refuses it unless told; 2 ranks on however few cores
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# shared memory between the ranks without ptrace (containers forbid it)
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# mpirun's own --timeout is the hang guard: the ranks stay its children
mpi2() {
	mpirun --timeout 300 --oversubscribe -np 2 "$@"
}
# status $1 is a failure, not mpirun's time limit (a hang)
stopped() {
	test "$1" != 0 && ! grep -q 'time limit' err
	echo $?
}

tiny_run
common="--data s/*.bin -t tok.json --model model.json --context 32 -j 1 --lr 3e-3 --warmup 2 -q"

# the same rows of each batch on 2 ranks as on one: the same weights, up to float sums' order
lm-train $common -b 8 --steps 20 --val 's/*.bin' --eval-every 10 -o one
ok $? "1 process x -b 8"
mpi2 lm-train $common -b 4 --steps 20 --val 's/*.bin' --eval-every 10 -o two 2>err
ok $? "2 ranks x -b 4"
[ -s err ] && sed 's/^/# /' err
rel=$(rel_diff one/step-0000020/model.safetensors two/step-0000020/model.safetensors)
echo "# |w(2 ranks) - w(1)| / |w(1)| = $rel"
ok "$(awk -v r="$rel" 'BEGIN { print !(r <= 1e-4) }')" "the same weights within 1e-4 (relative norm $rel)"
is "$(jq -c 'select(.loss) | .tokens' two/metrics.jsonl | tail -1)" "$(jq -c 'select(.loss) | .tokens' one/metrics.jsonl | tail -1)" \
	"tokens counted over all ranks"
is "$(jq .options.ranks two/step-0000020/trainer.json)" 2 "trainer.json holds the number of ranks"
is "$(jq -c 'select(.val_loss) | .step' two/metrics.jsonl | tr '\n' ' ')" "10 20 " "rank 0 evaluates, at step 10 and at the end"
ok "$(jq -s '[.[] | select(.val_loss and .step == 20) | .val_loss] | (.[0] - .[1]) | fabs < 1e-3 | not' one/metrics.jsonl two/metrics.jsonl | grep -c true)" \
	"  the same validation loss as 1 process"

# one rank under mpirun is the plain run, bit for bit
mpirun --timeout 300 -np 1 lm-train $common -b 8 --steps 20 --val 's/*.bin' --eval-every 10 -o mpi1
ok $? "mpirun -np 1"
test_cmp one/step-0000020/model.safetensors mpi1/step-0000020/model.safetensors "  the weights of the plain run"

# a rank killed mid-run: mpirun stops the other one with a message, then the run resumes exactly
args="$common -b 4 --steps 120 --save-every 1 --keep 2"
mpi2 lm-train $args -o A
ok $? "uninterrupted 2-rank run"
mpirun --timeout 300 --oversubscribe -np 2 lm-train $args -o K 2>err &	# (not a subshell)
pid=$!
kill_rank1 $pid K
ok $? "rank 1 killed mid-run"
wait $pid
st=$?
ok "$(stopped $st)" "mpirun stops, no hang (status $st)"
like "$(cat err)" "rank 1 .*(exited on signal 9|Killed)" "  saying which rank died and how"
sleep 0.5
ok "$(ps -o pid= --ppid $pid | grep -c . | grep -qx 0; echo $?)" "  no rank left running"
killed_at=$(cat K/latest)
mpi2 lm-train $args -o K --resume 2>err
ok $? "resumed on 2 ranks from $killed_at"
test_cmp A/step-0000120/model.safetensors K/step-0000120/model.safetensors "weights bitwise equal to the uninterrupted run"
test_cmp A/step-0000120/optimizer.safetensors K/step-0000120/optimizer.safetensors "optimizer state bitwise equal"

# SIGUSR1 to mpirun reaches every rank: a checkpoint, status 75, then an exact resume
mpirun --timeout 300 --oversubscribe -np 2 lm-train $args -o U 2>err &
pid=$!
i=0
while [ ! -f U/latest ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
kill -USR1 $pid
wait $pid
is $? 75 "SIGUSR1: every rank stops at the same step, status 75"
like "$(cat err)" "checkpoint written at step [0-9]+; continue with --resume" "  with a checkpoint"
mpi2 lm-train $args -o U --resume 2>err
ok $? "resumed after SIGUSR1 at $(grep -o 'step [0-9]*' err | head -1)"
test_cmp A/step-0000120/model.safetensors U/step-0000120/model.safetensors "  weights bitwise equal"

# another number of ranks on --resume
fails 1 "trained by 2 processes \(ranks\), this is 1: resume it with 2" "resume on 1 process refused" \
	lm-train $args --steps 400 -o A --resume
lm-train $common -b 8 --steps 5 -o single
mpi2 lm-train $common -b 8 --steps 10 -o single --resume 2>err
st=$?
ok "$(stopped $st)" "a 1-process run resumed on 2 ranks is refused"
like "$(cat err)" "trained by 1 process \(ranks\), this is 2: resume it with 1" "  saying why"

# options that differ between the ranks: every rank stops, naming the first that differs
mpirun --timeout 300 --oversubscribe -np 1 lm-train $common -b 4 --steps 5 -o M : \
	-np 1 lm-train $common -b 4 --steps 5 --lr 1e-3 -o M 2>err
st=$?
ok "$(stopped $st)" "different options on the ranks stop the run"
like "$(cat err)" "rank 1 was started with other options than rank 0" "  saying so"
ok "$(test ! -e M/latest; echo $?)" "  before any checkpoint"

# --sft on 2 ranks: each rank packs its share of the step's rows, the loss is the mean over the
# trained tokens of all ranks' rows: 2 x -b 2 ends with the weights of 1 x -b 4
awk 'BEGIN { for (i = 0; i < 40; i++) { p = substr("Question: what is the word number NNN?\n", 1, 12 + i % 17);
	r = substr("the answer is a word of some length, said slowly", 1, 3 + (i * 7) % 30);
	printf "{\"prompt\": \"%s\\n\", \"response\": \"%s\"}\n", p, r } }' >pairs.jsonl
sft="--sft pairs.jsonl --init run --context 64 -j 1 --lr 1e-3 --seed 3 --steps 6 -q"
lm-train $sft -b 4 -o sft1 && mpi2 lm-train $sft -b 2 -o sft2 2>err
ok $? "--sft: 1 process x -b 4, then 2 ranks x -b 2"
rel=$(rel_diff sft1/step-0000006/model.safetensors sft2/step-0000006/model.safetensors)
ok "$(awk -v r="$rel" 'BEGIN { print !(r <= 1e-4) }')" "  the same weights within 1e-4 (relative norm $rel)"
is "$(jq -c 'select(.loss) | .trained_tokens' sft2/metrics.jsonl | tr '\n' ' ')" \
	"$(jq -c 'select(.loss) | .trained_tokens' sft1/metrics.jsonl | tr '\n' ' ')" "  the trained tokens of every step counted over all ranks"

done_testing
