// Thread count for nabla's CPU work: OpenMP loops and OpenBLAS together.
#pragma once

namespace nabla {

// Sets both OpenMP's and OpenBLAS's thread counts so the two never oversubscribe the cores.
void set_num_threads(int n);
int get_num_threads();

}  // namespace nabla
