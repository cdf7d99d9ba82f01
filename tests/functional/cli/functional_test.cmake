# cr16_functional_tests(AREA SCRIPT CLASS TESTS name...): one CTest entry per
# Python unittest method (SCRIPT.CLASS.test_<name>), labelled "functional",
# running the cr16-system binary of this build.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
# Host-side protocol timeouts stretch under sanitizers (CR16_TIMEOUT_SCALE):
# an unoptimised ASan build runs MMIO-heavy guest loops ~20x slower than
# the sc14441's real-time pace.
if(CR16_SANITIZE)
  set(cr16_timeout_scale 25)
else()
  set(cr16_timeout_scale 1)
endif()
function(cr16_functional_tests area script class)
  cmake_parse_arguments(FT "" "TIMEOUT" "TESTS" ${ARGN})
  if(NOT FT_TIMEOUT)
    set(FT_TIMEOUT 120)
  endif()
  foreach(name ${FT_TESTS})
    add_test(NAME functional.${area}.${name}
             COMMAND Python3::Interpreter -m unittest ${script}.${class}.test_${name}
             WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
    set_tests_properties(functional.${area}.${name} PROPERTIES
      LABELS functional TIMEOUT ${FT_TIMEOUT}
      ENVIRONMENT "CR16_SYSTEM=$<TARGET_FILE:cr16-system>;CR16_SOURCE_DIR=${PROJECT_SOURCE_DIR};PYTHONDONTWRITEBYTECODE=1;CR16_TIMEOUT_SCALE=${cr16_timeout_scale}")
  endforeach()
endfunction()
