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

/* curl_global_init(CURL_GLOBAL_ALL): the flag is a macro expression Swift does not import. */
CURLcode tollgate_global_init(void);

/* Reads the multi handle's message queue up to the next CURLMSG_DONE; returns 1 and fills
   `easy` and `result` when one was found, 0 when the queue is empty. */
int tollgate_multi_next_done(CURLM *multi, CURL **easy, CURLcode *result);

/* Names the calling thread (at most 15 bytes are kept), for ps, top and gdb. */
void tollgate_set_current_thread_name(const char *name);

#endif
