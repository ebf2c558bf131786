# wrk as benches/serve-vs-nginx.sh and benches/access-log.sh run it (sourced, not run):
# one feed, $FEED, with -t2 -c$CONNECTIONS -d$DURATION.

# A response header of $FEED on 127.0.0.1:port, e.g. its etag to revalidate with.
header() { # port, header name, extra curl args
  curl -s -o /dev/null -D - "${@:3}" "http://127.0.0.1:$1/feeds/$FEED" |
    tr -d '\r' | awk -v h="$2" 'BEGIN{IGNORECASE=1} index(tolower($0), tolower(h)": ")==1 {sub(/^[^:]*: /, ""); print}'
}

# One wrk run: prints "req/s p50 p99 errors" (latencies in ms; errors counts answers other
# than 2xx and 3xx).
run_wrk() { # port, header args...
  local port=$1; shift
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "http://127.0.0.1:$port/feeds/$FEED" |
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
