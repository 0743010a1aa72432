#!/usr/bin/env bash
# bench/profile.sh - where convene spends its time on the benchmarked request
# (authorised GET /api/v1/rooms/{id}).
#
#   bench/profile.sh perf       # default: perf record -g on the server while wrk
#                               # drives it (-t2 -c32), then the top of the tree
#   bench/profile.sh callgrind  # valgrind --tool=callgrind on a fixed number of
#                               # requests (PROFILE_REQUESTS, default 20000) sent
#                               # by one keep-alive client; user-space instructions
#   bench/profile.sh booking    # perf record -g while wrk books meetings
#                               # (bench/booking.lua, --durability full) over
#                               # PROFILE_CONNECTIONS (default 32) connections;
#                               # also the server's user and system CPU per booking
#   bench/profile.sh callgrind-booking  # valgrind --tool=callgrind on a fixed
#                               # number of bookings (PROFILE_REQUESTS, default
#                               # 1000; bench/booking.lua's body) by one
#                               # keep-alive client at --durability full, the
#                               # WAL checkpoints included; instructions per
#                               # booking, independent of the machine's load
#
# perf shows kernel time too (send/receive on loopback, wake-ups, fcntl locks);
# callgrind counts instructions exactly and is independent of machine noise.
# Output files stay in PROFILE_OUT (default: a temp dir, path printed at the end).
# Environment: CONVENE_BIN (default $BUILD/convene, BUILD=build), PROFILE_SECONDS=8.
set -euo pipefail

mode="${1:-perf}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build_dir="${BUILD:-build}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
CONVENE_BIN="${CONVENE_BIN:-$build_dir/convene}"
SECS="${PROFILE_SECONDS:-8}"
NREQ="${PROFILE_REQUESTS:-20000}"
out="${PROFILE_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/convene-profile.XXXXXX")}"
mkdir -p "$out"

die() { echo "profile: $*" >&2; exit 1; }
[ -x "$CONVENE_BIN" ] || die "$CONVENE_BIN not found; build first"
case "$mode" in
    perf|booking) command -v perf >/dev/null || die "perf not installed (apt-get install linux-perf)"
          command -v wrk >/dev/null || die "wrk not installed" ;;
    callgrind|callgrind-booking) command -v valgrind >/dev/null || die "valgrind not installed"
               command -v python3 >/dev/null || die "python3 not installed" ;;
    *) die "usage: bench/profile.sh [perf|callgrind|booking|callgrind-booking]" ;;
esac

server_pid=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -f "$out/c.db" "$out/c.db-wal" "$out/c.db-shm" "$out/c.db.key"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

token="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
wrapper=()
if [ "$mode" = callgrind-booking ]; then
    NREQ="${PROFILE_REQUESTS:-1000}"
fi
if [ "$mode" = callgrind ] || [ "$mode" = callgrind-booking ]; then
    wrapper=(valgrind --tool=callgrind "--callgrind-out-file=$out/callgrind.out.%p")
    [ "$mode" = callgrind ] || wrapper+=(--separate-threads=yes)
fi
( cd "$root" && exec env CONVENE_ADMIN_TOKEN="$token" "${wrapper[@]}" "$CONVENE_BIN" serve \
    --db "$out/c.db" --listen 127.0.0.1:0 --calendars "$root/calendars" \
    >"$out/convene.stdout" 2>"$out/convene.stderr" ) &
server_pid=$!
port=""
for _ in $(seq 1 300); do
    port="$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$out/convene.stdout" | head -n1)"
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$port" ] || die "convene did not start (see $out/convene.stderr)"
base="http://127.0.0.1:$port"
id="$(curl -sS -X POST "$base/api/v1/rooms" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d '{"name":"Bench Room","capacity":12,"features":["video","projector"],"location":"Building A, 3rd floor"}' \
    | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')"
[ -n "$id" ] || die "could not create a room"
url="$base/api/v1/rooms/$id"

perf_report() {
    echo "== share of samples by library"
    perf report -i "$out/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
        | grep -E '^ +[0-9]' | head -n 10
    echo "== inclusive share by function (top 45)"
    perf report -i "$out/perf.data" --children --sort symbol --stdio -g none 2>/dev/null \
        | grep -E '^ +[0-9]' | grep -v '\] 0x' | head -n 45
    echo "(full data: perf report -i $out/perf.data)"
}

# Ticks of user and system CPU the server has used so far (/proc/PID/stat fields 14, 15).
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$server_pid/stat"; }

# Three leaders for the booking modes; prints their ids, comma-separated.
make_people() {
    local people="" p
    for i in 1 2 3; do
        p="$(curl -sS -X POST "$base/api/v1/people" -H "Authorization: Bearer $token" \
            -H 'Content-Type: application/json' -d "{\"name\":\"P$i\",\"role\":\"leader\",\"rank\":$i}" \
            | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')"
        people="$people${people:+,}$p"
    done
    echo "$people"
}

if [ "$mode" = booking ]; then
    conns="${PROFILE_CONNECTIONS:-32}"
    people="$(make_people)"
    threads=$(( conns > 1 ? 2 : 1 ))
    CONVENE_TOKEN="$token" CONVENE_PEOPLE="$people" CONVENE_ROOM="$id" \
        wrk -t"$threads" -c"$conns" -d"$((SECS + 3))s" -s "$here/booking.lua" "$base" \
        >"$out/wrk.txt" 2>&1 &
    wrk_pid=$!
    sleep 2
    read -r u0 s0 < <(cpu_ticks)
    perf record -F 999 -g --call-graph dwarf -o "$out/perf.data" -p "$server_pid" -- sleep "$SECS" \
        >"$out/perf-record.log" 2>&1
    read -r u1 s1 < <(cpu_ticks)
    wait "$wrk_pid"
    rate="$(sed -n 's/^Requests\/sec: *//p' "$out/wrk.txt")"
    grep -E 'Requests/sec|non201' "$out/wrk.txt"
    hz="$(getconf CLK_TCK)"
    awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$hz" -v t="$SECS" -v r="$rate" 'BEGIN {
        printf "server CPU: user %.0f us + system %.0f us per booking (%.0f%% of a CPU; perf running)\n",
               u / hz / t / r * 1e6, s / hz / t / r * 1e6, (u + s) / hz / t * 100 }'
    perf_report
