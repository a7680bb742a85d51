# ctest plugin_example: installs ipbench into a temporary prefix, builds examples/plugin-solver out of
# tree against it with find_package(ipbench), and runs a benchmark with the plugin's solver beside dps
# through `ipbench run --plugin` (and through ipbench.run(plugins=[...]) when PYTHON is set).
# -D: BUILD_DIR, SOURCE_DIR, IPBENCH (the executable), Torch_DIR, PYTHON, PYTHONPATH.
set(work ${BUILD_DIR}/plugin-example-test)
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work})

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${work}/prefix)
run_step("configuring the example" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/plugin-solver -B ${work}/build
         -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${work}/prefix -DTorch_DIR=${Torch_DIR})
run_step("building the example" ${CMAKE_COMMAND} --build ${work}/build)
set(plugin ${work}/build/dps_normalized_plugin.so)
if(NOT EXISTS ${plugin})
  message(FATAL_ERROR "the example build made no ${plugin}")
endif()

file(WRITE ${work}/plugin.ini "[benchmark]
name = plugin
items = 1
samples_per_item = 2
operators = inpaint
solvers = dps, dps_normalized
designs = antithetic
metrics = l1, psnr
device = cpu
threads = 1
[dataset]
source = fashion-mnist:test
pad_to = 32
[prior]
type = gaussian
mean = 0
variance = 0.3
[operator.inpaint]
[solver.dps]
steps = 4
[solver.dps_normalized]
steps = 4
zeta = 1.0
")
run_step("ipbench run --plugin" ${IPBENCH} run --config ${work}/plugin.ini --plugin ${plugin} --out ${work}/run --quiet)
if(NOT step_output MATCHES "plugin dps-normalized-example \\([^)]*\\): dps_normalized")
  message(FATAL_ERROR "ipbench run did not report the plugin:\n${step_output}")
endif()
file(STRINGS ${work}/run/records.csv rows REGEX "^inpaint/dps_normalized/antithetic,.*,ok(,[0-9a-f]+)?$")
list(LENGTH rows n)
if(NOT n EQUAL 2)
  message(FATAL_ERROR "expected 2 ok records of dps_normalized, got ${n}:\n${step_output}")
endif()
message(STATUS "ipbench run --plugin: ${n} records of the plugin's solver")

if(PYTHON)
  set(ENV{PYTHONPATH} ${PYTHONPATH})
  run_step("ipbench.run(plugins=[...])" ${PYTHON} -c "import ipbench, sys
r = ipbench.run(sys.argv[1], out=sys.argv[2], plugins=[sys.argv[3]], quiet=True)
recs = ipbench.load_records(r.out, as_frame=False)
ok = [x for x in recs if x['solver'] == 'dps_normalized' and x['status'] == 'ok']
assert len(ok) == 2, recs
print('python plugin records', len(ok))" ${work}/plugin.ini ${work}/run-py ${plugin})
  message(STATUS "${step_output}")
endif()
file(REMOVE_RECURSE ${work})
