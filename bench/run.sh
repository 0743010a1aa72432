#!/usr/bin/env bash
# bench/run.sh - convene vs nginx on the same machine, same wrk parameters.
#
# Measures GET /api/v1/rooms/{id} (authorised) on convene against nginx
# serving the very same bytes as a static file, and prints the ratio of
# requests/s. Goal (issue): convene >= 0.7x nginx requests/s and convene
# p99 < 5 ms at 32 connections.
#
# Builds nothing: `make bench` installs wrk + nginx-light and builds first.
#
# Environment (all optional):
#   BENCH_SECONDS=10         measured duration of each wrk run
#   BENCH_WARMUP=2           warm-up seconds before each measured run (discarded)
#   BENCH_THREADS=2          wrk -t
#   BENCH_CONNECTIONS=32     wrk -c
#   BENCH_NGINX_AUTO=1       also measure nginx with worker_processes auto (0: skip)
#   BENCH_CONVENE_STDERR=... where convene's stderr (one access-log line per
#                            request) goes; default: a file in the temp dir
#   BENCH_ENFORCE=0          1: exit 1 when the goal is not met
#   CONVENE_BIN=$BUILD/convene (BUILD=build), NGINX_BIN=/usr/sbin/nginx, WRK_BIN=wrk
#
# Output: a table on stdout and one key=value line in bench/results/latest.txt
# (also appended to bench/results/history.txt).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

SECONDS_RUN="${BENCH_SECONDS:-10}"
WARMUP="${BENCH_WARMUP:-2}"
THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_CONNECTIONS:-32}"
NGINX_AUTO="${BENCH_NGINX_AUTO:-1}"
ENFORCE="${BENCH_ENFORCE:-0}"
build_dir="${BUILD:-build}"          # `make bench BUILD=dir` passes BUILD down
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
CONVENE_BIN="${CONVENE_BIN:-$build_dir/convene}"
NGINX_BIN="${NGINX_BIN:-/usr/sbin/nginx}"
WRK_BIN="${WRK_BIN:-wrk}"
GOAL_RATIO=0.7
GOAL_P99_MS=5

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$CONVENE_BIN" ] || die "$CONVENE_BIN not found; run 'make build' (or 'make bench')"
[ -x "$NGINX_BIN" ] || die "$NGINX_BIN not found; apt-get install nginx-light (or 'make bench')"
command -v "$WRK_BIN" >/dev/null || die "wrk not found; apt-get install wrk (or 'make bench')"
command -v curl >/dev/null || die "curl not found"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/convene-bench.XXXXXX")"
convene_pid=""
nginx_pid=""

