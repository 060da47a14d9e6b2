/*
 * unit_main: runs every CUnit suite of the pure modules. Each test file
 * exports test_<module>_register(), which adds its suite to the registry.
 */
#include <CUnit/Basic.h>
#include <stdio.h>

void test_config_register(void);
void test_json_register(void);
void test_route_register(void);
void test_project_register(void);
void test_codec_register(void);
void test_pgmap_register(void);
void test_token_register(void);
void test_client_print_register(void);
void test_validate_register(void);
void test_csv_register(void);
void test_openimmo_register(void);
void test_report_register(void);
void test_searchq_register(void);
void test_client_search_register(void);
void test_rm_register(void);
void test_om_register(void);
void test_syncrow_register(void);
void test_certid_register(void);

int
main(void)
{
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	test_config_register();
	test_json_register();
	test_route_register();
	test_project_register();
	test_codec_register();
	test_pgmap_register();
	test_token_register();
	test_client_print_register();
	test_validate_register();
	test_csv_register();
	test_openimmo_register();
	test_report_register();
	test_searchq_register();
	test_client_search_register();
	test_rm_register();
	test_om_register();
	test_syncrow_register();
	test_certid_register();
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	/* a suite whose set-up failed ran none of its tests: each counts as failed */
	failures = CU_get_number_of_failure_records() + CU_get_number_of_suites_failed();
	/* the line tests/run.sh adds up */
	printf("unit: %u passed, %u failed\n",
	       CU_get_number_of_tests_run() - CU_get_number_of_tests_failed(),
	       CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed());
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
