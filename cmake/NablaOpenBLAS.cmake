# Finds OpenBLAS (header and library) and defines the imported target nabla::openblas.
# Shared by nabla's own build and by nablaConfig.cmake, so consumers find the same library.
#
# nabla wants OpenBLAS's OpenMP build: its threads then come from the same OpenMP pool as nabla's
# own loops. With the pthread build, OpenMP workers spinning after a loop and OpenBLAS workers
# waiting for a GEMM fight over the cores (measured: convolutions 3-7x slower on two cores).
# Debian installs the builds side by side; the pthread one is the system default, so the OpenMP
# one is linked by full path, and CMake's RUNPATH makes it the one loaded at run time.
if(TARGET nabla::openblas)
  return()
endif()

set(_nabla_openblas_lib_dirs
  /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp /usr/lib64/openblas-openmp)
set(_nabla_openblas_include_dirs
  /usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp /usr/include/openblas-openmp)
find_path(NABLA_OPENBLAS_INCLUDE_DIR cblas.h PATHS ${_nabla_openblas_include_dirs} NO_DEFAULT_PATH
  DOC "Directory holding OpenBLAS's cblas.h")
find_library(NABLA_OPENBLAS_LIBRARY NAMES openblas PATHS ${_nabla_openblas_lib_dirs} NO_DEFAULT_PATH
  DOC "The OpenBLAS library")

if(NOT NABLA_OPENBLAS_INCLUDE_DIR OR NOT NABLA_OPENBLAS_LIBRARY)
  message(WARNING "nabla: OpenBLAS's OpenMP build was not found (Debian: libopenblas-openmp-dev); "
                  "using the default OpenBLAS, whose threads compete with OpenMP's.")
  find_path(NABLA_OPENBLAS_INCLUDE_DIR cblas.h
    PATH_SUFFIXES openblas-openmp openblas-pthread openblas-serial openblas)
  find_library(NABLA_OPENBLAS_LIBRARY NAMES openblas)
endif()

if(NOT NABLA_OPENBLAS_INCLUDE_DIR OR NOT NABLA_OPENBLAS_LIBRARY)
  message(FATAL_ERROR "nabla needs OpenBLAS: install Debian's libopenblas-openmp-dev "
                      "(make deps does this).")
endif()

add_library(nabla::openblas INTERFACE IMPORTED)
set_target_properties(nabla::openblas PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${NABLA_OPENBLAS_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "${NABLA_OPENBLAS_LIBRARY}")
