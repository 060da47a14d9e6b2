/*
 * integ_main: runs the CUnit integration suites. They need the environment
 * that tests/run.sh prepares (a throwaway PostgreSQL cluster, certificates,
 * the vacancyd binary); see tests/integration/harness.h.
 * VACANCY_TEST_SUITE=a,b runs only the suites named (for development).
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void test_db_register(void);
void test_http_register(void);
void test_daemon_register(void);
void test_sync_register(void);
void test_overview_register(void);
void test_search_register(void);
void test_search_random_register(void);
void test_privacy_register(void);
void test_clients_register(void);
void test_mirror_register(void);
void test_certs_register(void);

/* Deactivates every suite not named in the comma list only. */
static void
select_suites(const char *only)
{
	CU_pSuite s;
	char list[512];

	snprintf(list, sizeof(list), ",%s,", only);
	for (s = CU_get_registry()->pSuite; s != NULL; s = s->pNext) {
		char name[128];

		snprintf(name, sizeof(name), ",%s,", s->pName);
		if (strstr(list, name) == NULL)
			CU_set_suite_active(s, CU_FALSE);
	}
}

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
	test_search_register();
	test_search_random_register();
	test_privacy_register();
	test_clients_register();
	test_mirror_register();
	test_certs_register();
	if (getenv("VACANCY_TEST_SUITE") != NULL) {
		select_suites(getenv("VACANCY_TEST_SUITE"));
		CU_set_fail_on_inactive(CU_FALSE);
	}
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
