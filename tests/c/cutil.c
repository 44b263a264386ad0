#include "cutil.h"

int cutil_run(const char *suite, const cutest *tests) {
  CU_pSuite s;
  int i, failed;
  if (CU_initialize_registry() != CUE_SUCCESS) return 1;
  s = CU_add_suite(suite, NULL, NULL);
  for (i = 0; tests[i].name; i++) CU_add_test(s, tests[i].name, tests[i].fn);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  failed = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
