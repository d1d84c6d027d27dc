# nabla_add_library(<name> <sources>...): one static library per top-level folder, built with
# nabla's warnings and optimization flags, exported as nabla::<name without the nabla_ prefix>.
function(nabla_add_library name)
  add_library(${name} ${ARGN})
  string(REPLACE "nabla_" "" short ${name})
  add_library(nabla::${short} ALIAS ${name})
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${short})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/nabla>)
  target_compile_features(${name} PUBLIC cxx_std_20)
  nabla_compile_options(${name})
endfunction()

# Warnings, -march=native, sanitizers and fuzzing instrumentation for any target nabla builds
# (libraries, tests, tools).
function(nabla_compile_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(NABLA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(NABLA_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  # GCC 12 (12.2, Debian 12's) miscompiles some constant vectors the SLP vectorizer forms in any
  # function built for AVX-512: {1, 1, 0, 0} becomes four 1s (tests/core/test_toolchain.cpp).
  # That is every function under -march=native on an AVX-512 CPU, and the AVX-512 kernels
  # anywhere; loop vectorization is unaffected and stays on.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
     AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -fno-tree-slp-vectorize)
  endif()
  if(NABLA_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
  if(NABLA_FUZZ)
    # Coverage for libFuzzer without its main (tests/fuzz links that); undefined behaviour stops
    # the run, so the fuzzer keeps the input.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined
                           -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()
