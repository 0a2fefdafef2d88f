# lib.sh - shared by the bench scripts (bash): where the tree is, messages, the peers' venv,
# timing one run, medians. A script sources it: . "$HERE/../lib.sh"
# It sets BENCH (this folder), ROOT (the repository), VENV and VPY (bench/.venv and its python).

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
VENV=$BENCH/.venv
VPY=$VENV/bin/python

log() { printf '%s\n' "$*" >&2; }

# need_venv IMPORTS SETTING-UP FAILURE PACKAGE...: bench/.venv made with $PYTHON and the PACKAGEs
# installed from PyPI, unless its python already runs IMPORTS; SETTING-UP and FAILURE are the
# messages for installing and for IMPORTS failing after it (then the script exits 1)
need_venv() {
	local imports=$1 doing=$2 failure=$3
	shift 3
	if ! { [ -x "$VPY" ] && "$VPY" -c "$imports" 2>/dev/null; }; then
		log "$doing"
		[ -x "$VPY" ] || "$PYTHON" -m venv "$VENV"
		"$VPY" -m pip install -q "$@"
		"$VPY" -c "$imports" || { log "$failure"; exit 1; }
	fi
}

# run_failed WHAT ERR: says "WHAT:", then the failed command's stderr (the file ERR), and exits 1
run_failed() {
	log "$1:"
	cat "$2" >&2
	exit 1
}

# timed WHAT OUT ERR COMMAND...: one timed run of COMMAND, its stdout to the file OUT and its
# stderr to ERR; sets real (wall seconds) and cpu (user + sys seconds); run_failed WHAT ERR when
# the command fails
timed() {
	local what=$1 out=$2 err=$3 t user sys TIMEFORMAT='%3R %3U %3S'
	shift 3
	t=$( { time "$@" >"$out" 2>"$err"; } 2>&1 ) || run_failed "$what" "$err"
	read -r real user sys <<<"$t"
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.3f", u+s}')
}

# cpu_model: the CPU's model name, as /proc/cpuinfo gives it
cpu_model() { grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'; }

# median, minimum: of the numbers on stdin, separated by spaces (the runs' times as the scripts
# collect them); an even count gives the mean of the middle two
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2 }'; }
minimum() { tr ' ' '\n' | grep -v '^$' | sort -g | head -1; }

# median_low: of the numbers on stdin, one a line; an even count gives the lower middle one,
# none gives nothing
median_low() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }

# llmc_args SCRIPT PROGRAM WORK LLMC_DIR [WORK_DIR]: the arguments of a comparison with llm.c:
# sets llmc (the checkout LLMC_DIR, where llm.c's own Makefile has built PROGRAM: else exit 2),
# work (WORK_DIR, default bench/data/WORK), BIN (default build/bin) and r50k (GPT-2's tokenizer)
llmc_args() {
	local script=$1 program=$2 sub=$3
	shift 3
	[ -n "${1:-}" ] || { echo "usage: $script LLMC_DIR [WORK_DIR]" >&2; exit 1; }
	llmc=$(cd "$1" && pwd)
	work=${2:-$BENCH/data/$sub}
	BIN=${BIN:-$ROOT/build/bin}
	r50k=$ROOT/data/tokenizers/r50k_base.tiktoken.zst
	[ -x "$llmc/$program" ] || { echo "$script: build llm.c first: make -C $llmc $program" >&2; exit 2; }
}

# cpu_lines REC FILE ERE COMMAND...: runs COMMAND (which writes FILE as it goes) and, each time
# another line matching ERE shows in FILE, the process's CPU seconds so far (user + sys of all
# its threads, /proc/PID/stat, in clock ticks) go to the file REC, "LINES SECONDS" a line. COMMAND
# is the process timed (not a wrapper such as timeout: its children's time is not its own);
# it is stopped (TERM) at MAX_LINES such lines or after TIMEOUT seconds when those are set.
# Returns COMMAND's status. cpu_steps REC: the CPU seconds between consecutive lines from the
# third on (the first steps warm up), one a line. For timing a training step where other
# programs share the machine: CPU time, unlike wall time, is not stretched by waiting for a core.
cpu_lines() {
	local rec=$1 f=$2 ere=$3 pid n last=0 tck start=$SECONDS
	shift 3
	tck=$(getconf CLK_TCK)
	: >"$rec"
	"$@" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		n=$(grep -cE -- "$ere" "$f" 2>/dev/null || true)
		if [ "${n:-0}" -gt "$last" ]; then
			# utime and stime: fields 14 and 15, 12 and 13 after the ") " that ends the name
			awk -v n="$n" -v t="$tck" '{ sub(/^.*\) /, ""); print n, ($12 + $13) / t }' \
				"/proc/$pid/stat" >>"$rec" 2>/dev/null || true
			last=$n
		fi
		if { [ -n "${MAX_LINES:-}" ] && [ "$last" -ge "$MAX_LINES" ]; } ||
			{ [ -n "${TIMEOUT:-}" ] && [ $((SECONDS - start)) -ge "$TIMEOUT" ]; }; then
			kill "$pid" 2>/dev/null || true
		fi
		sleep 0.02
	done
	wait "$pid"
}
cpu_steps() { awk 'NR > 2 { print $2 - p } { p = $2 }' "$1"; }
