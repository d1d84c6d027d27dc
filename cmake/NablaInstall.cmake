# Installs nabla's libraries, headers and CMake package, so that another project can
# find_package(nabla) and link nabla::nabla.
include(CMakePackageConfigHelpers)

# The library folders that ship: each installs its target nabla_<folder> and its headers.
# A new folder ships by adding its name here; cuda/ has a target only when its toolkit was found.
set(nabla_installed_folders core autograd data nn optim quant hpo)

set(nabla_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/nabla)
set(nabla_installed_targets nabla)
foreach(folder IN LISTS nabla_installed_folders)
  if(NOT TARGET nabla_${folder})
    continue()
  endif()
  list(APPEND nabla_installed_targets nabla_${folder})
  # Headers keep their paths under include/nabla/, so `#include "core/tensor.h"` works as here.
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder}/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nabla/${folder}
          FILES_MATCHING PATTERN "*.h")
endforeach()
# hpo/nas's headers ship with hpo's; its library is a target of its own.
list(APPEND nabla_installed_targets nabla_nas)
install(FILES ${PROJECT_SOURCE_DIR}/nabla.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nabla)

install(TARGETS ${nabla_installed_targets} EXPORT nablaTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT nablaTargets NAMESPACE nabla:: DESTINATION ${nabla_cmake_dir})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nablaConfig.cmake.in
  ${PROJECT_BINARY_DIR}/nablaConfig.cmake INSTALL_DESTINATION ${nabla_cmake_dir})
# Before 1.0 a minor version may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nablaConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nablaConfig.cmake ${PROJECT_BINARY_DIR}/nablaConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/NablaOpenBLAS.cmake
        DESTINATION ${nabla_cmake_dir})
