# Runs a program and checks its exit code and output; for the training program's ctests.
# Usage: cmake -DPROGRAM=<prog> -DARGS="arg|arg|..." -DEXIT_CODE=<n> [-DMATCH=<regex>]
#          [-DMIN_ACCURACY=<pct>] -P run_and_check.cmake
# MIN_ACCURACY reads the final line `test accuracy: NN.NN%` and requires at least that much.

cmake_minimum_required(VERSION 3.25)

string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${args} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT code STREQUAL "${EXIT_CODE}")
  message(FATAL_ERROR "exit code ${code}, expected ${EXIT_CODE}")
endif()
if(DEFINED MATCH AND NOT "${out}${err}" MATCHES "${MATCH}")
  message(FATAL_ERROR "the output does not match '${MATCH}'")
endif()
if(DEFINED MIN_ACCURACY)
  if(NOT out MATCHES "test accuracy: ([0-9.]+)%")
    message(FATAL_ERROR "no 'test accuracy: NN.NN%' line")
  endif()
  if(CMAKE_MATCH_1 LESS MIN_ACCURACY)
    message(FATAL_ERROR "test accuracy ${CMAKE_MATCH_1}% is below ${MIN_ACCURACY}%")
  endif()
endif()
