/* tests/integration/gen_records.c: being written (issue 4). */

