/*
 * errors.c — the ledger's error table (node/ledger/ledger.h, "Errors"), and
 * the names of the codes it passes up from the protocol and the store.
 */
#include "ledger.h"
#include "storage.h"

const char *ledger_strerror(int code)
{
    switch (code) {
#define LEDGER_ERROR_MESSAGE(name, value, message) \
    case value:                                    \
        return message;
        LEDGER_ERRORS(LEDGER_ERROR_MESSAGE)
#undef LEDGER_ERROR_MESSAGE
    }
    if (code <= -1 && code >= -99)
        return store_strerror(code);
    return node_strerror(code);
}

const char *ledger_errname(int code)
{
    switch (code) {
#define LEDGER_ERROR_NAME(name, value, message) \
    case value:                                 \
        return #name;
        LEDGER_ERRORS(LEDGER_ERROR_NAME)
#undef LEDGER_ERROR_NAME
    }
    if (code <= -1 && code >= -99)
        return store_errname(code);
    return node_errname(code);
}
