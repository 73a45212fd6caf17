#ifndef TOLLGATE_CHIREDIS_H
#define TOLLGATE_CHIREDIS_H
#include <hiredis/hiredis.h>
#endif
