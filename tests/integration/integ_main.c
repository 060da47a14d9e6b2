/*
 * integ_main: runs the CUnit integration suites. They need the environment
 * that tests/run.sh prepares (a throwaway PostgreSQL cluster, certificates,
 * the vacancyd binary); see tests/integration/harness.h.
 */
#include <CUnit/Basic.h>
#include <stdio.h>

void test_db_register(void);
void test_http_register(void);
void test_daemon_register(void);
void test_sync_register(void);
void test_overview_register(void);

int
main(void)
{
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	test_db_register();
	test_http_register();
	test_daemon_register();
	test_sync_register();
	test_overview_register();
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	/* a suite whose set-up failed ran none of its tests: each counts as failed */
	failures = CU_get_number_of_failure_records() + CU_get_number_of_suites_failed();
	/* the line tests/run.sh adds up */
	printf("integration: %u passed, %u failed\n",
	       CU_get_number_of_tests_run() - CU_get_number_of_tests_failed(),
	       CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed());
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