stop_pid() { # stop_pid PID SIGNAL: signal one process we started, wait for it (bounded)
    local pid="$1" sig="$2"
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "bench: pid $pid did not exit within 5 s of SIG$sig; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

stop_nginx() {
    # SIGQUIT: graceful shutdown of the master and its workers.
    stop_pid "$nginx_pid" QUIT
    nginx_pid=""
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_nginx
    stop_pid "$convene_pid" TERM
    convene_pid=""
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local p
    while :; do
        p=$(( 20000 + RANDOM % 40000 ))
        # nothing listening there if the connect fails
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
}

wait_http() { # wait_http URL: until the server answers at all (any status)
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null --max-time 1 "$1"; then return 0; fi
        sleep 0.1
    done
    return 1
}

# CPU time (seconds, 2 decimals) used so far by PID and its direct children.
cpu_seconds() {
    local pids ticks=0 p stat rest
    pids="$1 $(ps -o pid= --ppid "$1" 2>/dev/null | tr '\n' ' ')"
    for p in $pids; do
        stat="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
        rest="${stat##*) }"            # fields from "state" on: utime is 12th, stime 13th
        # shellcheck disable=SC2086 # split the stat fields on purpose
        set -- $rest
        ticks=$(( ticks + ${12} + ${13} ))
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

machine_cpu() { # all CPUs since boot, seconds: "busy steal" (/proc/stat; busy = user+nice+system+irq+softirq)
    awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f %.2f", ($2 + $3 + $4 + $7 + $8) / hz, $9 / hz; exit }' /proc/stat
}

to_ms() { # wrk latency ("812.00us", "1.31ms", "2.01s", "1.00m") -> milliseconds
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000;
        else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000;
        printf "%.3f", n }'
}

# run_wrk NAME URL PID: warm-up, then the measured run; sets R_* globals.
run_wrk() {
    local name="$1" url="$2" pid="$3" out cpu0 cpu1
    local args=(-t"$THREADS" -c"$CONNS" --latency -H "Authorization: Bearer $token")
    echo "  $name: warm-up ${WARMUP}s" >&2
    "$WRK_BIN" "${args[@]}" -d"${WARMUP}s" "$url" >"$tmp/$name.warmup.txt" 2>&1 \
        || { cat "$tmp/$name.warmup.txt" >&2; die "wrk warm-up against $name failed"; }
    echo "  $name: measuring ${SECONDS_RUN}s" >&2
    cpu0="$(cpu_seconds "$pid")"
    sys0="$(machine_cpu)"
    local TIMEFORMAT='%3U %3S'
    { time "$WRK_BIN" "${args[@]}" -d"${SECONDS_RUN}s" "$url" >"$tmp/$name.txt" 2>&1; } 2>"$tmp/$name.time" \
        || { cat "$tmp/$name.txt" >&2; die "wrk against $name failed"; }
    sys1="$(machine_cpu)"
    cpu1="$(cpu_seconds "$pid")"
    out="$tmp/$name.txt"
    [ -n "${BENCH_VERBOSE:-}" ] && cat "$out" >&2
    if grep -q -e 'Non-2xx' -e 'Socket errors' "$out"; then
        cat "$out" >&2
        die "$name: wrk saw errors or non-2xx responses; the figures would be meaningless"
    fi
    R_RPS="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")"
    R_P50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")"
    R_P99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
    R_REQS="$(awk '/requests in/ { print $1 }' "$out")"
    R_CPU="$(awk -v a="$cpu0" -v b="$cpu1" -v d="$SECONDS_RUN" 'BEGIN { printf "%.0f", (b - a) / d * 100 }')"
    R_WRKCPU="$(awk -v d="$SECONDS_RUN" '{ printf "%.0f", ($1 + $2) / d * 100 }' "$tmp/$name.time")"
    # The rest of the machine meanwhile: "other" = busy time not charged to the
    # server or wrk (other jobs, kernel threads, ksoftirqd), "steal" = time the
    # hypervisor gave to someone else. Tick-sampled, so +-5% or so.
    read -r R_OTHER R_STEAL < <(awk -v a="$sys0" -v b="$sys1" -v d="$SECONDS_RUN" -v s="$R_CPU" -v w="$R_WRKCPU" \
        'BEGIN { split(a, x, " "); split(b, y, " ")
                 o = (y[1] - x[1]) / d * 100 - s - w; if (o < 0) o = 0
                 printf "%.0f %.0f\n", o, (y[2] - x[2]) / d * 100 }')
    if [ -z "$R_RPS" ] || [ -z "$R_P50" ] || [ -z "$R_P99" ]; then
        cat "$out" >&2
        die "could not parse wrk output for $name"
    fi
}

# ---------------------------------------------------------------- convene
token="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
convene_err="${BENCH_CONVENE_STDERR:-$tmp/convene.stderr}"
echo "bench: starting convene (stderr -> $convene_err)" >&2
( cd "$root" && exec env CONVENE_ADMIN_TOKEN="$token" "$CONVENE_BIN" serve \
    --db "$tmp/c.db" --listen 127.0.0.1:0 --calendars "$root/calendars" \
    >"$tmp/convene.stdout" 2>"$convene_err" ) &
convene_pid=$!
cport=""
for _ in $(seq 1 100); do
    cport="$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$tmp/convene.stdout" 2>/dev/null | head -n1)"
    [ -n "$cport" ] && break
    kill -0 "$convene_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$cport" ] || { tail -n 20 "$convene_err" >&2 || true; die "convene did not start"; }
cbase="http://127.0.0.1:$cport"

status="$(curl -sS -o "$tmp/created.json" -w '%{http_code}' -X POST "$cbase/api/v1/rooms" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"name":"Bench Room","capacity":12,"features":["video","projector"],"location":"Building A, 3rd floor"}')"
[ "$status" = 201 ] || { cat "$tmp/created.json" >&2; die "POST /api/v1/rooms -> $status"; }
room_id="$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$tmp/created.json")"
[ -n "$room_id" ] || room_id="$(grep -o '"id":"[^"]*"' "$tmp/created.json" | head -n1 | cut -d'"' -f4)"
[ -n "$room_id" ] || die "no id in $(cat "$tmp/created.json")"
path="/api/v1/rooms/$room_id"

# nginx serves the exact bytes convene returns, at the same path, so the two
# request lines and response bodies are identical.
www="$tmp/www"
mkdir -p "$www/api/v1/rooms"
status="$(curl -sS -o "$www$path" -w '%{http_code}' -H "Authorization: Bearer $token" "$cbase$path")"
[ "$status" = 200 ] || die "GET $path -> $status"
body_bytes="$(wc -c <"$www$path" | tr -d ' ')"
# nginx workers may run as nobody when we are root: the tree must be readable.
chmod 755 "$tmp" "$www" "$www/api" "$www/api/v1" "$www/api/v1/rooms"
chmod 644 "$www$path"

# ---------------------------------------------------------------- nginx
temp_paths=""
nginx_v="$("$NGINX_BIN" -V 2>&1)"
for m in client_body proxy fastcgi uwsgi scgi; do
    case "$m" in
        client_body) temp_paths+="    client_body_temp_path $tmp/nginx/$m;"$'\n' ;;
        *) case "$nginx_v" in *"--without-http_${m}_module"*) ;;
               *) temp_paths+="    ${m}_temp_path $tmp/nginx/$m;"$'\n' ;; esac ;;
    esac
