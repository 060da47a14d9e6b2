/* clients/search.c: being written (issue 4). */

