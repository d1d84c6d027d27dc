// Thread count control.
#include "core/parallel.h"

#include <cblas.h>
#include <omp.h>

#include "core/error.h"

namespace nabla {

void set_num_threads(int n) {
  NABLA_CHECK(n > 0, ValueError, "set_num_threads: needs a positive count, got ", n);
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace nabla
