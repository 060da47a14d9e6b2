/* explaincli: `vacancyd explain`, the SQL of a search as psql input. */
#ifndef VACANCY_EXPLAINCLI_H
#define VACANCY_EXPLAINCLI_H

#include "config.h"

int explaincli_main(const struct config *cfg, int argc, char **argv);

#endif
