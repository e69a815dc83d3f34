/*
 * util.c — the small pieces of the protocol: error table, byte buffers, hex,
 * text addresses, amounts, domain-tagged hashing and signing, parameters and
 * the names of enums.
 */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol_internal.h"

/* --- Errors -------------------------------------------------------------- */

const char *node_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define NODE_ERROR_MESSAGE(name, value, message) \
    case value:                                  \
        return message;
        NODE_ERRORS(NODE_ERROR_MESSAGE)
#undef NODE_ERROR_MESSAGE
    default:
        return "unknown error";
    }
}

const char *node_errname(int code)
{
    switch (code) {
    case 0:
        return "OK";
#define NODE_ERROR_NAME(name, value, message) \
    case value:                               \
        return #name;
        NODE_ERRORS(NODE_ERROR_NAME)
#undef NODE_ERROR_NAME
    default:
        return "NODE_E_UNKNOWN";
    }
}

int node_fail(int rc, char *err, size_t err_len, const char *fmt, ...)
{
    if (err != NULL && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* --- Buffers ------------------------------------------------------------------ */

void node_buf_init(struct node_buf *b)
{
    memset(b, 0, sizeof *b);
}

void node_buf_free(struct node_buf *b)
{
    free(b->data);
    node_buf_init(b);
}

void node_buf_reset(struct node_buf *b)
{
    b->len = 0;
    b->failed = false;
}

int node_buf_append(struct node_buf *b, const void *bytes, size_t len)
{
    if (b->failed)
        return NODE_E_NOMEM;
    if (len > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return NODE_E_NOMEM;
    }
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len)
            cap *= 2;
        uint8_t *grown = realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = true;
            return NODE_E_NOMEM;
        }
        b->data = grown;
        b->cap = cap;
    }
    if (len > 0)
        memcpy(b->data + b->len, bytes, len);
    b->len += len;
    return 0;
}

/* --- Hex ------------------------------------------------------------------- */

