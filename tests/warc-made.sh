# warc-made.sh - what the tests on made-up records share (tests/1005 WARC, tests/1007 ARC):
# HTTP responses b1, b2, b3 (a short page each) and bbig (3 KB), written to the test's folder,
# and run, which gives the pages warc-extract keeps and its exit status. Sourced after lib.sh.
body() { # body N: an HTML response
	printf 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>page %s</p>' "$1" >"b$1"
}
body 1
body 2
body 3
{ printf 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>'; head -c 3000 /dev/zero | tr '\0' x; } >bbig
run() { # run OPTS... FILE: the urls written (less http://e.com/) and exit status, stderr in err
	{ warc-extract "$@" 2>err; echo $? >rc; } | jq -r .url | sed 's,http://e.com/,,' | tr '\n' ' '
	echo "exit $(cat rc)"
}
