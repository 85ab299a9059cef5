# shellcheck shell=bash
# tests/rig/lib.sh: TAP helpers for the bash integration tests that run on
# the rig (tests/rig/tNNNN-*.t). Source it first:
#
#   # shellcheck source-path=SCRIPTDIR source=lib.sh
#   . "$(dirname "$0")/lib.sh"
#   require_root
#   rig_up_once                  # full rig; or: rig_up_once --bare
#   plan 3                       # or no plan, and done_testing at the end
#   ok "one node answers" run_timeout 30 srun -N1 true
#   is "$(run_timeout 30 srun -N1 hostname)" n1 "first node is n1"
#   like "$(rig status)" 'up, 3 node' "status says up"
#   done_testing
#
# TAP: plan N | plan skip_all REASON, ok DESC CMD..., fails DESC CMD...,
# is GOT WANT DESC, like GOT ERE DESC, skip DESC REASON, diag MSG...,
# bail_out MSG, done_testing ("done" is a bash keyword, hence the name).
#
# Nothing may hang: every command that talks to Slurm goes through
# run_timeout (sbatch --wait never returns after a prolog failure: use
# sbatch_wait), conditions are polled with wait_for, and a watchdog
# (VNB_TEST_TIMEOUT seconds, default 900, 0 = none) bails out and kills
# what the test started. Deadlines only prevent hangs; never assert on
# how long something took.

RIG_TESTDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VNB_SRCDIR=${VNB_SRCDIR:-$(cd "$RIG_TESTDIR/../.." && pwd)}
RIG=$RIG_TESTDIR/rig
export VNB_RIG_DIR=${VNB_RIG_DIR:-/tmp/vnb-rig}
export VNB_SRCDIR

# A private scratch dir, removed at exit.
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vnb-test.XXXXXX")

_tap_n=0
_tap_failed=0
_tap_planned=""

# ---------------------------------------------------------------- TAP

plan() { # N | skip_all REASON
	if [ "$1" = skip_all ]; then
		echo "1..0 # SKIP ${2:-}"
		_tap_planned=skip
		exit 0
	fi
	_tap_planned=$1
	echo "1..$1"
}

