// Typed wrappers over LAPACK's symmetric eigensolver (OpenBLAS ships LAPACK), so code templated
// on float/double calls one name. Private to core: public headers never declare LAPACK.
#pragma once

#include <cstddef>

extern "C" {
// Fortran routines: arguments by pointer, matrices column-major, and the hidden lengths of the
// character arguments at the end, as gfortran passes them.
void ssyevd_(const char* jobz, const char* uplo, const int* n, float* a, const int* lda, float* w,
             float* work, const int* lwork, int* iwork, const int* liwork, int* info,
             size_t jobz_length, size_t uplo_length);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info,
             size_t jobz_length, size_t uplo_length);
}

namespace nabla::cpu {

// Eigenvalues (ascending, into w) and eigenvectors (overwriting a, column-major: column j holds
// the vector of w[j]) of the symmetric n x n matrix a, whose lower triangle is read. Pass
// lwork = liwork = -1 for a workspace query (the sizes land in work[0] and iwork[0]).
inline void syevd(int n, float* a, float* w, float* work, int lwork, int* iwork, int liwork,
                  int* info) {
  ssyevd_("V", "L", &n, a, &n, w, work, &lwork, iwork, &liwork, info, 1, 1);
}

inline void syevd(int n, double* a, double* w, double* work, int lwork, int* iwork, int liwork,
                  int* info) {
  dsyevd_("V", "L", &n, a, &n, w, work, &lwork, iwork, &liwork, info, 1, 1);
}

}  // namespace nabla::cpu
