#!/bin/bash
# t0310-agent.t: vnb-agent in a real guest. The guest image gets the
# build's vnb-agent (tests/guest/build --add), boots under TCG with the
# agent as its service (vnb.run) and a control channel and two task
# channels (tests/guest/boot --chan) whose host ends are in a run dir as
# the job's VM has them; then the build's vnb-exec runs tasks there: the
# guest kernel answers uname -r, exit codes, signals both ways, stdin and
# stdout through virtio-serial, a missing cwd, two tasks at once, a host
# killed mid-task (the task dies, the channel serves the next host).
# Root only: vnb-exec runs the tasks as the calling user, and the guest
# has no user but root (the agent runs with --allow-root).
# shellcheck source-path=SCRIPTDIR source=../rig/lib.sh
. "$(dirname "$0")/../rig/lib.sh"

G=$VNB_SRCDIR/tests/guest
B=${VNB_BUILD:-$VNB_SRCDIR/build}
[ "$(id -u)" = 0 ] || plan skip_all "needs root (the guest runs tasks as root only)"
command -v qemu-system-x86_64 >/dev/null ||
	plan skip_all "no qemu-system-x86_64 (package qemu-system-x86)"
command -v apt-get >/dev/null || plan skip_all "no apt-get"
if ! [ -x "$B/agent/vnb-agent" ] || ! [ -x "$B/agent/vnb-exec" ]; then
	plan skip_all "no agent/vnb-agent and agent/vnb-exec in $B (build first; VNB_BUILD=DIR names the build)"
fi

cache=$VNB_RIG_DIR/guest
gdir=$cache/t0310
R=$TEST_TMP/run # the job's run dir
T=$TEST_TMP/out # what the host commands leave for the checks
mkdir -p "$R" "$T"

plan 19

if ! ok "build the image with vnb-agent in $gdir" run_timeout 600 \
	"$G/build" -q --out "$gdir" --cache "$cache" --add "$B/agent/vnb-agent"; then
	bail_out "no guest image"
fi
krel=$(sed -n 's/^kernel.release=//p' "$gdir/manifest")

# The host side, run by boot once the guest is ready. Each step leaves
# its output and status in $T; the checks come after the guest is gone.
cat >"$TEST_TMP/host.sh" <<'HOST'
set -u
X=("$B/agent/vnb-exec" --run-dir "$R" --timeout 60 --)
cd / || exit 1
t0=$(date +%s%N)
"${X[@]}" uname -r >"$T/uname.out" 2>"$T/uname.err"
echo $? >"$T/uname.rc"
echo "first task after $((($(date +%s%N) - t0) / 1000000)) ms" >"$T/timing"
# a new host each time: the agent sees them come (SIGIO)
t0=$(date +%s%N)
for _ in 1 2 3 4 5 6 7 8 9 10; do "${X[@]}" true; done
echo "10 tasks one after another in $((($(date +%s%N) - t0) / 1000000)) ms" >>"$T/timing"

"${X[@]}" sh -c 'exit 42'
echo $? >"$T/exit.rc"
"${X[@]}" sh -c 'kill -USR1 $$'
echo $? >"$T/raise.rc"

# SIGTERM to vnb-exec reaches the task (a trap answers it)
"${X[@]}" sh -c 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 1; done' >"$T/term.out" &
p=$!
for _ in $(seq 300); do grep -q ready "$T/term.out" && break; sleep 0.1; done
kill -TERM "$p"
wait "$p"
echo $? >"$T/term.rc"

# stdin and stdout through virtio-serial
seq 1 200000 | "${X[@]}" md5sum >"$T/stdin.out" 2>&1
echo $? >"$T/stdin.rc"
"${X[@]}" seq 1 500000 | md5sum >"$T/stdout.out"

# a cwd the VM does not have
(cd "$T" && "${X[@]}" pwd >"$T/cwd.out" 2>"$T/cwd.err")

