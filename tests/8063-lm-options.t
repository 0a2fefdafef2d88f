#!/bin/sh
# lm-train's and lm-sample's options from their tables (libcommon/opt.h): the device options
# are one fragment (trainer/session.c) in both, choices are checked by the table with the
# same usage error, and options may follow the arguments.
. "${SRCDIR:-.}/tests/lib.sh"

for p in lm-train lm-sample; do
	$p --list-options >list-$p
	ok $? "$p --list-options"
	is "$(grep -E -- '^(-j )?--(device|precision|threads)$' list-$p | tr '\n' ' ')" \
		"--device --precision -j --threads " "$p: the device fragment"
	$p --help >help
	is "$(sed -n '/^Device:/,/^[A-Z]/p' help | grep -c -- '--')" "$([ $p = lm-train ] && echo 4 || echo 3)" \
		"$p --help: the device options under Device:"
	$p --precision fp16 x >out 2>err
	is "$?:$(head -1 err)" "2:$p: error: option '--precision' wants fp32 or bf16, not 'fp16'" \
		"$p --precision: a choice outside the list"
	$p --threads=0 x >out 2>err
	is "$?:$(head -1 err | cut -d' ' -f1-4)" "2:$p: error: option '--threads'" "$p --threads=0: out of bounds"
done
lm-train --data x -o y --schedule linear 2>err
is "$?:$(head -1 err)" "2:lm-train: error: option '--schedule' wants cosine, wsd or constant, not 'linear'" \
	"lm-train --schedule: the choices"
lm-train --data x -o y --sched constant --anneal-data z 2>err
is "$?:$(head -1 err)" "2:lm-train: error: --anneal-data needs --schedule wsd" \
	"a choice's index is the schedule (constant is not wsd)"
lm-train --data x -o y --schedule wsd --anneal-data z --steps 1 --device nodevice 2>err
is "$?:$(cat err)" "1:lm-train: error: --device: unknown device 'nodevice' (cpu, cuda, cuda:plain or auto)" \
	"  and wsd is"
for spelling in -o --output --out --outp --ou; do
	lm-train --data x $spelling y --device nodevice 2>err
	is "$?:$(cat err)" "1:lm-train: error: --device: unknown device 'nodevice' (cpu, cuda, cuda:plain or auto)" \
		"lm-train $spelling DIR: the run directory (--out, the old spelling, an alias; --ou a prefix of both)"
done
lm-train --data x -o y extra 2>err
is "$?:$(head -1 err)" "2:lm-train: error: unexpected argument 'extra'" "lm-train takes no argument"
lm-sample 2>err
is "$?:$(head -1 err)" "2:lm-sample: error: a checkpoint is required" "lm-sample needs a checkpoint"
lm-sample nothing "ROMEO:" -n 3 --device cpu 2>err
is "$?:$(cat err)" "1:lm-sample: error: cannot open 'nothing': No such file or directory" \
	"lm-sample: options after the arguments"
lm-sample -p x nothing "ROMEO:" 2>err
is "$?:$(head -1 err)" "2:lm-sample: error: a prompt both in --prompt and as an argument" "  a prompt twice"
lm-sample nothing a b 2>err
is "$?:$(head -1 err)" "2:lm-sample: error: unexpected argument 'b'" "  a third argument"

done_testing
