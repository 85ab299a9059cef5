/*
 * mpihello - Open MPI in the guests (tests/rig/t0520-vm-mpi.t): MPI_Init,
 * an MPI_Allreduce of the ranks (and of rank^2 as doubles), MPI_Finalize.
 * One line per rank: "rank R of N on HOST: sum S ok" or "... FAIL".
 */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	int rank, size, sum = 0, len = 0;
	double sq, sumsq = 0;
	char host[MPI_MAX_PROCESSOR_NAME] = "";
	long want, wantsq;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MPI_Get_processor_name(host, &len);
	sq = (double)rank * rank;
	MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	MPI_Allreduce(&sq, &sumsq, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
	want = (long)size * (size - 1) / 2;
	wantsq = (long)(size - 1) * size * (2 * size - 1) / 6;
	printf("rank %d of %d on %s: sum %d %s\n", rank, size, host, sum,
	       sum == want && (long)sumsq == wantsq ? "ok" : "FAIL");
	fflush(stdout);
	MPI_Finalize();
	return sum == want && (long)sumsq == wantsq ? 0 : 1;
}
