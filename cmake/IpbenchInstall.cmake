# `cmake --install build --prefix P`: the ipbench executable, every module library (ipbench::<module>),
# their headers (P/include/ipbench) and P/lib/cmake/ipbench/ipbenchConfig.cmake, so that a solver
# plugin builds out of tree with find_package(ipbench) (examples/plugin-solver, docs/adding-a-solver.md).
include(CMakePackageConfigHelpers)
set(IPBENCH_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ipbench)
install(EXPORT ipbenchTargets NAMESPACE ipbench:: DESTINATION ${IPBENCH_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ipbenchConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/ipbenchConfig.cmake INSTALL_DESTINATION ${IPBENCH_CMAKE_DIR})
# A plugin must be built against this very version (the loader refuses any other), hence ExactVersion.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ipbenchConfigVersion.cmake COMPATIBILITY ExactVersion)
install(FILES ${PROJECT_BINARY_DIR}/ipbenchConfig.cmake ${PROJECT_BINARY_DIR}/ipbenchConfigVersion.cmake
        DESTINATION ${IPBENCH_CMAKE_DIR})
