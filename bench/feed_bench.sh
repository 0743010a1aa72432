#!/usr/bin/env bash
# bench/feed_bench.sh - a leader's feed on convene vs the same bytes from nginx (issue 19).
#
# Three comparisons, each convene then nginx (worker_processes 1) in the same run,
# same wrk parameters (default -t1 -c32, issue 19's):
#   plain  GET /feeds/<token>.ics                         (~9.3 KB text/calendar)
#   gzip   the same with Accept-Encoding: gzip            (convene's precompressed
#          body; nginx serves the same bytes with gzip_static from <token>.ics.gz)
#   304    the same with If-None-Match: each server's own ETag for the plain body
# Goal: convene >= 0.8x nginx requests/s for each. Beside the rates, each server's own
# CPU per request (user+system, /proc/PID/stat), which says where a gap comes from
# when the load generator, not the server, is the limit.
#
# Environment (all optional): BENCH_SECONDS=10, BENCH_WARMUP=2, BENCH_THREADS=1,
# BENCH_CONNECTIONS=32, BENCH_FEED_BYTES=9300 (the feed is booked until it holds
# that much), BENCH_ENFORCE=0 (1: exit 1 when a goal is missed), CONVENE_BIN
# (default $BUILD/convene, BUILD=build), NGINX_BIN=/usr/sbin/nginx, WRK_BIN=wrk.
# Output: a table on stdout, and one key=value line appended to
# bench/results/feeds-history.txt (also bench/results/feeds-latest.txt).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
SECONDS_RUN="${BENCH_SECONDS:-10}"
WARMUP="${BENCH_WARMUP:-2}"
THREADS="${BENCH_THREADS:-1}"
CONNS="${BENCH_CONNECTIONS:-32}"
FEED_BYTES="${BENCH_FEED_BYTES:-9300}"
ENFORCE="${BENCH_ENFORCE:-0}"
build_dir="${BUILD:-build}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
CONVENE_BIN="${CONVENE_BIN:-$build_dir/convene}"
NGINX_BIN="${NGINX_BIN:-/usr/sbin/nginx}"
WRK_BIN="${WRK_BIN:-wrk}"
GOAL=0.8

die() { echo "feed_bench: $*" >&2; exit 1; }
[ -x "$CONVENE_BIN" ] || die "$CONVENE_BIN not found; run 'make build' (or 'make bench')"
[ -x "$NGINX_BIN" ] || die "$NGINX_BIN not found; apt-get install nginx-light (or 'make bench')"
command -v "$WRK_BIN" >/dev/null || die "wrk not found; apt-get install wrk (or 'make bench')"
command -v curl >/dev/null || die "curl not found"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/convene-feedbench.XXXXXX")"
convene_pid="" nginx_pid=""

stop_pid() { # stop_pid PID SIGNAL: one process we started, bounded wait, then SIGKILL
    local pid="$1" sig="$2"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$nginx_pid" QUIT
    stop_pid "$convene_pid" TERM
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
server_ticks() { # server_ticks PID: the process's user+system CPU since it started, in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
busy_cpu() { # machine busy and steal seconds since boot (user+nice+system+irq+softirq, steal)
    awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f %.2f", ($2+$3+$4+$7+$8)/hz, $9/hz; exit }' /proc/stat
}

# run_wrk NAME PID URL [HEADER...]: warm-up, measured run against the server process PID;
# sets R_RPS R_P99 R_BUSY R_STEAL and R_CPU (the server's CPU microseconds per request)
run_wrk() {
    local name="$1" pid="$2" url="$3" out="$tmp/$1.txt" a b ta tb
    shift 3
    local args=(-t"$THREADS" -c"$CONNS" --latency)
    for h in "$@"; do args+=(-H "$h"); done
    "$WRK_BIN" "${args[@]}" -d"${WARMUP}s" "$url" >/dev/null 2>&1 || die "wrk warm-up on $name failed"
    a="$(busy_cpu)" ta="$(server_ticks "$pid")"
    "$WRK_BIN" "${args[@]}" -d"${SECONDS_RUN}s" "$url" >"$out" 2>&1 || { cat "$out" >&2; die "wrk on $name failed"; }
    b="$(busy_cpu)" tb="$(server_ticks "$pid")"
    if grep -q -e 'Non-2xx' -e 'Socket errors' "$out"; then
        # 304s count as non-2xx for wrk: allowed only where asked for
        case "$name" in *304*) grep -q 'Socket errors' "$out" && { cat "$out" >&2; die "$name: socket errors"; } ;;
                        *) cat "$out" >&2; die "$name: errors or non-2xx answers" ;; esac
    fi
    R_RPS="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")"
    R_P99="$(awk '$1 == "99%" { print $2 }' "$out")"
    read -r R_BUSY R_STEAL < <(awk -v a="$a" -v b="$b" -v d="$SECONDS_RUN" 'BEGIN { split(a,x," "); split(b,y," ");
        printf "%.0f %.0f\n", (y[1]-x[1])/d*100, (y[2]-x[2])/d*100 }')
    [ -n "$R_RPS" ] || { cat "$out" >&2; die "cannot parse wrk output for $name"; }
    R_CPU="$(awk -v t="$((tb - ta))" -v hz="$(getconf CLK_TCK)" -v r="$R_RPS" -v d="$SECONDS_RUN" \
        'BEGIN { printf "%.1f", t / hz * 1e6 / (r * d) }')"
}

