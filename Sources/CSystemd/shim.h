#ifndef TOLLGATE_CSYSTEMD_H
#define TOLLGATE_CSYSTEMD_H
#include <systemd/sd-daemon.h>
#endif
