#ifndef TOLLGATE_CCURLSHIM_H
#define TOLLGATE_CCURLSHIM_H
#include <curl/curl.h>

/* Swift cannot call C variadic functions: these fixed-signature wrappers forward to
   curl_easy_setopt / curl_easy_getinfo / curl_multi_setopt with one typed argument each. */

typedef size_t (*tollgate_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*tollgate_curl_xfer_cb)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                     curl_off_t ultotal, curl_off_t ulnow);

CURLcode tollgate_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode tollgate_easy_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode tollgate_easy_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode tollgate_easy_setopt_data_cb(CURL *handle, CURLoption option, tollgate_curl_data_cb cb);
CURLcode tollgate_easy_setopt_xfer_cb(CURL *handle, tollgate_curl_xfer_cb cb);

CURLcode tollgate_easy_getinfo_long(CURL *handle, CURLINFO info, long *out);
CURLcode tollgate_easy_getinfo_double(CURL *handle, CURLINFO info, double *out);
CURLcode tollgate_easy_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *out);
CURLcode tollgate_easy_getinfo_ptr(CURL *handle, CURLINFO info, void **out);

CURLMcode tollgate_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

#endif
