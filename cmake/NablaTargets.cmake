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
