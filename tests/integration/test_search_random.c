/* test_search_random: being written (issue 4). */
void test_search_random_register(void);

void
test_search_random_register(void)
{
}
