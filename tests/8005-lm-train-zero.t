#!/bin/sh
# lm-train --zero 1 (ZeRO-1: AdamW's moments sharded across the data parallel ranks) on the CPU
# under OpenMPI's mpirun: the same weights and checkpoint bytes as the run without it (2 ranks,
# and 3 ranks over a parameter count 3 does not divide), the weights of 1 process x the whole
# batch within 1e-4, a rank killed mid-run and SIGUSR1 resumed bit for bit, checkpoints that a
# run without ZeRO and a single process load, each rank allocating only its part of the moments.
. "${SRCDIR:-.}/tests/lib.sh"

command -v mpirun >/dev/null || skip_all "no mpirun (Debian's openmpi-bin)"
# as in 8004: root in a container, more ranks than cores, shared memory without ptrace
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# mpirun's own --timeout is the hang guard: the ranks stay its children
mpin() {
	n=$1
	shift
	mpirun --timeout 300 --oversubscribe -np "$n" "$@"
}
# status $1 is a failure, not mpirun's time limit (a hang)
stopped() {
	test "$1" != 0 && ! grep -q 'time limit' err
	echo $?
}
# a checkpoint's weights and moments are another's, bit for bit
same_ckpt() {
	cmp -s "$1/model.safetensors" "$2/model.safetensors" &&
		cmp -s "$1/optimizer.safetensors" "$2/optimizer.safetensors"
	ok $? "$3"
}

tiny_run
common="--data s/*.bin -t tok.json --model model.json --context 32 -j 1 --lr 3e-3 --warmup 2 -q"

# 2 ranks: 9456 parameters, rank 1's half [4728, 9456) crossing from the decayed ones (the
# first 9216) to the norms and biases
lm-train $common -b 8 --steps 20 -o one
ok $? "1 process x -b 8"
mpin 2 lm-train $common -b 4 --steps 20 --save-every 1 --keep 2 -o two 2>err
ok $? "2 ranks x -b 4"
mpin 2 lm-train $common -b 4 --steps 20 --save-every 1 --keep 2 --zero 1 -o zero 2>err
ok $? "2 ranks x -b 4 with --zero 1"
[ -s err ] && sed 's/^/# /' err
test_cmp two/step-0000020/model.safetensors zero/step-0000020/model.safetensors \
	"  the weights of the run without it, bit for bit"
test_cmp two/step-0000020/optimizer.safetensors zero/step-0000020/optimizer.safetensors \
	"  the whole moments in its checkpoint, bit for bit"
is "$(jq -c '[.params_xxh3, .optimizer_xxh3, .options]' zero/step-0000020/trainer.json)" \
	"$(jq -c '[.params_xxh3, .optimizer_xxh3, .options]' two/step-0000020/trainer.json)" \
	"  trainer.json's hashes and options too"
is "$(jq -c 'select(.loss) | [.loss, .grad_norm]' zero/metrics.jsonl | md5sum)" \
	"$(jq -c 'select(.loss) | [.loss, .grad_norm]' two/metrics.jsonl | md5sum)" \
	"  the same losses and gradient norms, step by step"
rel=$(rel_diff one/step-0000020/model.safetensors zero/step-0000020/model.safetensors)
echo "# |w(2 ranks, ZeRO-1) - w(1)| / |w(1)| = $rel"
ok "$(awk -v r="$rel" 'BEGIN { print !(r <= 1e-4) }')" "  the weights of 1 process x -b 8 within 1e-4 (relative norm $rel)"

# 3 ranks over 9232 parameters (a context of 50: 3 does not divide them): parts of 3077,
# 3077 and 3078, the last crossing from the decayed ones (the first 8992) to the rest
sed 's/"n_positions": 64/"n_positions": 50/' model.json >m50.json
c50=$(echo "$common" | sed 's/model\.json/m50.json/')
lm-train $c50 -b 6 --steps 20 -o one3
ok $? "1 process x -b 6 (9232 parameters)"
mpin 3 lm-train $c50 -b 2 --steps 20 -o three 2>err
ok $? "3 ranks x -b 2"
mpin 3 lm-train $c50 -b 2 --steps 20 --zero 1 -o zero3 2>err
ok $? "3 ranks x -b 2 with --zero 1 (uneven parts)"
[ -s err ] && sed 's/^/# /' err
hl=$(od -A n -t u8 -N 8 zero3/step-0000020/optimizer.safetensors | tr -d ' ')
like "$(head -c $((8 + hl)) zero3/step-0000020/optimizer.safetensors | tail -c "$hl")" \
	'"adamw.m":\{"dtype":"F32","shape":\[9232\].*"adamw.v":\{"dtype":"F32","shape":\[9232\]' \
	"  its checkpoint holds the moments of all 9232 parameters"
same_ckpt three/step-0000020 zero3/step-0000020 "  weights and moments of the 3-rank run without it, bit for bit"
rel=$(rel_diff one3/step-0000020/model.safetensors zero3/step-0000020/model.safetensors)
echo "# |w(3 ranks, ZeRO-1) - w(1)| / |w(1)| = $rel"
ok "$(awk -v r="$rel" 'BEGIN { print !(r <= 1e-4) }')" "  the weights of 1 process x -b 6 within 1e-4 (relative norm $rel)"

