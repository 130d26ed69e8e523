/*
 * An all-to-all latency benchmark in the manner of osu_alltoall (no OSU benchmark is packaged
 * here): for each message size from 1 byte up to the -m maximum (powers of two), time
 * MPI_Alltoall over all ranks, after --warmup untimed rounds, and print "<size> <avg latency us>"
 * lines on rank 0, as the OSU benchmark does. Usage: alltoall [--warmup n] [-m max] [-i iterations]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int warmup = 10, max = 4096, iterations = 100;
  for (int a = 1; a + 1 < argc; a += 2) {
    if (strcmp(argv[a], "--warmup") == 0) warmup = atoi(argv[a + 1]);
    else if (strcmp(argv[a], "-m") == 0) max = atoi(argv[a + 1]);
    else if (strcmp(argv[a], "-i") == 0) iterations = atoi(argv[a + 1]);
  }
  char *send = calloc((size_t)max * size, 1), *recv = calloc((size_t)max * size, 1);
  if (rank == 0) {
    printf("# d4 all-to-all latency test (osu_alltoall style), %d ranks\n", size);
    printf("# Size       Avg Latency(us)\n");
    fflush(stdout);
  }
  for (int bytes = 1; bytes <= max; bytes *= 2) {
    for (int i = 0; i < warmup; i++) MPI_Alltoall(send, bytes, MPI_CHAR, recv, bytes, MPI_CHAR, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
    double start = MPI_Wtime();
    for (int i = 0; i < iterations; i++) MPI_Alltoall(send, bytes, MPI_CHAR, recv, bytes, MPI_CHAR, MPI_COMM_WORLD);
    double local = (MPI_Wtime() - start) * 1e6 / iterations, avg = 0;
    MPI_Reduce(&local, &avg, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      printf("%-10d%18.2f\n", bytes, avg / size);
      fflush(stdout);
    }
  }
  free(send);
  free(recv);
  MPI_Finalize();
  return 0;
}