# two at once: one holds a channel, the other takes the second one
"${X[@]}" sh -c 'echo ready; exec sleep 1000' >"$T/hold.out" &
p=$!
for _ in $(seq 300); do grep -q ready "$T/hold.out" && break; sleep 0.1; done
SLURM_LOCALID=0 "${X[@]}" echo second >"$T/second.out" 2>&1
echo $? >"$T/second.rc"
# the host of the first dies: the agent kills its task
kill -KILL "$p"
wait "$p" 2>/dev/null
n=1
for _ in $(seq 100); do
	n=$("${X[@]}" sh -c 'ps | grep -c "[s]leep 1000"')
	[ "$n" = 0 ] && break
	sleep 0.1
done
echo "$n" >"$T/left.out"
SLURM_LOCALID=0 "${X[@]}" echo again >"$T/again.out" 2>&1

# the agent's CPU time while idle, for the record
st() { "${X[@]}" sh -c 'cut -d" " -f14,15 /proc/$(pidof vnb-agent)/stat'; }
a=$(st); sleep 5; b=$(st)
echo "agent CPU ticks: $a then $b over 5 s idle" >>"$T/timing"
HOST

export B R T
out=$(run_timeout 400 "$G/boot" --dir "$gdir" --timeout 300 \
	--run "/bin/vnb-agent --allow-root" \
	--chan "org.vnic-bypass.ctl=$R/ctl.sock" \
	--chan "org.vnic-bypass.task.0=$R/task.0.sock" \
	--chan "org.vnic-bypass.task.1=$R/task.1.sock" \
	--host "bash $TEST_TMP/host.sh" 2>"$TEST_TMP/boot.err")
rc=$?
if ! is "$rc" 0 "the guest boots with the agent, the host commands run"; then
	diag "$(cat "$TEST_TMP/boot.err")"
fi
diag "$(grep '^boot:' "$TEST_TMP/boot.err")"
diag "$(cat "$T/timing" 2>/dev/null)"
[ -z "$out" ] || diag "$out"

get() { cat "$T/$1" 2>/dev/null; }
is "$(get uname.out) $(get uname.rc)" "$krel 0" "vnb-exec -- uname -r: the guest's kernel ($krel), not the host's ($(uname -r))"
is "$(get uname.err)" "" "... and nothing on stderr"
is "$(get exit.rc)" 42 "the task's exit status"
is "$(get raise.rc)" $((128 + 10)) "a task killed by SIGUSR1 kills vnb-exec with it"
is "$(get term.rc)" 7 "SIGTERM to vnb-exec reaches the task"
like "$(get term.out)" 'got TERM' "... which answers it"
want=$(seq 1 200000 | md5sum | cut -d' ' -f1)
is "$(get stdin.rc) $(cut -d' ' -f1 <"$T/stdin.out" 2>/dev/null)" "0 $want" "stdin reaches the task whole"
want=$(seq 1 500000 | md5sum)
is "$(get stdout.out)" "$want" "stdout comes back whole"
is "$(get cwd.out)" / "a cwd the VM lacks: the task runs in /"
is "$(get cwd.err)" "vnic-bypass: cwd $T does not exist in the VM; running in /" "... and says so"
like "$(get hold.out)" ready "a task holds the first channel"
is "$(get second.rc) $(get second.out)" "0 second" "a second task runs at once on the second channel"
is "$(get left.out)" 0 "the first task's host killed: the agent kills the task"
is "$(get again.out)" again "the channel serves the next host"
like "$(get timing)" 'first task after [0-9]+ ms.10 tasks one after another in [0-9]+ ms' "ten hosts one after another are served"
like "$(cat "$TEST_TMP/boot.err")" 'host command done' "boot stops the guest after the host commands"
ok "no qemu left" bash -c "! pgrep -f '[p]ath=$R/ctl.sock' >/dev/null"

done_testing
