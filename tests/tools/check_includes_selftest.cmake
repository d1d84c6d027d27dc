# Runs the include checker on a fixture tree whose bad includes are known: the checker must fail
# and name exactly those places, and none of the allowed ones.
# Usage: cmake -DCHECKER=<check_includes.cmake> -DFIXTURE=<tree> -P check_includes_selftest.cmake
cmake_minimum_required(VERSION 3.25)

set(expected
  autograd/node.cpp:3   # a private core/cpu header outside core
  autograd/node.h:2     # <cblas.h> in a public header
  core/tensor.h:4       # core includes autograd
  data/dataset.h:3      # data includes its sibling nn
  hpo/sampler.h:2       # the samplers include hpo/nas
  nn/module.cpp:2)      # a CUDA header outside cuda/

execute_process(COMMAND ${CMAKE_COMMAND} -DROOT=${FIXTURE} -P ${CHECKER}
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
message("${output}")
if(result EQUAL 0)
  message(FATAL_ERROR "the checker passed a tree with upward includes")
endif()

string(REPLACE "\n" ";" lines "${output}")
set(reported)
foreach(line IN LISTS lines)
  if(line MATCHES "^([^ :]+:[0-9]+): ")
    list(APPEND reported ${CMAKE_MATCH_1})
  endif()
endforeach()
list(SORT reported)
if(NOT reported STREQUAL expected)
  message(FATAL_ERROR "expected violations at\n  ${expected}\nbut the checker reported\n  ${reported}")
endif()
