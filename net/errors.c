/*
 * errors.c — names and messages of the NET_E_* codes, from the one table in
 * net.h.
 *
 * Read next: net/node.c.
 */
#include "net.h"

/* Returns the sentence for code, or a generic one for unknown codes. */
const char *net_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define NET_ERROR_MESSAGE(name, value, message)                                \
    case value:                                                               \
        return message;
        NET_ERRORS(NET_ERROR_MESSAGE)
#undef NET_ERROR_MESSAGE
    default:
        return "unknown net error";
    }
}

/* Returns the code's name, "NET_OK" for 0, or "NET_E_UNKNOWN". */
const char *net_errname(int code)
{
    switch (code) {
    case 0:
        return "NET_OK";
#define NET_ERROR_NAME(name, value, message)                                   \
    case value:                                                               \
        return #name;
        NET_ERRORS(NET_ERROR_NAME)
#undef NET_ERROR_NAME
    default:
        return "NET_E_UNKNOWN";
    }
}
