# Checks every #include in nabla's library folders against the layer order of DESIGN.md.
# Usage: cmake -DROOT=<source tree> -P check_includes.cmake; names each offending file:line and
# fails if there is any.

cmake_minimum_required(VERSION 3.25)

# What each layer may include besides itself: an arrow only points down. hpo/nas is the one
# part of hpo that builds networks, trains them (DARTS steps optimizers) and times them (with
# quant's report); the root nabla.h gathers the whole public API.
set(allowed_core)
set(allowed_cuda core)
set(allowed_autograd core)
set(allowed_data core)
set(allowed_nn core autograd)
set(allowed_optim core autograd nn)
set(allowed_quant core autograd data nn optim)
set(allowed_hpo core)
set(allowed_hpo/nas core autograd nn optim quant hpo)
set(allowed_nabla.h core cuda autograd data nn optim quant hpo hpo/nas)

# The folders scanned, and every layer a quoted include can point into.
set(folders core cuda autograd data nn optim quant hpo)
set(layers ${folders} hpo/nas nabla.h)

# Private folders may include OpenBLAS or CUDA headers; public headers never do, and nothing
# outside cuda/ includes a CUDA header at all.
set(openblas_header "^(openblas/)?(cblas|f77blas|lapacke|openblas_config)\\.h$")
set(cuda_header "^(cuda|cublas|cudnn|curand|cusparse|cusolver|cufft|nccl|nvrtc|nvtx)[A-Za-z0-9_]*\\.(h|cuh)$|^(cuda|cub|thrust)/")

if(NOT IS_DIRECTORY "${ROOT}")
  message(FATAL_ERROR "check_includes: pass the source tree as -DROOT=<dir> (got '${ROOT}')")
endif()

# The layer a file belongs to, from its path relative to ROOT.
function(layer_of path out)
  if(path MATCHES "^hpo/nas/")
    set(${out} hpo/nas PARENT_SCOPE)
  elseif(path STREQUAL "nabla.h")
    set(${out} nabla.h PARENT_SCOPE)
  elseif(path MATCHES "^([^/]+)/")
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

set(patterns)
foreach(folder IN LISTS folders)
  foreach(ext h hpp cpp cu cuh)
    list(APPEND patterns ${ROOT}/${folder}/*.${ext})
  endforeach()
endforeach()
file(GLOB_RECURSE files RELATIVE ${ROOT} ${patterns})
if(EXISTS ${ROOT}/nabla.h)
  list(APPEND files nabla.h)
endif()

set(violations 0)
foreach(file IN LISTS files)
  layer_of(${file} layer)
  get_filename_component(dir ${file} DIRECTORY)
  set(public_header FALSE)
  if(file MATCHES "\\.(h|hpp)$" AND NOT file MATCHES "^(core/cpu|cuda)/")
    set(public_header TRUE)
  endif()

  # One list element per line: characters that CMake lists treat specially cannot matter to an
  # #include line, so they are blanked first.
  file(READ ${ROOT}/${file} text)
  string(REGEX REPLACE "[][;\\\\]" " " text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(NOT line MATCHES "^[ \t]*#[ \t]*include[ \t]*([<\"])([^>\"]+)")
      continue()
    endif()
    set(header ${CMAKE_MATCH_2})
    set(problem "")
    if(CMAKE_MATCH_1 STREQUAL "<")
      if(header MATCHES "${cuda_header}" AND NOT layer STREQUAL "cuda")
        set(problem "includes the CUDA header <${header}> outside cuda/")
      elseif(header MATCHES "${openblas_header}" AND public_header)
        set(problem "public header includes the OpenBLAS header <${header}>")
      endif()
    else()
      # Quoted headers are nabla's own: from the root, or else beside the including file.
      set(target ${header})
      if(NOT EXISTS ${ROOT}/${header} AND EXISTS ${ROOT}/${dir}/${header})
        cmake_path(APPEND dir ${header} OUTPUT_VARIABLE target)
        cmake_path(NORMAL_PATH target)
      endif()
      layer_of(${target} target_layer)
      if(target_layer IN_LIST layers AND NOT target_layer STREQUAL layer
         AND NOT target_layer IN_LIST allowed_${layer})
        set(allowed ${layer} ${allowed_${layer}})
        list(JOIN allowed ", " allowed)
        string(CONCAT problem "${layer} may not include \"${header}\" (layer ${target_layer}); "
                              "it may include only ${allowed}")
      elseif(target MATCHES "^core/cpu/" AND NOT layer STREQUAL "core")
        set(problem "core/cpu/ is private to core, but ${layer} includes \"${header}\"")
      endif()
    endif()
    if(NOT problem STREQUAL "")
      message("${file}:${number}: ${problem}")
      math(EXPR violations "${violations} + 1")
    endif()
  endforeach()
endforeach()

list(LENGTH files checked)
if(violations GREATER 0)
  message(FATAL_ERROR "${violations} #include line(s) break the layering of DESIGN.md")
endif()
message("check_includes: ${checked} files, every #include points down")