_tap_result() { # STATUS(0|1) DESC [DIRECTIVE]
	_tap_n=$((_tap_n + 1))
	local d=${2//#/\\#}
	if [ "$1" = 0 ]; then
		echo "ok $_tap_n - $d${3:+ # $3}"
	else
		echo "not ok $_tap_n - $d${3:+ # $3}"
		_tap_failed=$((_tap_failed + 1))
	fi
	return "$1"
}

diag() { # MSG...: a TAP comment, line by line
	local l
	while IFS= read -r l; do echo "# $l"; done <<<"$*"
}

ok() { # DESC CMD...: passes if CMD exits 0; its output is shown if not
	_tap_cmd 0 "$@"
}

fails() { # DESC CMD...: passes if CMD exits non-zero
	_tap_cmd 1 "$@"
}

_tap_cmd() { # WANT_FAILURE(0|1) DESC CMD...
	local want=$1 desc=$2 out rc failed=0
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	[ "$rc" = 0 ] || failed=1
	if [ "$failed" = "$want" ]; then
		_tap_result 0 "$desc"
		return 0
	fi
	_tap_result 1 "$desc"
	if [ "$want" = 0 ]; then
		diag "command: $*" "exit status $rc"
	else
		diag "command: $*" "succeeded, but should have failed"
	fi
	[ -z "$out" ] || diag "$out"
	return 1
}

is() { # GOT WANT DESC
	if [ "$1" = "$2" ]; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3"
		diag "     got: '$1'" "expected: '$2'"
		return 1
	fi
}

like() { # GOT ERE DESC
	if [[ $1 =~ $2 ]]; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3"
		diag "     got: '$1'" "expected to match: /$2/"
		return 1
	fi
}

skip() { # DESC REASON
	_tap_result 0 "$1" "SKIP ${2:-}"
}

bail_out() { # MSG
	echo "Bail out! $*"
	exit 1
}

done_testing() { # prints the plan if there was none; exit 1 on failures
	[ -n "$_tap_planned" ] || echo "1..$_tap_n"
	if [ -n "$_tap_planned" ] && [ "$_tap_planned" != "$_tap_n" ]; then
		diag "planned $_tap_planned tests but ran $_tap_n"
		_tap_failed=$((_tap_failed + 1))
	fi
	_tap_watchdog_stop
	[ "$_tap_failed" = 0 ] || diag "$_tap_failed test(s) failed"
	[ "$_tap_failed" = 0 ]
	exit
}

# ---------------------------------------------------------------- no hangs

run_timeout() { # SECONDS CMD...: CMD, killed after SECONDS (status 124)
	local s=$1 rc
	shift
	timeout -k 5 "$s" "$@"
	rc=$?
	[ "$rc" != 124 ] && [ "$rc" != 137 ] ||
		echo "run_timeout: gave up after ${s}s: $*" >&2
	return "$rc"
}

wait_for() { # SECONDS CMD...: poll CMD until it succeeds; 1 at the deadline
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "wait_for: still false at the deadline: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# SECONDS SBATCH-ARGS...: sbatch --wait under a deadline. It prints the job
# id first; after a prolog failure the job is requeued and held and
# --wait never returns, so at the deadline the job is cancelled.
sbatch_wait() {
	local s=$1 out rc id
	shift
	out=$(timeout -k 5 "$s" sbatch --parsable --wait "$@")
	rc=$?
	id=$(head -n 1 <<<"$out")
	id=${id%%;*}
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "sbatch_wait: job ${id:-?} not done after ${s}s; cancelled" >&2
		[ -z "$id" ] || timeout 10 scancel "$id"
	fi
	echo "$out"
	return "$rc"
}

_tap_descendants() { # PID: every descendant, deepest last
	local c
	# shellcheck disable=SC2013 # children files hold space-separated pids
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$c"
		_tap_descendants "$c"
	done
}

_tap_watchdog_pid=""
# SECONDS: bail out (and kill what this test started) after SECONDS.
test_deadline() {
	_tap_watchdog_stop
	[ "$1" -gt 0 ] || return 0
	local me=$$
	(
		trap 'kill $! 2>/dev/null; exit 0' TERM
		sleep "$1" &
		wait $!
		echo "Bail out! test still running after $1 s (VNB_TEST_TIMEOUT)"
		for p in $(_tap_descendants "$me"); do
			[ "$p" = "$BASHPID" ] || kill -TERM "$p" 2>/dev/null
		done
		kill -TERM "$me" 2>/dev/null
	) &
	_tap_watchdog_pid=$!
}
_tap_watchdog_stop() {
	[ -z "$_tap_watchdog_pid" ] || kill "$_tap_watchdog_pid" 2>/dev/null
	_tap_watchdog_pid=""
}
# At exit: stop the watchdog, then call test_cleanup if the test defines it.
_tap_exit() {
	local rc=$?
	_tap_watchdog_stop
	if declare -F test_cleanup >/dev/null; then test_cleanup; fi
	rm -rf "$TEST_TMP"
	exit "$rc"
}
trap _tap_exit EXIT
test_deadline "${VNB_TEST_TIMEOUT:-900}"

# ---------------------------------------------------------------- the rig

rig() { "$RIG" "$@"; }

# One rig suite at a time on a machine: the rig has fixed link names and
# addresses, and a suite that reuses a rig another suite is using sees that
# suite's jobs, VMs and claims.  The lock (fd 6, which the rig script
# closes, so that no daemon it starts keeps it) is held until the suite
# exits; a second suite waits for it.
rig_lock() {
	local f=/run/lock/vnb-rig-suite.lock
	mkdir -p /run/lock 2>/dev/null
	exec 6>>"$f" || return 0
	if ! flock -n 6; then
		echo "# waiting for another rig suite (lock $f)" >&2
		flock -w 3600 6 || bail_out "another rig suite held $f for an hour"
	fi
	export VNB_RIG_SUITE=1 # the rig script's up and down: it is ours
}
case $0 in */rig/t[0-9]*.t) [ "$(id -u)" != 0 ] || rig_lock ;; esac

# Bring the rig up unless it is up, healthy and of the requested shape
# (--bare or not, --nodes N, default 3), then export its environment
# (SLURM_CONF, VNB_RIG_DIR, VNB_BUILD). Args go to 'rig up'. A degraded
# rig, or one of another shape, is torn down and brought up again.
rig_up_once() {
	local rc=0 bare=0 nodes=3 a prev=""
	for a in "$@"; do
		case $prev in --nodes) nodes=$a ;; esac
		case $a in --bare) bare=1 ;; --nodes=*) nodes=${a#*=} ;; esac
		prev=$a
	done
	"$RIG" status -q || rc=$?
	if [ "$rc" = 0 ] && { [ "$(_rig_state bare)" != "$bare" ] ||
		[ "$(_rig_state nodes)" != "$nodes" ]; }; then
		diag "the rig is up with bare=$(_rig_state bare) nodes=$(_rig_state nodes); rebuilding it"
		rc=1
	fi
	if [ "$rc" = 1 ]; then
		diag "$("$RIG" status)"
		run_timeout 300 "$RIG" down >&2 || return 1
		rc=3
	fi
	if [ "$rc" = 3 ]; then
		# another test may be bringing it up right now: then up refuses
		# after waiting for the lock, and the rig is up
		run_timeout 900 "$RIG" up "$@" >&2 || "$RIG" status -q || return 1
	fi
	eval "$("$RIG" env)"
}
_rig_state() { sed -n "s/^$1=//p" "$VNB_RIG_DIR/rig.state" 2>/dev/null; }

