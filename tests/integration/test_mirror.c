/* test_mirror: being written (issue 4). */
void test_mirror_register(void);

void
test_mirror_register(void)
{
}
