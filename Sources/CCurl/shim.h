#ifndef TOLLGATE_CCURL_H
#define TOLLGATE_CCURL_H
#include <curl/curl.h>
#endif
