/*
 * tokencli: `vacancyd token create|revoke|list`, run from the command line
 * (blocking libpq is fine here: there is no event loop).
 */
#ifndef VACANCY_TOKENCLI_H
#define VACANCY_TOKENCLI_H

#include "config.h"

/* argv starts after "token". Returns the process exit code. */
int tokencli_main(const struct config *cfg, int argc, char **argv);

#endif