# ---------------------------------------------------------------- convene, with a leader's week
token="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
( cd "$tmp" && exec env CONVENE_ADMIN_TOKEN="$token" "$CONVENE_BIN" serve --db "$tmp/c.db" \
    --listen 127.0.0.1:0 --calendars "$root/calendars" >"$tmp/convene.stdout" 2>"$tmp/convene.stderr" ) &
convene_pid=$!
cport=""
for _ in $(seq 1 100); do
    cport="$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$tmp/convene.stdout" | head -n1)"
    [ -n "$cport" ] && break
    kill -0 "$convene_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$cport" ] || { tail -n 20 "$tmp/convene.stderr" >&2; die "convene did not start"; }
cbase="http://127.0.0.1:$cport"
feed="$(python3 "$here/feed_seed.py" "$cport" "$token" "$FEED_BYTES")" || die "could not book the leader's week"

www="$tmp/www"
mkdir -p "$www/feeds"
curl -sS -o "$www$feed" "$cbase$feed"
curl -sS -H 'Accept-Encoding: gzip' -o "$www$feed.gz" "$cbase$feed"
plain_bytes="$(wc -c <"$www$feed")" gzip_bytes="$(wc -c <"$www$feed.gz")"
gzip -t <"$www$feed.gz" 2>/dev/null && [ "$(gzip -dc <"$www$feed.gz" | cmp - "$www$feed" && echo same)" = same ] \
    || die "convene's gzip body is not the plain body compressed"
c_etag="$(curl -sS -D - -o /dev/null "$cbase$feed" | sed -n 's/^etag: *//Ip' | tr -d '\r')"
[ -n "$c_etag" ] || die "convene sent no ETag"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $c_etag" "$cbase$feed")" = 304 ] \
    || die "convene does not answer 304 to its own ETag"
chmod -R a+rX "$tmp"

echo "feed_bench: -t$THREADS -c$CONNS, ${SECONDS_RUN}s (+${WARMUP}s warm-up) each; feed $plain_bytes bytes, gzip $gzip_bytes" >&2
run_wrk convene_plain "$convene_pid" "$cbase$feed";                              cp_rps=$R_RPS cp_cpu=$R_CPU cp_p99=$R_P99 cp_busy=$R_BUSY cp_stl=$R_STEAL
run_wrk convene_gzip "$convene_pid" "$cbase$feed" 'Accept-Encoding: gzip';       cg_rps=$R_RPS cg_cpu=$R_CPU cg_p99=$R_P99 cg_busy=$R_BUSY cg_stl=$R_STEAL
run_wrk convene_304 "$convene_pid" "$cbase$feed" "If-None-Match: $c_etag";       c3_rps=$R_RPS c3_cpu=$R_CPU c3_p99=$R_P99 c3_busy=$R_BUSY c3_stl=$R_STEAL
stop_pid "$convene_pid" TERM
convene_pid=""

# ---------------------------------------------------------------- nginx, the same bytes
nport="$(free_port)"
mkdir -p "$tmp/nginx"
temp_paths=""
nginx_v="$("$NGINX_BIN" -V 2>&1)"
for m in client_body proxy fastcgi uwsgi scgi; do
    case "$nginx_v" in *"--without-http_${m}_module"*) ;; *) temp_paths+="    ${m}_temp_path $tmp/nginx/$m;"$'\n' ;; esac
done
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    types { text/calendar ics; }
    charset utf-8;
    charset_types text/calendar;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 1000000;
    open_file_cache max=16 inactive=60s;
    server_tokens off;
    gzip_static on;
    gzip_vary on;
    add_header Cache-Control "private, max-age=300";
