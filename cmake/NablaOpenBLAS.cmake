# Finds OpenBLAS (header and library) and defines the imported target nabla::openblas.
# Shared by nabla's own build and by nablaConfig.cmake, so consumers find the same library.
if(TARGET nabla::openblas)
  return()
endif()

find_path(NABLA_OPENBLAS_INCLUDE_DIR cblas.h
  PATH_SUFFIXES openblas-pthread openblas-openmp openblas-serial openblas
  DOC "Directory holding OpenBLAS's cblas.h")
find_library(NABLA_OPENBLAS_LIBRARY NAMES openblas DOC "The OpenBLAS library")

if(NOT NABLA_OPENBLAS_INCLUDE_DIR OR NOT NABLA_OPENBLAS_LIBRARY)
  message(FATAL_ERROR "nabla needs OpenBLAS: install Debian's libopenblas-dev "
                      "(make deps does this).")
endif()

add_library(nabla::openblas INTERFACE IMPORTED)
set_target_properties(nabla::openblas PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${NABLA_OPENBLAS_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "${NABLA_OPENBLAS_LIBRARY}")