# node_clean I: nothing of any job is left on node nI: no vnb-* domain, run
# dir, job record (or temp file of one), claim or macvtap.  all_clean: the
# same on every node of the rig.
node_clean() {
	local i=$1
	! rig exec "$i" virsh -q list --all --name 2>/dev/null | grep -q '^vnb-' &&
		[ -z "$(rig exec "$i" ls -A /run/vnic-bypass 2>/dev/null)" ] &&
		[ -z "$(rig exec "$i" ls -A /var/lib/vnic-bypass/jobs 2>/dev/null)" ] &&
		! rig exec "$i" "$VNB_BUILD/tools/vnbctl" ledger | grep -qE ' (claimed|dirty) ' &&
		[ -z "$(rig exec "$i" ip -o link show type macvtap 2>/dev/null)" ]
}
all_clean() {
	local i
	for i in $(seq 1 "$(_rig_state nodes)"); do node_clean "$i" || return 1; done
}

require_root() {
	[ "$(id -u)" = 0 ] || plan skip_all "needs root (namespaces, bridges, daemons)"
}

# Skip unless the build tree has the binaries the full rig configures.
require_build() {
	local b=${VNB_BUILD:-$VNB_SRCDIR/build}
	if ! [ -x "$b/prolog/vnb-prolog" ] || ! [ -x "$b/epilog/vnb-epilog" ] ||
		! [ -r "$b/spank/.libs/vnic_bypass.so" ]; then
		plan skip_all "no vnb-prolog, vnb-epilog and vnic_bypass.so in $b (build first)"
	fi
}

# Show the tails of the rig's logs as TAP comments (after a failure).
rig_diag_logs() {
	local f
	for f in "$VNB_RIG_DIR"/log/*.log; do
		diag "---- $f"
		diag "$(tail -n "${1:-15}" "$f")"
	done
}