done
mkdir -p "$tmp/nginx"

start_nginx() { # start_nginx WORKERS: sets nginx_pid, nport
    local workers="$1" conf="$tmp/nginx/nginx-$1.conf"
    nport="$(free_port)"
    cat >"$conf" <<EOF
# generated by bench/run.sh
daemon off;
master_process on;
worker_processes $workers;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events {
    worker_connections 1024;
}
http {
    access_log off;
    default_type application/json;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 1000000;
    open_file_cache max=16 inactive=60s;
    server_tokens off;
$temp_paths    server {
        listen 127.0.0.1:$nport;
        root $www;
        location / { }
    }
}
EOF
    "$NGINX_BIN" -t -q -e "$tmp/nginx/error.log" -p "$tmp/nginx/" -c "$conf" 2>"$tmp/nginx/t.err" \
        || { cat "$tmp/nginx/t.err" >&2; die "nginx rejected its config"; }
    "$NGINX_BIN" -e "$tmp/nginx/error.log" -p "$tmp/nginx/" -c "$conf" 2>>"$tmp/nginx/error.log" &
    nginx_pid=$!
    wait_http "http://127.0.0.1:$nport/" || { cat "$tmp/nginx/error.log" >&2; die "nginx did not start"; }
    curl -sS -o "$tmp/nginx/check.json" "http://127.0.0.1:$nport$path"
    cmp -s "$tmp/nginx/check.json" "$www$path" || die "nginx does not serve the same bytes as convene"
}

# ---------------------------------------------------------------- measure
echo "bench: $THREADS threads, $CONNS connections, ${SECONDS_RUN}s (+${WARMUP}s warm-up) each; body $body_bytes bytes" >&2
run_wrk convene "$cbase$path" "$convene_pid"
c_rps=$R_RPS c_p50=$R_P50 c_p99=$R_P99 c_reqs=$R_REQS c_cpu=$R_CPU c_wrk=$R_WRKCPU c_oth=$R_OTHER c_stl=$R_STEAL
stop_pid "$convene_pid" TERM   # idle, but keep the machine quiet for nginx
convene_pid=""
c_logged=""
[ -f "$convene_err" ] && c_logged="$(grep -c ' access GET ' "$convene_err" || true)"

start_nginx 1
run_wrk nginx1 "http://127.0.0.1:$nport$path" "$nginx_pid"
n1_rps=$R_RPS n1_p50=$R_P50 n1_p99=$R_P99 n1_cpu=$R_CPU n1_wrk=$R_WRKCPU n1_oth=$R_OTHER n1_stl=$R_STEAL
stop_nginx

n2_rps="" n2_p50="" n2_p99="" n2_cpu="" n2_wrk="" n2_oth="" n2_stl=""
if [ "$NGINX_AUTO" = 1 ]; then
    start_nginx auto
    nauto_workers="$(ps -o pid= --ppid "$nginx_pid" | wc -l)"
    run_wrk nginx_auto "http://127.0.0.1:$nport$path" "$nginx_pid"
    n2_rps=$R_RPS n2_p50=$R_P50 n2_p99=$R_P99 n2_cpu=$R_CPU n2_wrk=$R_WRKCPU n2_oth=$R_OTHER n2_stl=$R_STEAL
    stop_nginx
fi

ratio="$(awk -v a="$c_rps" -v b="$n1_rps" 'BEGIN { printf "%.3f", a / b }')"
ratio_auto=""
[ -n "$n2_rps" ] && ratio_auto="$(awk -v a="$c_rps" -v b="$n2_rps" 'BEGIN { printf "%.3f", a / b }')"
goal="$(awk -v r="$ratio" -v p="$c_p99" -v gr="$GOAL_RATIO" -v gp="$GOAL_P99_MS" \
    'BEGIN { print (r >= gr && p < gp) ? "PASS" : "FAIL" }')"

