#!/bin/bash
# t0520-vm-mpi.t: Open MPI from Debian in the guests, bootstrapped by the
# agents' PMIx servers through vnb-exec and Slurm's PMIx: srun --mpi=pmix
# -N2 -n4 --vnic-bypass=vnics=2 mpihello (agent/test/mpihello.c) allreduces
# correctly on every rank and prints no warning.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_build
b=${VNB_BUILD:-$VNB_SRCDIR/build}
[ -x "$b/agent/test/mpihello" ] || plan skip_all "no agent/test/mpihello in the build"
"$b/agent/test/mpihello" --probe >/dev/null 2>&1
[ "$?" != 77 ] || plan skip_all "mpihello was built without mpicc (openmpi-bin)"
rig_up_once
cd / # the guests have no copy of this directory

# The guests' vNICs have no IP address of their own: Open MPI's TCP BTL
# gets one on each (MPI over the bypass path needs a libfabric provider).
# Each task then pings the other guest until it answers, so that both
# neighbour caches hold the other's MAC before MPI_Init: two TCG guests
# busy in MPI_Init on 2 host CPUs can miss the 3 s an ARP request waits,
# and Open MPI warns of the failed connect before it retries.  After
# mpihello each task prints its guest's neighbour table and TCP and ARP
# counters below its rank line, shown only when a warning is there.
# shellcheck disable=SC2016 # expanded by the task's shell
task='me=$((SLURM_NODEID + 1)) peer=$((2 - SLURM_NODEID))
ip addr add 10.78.0.$me/24 dev eth0 2>/dev/null
i=0
until ping -c1 -W1 10.78.0.$peer >/dev/null 2>&1 || [ $i = 60 ]; do i=$((i + 1)); done
mpihello
rc=$?
echo "pings before MPI_Init: $((i + 1))"
ip neigh; grep -A1 "^Tcp:" /proc/net/snmp; cat /proc/net/stat/arp_cache
exit $rc'
out=$(run_timeout 300 srun --mpi=pmix -N2 -w "n[1-2]" -n4 --vnic-bypass=vnics=2 \
	-o "$TEST_TMP/out.%t" -e "$TEST_TMP/err.%t" sh -c "$task" 2>&1)
rc=$?
is "$rc" 0 "srun --mpi=pmix -N2 -n4 --vnic-bypass=vnics=2 mpihello succeeds" ||
	diag "$out" "$(cat "$TEST_TMP"/out.* "$TEST_TMP"/err.* 2>/dev/null)"
for t in 0 1 2 3; do
	n=$((t / 2 + 1))
	like "$(head -n 1 "$TEST_TMP/out.$t" 2>/dev/null)" "^rank $t of 4 on n$n: sum 6 ok\$" \
		"rank $t of 4 on n$n: the allreduce is right"
done
is "$(cat "$TEST_TMP"/err.* 2>/dev/null)" "" "no warning on any rank's stderr" ||
	diag "$(tail -n +2 "$TEST_TMP"/out.* 2>/dev/null)"
like "$out" "^$|^srun: job [0-9]+ (queued|has been allocated)" "and none from srun"

done_testing
