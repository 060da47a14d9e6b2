/* clients/feed.c: being written (issue 4). */

