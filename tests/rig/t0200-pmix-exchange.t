#!/bin/bash
# t0200-pmix-exchange.t: vnb_pmix_exchange under srun --mpi=pmix. Four
# ranks on two nodes each open a libvnb udp endpoint on the node's eth0,
# exchange addresses through PMIx, check that the table holds four
# distinct, well-formed addresses indexed by rank, and ping every peer
# once over libvnb.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

require_root
build=${VNB_BUILD:-$VNB_SRCDIR/build}
bin=$build/lib/vnb/test/pmix_exchange
[ -x "$bin" ] || plan skip_all "no $bin (build first)"

# Any healthy rig of two nodes or more will do: do not rebuild one that
# another suite is using in another shape.
if rig status -q && [ "$(_rig_state nodes)" -ge 2 ] 2>/dev/null; then
	eval "$(rig env)"
else
	rig_up_once --bare || bail_out "the rig does not come up"
fi

plan 8

out=$(run_timeout 120 srun --mpi=pmix -N2 -n4 -o "$TEST_TMP/out.%t" \
	-e "$TEST_TMP/err.%t" "$bin" -n 4 2>&1)
rc=$?
is "$rc" 0 "srun --mpi=pmix -N2 -n4 pmix_exchange succeeds" ||
	diag "$out" "$(cat "$TEST_TMP"/err.* 2>/dev/null)"
for t in 0 1 2 3; do
	like "$(cat "$TEST_TMP/out.$t" 2>/dev/null)" \
		"^rank $t ok: 4 peers, pinged each over udp" \
		"rank $t got 4 distinct, well-formed addresses and pinged each peer"
done
addrs=$(sed -n 's/.* I am //p' "$TEST_TMP"/out.* 2>/dev/null | sort -u)
is "$(wc -l <<<"$addrs")" 4 "four distinct addresses"
is "$(grep -oE 'ip=[0-9.]+' <<<"$addrs" | sort -u | wc -l)" 2 \
	"on the two nodes' eth0"

# Without a PMIx server the exchange fails and says what to do.
out=$(run_timeout 60 srun --mpi=none -N1 -n1 "$bin" 2>&1)
like "$out" 'vnb_pmix_exchange: .*' \
	"without --mpi=pmix the exchange fails with a message: $(head -n 1 <<<"$out")"

done_testing
