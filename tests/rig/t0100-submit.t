#!/bin/bash
# t0100-submit.t: a user's mistake is caught at submit time, by srun,
# sbatch and salloc alike: exit status != 0, one line that says what is
# wrong and what is allowed, no job created, no node drained.
. "$(dirname "$0")/lib.sh"

require_root
require_build
rig_up_once

# Submit a trivial job and print its id: a bad submission between two of
# these must not have consumed an id.
job_id() { run_timeout 30 sbatch --parsable -N1 -o /dev/null --wrap true; }
no_drained_node() { ! sinfo -h -N -o '%T' | grep -qiE 'drain|down'; }

expect=$(($(job_id) + 1))

# refused CMD ERE DESC ARGS...: each of srun/sbatch/salloc must refuse.
refused() {
	local ere=$1 desc=$2 out rc
	shift 2
	for cmd in srun sbatch salloc; do
		case $cmd in
		srun) out=$(run_timeout 30 srun -N1 "$@" true 2>&1) ;;
		sbatch) out=$(run_timeout 30 sbatch -N1 -o /dev/null "$@" --wrap true 2>&1) ;;
		salloc) out=$(run_timeout 30 salloc -N1 "$@" true 2>&1) ;;
		esac
		rc=$?
		ok "$cmd $desc: exit status $rc" test "$rc" != 0 -a "$rc" != 124
		like "$(grep -m1 'vnic-bypass:' <<<"$out")" "$ere" "$cmd $desc: says why"
	done
}

refused "'vnics=0': vnics must be a whole number from 1 to 64" "vnics=0" \
	--vnic-bypass=vnics=0
refused "'bogus=1': unknown field" "unknown field" --vnic-bypass=bogus=1
refused "provider" "unknown provider" --vnic-bypass=provider=rdma
refused "vnics" "duplicate field" --vnic-bypass=vnics=1,vnics=2
refused "tenant alpha allows at most 8 vNICs per node; you asked for 9" \
	"over the tenant's maximum" --vnic-bypass=vnics=9
refused "a node offers tenant alpha 4 vNICs; you asked for 5" \
	"more vNICs than a node has" --vnic-bypass=vnics=5
refused "tenant alpha has no image 'nope'; its images are: debian12" \
	"unknown image" --vnic-bypass=image=nope
refused "queues=2 with provider auto: a vNIC delivers every frame to one of its queues .*; ask for vnics=2 and queues=1 instead, or provider=udp" \
	"2 raw-frame queues per vNIC" --vnic-bypass=queues=2
refused "admits only the accounts beta-lab; submit with --account=beta-lab" \
	"tenant with an account list, no account" -p beta --vnic-bypass
refused "account 'other' may not use tenant 'beta' \(allowed accounts: beta-lab\)" \
	"account not allowed" \
	-p beta -A other --vnic-bypass
refused "tenant beta allows at most 2 vNICs" "beta's maximum" \
	-p beta -A beta-lab --vnic-bypass=vnics=3
refused "tenant beta allows at most 2 vNICs" "partition list" \
	-p alpha,beta -A beta-lab --vnic-bypass=vnics=3
SBATCH_PARTITION=beta SLURM_PARTITION=beta SALLOC_PARTITION=beta \
	refused "admits only the accounts" "partition from the environment" \
	--vnic-bypass

# The partition and account from a batch script's #SBATCH lines.
printf '#!/bin/sh\n#SBATCH -p beta\n#SBATCH --account=beta-lab\ntrue\n' >"$TEST_TMP/job.sh"
out=$(run_timeout 30 sbatch -o /dev/null --vnic-bypass=vnics=3 "$TEST_TMP/job.sh" 2>&1)
rc=$?
ok "sbatch with #SBATCH -p beta and vnics=3: refused ($rc)" test "$rc" != 0
like "$out" "tenant beta allows at most 2" "the script's partition was used"

is "$(job_id)" "$expect" "no bad submission created a job"
ok "no node was drained" no_drained_node

# What is allowed runs.
ok "srun -p beta -A beta-lab --vnic-bypass=vnics=2 runs" \
	run_timeout 60 srun -N1 -p beta -A beta-lab --vnic-bypass=vnics=2 true
ok "a bare --vnic-bypass runs with the tenant's defaults" \
	run_timeout 60 srun -N1 --vnic-bypass true
is "$(run_timeout 60 srun -N1 --vnic-bypass sh -c 'echo "$VNB_SPEC"')" \
	"vnics=1,queues=1,image=debian12,provider=auto" "defaults filled in"

# The option in --help, of every command.
for cmd in srun sbatch salloc; do
	like "$($cmd --help 2>&1)" '--vnic-bypass=\[SPEC\]' "$cmd --help lists --vnic-bypass"
done

# Steps inside an allocation use the allocation's vNICs.
out=$(run_timeout 60 salloc -N1 --vnic-bypass=vnics=1 srun --vnic-bypass=vnics=2 true 2>&1)
like "$out" "was allocated with --vnic-bypass=vnics=1; its steps use those vNICs" \
	"a step cannot ask for other vNICs than its allocation"
out=$(run_timeout 60 salloc -N1 srun --vnic-bypass true 2>&1)
like "$out" "allocated without --vnic-bypass" "nor for vNICs the allocation has not"
ok "a step inherits the allocation's option" \
	run_timeout 60 salloc -N1 --vnic-bypass=vnics=2 srun sh -c 'test -n "$VNB_VNICS"'

# plugstack.conf arguments are checked.
sed "s|^PlugStackConfig=.*|PlugStackConfig=$TEST_TMP/plugstack.conf|" "$SLURM_CONF" >"$TEST_TMP/slurm.conf"
sed 's|$| bogus=1|' "$VNB_RIG_DIR/etc/plugstack.conf" >"$TEST_TMP/plugstack.conf"
out=$(SLURM_CONF=$TEST_TMP/slurm.conf run_timeout 30 srun -N1 true 2>&1)
like "$out" "unknown argument 'bogus=1' \(accepted: config=PATH, exec=PATH\)" \
	"an unknown plugstack.conf argument is refused by name"
ok "no node was drained" no_drained_node

done_testing