# a rank killed mid-run (checkpoints every step, gathered to rank 0), then resumed exactly
args="$common -b 4 --steps 120 --save-every 1 --keep 2 --zero 1"
mpin 2 lm-train $args -o A
ok $? "uninterrupted 2-rank ZeRO run"
mpirun --timeout 300 --oversubscribe -np 2 lm-train $args -o K 2>err &	# (not a subshell)
pid=$!
kill_rank1 $pid K
ok $? "rank 1 killed mid-run"
wait $pid
st=$?
ok "$(stopped $st)" "  mpirun stops, no hang (status $st)"
killed_at=$(cat K/latest)
mpin 2 lm-train $args -o K --resume 2>err
ok $? "resumed with --zero 1 from $killed_at"
same_ckpt A/step-0000120 K/step-0000120 "  weights and moments bitwise those of the uninterrupted run"

# SIGUSR1: every rank stops at the same step and joins the checkpoint (none was due there;
# rank 0 evaluating the whole set every step makes the run last seconds)
mpirun --timeout 300 --oversubscribe -np 2 lm-train $args --save-every 1000 --val 's/*.bin' \
	--eval-every 1 -o U 2>err &
pid=$!
i=0
while ! grep -q '"step":5,' U/metrics.jsonl 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
kill -USR1 $pid
wait $pid
is $? 75 "SIGUSR1: status 75"
like "$(cat err)" "checkpoint written at step [0-9]+; continue with --resume" "  with a checkpoint"
stopped_at=$(cat U/latest)
mpin 2 lm-train $args -o U --resume 2>err
ok $? "resumed after SIGUSR1 from $stopped_at"
same_ckpt A/step-0000120 U/step-0000120 "  weights and moments bitwise those of the uninterrupted run"

# the checkpoints of either kind resume in the other: step 19 of each run above, one more step
cp -r two B && echo step-0000019 >B/latest
mpin 2 lm-train $common -b 4 --steps 20 --zero 1 -o B --resume 2>err
ok $? "a checkpoint without ZeRO resumed with --zero 1"
same_ckpt zero/step-0000020 B/step-0000020 "  ends where the ZeRO run ends"
cp -r zero C && echo step-0000019 >C/latest
mpin 2 lm-train $common -b 4 --steps 20 -o C --resume 2>err
ok $? "a ZeRO checkpoint resumed without --zero"
same_ckpt two/step-0000020 C/step-0000020 "  ends where the run without it ends"

# one process loads a ZeRO checkpoint: its weights (--init), and its whole optimizer state
# (the number of ranks in its trainer.json made 1: the moments checked against their hash)
lm-train $common -b 8 --steps 3 --init A -o I
ok $? "--init from a ZeRO run on 1 process"
mkdir S && cp -r A/step-0000120 S/ && echo step-0000120 >S/latest
sed 's/"ranks": 2/"ranks": 1/' A/step-0000120/trainer.json >S/step-0000120/trainer.json
lm-train $args --steps 125 -o S --resume 2>err
ok $? "1 process resumes a ZeRO checkpoint with its whole optimizer state"
[ -s err ] && sed 's/^/# /' err
ok "$(test -s S/step-0000125/model.safetensors; echo $?)" "  and trains on"
# damaged moments are refused under ZeRO too (each rank checks the file it reads its part from)
mkdir D && cp -r A/step-0000120 D/ && echo step-0000120 >D/latest
printf '\377' | dd of=D/step-0000120/optimizer.safetensors bs=1 seek=200 conv=notrunc 2>/dev/null
mpin 2 lm-train $args --steps 125 -o D --resume 2>err
st=$?
ok "$(stopped $st)" "damaged moments: resuming with --zero 1 fails"
like "$(cat err)" "optimizer.safetensors.*(checksum|damaged)" "  naming the file"

# --zero on some ranks only: refused before any step
mpirun --timeout 300 --oversubscribe -np 1 lm-train $common -b 4 --steps 5 -o M : \
	-np 1 lm-train $common -b 4 --steps 5 --zero 1 -o M 2>err
st=$?
ok "$(stopped $st)" "--zero on one rank only stops the run"
like "$(cat err)" "rank 1 was started with other options than rank 0" "  saying so"

# memory: each rank allocates only its part of the moments (1.6 M parameters: 12.8 MiB of
# moments, 6.4 MiB a rank), as the backend counts its tensors after the first step
echo '{"model_type": "gpt2", "n_embd": 256, "n_layer": 2, "n_head": 4, "n_positions": 64}' >big.json
bigrun() {
	mpin 2 lm-train --data 's/*.bin' -t tok.json --model big.json --context 32 -j 1 -b 1 --steps 1 \
		-v "$@" 2>&1 | grep 'memory on the cpu\|moments split\|ZeRO-1'
}
bigrun -o m0 >m0.log
bigrun --zero 1 -o m1 >m1.log
sed 's/^/# /' m0.log m1.log
mib() { sed -n "s/.*$1 \([0-9]*\) MiB.*/\1/p" "$2" | head -1; }
is "$(mib 'AdamW.s moments' m0.log)" 13 "  without --zero: the moments take 13 MiB"
is "$(mib 'AdamW.s moments' m1.log)" 6 "  with it, rank 0's half: 6 MiB"
d=$(( $(mib 'memory on the cpu:' m0.log) - $(mib 'memory on the cpu:' m1.log) ))
ok "$([ "$d" -ge 6 ] && [ "$d" -le 7 ]; echo $?)" "  the tensors' peak is 6 or 7 MiB lower ($d MiB)"
like "$(cat m1.log)" "ZeRO-1: the moments of 1/2 of the parameters, [0-9.]+ MiB" "  the estimate counts half the moments"
like "$(cat m1.log)" "AdamW's moments split between them \(ZeRO-1\): [0-9.]+ MiB on this rank instead of [0-9.]+ MiB" \
	"  and says so"

done_testing
