# wrk as benches/serve-vs-nginx.sh and benches/access-log.sh run it (sourced, not run):
# one feed, $FEED, with -t2 -c$CONNECTIONS -d$DURATION; the cases they run; and the table
# of medians and ratios they print. A script fills `result[<server>,<case>]` with one
# run_wrk line per round; $SCHEME (http unless set) is how both servers are spoken to.

# A response header of $FEED on 127.0.0.1:port, e.g. its etag to revalidate with.
header() { # port, header name, extra curl args
  curl -ks -o /dev/null -D - "${@:3}" "${SCHEME:-http}://127.0.0.1:$1/feeds/$FEED" |
    tr -d '\r' | awk -v h="$2" 'BEGIN{IGNORECASE=1} index(tolower($0), tolower(h)": ")==1 {sub(/^[^:]*: /, ""); print}'
}

# One wrk run: prints "req/s p50 p99 errors" (latencies in ms; errors counts answers other
# than 2xx and 3xx).
run_wrk() { # port, header args...
  local port=$1; shift
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "${SCHEME:-http}://127.0.0.1:$port/feeds/$FEED" |
    awk '
      function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
      /Requests\/sec/ { rps = $2 }
      $1 == "50%" { p50 = ms($2) }
      $1 == "99%" { p99 = ms($2) }
      / Non-2xx or 3xx/ { bad = $NF }
      END { printf "%s %.2f %.2f %s\n", rps, p50, p99, bad + 0 }'
}

# The median of the numbers on stdin, one a line.
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# The cases, by name: what each asks for.
describe() {
  case $1 in
    plain) echo "200 identity" ;;
    gzip) echo "200 gzip" ;;
    br) echo "200 br (nginx: gzip)" ;;
    inm) echo "304 If-None-Match" ;;
    ims) echo "304 If-Modified-Since" ;;
  esac
}

# wrk's extra arguments for a case, |-separated: nginx (on $NGINX_PORT) serves no brotli,
# so it is asked for gzip instead.
args_for() { # case, server port
  case $1 in
    plain) ;;
    gzip) echo "-H|Accept-Encoding: gzip" ;;
    br)
      if [ "$2" = "${NGINX_PORT:-}" ]; then echo "-H|Accept-Encoding: gzip"; else echo "-H|Accept-Encoding: br"; fi ;;
    inm) echo "-H|If-None-Match: $(header "$2" etag)" ;;
    ims) echo "-H|If-Modified-Since: $(header "$2" last-modified)" ;;
  esac
}

# The table of every case in $cases: medians over the rounds of `first` and `second` (the
# keys of `result`), and the ratio first/second of their req/s.
ratio_table() { # first, second
  printf '\n%-24s %14s %8s %8s %14s %8s %8s %7s\n' case "$1 req/s" p50 p99 "$2 req/s" p50 p99 ratio
  local c a b
  for c in "${cases[@]}"; do
    col() { printf '%s' "${result[$1,$c]}" | awk -v k="$2" 'NF {print $k}' | median; }
    a=$(col "$1" 1); b=$(col "$2" 1)
    printf '%-24s %14.0f %8.2f %8.2f %14.0f %8.2f %8.2f %7.2f\n' "$(describe "$c")" \
      "$a" "$(col "$1" 2)" "$(col "$1" 3)" "$b" "$(col "$2" 2)" "$(col "$2" 3)" \
      "$(awk -v a="$a" -v b="$b" 'BEGIN {print (b > 0 ? a / b : 0)}')"
  done
}