void node_hex_encode(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int node_hex_decode(const char *hex, uint8_t *bytes, size_t len)
{
    if (strlen(hex) != 2 * len)
        return NODE_E_BAD_HEX;
    for (size_t i = 0; i < len; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return NODE_E_BAD_HEX;
        bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* --- Addresses ----------------------------------------------------------------- */

const uint8_t node_commons_key[NODE_KEY_BYTES] = {0};

#define ADDRESS_VERSION 0x00
#define ADDRESS_RAW_BYTES (1 + NODE_KEY_BYTES + 4)
static const char base32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/* CRC-32 (IEEE 802.3, reflected).  It detects every burst error of up to 32
 * bits, so any single changed base32 character (5 bits) and any swap of two
 * neighbouring characters (10 bits) is caught, not merely made unlikely. */
static uint32_t crc32_ieee(const uint8_t *bytes, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= bytes[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

void node_address_encode(const uint8_t key[static NODE_KEY_BYTES],
                         char out[static NODE_ADDRESS_TEXT_BYTES + 1])
{
    uint8_t raw[ADDRESS_RAW_BYTES];
    raw[0] = ADDRESS_VERSION;
    memcpy(raw + 1, key, NODE_KEY_BYTES);
    uint32_t crc = crc32_ieee(raw, 1 + NODE_KEY_BYTES);
    raw[33] = (uint8_t)(crc >> 24);
    raw[34] = (uint8_t)(crc >> 16);
    raw[35] = (uint8_t)(crc >> 8);
    raw[36] = (uint8_t)crc;
    out[0] = 'n';
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 1;
    for (size_t i = 0; i < sizeof raw; i++) {
        acc = (acc << 8) | raw[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = base32_alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = base32_alphabet[(acc << (5 - bits)) & 31];
    out[o] = '\0';
}

int node_address_decode(const char *text, uint8_t key[static NODE_KEY_BYTES])
{
    if (text == NULL || strlen(text) != NODE_ADDRESS_TEXT_BYTES || text[0] != 'n')
        return NODE_E_BAD_ADDRESS;
    uint8_t raw[ADDRESS_RAW_BYTES];
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 1; i < NODE_ADDRESS_TEXT_BYTES; i++) {
        const char *at = memchr(base32_alphabet, text[i], 32);
        if (at == NULL || text[i] == '\0')
            return NODE_E_BAD_ADDRESS;
        acc = (acc << 5) | (uint32_t)(at - base32_alphabet);
        bits += 5;
        if (bits >= 8) {
            raw[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    /* 60 characters carry 300 bits: 296 of data and 4 that must be zero. */
    if (o != sizeof raw || (acc & ((1u << bits) - 1)) != 0)
        return NODE_E_BAD_ADDRESS;
    if (raw[0] != ADDRESS_VERSION)
        return NODE_E_BAD_ADDRESS;
    uint32_t crc = crc32_ieee(raw, 1 + NODE_KEY_BYTES);
    uint32_t stored = (uint32_t)raw[33] << 24 | (uint32_t)raw[34] << 16 | (uint32_t)raw[35] << 8 | raw[36];
    if (crc != stored)
        return NODE_E_BAD_CHECKSUM;
    memcpy(key, raw + 1, NODE_KEY_BYTES);
    return 0;
}

/* --- Amounts ----------------------------------------------------------------- */

int node_amount_parse(const char *text, uint64_t *minor_units)
{
    if (text == NULL || *text == '\0')
        return NODE_E_BAD_AMOUNT;
    uint64_t whole = 0;
    const char *p = text;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (!node_mul_u64(whole, 10, &whole) || !node_add_u64(whole, (uint64_t)(*p - '0'), &whole))
            return NODE_E_AMOUNT_OVERFLOW;
    }
    if (digits == 0)
        return NODE_E_BAD_AMOUNT;
    uint64_t cents = 0;
    if (*p == '.') {
        p++;
        size_t decimals = 0;
        for (; *p >= '0' && *p <= '9'; p++, decimals++) {
            if (decimals == 2)
                return NODE_E_BAD_AMOUNT; /* more precision than a cent */
            cents = cents * 10 + (uint64_t)(*p - '0');
        }
        if (decimals == 0)
            return NODE_E_BAD_AMOUNT;
        if (decimals == 1)
            cents *= 10;
    }
    if (*p != '\0')
        return NODE_E_BAD_AMOUNT;
    uint64_t total;
    if (!node_mul_u64(whole, 100, &total) || !node_add_u64(total, cents, &total))
        return NODE_E_AMOUNT_OVERFLOW;
    *minor_units = total;
    return 0;
}

void node_amount_format(uint64_t minor_units, char out[static NODE_AMOUNT_TEXT_BYTES_MAX])
{
    snprintf(out, NODE_AMOUNT_TEXT_BYTES_MAX, "%llu.%02u",
             (unsigned long long)(minor_units / 100), (unsigned)(minor_units % 100));
}

/* --- Hashing and signatures ---------------------------------------------------- */

static const char *const domain_tags[NODE_DOMAIN_COUNT] = {
    [NODE_DOMAIN_TX] = "nanum/tx/v1",
    [NODE_DOMAIN_SCP] = "nanum/scp/v1",
    [NODE_DOMAIN_HEADER] = "nanum/ledger-header/v1",
    [NODE_DOMAIN_HANDSHAKE] = "nanum/handshake/v1",
    [NODE_DOMAIN_VALIDATOR_LIST] = "nanum/validator-list/v1",
};

const char *node_domain_tag(enum node_domain domain)
{
    return (unsigned)domain < NODE_DOMAIN_COUNT ? domain_tags[domain] : NULL;
}

int node_crypto_init(void)
{
    return sodium_init() < 0 ? NODE_E_INVALID : 0;
}

void node_hash(const uint8_t *bytes, size_t len, uint8_t out[static NODE_HASH_BYTES])
{
    crypto_generichash(out, NODE_HASH_BYTES, bytes, len, NULL, 0);
}

/* The signed message: tag (with its NUL) || network id || bytes, built in
 * one buffer because Ed25519 signs a whole message.  Small messages (every
 * transaction) use the caller's stack buffer; larger ones are malloc'd.
 * Returns the message, or NULL; *heap says whether to free it. */
#define DOMAIN_STACK_BYTES 2048
static uint8_t *domain_message(enum node_domain domain, const uint8_t network_id[NODE_HASH_BYTES],
                               const uint8_t *bytes, size_t len, uint8_t stack[DOMAIN_STACK_BYTES],
                               size_t *out_len, bool *heap)
{
    const char *tag = node_domain_tag(domain);
    if (tag == NULL)
        return NULL;
    size_t tag_len = strlen(tag) + 1;
    size_t total = tag_len + NODE_HASH_BYTES + len;
    *heap = total > DOMAIN_STACK_BYTES;
    uint8_t *msg = *heap ? malloc(total) : stack;
    if (msg == NULL)
        return NULL;
    memcpy(msg, tag, tag_len);
    memcpy(msg + tag_len, network_id, NODE_HASH_BYTES);
    if (len > 0)
        memcpy(msg + tag_len + NODE_HASH_BYTES, bytes, len);
    *out_len = total;
    return msg;
}

void node_hash_domain(enum node_domain domain, const uint8_t network_id[static NODE_HASH_BYTES],
                      const uint8_t *bytes, size_t len, uint8_t out[static NODE_HASH_BYTES])
{
    const char *tag = node_domain_tag(domain);
    if (tag == NULL)
        tag = ""; /* not a domain: hash under the empty tag, never crash */
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, NODE_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)tag, strlen(tag) + 1);
    crypto_generichash_update(&st, network_id, NODE_HASH_BYTES);
    crypto_generichash_update(&st, bytes, len);
    crypto_generichash_final(&st, out, NODE_HASH_BYTES);
}

int node_sign(enum node_domain domain, const uint8_t network_id[static NODE_HASH_BYTES],
              const uint8_t *bytes, size_t len,
              const uint8_t secret_key[static NODE_SECRET_KEY_BYTES],
              uint8_t signature[static NODE_SIGNATURE_BYTES])
{
    size_t msg_len;
    uint8_t stack[DOMAIN_STACK_BYTES];
    bool heap;
    uint8_t *msg = domain_message(domain, network_id, bytes, len, stack, &msg_len, &heap);
    if (msg == NULL)
        return NODE_E_NOMEM;
    crypto_sign_detached(signature, NULL, msg, msg_len, secret_key);
    if (heap)
        free(msg);
    return 0;
}

int node_verify(enum node_domain domain, const uint8_t network_id[static NODE_HASH_BYTES],
                const uint8_t *bytes, size_t len,
                const uint8_t public_key[static NODE_KEY_BYTES],
                const uint8_t signature[static NODE_SIGNATURE_BYTES])
{
    size_t msg_len;
    uint8_t stack[DOMAIN_STACK_BYTES];
    bool heap;
    uint8_t *msg = domain_message(domain, network_id, bytes, len, stack, &msg_len, &heap);
    if (msg == NULL)
        return NODE_E_NOMEM;
    int ok = crypto_sign_verify_detached(signature, msg, msg_len, public_key);
    if (heap)
        free(msg);
    return ok == 0 ? 0 : NODE_E_BAD_SIGNATURE;
}

/* --- Parameters -------------------------------------------------------------- */

static const struct {
    const char *name;
    uint64_t def, min, max;
} param_table[NODE_PARAM_COUNT] = {
#define NODE_PARAM_ROW(id, name, def, min, max) [id] = {#name, def, min, max},
    NODE_PARAMS(NODE_PARAM_ROW)
#undef NODE_PARAM_ROW
};

void node_params_default(struct node_params *params)
{
    for (unsigned i = 0; i < NODE_PARAM_COUNT; i++)
        params->values[i] = param_table[i].def;
}

const char *node_param_name(unsigned id)
{
    return id < NODE_PARAM_COUNT ? param_table[id].name : NULL;
}

int node_param_id(const char *name)
{
    for (unsigned i = 0; i < NODE_PARAM_COUNT; i++)
        if (strcmp(param_table[i].name, name) == 0)
            return (int)i;
    return -1;
}

bool node_param_valid(unsigned id, uint64_t value)
{
    return id < NODE_PARAM_COUNT && value >= param_table[id].min && value <= param_table[id].max;
}

/* --- Names ----------------------------------------------------------------- */

const char *node_tx_type_name(unsigned type)
{
    static const char *const names[] = {
        [NODE_TX_PAY] = "pay",
        [NODE_TX_RESOURCE_REGISTER] = "resource.register",
        [NODE_TX_RESOURCE_UPDATE] = "resource.update",
        [NODE_TX_BOOKING_CREATE] = "booking.create",
        [NODE_TX_BOOKING_CANCEL] = "booking.cancel",
        [NODE_TX_BOOKING_COMPLETE] = "booking.complete",
        [NODE_TX_BOOKING_RATE] = "booking.rate",
        [NODE_TX_GOV_PROPOSE] = "gov.propose",
        [NODE_TX_GOV_VOTE] = "gov.vote",
    };
    return type >= NODE_TX_TYPE_MIN && type <= NODE_TX_TYPE_MAX ? names[type] : NULL;
}

const char *node_resource_kind_name(unsigned kind)
{
    static const char *const names[] = {
        [NODE_RESOURCE_CAR] = "car",
        [NODE_RESOURCE_PARKING] = "parking",
        [NODE_RESOURCE_TOOL] = "tool",
        [NODE_RESOURCE_ROOM] = "room",
    };
    return kind >= NODE_RESOURCE_CAR && kind <= NODE_RESOURCE_ROOM ? names[kind] : NULL;
}

const char *node_proposal_kind_name(unsigned kind)
{
    static const char *const names[] = {
        [NODE_PROPOSAL_VALIDATOR_ADD] = "validator.add",
        [NODE_PROPOSAL_VALIDATOR_REMOVE] = "validator.remove",
        [NODE_PROPOSAL_ORG_ADMIT] = "org.admit",
        [NODE_PROPOSAL_MEMBER_ADMIT] = "member.admit",
        [NODE_PROPOSAL_MEMBER_REMOVE] = "member.remove",
        [NODE_PROPOSAL_PARAM_SET] = "param.set",
        [NODE_PROPOSAL_TREASURY_PAY] = "treasury.pay",
    };
    return kind >= 1 && kind <= NODE_PROPOSAL_KIND_MAX ? names[kind] : NULL;
}

const char *node_booking_status_name(unsigned status)
{
    static const char *const names[] = {
        [NODE_BOOKING_ACTIVE] = "active",
        [NODE_BOOKING_CANCELLED] = "cancelled",
        [NODE_BOOKING_COMPLETED] = "completed",
    };
    return status >= 1 && status <= NODE_BOOKING_COMPLETED ? names[status] : NULL;
}

const char *node_proposal_status_name(unsigned status)
{
    static const char *const names[] = {
        [NODE_PROPOSAL_OPEN] = "open",
        [NODE_PROPOSAL_PASSED] = "passed",
        [NODE_PROPOSAL_REJECTED] = "rejected",
        [NODE_PROPOSAL_ENACTED] = "enacted",
        [NODE_PROPOSAL_ENACT_FAILED] = "enact_failed",
    };
    return status >= 1 && status <= NODE_PROPOSAL_ENACT_FAILED ? names[status] : NULL;
}
