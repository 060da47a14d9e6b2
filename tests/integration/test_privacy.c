/* test_privacy: being written (issue 4). */
void test_privacy_register(void);

void
test_privacy_register(void)
{
}
