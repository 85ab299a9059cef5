#!/bin/bash
# t0520-vm-mpi.t: Open MPI from Debian in the guests, bootstrapped by the
# agents' PMIx servers through vnb-exec and Slurm's PMIx: srun --mpi=pmix
# -N2 -n4 --vnic-bypass mpihello (agent/test/mpihello.c) allreduces
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
# shellcheck disable=SC2016 # expanded by the task's shell
out=$(run_timeout 300 srun --mpi=pmix -N2 -n4 --vnic-bypass -o "$TEST_TMP/out.%t" \
	-e "$TEST_TMP/err.%t" sh -c 'ip addr add 10.78.0.$((SLURM_NODEID + 1))/24 dev eth0 2>/dev/null; exec mpihello' 2>&1)
rc=$?
is "$rc" 0 "srun --mpi=pmix -N2 -n4 --vnic-bypass mpihello succeeds" ||
	diag "$out" "$(cat "$TEST_TMP"/out.* "$TEST_TMP"/err.* 2>/dev/null)"
for t in 0 1 2 3; do
	n=$((t / 2 + 1))
	like "$(cat "$TEST_TMP/out.$t" 2>/dev/null)" "^rank $t of 4 on n$n: sum 6 ok\$" \
		"rank $t of 4 on n$n: the allreduce is right"
done
is "$(cat "$TEST_TMP"/err.* 2>/dev/null)" "" "no warning on any rank's stderr"
like "$out" "^$|^srun: job [0-9]+ (queued|has been allocated)" "and none from srun"

done_testing
