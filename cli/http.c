/*
 * http.c — the wallet's one HTTP client: GET and POST of JSON to the node's
 * API (spec/api.md) over libcurl.  One easy handle per process, so polling
 * reuses the kept-alive connection.  Answers are bounded
 * (WALLET_RESPONSE_BYTES_MAX); curl's errors become WALLET_E_UNREACHABLE with
 * a sentence naming the URL.
 *
 * Read next: cli/txn.c, the main user of this file.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "wallet.h"

#define HTTP_CONNECT_TIMEOUT_MS 3000
#define HTTP_TIMEOUT_MS 30000

static CURL *http_handle;

struct http_body {
    char *data;
    size_t len;
    bool too_large;
};

/* curl write callback: appends, refusing more than the limit. */
static size_t http_collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_body *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n > WALLET_RESPONSE_BYTES_MAX) {
        b->too_large = true;
        return 0;
    }
    char *grown = realloc(b->data, b->len + n + 1);
    if (grown == NULL)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Runs one request: GET when post_body is NULL. */
static int http_request(struct wallet_ctx *ctx, const char *path, const char *post_body, long *status,
                        json_t **out)
{
    *out = NULL;
    if (http_handle == NULL) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        http_handle = curl_easy_init();
        if (http_handle == NULL)
            return wallet_fail(ctx, WALLET_E_NOMEM, "libcurl could not start");
    }
    char url[WALLET_PATH_BYTES_MAX];
    size_t base = strlen(ctx->node_url);
    while (base > 0 && ctx->node_url[base - 1] == '/')
        base--; /* "http://host:port/" and "http://host:port" are the same node */
    if ((size_t)snprintf(url, sizeof url, "%.*s%s", (int)base, ctx->node_url, path) >= sizeof url)
        return wallet_fail(ctx, WALLET_E_USAGE, "the node URL is too long");
    struct http_body body = {0};
    struct curl_slist *headers = NULL;
    CURL *h = http_handle;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)HTTP_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)HTTP_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (post_body != NULL) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post_body);
    }
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    if (cc != CURLE_OK) {
        free(body.data);
        if (body.too_large)
            return wallet_fail(ctx, WALLET_E_BAD_RESPONSE, "the node at %s sent an answer over %u bytes",
                               ctx->node_url, WALLET_RESPONSE_BYTES_MAX);
        return wallet_fail(ctx, WALLET_E_UNREACHABLE,
                           "cannot reach the node at %s (%s): is nanumd running there? "
                           "Choose another node with --node URL or NANUM_NODE",
                           ctx->node_url, curl_easy_strerror(cc));
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    json_error_t jerr;
    *out = body.data != NULL ? json_loadb(body.data, body.len, 0, &jerr) : NULL;
    free(body.data);
    if (*out == NULL || !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return wallet_fail(ctx, WALLET_E_BAD_RESPONSE,
                           "the server at %s answered %s with HTTP %ld but no API JSON: is it a nanum node?",
                           ctx->node_url, path, *status);
    }
    return 0;
}

int wallet_http_get(struct wallet_ctx *ctx, const char *path, long *status, json_t **out)
{
    return http_request(ctx, path, NULL, status, out);
}

int wallet_http_post_tx(struct wallet_ctx *ctx, const char *hex, long *status, json_t **out)
{
    json_t *req = json_pack("{s:s}", "tx", hex);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (text == NULL)
        return wallet_fail(ctx, WALLET_E_NOMEM, "out of memory");
    int rc = http_request(ctx, "/v1/tx", text, status, out);
    free(text);
    return rc;
}

/* A 200 or the API's error sentence. */
int wallet_get_ok(struct wallet_ctx *ctx, const char *path, json_t **out)
{
    long status = 0;
    int rc = wallet_http_get(ctx, path, &status, out);
    if (rc != 0)
        return rc;
    if (status == 200)
        return 0;
    json_t *err = json_object_get(*out, "error");
    const char *code = wallet_json_str(err, "code");
    const char *message = wallet_json_str(err, "message");
    rc = wallet_fail(ctx, status == 404 ? WALLET_E_NOT_FOUND : WALLET_E_BAD_RESPONSE, "%s (%s, HTTP %ld from %s)",
                     message ? message : "the node refused the request", code ? code : "?", status, path);
    json_decref(*out);
    *out = NULL;
    return rc;
}

void wallet_http_cleanup(void)
{
    if (http_handle != NULL) {
        curl_easy_cleanup(http_handle);
        http_handle = NULL;
        curl_global_cleanup();
    }
}