# ---------------------------------------------------------------- report
echo
echo "GET $path  (${body_bytes}-byte JSON body)"
echo "wrk -t$THREADS -c$CONNS -d${SECONDS_RUN}s --latency, ${WARMUP}s warm-up; $(nproc) CPUs: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo
fmt='%-26s %10s %7s %7s %7s %7s %7s %7s\n'
printf "$fmt" server "requests/s" "p50 ms" "p99 ms" server wrk other steal
printf "$fmt" "convene (1 loop thread)" "$c_rps" "$c_p50" "$c_p99" "$c_cpu%" "$c_wrk%" "$c_oth%" "$c_stl%"
printf "$fmt" "nginx worker_processes 1" "$n1_rps" "$n1_p50" "$n1_p99" "$n1_cpu%" "$n1_wrk%" "$n1_oth%" "$n1_stl%"
[ -n "$n2_rps" ] && printf "$fmt" "nginx auto ($nauto_workers workers)" "$n2_rps" "$n2_p50" "$n2_p99" "$n2_cpu%" "$n2_wrk%" "$n2_oth%" "$n2_stl%"
echo "(CPU: % of one CPU during the measured run, $(nproc)00% in all: the server, wrk, everything else"
echo " on the machine, and steal by the hypervisor)"
noisy=no
for pair in "convene:$c_oth:$c_stl" "nginx1:$n1_oth:$n1_stl" "nginx_auto:${n2_oth:-0}:${n2_stl:-0}"; do
    IFS=: read -r who oth stl <<<"$pair"
    if [ "$oth" -gt 10 ] || [ "$stl" -gt 5 ]; then
        noisy=yes
        echo "warning: the machine was busy during the $who run (other ${oth}%, steal ${stl}%): treat this run's figures with suspicion"
    fi
done
echo
echo "ratio convene/nginx(1 worker): ${ratio}x   (goal >= ${GOAL_RATIO}x)"
[ -n "$ratio_auto" ] && echo "ratio convene/nginx(auto):     ${ratio_auto}x"
echo "convene p99: ${c_p99} ms   (goal < ${GOAL_P99_MS} ms)"
echo "goal: $goal"
[ -n "$c_logged" ] && echo "(convene access-log lines: $c_logged for $c_reqs measured requests plus warm-up; stderr went to a file)"
[ -z "$c_logged" ] && echo "(convene stderr went to $convene_err)"

mkdir -p "$here/results"
dirty=unknown
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    dirty=no
    [ -z "$(git -C "$root" status --porcelain --untracked-files=no -- src include CMakeLists.txt 2>/dev/null)" ] || dirty=yes
fi
line="date=$(date -u +%Y-%m-%dT%H:%M:%SZ) commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown) src_dirty=$dirty"
line+=" convene_bin=$CONVENE_BIN convene_sha256=$(sha256sum "$CONVENE_BIN" | cut -c1-12)"
line+=" nproc=$(nproc) threads=$THREADS connections=$CONNS seconds=$SECONDS_RUN warmup=$WARMUP body_bytes=$body_bytes"
line+=" convene_rps=$c_rps convene_p50_ms=$c_p50 convene_p99_ms=$c_p99 convene_cpu_pct=$c_cpu convene_wrk_cpu_pct=$c_wrk convene_other_cpu_pct=$c_oth convene_steal_cpu_pct=$c_stl"
line+=" nginx1_rps=$n1_rps nginx1_p50_ms=$n1_p50 nginx1_p99_ms=$n1_p99 nginx1_cpu_pct=$n1_cpu nginx1_wrk_cpu_pct=$n1_wrk nginx1_other_cpu_pct=$n1_oth nginx1_steal_cpu_pct=$n1_stl"
[ -n "$n2_rps" ] && line+=" nginx_auto_workers=$nauto_workers nginx_auto_rps=$n2_rps nginx_auto_p50_ms=$n2_p50 nginx_auto_p99_ms=$n2_p99 nginx_auto_cpu_pct=$n2_cpu nginx_auto_wrk_cpu_pct=$n2_wrk nginx_auto_other_cpu_pct=$n2_oth nginx_auto_steal_cpu_pct=$n2_stl ratio_auto=$ratio_auto"
line+=" ratio=$ratio goal=$goal noisy=$noisy"
echo "$line" >"$here/results/latest.txt"
echo "$line" >>"$here/results/history.txt"
echo "wrote bench/results/latest.txt"

if [ "$goal" != PASS ] && [ "$ENFORCE" = 1 ]; then
    exit 1
fi
exit 0
