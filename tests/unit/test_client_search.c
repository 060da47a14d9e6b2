/* test_client_search: being written (issue 4). */
void test_client_search_register(void);

void
test_client_search_register(void)
{
}