$temp_paths    server {
        listen 127.0.0.1:$nport;
        root $www;
    }
}
EOF
"$NGINX_BIN" -t -q -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" 2>"$tmp/nginx/t.err" || { cat "$tmp/nginx/t.err" >&2; die "nginx rejected its config"; }
"$NGINX_BIN" -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" 2>>"$tmp/nginx/error.log" &
nginx_pid=$!
nbase="http://127.0.0.1:$nport"
for _ in $(seq 1 100); do curl -s -o /dev/null "$nbase/" && break; sleep 0.1; done
curl -sS -o "$tmp/n.plain" "$nbase$feed"
curl -sS -H 'Accept-Encoding: gzip' -o "$tmp/n.gz" "$nbase$feed"
cmp -s "$tmp/n.plain" "$www$feed" && cmp -s "$tmp/n.gz" "$www$feed.gz" || die "nginx does not serve the same bytes as convene"
n_etag="$(curl -sS -D - -o /dev/null "$nbase$feed" | sed -n 's/^etag: *//Ip' | tr -d '\r')"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $n_etag" "$nbase$feed")" = 304 ] || die "nginx gave no 304"
nginx_worker="$(pgrep -P "$nginx_pid" | head -n1)"
[ -n "$nginx_worker" ] || die "nginx has no worker process"
run_wrk nginx_plain "$nginx_worker" "$nbase$feed";                                np_rps=$R_RPS np_cpu=$R_CPU np_p99=$R_P99 np_busy=$R_BUSY np_stl=$R_STEAL
run_wrk nginx_gzip "$nginx_worker" "$nbase$feed" 'Accept-Encoding: gzip';         ng_rps=$R_RPS ng_cpu=$R_CPU ng_p99=$R_P99 ng_busy=$R_BUSY ng_stl=$R_STEAL
run_wrk nginx_304 "$nginx_worker" "$nbase$feed" "If-None-Match: $n_etag";         n3_rps=$R_RPS n3_cpu=$R_CPU n3_p99=$R_P99 n3_busy=$R_BUSY n3_stl=$R_STEAL
stop_pid "$nginx_pid" QUIT
nginx_pid=""

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rp="$(ratio "$cp_rps" "$np_rps")" rg="$(ratio "$cg_rps" "$ng_rps")" r3="$(ratio "$c3_rps" "$n3_rps")"
goal="$(awk -v a="$rp" -v b="$rg" -v c="$r3" -v g="$GOAL" 'BEGIN { print (a >= g && b >= g && c >= g) ? "PASS" : "FAIL" }')"
echo
echo "GET $feed: plain $plain_bytes bytes, gzip $gzip_bytes bytes; wrk -t$THREADS -c$CONNS -d${SECONDS_RUN}s; $(nproc) CPUs"
fmt='%-6s %12s %9s %12s %9s %7s  %11s   %s\n'
printf "$fmt" "" "convene r/s" "p99" "nginx r/s" "p99" ratio "CPU us/req" "machine busy/steal % (convene; nginx)"
printf "$fmt" plain "$cp_rps" "$cp_p99" "$np_rps" "$np_p99" "$rp" "$cp_cpu/$np_cpu" "$cp_busy/$cp_stl; $np_busy/$np_stl"
printf "$fmt" gzip "$cg_rps" "$cg_p99" "$ng_rps" "$ng_p99" "$rg" "$cg_cpu/$ng_cpu" "$cg_busy/$cg_stl; $ng_busy/$ng_stl"
printf "$fmt" 304 "$c3_rps" "$c3_p99" "$n3_rps" "$n3_p99" "$r3" "$c3_cpu/$n3_cpu" "$c3_busy/$c3_stl; $n3_busy/$n3_stl"
echo "(CPU us/req: the server process's user+system CPU per answered request, convene/nginx)"
echo "(busy: all CPUs, % of one, out of $(nproc)00: server + wrk + anything else running)"
echo "goal (each ratio >= $GOAL): $goal"
mkdir -p "$here/results"
line="date=$(date -u +%Y-%m-%dT%H:%M:%SZ) commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
line+=" convene_sha256=$(sha256sum "$CONVENE_BIN" | cut -c1-12) threads=$THREADS connections=$CONNS seconds=$SECONDS_RUN"
line+=" plain_bytes=$plain_bytes gzip_bytes=$gzip_bytes"
line+=" convene_plain=$cp_rps nginx_plain=$np_rps ratio_plain=$rp convene_gzip=$cg_rps nginx_gzip=$ng_rps ratio_gzip=$rg"
line+=" convene_304=$c3_rps nginx_304=$n3_rps ratio_304=$r3"
line+=" cpu_us_plain=$cp_cpu/$np_cpu cpu_us_gzip=$cg_cpu/$ng_cpu cpu_us_304=$c3_cpu/$n3_cpu goal=$goal"
echo "$line" >"$here/results/feeds-latest.txt"
echo "$line" >>"$here/results/feeds-history.txt"
[ "$goal" = PASS ] || [ "$ENFORCE" != 1 ] || exit 1
exit 0
