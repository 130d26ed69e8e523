// The same round trips in C with blocking MPI calls: what the machine allows at that moment,
// to read beside mpi-pingpong.ts (bench/README.md says how to build and run it).
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank; MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int sizes[2] = {64, 65536};
  char* buf = malloc(65536);
  for (int s = 0; s < 2; s++) {
    int n = sizes[s], trips = s ? 4000 : 20000;
    MPI_Barrier(MPI_COMM_WORLD);
    double t = MPI_Wtime();
    for (int i = 0; i < trips; i++) {
      if (rank == 0) { MPI_Send(buf, n, MPI_BYTE, 1, 0, MPI_COMM_WORLD); MPI_Recv(buf, n, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE); }
      else { MPI_Recv(buf, n, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE); MPI_Send(buf, n, MPI_BYTE, 0, 0, MPI_COMM_WORLD); }
    }
    if (rank == 0) printf("C %d B: %.2f us\n", n, (MPI_Wtime() - t) / trips * 1e6);
  }
  MPI_Finalize();
}
