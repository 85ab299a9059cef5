#!/bin/bash
# t0110-claims.t: a --vnic-bypass job claims exclusive vNICs on each of its
# nodes for as long as it runs, programmed with the job's MAC, and frees
# them at the end; two jobs on one node get different vNICs; a job
# without the option is untouched.
. "$(dirname "$0")/lib.sh"

require_root
require_build
rig_up_once
vnbctl=$VNB_BUILD/tools/vnbctl

# claims NODE JOB: the vNICs JOB holds on NODE, one per line
claims() {
	rig exec "$1" "$vnbctl" ledger --json |
		sed -n "s/.*\"vnic\": \"\([^\"]*\)\".*\"state\": \"claimed\", \"job\": $2,.*/\1/p"
}
# nclaimed NODE: how many vNICs are claimed or dirty on NODE
nclaimed() { rig exec "$1" "$vnbctl" ledger | grep -cE ' (claimed|dirty) '; }
all_free() {
	local i
	for i in 1 2 3; do [ "$(nclaimed $i)" = 0 ] || return 1; done
}
running() { [ "$(squeue -h -j "$1" -o %T 2>/dev/null)" = RUNNING ]; }
gone() { [ -z "$(squeue -h -j "$1" -o %T 2>/dev/null)" ]; }
mac_of() { rig exec "$1" cat "/sys/class/net/$2/address"; }
state_of() { rig exec "$1" cat "/sys/class/net/$2/operstate"; }

ok "every vNIC is free before" all_free
before_n1=$(mac_of 1 vnic0)

# A 2-node job, held open so that we can look at the nodes.
id=$(run_timeout 30 sbatch --parsable -N2 -w n[1-2] -o /dev/null \
	--vnic-bypass=vnics=2 --wrap 'sleep 120')
ok "job $id starts" wait_for 60 running "$id"
for n in 1 2; do
	v=$(claims $n "$id" | tr '\n' ' ')
	is "$(claims $n "$id" | wc -l)" 2 "n$n: the ledger shows 2 vNICs claimed by job $id ($v)"
	ok "n$n: the job record is there" rig exec $n test -s "/var/lib/vnic-bypass/jobs/$id"
done
is "$(claims 3 "$id" | wc -l)" 0 "n3, not in the job, holds nothing for it"

# A step started from outside the batch script gives the option again.
# Its tasks run in the job's VMs (busybox sh), named after their nodes.
out=$(run_timeout 60 srun --jobid="$id" -N2 --vnic-bypass=vnics=2 -l sh -c 'echo "$(hostname) $VNB_VNICS $VNB_MACS"')
like "$out" "n1 vnic[0-3],vnic[0-3] 02:" "the tasks on n1 see their vNICs and MACs"
like "$out" "n2 vnic[0-3],vnic[0-3] 02:" "the tasks on n2 see theirs"
v1=$(claims 1 "$id" | head -1)
m1=$(sed -n 's/^0: n1 [^ ]* \([^,]*\),.*/\1/p' <<<"$out")
is "$(mac_of 1 "$v1")" "$m1" "n1's first vNIC carries the job's MAC"
is "$(state_of 1 "$v1")" up "and is up"
like "$m1" '^02:' "a locally administered unicast MAC"
m2=$(sed -n 's/^1: n2 [^ ]* \([^,]*\),.*/\1/p' <<<"$out")
ok "the two nodes' MACs differ ($m1, $m2)" test "$m1" != "$m2"

# A second job on n1 gets the other two vNICs.
id2=$(run_timeout 30 sbatch --parsable -N1 -w n1 -o /dev/null \
	--vnic-bypass=vnics=2 --wrap 'sleep 120')
ok "a second job $id2 starts on n1 beside it" wait_for 60 running "$id2"
a=$(claims 1 "$id" | sort | tr '\n' ' ')
b=$(claims 1 "$id2" | sort | tr '\n' ' ')
is "$(printf '%s\n' $a $b | sort -u | wc -l)" 4 "the two jobs hold different vNICs ($a| $b)"

ok "scancel both" run_timeout 30 scancel "$id" "$id2"
ok "both are gone" wait_for 60 gone "$id"
ok "both are gone" wait_for 60 gone "$id2"
ok "every vNIC is free again" wait_for 30 all_free
for n in 1 2; do
	fails "n$n: no record is left" rig exec $n test -e "/var/lib/vnic-bypass/jobs/$id"
done
is "$(mac_of 1 vnic0)" "$before_n1" "n1's vnic0 has its MAC from before the job"
is "$(state_of 1 "$v1")" down "and is down (scrubbed)"

# srun -N2 of its own: the claim lives exactly as long as the job.
run_timeout 120 srun -N2 -w n[1-2] --vnic-bypass=vnics=1 sh -c 'echo up; sleep 300' \
	>"$TEST_TMP/srun.out" 2>&1 &
srun_pid=$!
ok "srun -N2 runs its tasks" wait_for 120 eval '[ "$(grep -c up "$TEST_TMP/srun.out")" = 2 ]'
is "$(nclaimed 1) $(nclaimed 2)" "1 1" "while srun runs, each node shows its one claim"
kill -INT "$srun_pid"
sleep 0.2
kill -INT "$srun_pid" 2>/dev/null
wait "$srun_pid"
ok "and after it, none" wait_for 60 all_free

# A job without the option is untouched.
out=$(run_timeout 60 srun -N2 -l bash -c 'env | grep -E "^(VNB_VNICS|VNB_MACS|VNB_TENANT|VNB_SPEC|SPANK_VNIC)=" | sort' 2>&1)
is "$out" "" "a job without --vnic-bypass gets no VNB_ variable and no output"
is "$(rig exec 1 ls /var/lib/vnic-bypass/jobs 2>/dev/null | wc -l)" 0 "and no record"
ok "every vNIC is free" all_free

done_testing