elif [ "$mode" = perf ]; then
    wrk -t2 -c32 -d"$((SECS + 3))s" -H "Authorization: Bearer $token" "$url" >"$out/wrk.txt" 2>&1 &
    wrk_pid=$!
    sleep 2
    perf record -F 999 -g --call-graph dwarf -o "$out/perf.data" -p "$server_pid" -- sleep "$SECS" \
        >"$out/perf-record.log" 2>&1
    wait "$wrk_pid"
    grep -E 'Requests/sec' "$out/wrk.txt"
    echo "== share of samples by library"
    perf report -i "$out/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
        | grep -E '^ +[0-9]' | head -n 10
    echo "== inclusive share by function (top 45)"
    perf report -i "$out/perf.data" --children --sort symbol --stdio -g none 2>/dev/null \
        | grep -E '^ +[0-9]' | grep -v '\] 0x' | head -n 45
    echo "(full data: perf report -i $out/perf.data)"
elif [ "$mode" = callgrind-booking ]; then
    # The same body as bench/booking.lua, one hour after another from 2030-01-01 (none
    # clashes), on one keep-alive connection: each booking is a group of one, so the count
    # does not depend on timing. Counted per thread (--separate-threads): the loop is -01.
    cat >"$out/book.py" <<'EOF'
import http.client, json, sys, time
port, n, tok, people, room, first = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
                                     sys.argv[4].split(","), sys.argv[5], int(sys.argv[6]))
iso = lambda u: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(u))
c = http.client.HTTPConnection("127.0.0.1", port)
for i in range(n):
    t = 1893456000 + (first + i) * 3600
    body = json.dumps({"title": "会议", "start": iso(t), "end": iso(t + 2700),
                       "attendees": [{"person": p} for p in people], "room": room,
                       "meals": [{"meal": "lunch"}]})
    c.request("POST", "/api/v1/events", body=body.encode(),
              headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 201:
        sys.exit("status %d" % r.status)
EOF
    people="$(make_people)"
    vg_pid="$(pgrep -P "$server_pid" | head -n1 || true)"
    [ -n "$vg_pid" ] || vg_pid="$server_pid"
    python3 "$out/book.py" "$port" 100 "$token" "$people" "$id" 0   # warm-up
    callgrind_control -z "$vg_pid" >/dev/null
    python3 "$out/book.py" "$port" "$NREQ" "$token" "$people" "$id" 100
    callgrind_control -d "$vg_pid" >/dev/null
    sleep 1
    all=0
    for f in $(ls "$out"/callgrind.out.*.1-[0-9]* | sort); do
        t="$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')"
        [ -n "$t" ] || continue
        all=$((all + t))
        echo "== thread ${f##*-}: $t instructions, $((t / NREQ)) per booking"
    done
    echo "== $NREQ bookings, all threads: $all instructions, $((all / NREQ)) per booking"
    loop="$(ls "$out"/callgrind.out.*.1-01)"
    echo "== loop thread, inclusive (top 60)"
    callgrind_annotate --inclusive=yes "$loop" 2>/dev/null | sed -n '/file:function/,/^$/p' \
        | grep -E '^ *[0-9,]+ ' | grep -v -e '???:0x' -e 'below main' -e 'libc_start' | head -n 60
    echo "(full data: callgrind_annotate --inclusive=yes $loop)"
else
    cat >"$out/client.py" <<'EOF'
import http.client, sys
port, path, n, tok = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("GET", path, headers={"Authorization": "Bearer " + tok})
    r = c.getresponse(); r.read()
    if r.status != 200:
        sys.exit("status %d" % r.status)
EOF
    vg_pid="$(pgrep -P "$server_pid" | head -n1 || true)"
    [ -n "$vg_pid" ] || vg_pid="$server_pid"
    python3 "$out/client.py" "$port" "/api/v1/rooms/$id" 300 "$token"   # warm-up
    callgrind_control -z "$vg_pid" >/dev/null
    python3 "$out/client.py" "$port" "/api/v1/rooms/$id" "$NREQ" "$token"
    callgrind_control -d "$vg_pid" >/dev/null
    sleep 1
    f="$(ls -t "$out"/callgrind.out.* | head -n1)"
    total="$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')"
    echo "== $NREQ requests: $total instructions, $((total / NREQ)) per request"
    echo "== inclusive (top 45)"
    callgrind_annotate --inclusive=yes "$f" 2>/dev/null | sed -n '/file:function/,/^$/p' \
        | grep -E '^ *[0-9,]+ ' | grep -v -e '???:0x' -e 'below main' -e 'libc_start' | head -n 45
    echo "(full data: callgrind_annotate --inclusive=yes $f)"
fi
