// The LAPACK routines hpo's Gaussian process factors and solves with (OpenBLAS ships LAPACK).
// Private to hpo: public headers never declare LAPACK.
#pragma once

#include <cstddef>

#include <omp.h>

extern "C" {
// Fortran routines: arguments by pointer, matrices column-major, and the hidden lengths of the
// character arguments at the end, as gfortran passes them.
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info,
             size_t uplo_length);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda,
             double* b, const int* ldb, int* info, size_t uplo_length);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info,
             size_t uplo_length);
void dtrtrs_(const char* uplo, const char* trans, const char* diag, const int* n, const int* nrhs,
             const double* a, const int* lda, double* b, const int* ldb, int* info,
             size_t uplo_length, size_t trans_length, size_t diag_length);
}

namespace nabla::hpo::lapack {

// The calling thread's OpenMP thread count is 1 while it lives, restored after. OpenBLAS's OpenMP
// build sizes its teams from that count, and hpo's matrices (a few hundred rows at most) are far
// too small to share: forking and spinning teams made a GP study 40x slower on two busy cores.
// One thread also keeps the rounding, hence a seeded study, the same on every machine. Only this
// thread's count changes: the n_jobs workers and nabla's own threads keep theirs.
class SingleThreaded {
 public:
  SingleThreaded() : before_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SingleThreaded() { omp_set_num_threads(before_); }
  SingleThreaded(const SingleThreaded&) = delete;
  SingleThreaded& operator=(const SingleThreaded&) = delete;

 private:
  int before_;
};

// The lower Cholesky factor of the n x n matrix a, in place (its lower triangle is read and
// overwritten; the strict upper triangle is left as it was). info > 0: not positive definite.
inline int potrf(int n, double* a) {
  const SingleThreaded one;
  int info = 0;
  dpotrf_("L", &n, a, &n, &info, 1);
  return info;
}

// Solves (L L^T) X = B for nrhs columns of b (n x nrhs), with L from potrf.
inline int potrs(int n, int nrhs, const double* l, double* b) {
  const SingleThreaded one;
  int info = 0;
  dpotrs_("L", &n, &nrhs, l, &n, b, &n, &info, 1);
  return info;
}

// The inverse of L L^T, in place of L (lower triangle only).
inline int potri(int n, double* l) {
  const SingleThreaded one;
  int info = 0;
  dpotri_("L", &n, l, &n, &info, 1);
  return info;
}

// Solves L X = B for nrhs columns of b (n x nrhs).
inline int trtrs_lower(int n, int nrhs, const double* l, double* b) {
  const SingleThreaded one;
  int info = 0;
  dtrtrs_("L", "N", "N", &n, &nrhs, l, &n, b, &n, &info, 1, 1, 1);
  return info;
}

}  // namespace nabla::hpo::lapack
