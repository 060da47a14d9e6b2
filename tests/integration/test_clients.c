/* test_clients: being written (issue 4). */
void test_clients_register(void);

void
test_clients_register(void)
{
}
