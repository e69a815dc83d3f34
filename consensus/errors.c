/*
 * errors.c — names and messages of consensus/ error codes, generated from
 * the one table SCP_ERRORS in consensus.h.  Read consensus.h first.
 */
#include "consensus.h"

/* Promises a constant name for every code in the table, "OK" for 0. */
const char *scp_errname(int code)
{
    switch (code) {
    case 0:
        return "OK";
#define SCP__ERROR_NAME(name, value, message) \
    case value:                              \
        return #name;
        SCP_ERRORS(SCP__ERROR_NAME)
#undef SCP__ERROR_NAME
    default:
        return "SCP_E_?";
    }
}

/* Promises a constant English message for every code, generic otherwise. */
const char *scp_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define SCP__ERROR_MESSAGE(name, value, message) \
    case value:                                 \
        return message;
        SCP_ERRORS(SCP__ERROR_MESSAGE)
#undef SCP__ERROR_MESSAGE
    default:
        return "unknown consensus error";
    }
}
