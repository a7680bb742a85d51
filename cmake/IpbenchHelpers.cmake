# Helpers shared by every module's CMakeLists.txt.

# The precompiled LibTorch header lives on one small object library; every other target reuses it,
# which requires identical compile flags (hence the common options below).
add_library(ipbench_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch.cpp)
target_link_libraries(ipbench_pch PUBLIC ${TORCH_LIBRARIES})
target_include_directories(ipbench_pch PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_options(ipbench_pch PRIVATE -Wall -Wextra -Wno-unused-parameter)
if(IPBENCH_PCH)
  target_precompile_headers(ipbench_pch PRIVATE <torch/torch.h>)
endif()

function(ipbench_common_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(IPBENCH_PCH)
    target_precompile_headers(${target} REUSE_FROM ipbench_pch)
  endif()
endfunction()

# Headers are included as "<module>/<file>.h": from the source tree, and from include/ipbench once
# installed. core/version.h carries the version for plugins; it must match project(VERSION).
include(GNUInstallDirs)
set(IPBENCH_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/ipbench)
set(IPBENCH_INCLUDE_DIRS $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}> $<INSTALL_INTERFACE:${IPBENCH_INSTALL_INCLUDEDIR}>)
file(STRINGS ${PROJECT_SOURCE_DIR}/core/version.h version_line REGEX "define IPBENCH_VERSION_STRING")
if(NOT version_line MATCHES "\"${PROJECT_VERSION}\"")
  message(FATAL_ERROR "core/version.h (${version_line}) does not match project(ipbench VERSION ${PROJECT_VERSION})")
endif()

# ipbench_add_library(<module> DEPS <targets...>)
# Creates static library ipbench_<module> (alias ipbench::<module>) from the module folder's *.cpp.
function(ipbench_add_library module)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  set(target ipbench_${module})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(NOT sources)  # a header-only module
    add_library(${target} INTERFACE)
    add_library(ipbench::${module} ALIAS ${target})
    target_include_directories(${target} INTERFACE ${IPBENCH_INCLUDE_DIRS})
    target_link_libraries(${target} INTERFACE ${ARG_DEPS} ${TORCH_LIBRARIES})
    ipbench_install_library(${module})
    return()
  endif()
  add_library(${target} STATIC ${sources})
  add_library(ipbench::${module} ALIAS ${target})
  target_include_directories(${target} PUBLIC ${IPBENCH_INCLUDE_DIRS})
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} ${TORCH_LIBRARIES})
  ipbench_common_options(${target})
  ipbench_install_library(${module})
endfunction()

# `cmake --install` puts every module library (exported as ipbench::<module>) and its headers under
# the prefix, for out-of-tree plugins (docs/adding-a-solver.md, cmake/ipbenchConfig.cmake.in).
function(ipbench_install_library module)
  set(target ipbench_${module})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${module})
  install(TARGETS ${target} EXPORT ipbenchTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/ DESTINATION ${IPBENCH_INSTALL_INCLUDEDIR}/${module}
          FILES_MATCHING PATTERN "*.h")
endfunction()

# ipbench_add_test(<name> SOURCES <files...> DEPS <targets...>): one Catch2 executable, discovered by ctest.
function(ipbench_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  ipbench_add_executable(${name} SOURCES ${ARG_SOURCES} DEPS ipbench_test_main ${ARG_DEPS})
  target_compile_definitions(${name}_obj PRIVATE IPBENCH_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data"
                                                 IPBENCH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  catch_discover_tests(${name} PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=1")
endfunction()

# ipbench_add_executable(<name> SOURCES <files...> DEPS <targets...>)
# Executable sources compile in an OBJECT library (-fPIC like the libraries) so that they can reuse
# the precompiled header, which GCC refuses to mix with the -fPIE of executables.
function(ipbench_add_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name}_obj OBJECT ${ARG_SOURCES})
  target_link_libraries(${name}_obj PUBLIC ${ARG_DEPS})
  ipbench_common_options(${name}_obj)
  add_executable(${name} $<TARGET_OBJECTS:${name}_obj>)
  target_link_libraries(${name} PRIVATE ${name}_obj)
endfunction()
