# Installs a built nabla into a scratch prefix, then configures, builds and runs the consumer
# project against that prefix alone.
# Usage: cmake -DNABLA_BUILD=<build dir> -DCONSUMER=<consumer source> -DWORK=<scratch dir>
#              -DCXX=<compiler> -DBUILD_TYPE=<type> -P install_consumer.cmake
cmake_minimum_required(VERSION 3.25)

function(step)
  execute_process(COMMAND ${ARGN} COMMAND_ECHO STDOUT COMMAND_ERROR_IS_FATAL ANY)
endfunction()

file(REMOVE_RECURSE ${WORK})
step(${CMAKE_COMMAND} --install ${NABLA_BUILD} --prefix ${WORK}/prefix)
step(${CMAKE_COMMAND} -S ${CONSUMER} -B ${WORK}/build -DCMAKE_PREFIX_PATH=${WORK}/prefix
     -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
step(${CMAKE_COMMAND} --build ${WORK}/build)
step(${WORK}/build/consumer)
