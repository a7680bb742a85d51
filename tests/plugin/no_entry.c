/* A shared object that is not an ipbench plugin (no entry points): the loader must say so. */
__attribute__((visibility("default"))) int not_a_plugin(void) { return 42; }
