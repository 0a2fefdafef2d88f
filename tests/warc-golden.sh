# warc-golden.sh - the summary of warc-extract's output for one WARC file that the golden
# files hold: exit status, each record with html/text replaced by its length, a hash of each
# html/text, and the run's counts (without failed_inputs: it names the file by its path).
# Sourced by tests/1001-warc-extract-golden.t and by tests/data/golden/regen.sh (which writes
# the .expect files).
warc_summary() {
	warc-extract --allow-truncated -q --stats summary-stats.json "$@" >summary-out.jsonl 2>/dev/null
	echo "exit $?"
	jq -c 'with_entries(if .key == "html" or .key == "text" then .value |= length else . end)' \
		summary-out.jsonl
	jq -r '(.html // .text) | @base64' summary-out.jsonl | while read -r l; do
		printf '%s' "$l" | sha256sum | cut -c1-16
	done
	jq -c 'del(.options, .seconds, .version, .failed_inputs)' summary-stats.json
}
