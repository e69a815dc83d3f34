/*
 * protocol.h — nanum's protocol: the types every node and wallet agree on,
 * their canonical encoding, addresses, amounts, hashing and signatures, and
 * the genesis file.
 *
 * This is the part of node/ that the wallet links too (DESIGN §1): it does no
 * I/O beyond reading a genesis file and knows nothing of the daemon.  The
 * byte-level definitions are in spec/encoding.md and spec/transactions.md;
 * every limit here is listed in spec/limits.md.
 *
 * Errors are negative NODE_E_* codes, -301 to -399 (0 is success);
 * node_strerror() and node_errname() describe them.  Each nanum library has
 * its own range (spec/node.md §14), so a code passed up through the ledger
 * and the daemon keeps its meaning.  Functions never log or exit.
 *
 * Read next: node/protocol/codec.c (encoding), node/ledger/ledger.h (applying transactions).
 */
#ifndef NANUM_PROTOCOL_H
#define NANUM_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus.h" /* struct scp_qset: the quorum sets built here */

/* --- Errors --------------------------------------------------------------- */

#define NODE_ERRORS(X)                                                              \
    X(NODE_E_TRUNCATED, -301, "input ends in the middle of a value")                \
    X(NODE_E_TRAILING_BYTES, -302, "bytes left over after the value")               \
    X(NODE_E_WRONG_TYPE, -303, "a field has the wrong msgpack type")               \
    X(NODE_E_MAP_NOT_ALLOWED, -304, "a msgpack map where an array belongs")         \
    X(NODE_E_NON_MINIMAL, -305, "a length or integer is not in its shortest encoding") \
    X(NODE_E_FIELD_COUNT, -306, "an array has the wrong number of fields")          \
    X(NODE_E_TOO_LONG, -307, "a field is over its length limit")                    \
    X(NODE_E_BAD_UTF8, -308, "a text field is not valid UTF-8")                     \
    X(NODE_E_BAD_LENGTH, -309, "a fixed-size byte field has the wrong length")      \
    X(NODE_E_BAD_VALUE, -310, "a field's value is out of its allowed range")       \
    X(NODE_E_UNKNOWN_TYPE, -311, "unknown transaction or proposal type")           \
    X(NODE_E_VERSION, -312, "unsupported format version")                          \
    X(NODE_E_NOMEM, -314, "out of memory")                                         \
    X(NODE_E_BAD_ADDRESS, -315, "not a nanum address")                             \
    X(NODE_E_BAD_CHECKSUM, -316, "address checksum does not match (typo?)")        \
    X(NODE_E_BAD_AMOUNT, -317, "not an amount like 12.50")                         \
    X(NODE_E_AMOUNT_OVERFLOW, -318, "amount too large")                            \
    X(NODE_E_BAD_SIGNATURE, -319, "signature does not verify")                     \
    X(NODE_E_GENESIS, -320, "genesis file is invalid")                             \
    X(NODE_E_IO, -321, "cannot read or write a file")                              \
    X(NODE_E_INVALID, -323, "invalid argument")                                    \
    X(NODE_E_BAD_HEX, -324, "not valid hexadecimal")                               \
    X(NODE_E_TOO_MANY, -326, "more entries than allowed")                         \
    X(NODE_E_CERT_BAD_SIGNATURE, -327, "a validator's signature in the certificate does not verify") \
    X(NODE_E_CERT_NO_QUORUM, -328, "the certificate's signers are not a quorum of the validators in force")

enum node_error {
#define NODE_ERROR_ENUM(name, value, message) name = value,
    NODE_ERRORS(NODE_ERROR_ENUM)
#undef NODE_ERROR_ENUM
};

/* Returns a sentence describing code (never NULL). */
const char *node_strerror(int code);

/* Writes a printf-style sentence into err (if err is not NULL and err_len
 * is not 0) and returns rc: the one way node/ fills an error message. */
int node_fail(int rc, char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Returns the code's name, e.g. "NODE_E_TRUNCATED" (never NULL). */
const char *node_errname(int code);

/* --- Sizes and limits (spec/limits.md) ------------------------------------ */

#define NODE_KEY_BYTES 32
#define NODE_SECRET_KEY_BYTES 64
#define NODE_SIGNATURE_BYTES 64
#define NODE_HASH_BYTES 32

#define NODE_TX_VERSION 1
#define NODE_RECORD_VERSION 1
#define NODE_HEADER_VERSION 1

#define NODE_MEMO_BYTES_MAX 64
#define NODE_TITLE_BYTES_MAX 64
#define NODE_NAME_BYTES_MAX 64
#define NODE_ADDRESS_HINT_BYTES_MAX 128
#define NODE_PROPOSAL_TITLE_BYTES_MAX 128
#define NODE_NETWORK_NAME_BYTES_MAX 64
#define NODE_TX_BYTES_MAX 1024          /* one encoded envelope */
#define NODE_VALIDATORS_MAX 1000        /* validator-set size */
#define NODE_GENESIS_ACCOUNTS_MAX 100000
#define NODE_GENESIS_BYTES_MAX (16u << 20)
#define NODE_RESOURCE_ACTIVE_BOOKINGS_MAX 256 /* active bookings per resource */
#define NODE_OPEN_PROPOSALS_MAX 256     /* open for voting at once */
#define NODE_RECORD_BYTES_MAX (256u << 10) /* any stored record: 1,000 validators fit */

/* Text forms. */
#define NODE_ADDRESS_TEXT_BYTES 61      /* 'n' + 60 base32 characters */
#define NODE_AMOUNT_TEXT_BYTES_MAX 24   /* "184467440737095516.15" + NUL */

/* --- Keys, hashes, addresses, amounts ------------------------------------- */

/* The commons fund's account: the all-zero key.  No key controls it; a
 * transaction naming it as source is refused (spec/transactions.md). */
extern const uint8_t node_commons_key[NODE_KEY_BYTES];

/*
 * Writes the text address of key into out (NODE_ADDRESS_TEXT_BYTES + 1 bytes
 * with the NUL): 'n' followed by lowercase base32 of
 * version(0x00) || key || CRC-32 of (version || key), big-endian.
 */
void node_address_encode(const uint8_t key[static NODE_KEY_BYTES],
                         char out[static NODE_ADDRESS_TEXT_BYTES + 1]);

/* Parses a text address.  NODE_E_BAD_ADDRESS for bad form, NODE_E_BAD_CHECKSUM
 * when the checksum fails (any one-character change is caught). */
int node_address_decode(const char *text, uint8_t key[static NODE_KEY_BYTES]);

/* Parses "12", "12.5" or "12.50" into minor units (1250).  Rejects signs,
 * spaces, more than two decimals, empty parts, and values over UINT64_MAX. */
int node_amount_parse(const char *text, uint64_t *minor_units);

/* Formats minor units as "12.50" into out (NODE_AMOUNT_TEXT_BYTES_MAX). */
void node_amount_format(uint64_t minor_units, char out[static NODE_AMOUNT_TEXT_BYTES_MAX]);

/* Lowercase hex of bytes into out (2*len + 1 bytes). */
void node_hex_encode(const uint8_t *bytes, size_t len, char *out);
/* Parses exactly 2*len hex digits (either case) into bytes. */
int node_hex_decode(const char *hex, uint8_t *bytes, size_t len);

/* Overflow-checked arithmetic: false (and *out unchanged) on overflow. */
static inline bool node_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a > UINT64_MAX - b)
        return false;
    *out = a + b;
    return true;
}
static inline bool node_sub_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b > a)
        return false;
    *out = a - b;
    return true;
}
static inline bool node_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return false;
    *out = a * b;
    return true;
}

/* --- Hashing and signatures ----------------------------------------------- */

/*
 * Every signature and every identifying hash covers
 *     domain tag || network id || canonical bytes
 * with a different tag per kind of message, so nothing signed for one purpose
 * or one network is valid for another.  Tags are ASCII, NUL-terminated on the
 * wire (the NUL is hashed: no tag is a prefix of another's bytes).
 */
enum node_domain {
    NODE_DOMAIN_TX = 0,       /* "nanum/tx/v1" */
    NODE_DOMAIN_SCP,          /* "nanum/scp/v1" */
    NODE_DOMAIN_HEADER,       /* "nanum/ledger-header/v1" */
    NODE_DOMAIN_HANDSHAKE,    /* "nanum/handshake/v1" */
    NODE_DOMAIN_VALIDATOR_LIST, /* "nanum/validator-list/v1" */
    NODE_DOMAIN_COUNT
};
const char *node_domain_tag(enum node_domain domain);

/* BLAKE2b-256 of bytes. */
void node_hash(const uint8_t *bytes, size_t len, uint8_t out[static NODE_HASH_BYTES]);

/* BLAKE2b-256 of tag || network_id || bytes: the id of a signed message. */
void node_hash_domain(enum node_domain domain, const uint8_t network_id[static NODE_HASH_BYTES],
                      const uint8_t *bytes, size_t len, uint8_t out[static NODE_HASH_BYTES]);

/* Ed25519 detached signature over tag || network_id || bytes. */
int node_sign(enum node_domain domain, const uint8_t network_id[static NODE_HASH_BYTES],
              const uint8_t *bytes, size_t len,
              const uint8_t secret_key[static NODE_SECRET_KEY_BYTES],
              uint8_t signature[static NODE_SIGNATURE_BYTES]);

/* 0 if signature is valid for public_key over tag || network_id || bytes,
 * NODE_E_BAD_SIGNATURE otherwise. */
int node_verify(enum node_domain domain, const uint8_t network_id[static NODE_HASH_BYTES],
                const uint8_t *bytes, size_t len,
                const uint8_t public_key[static NODE_KEY_BYTES],
                const uint8_t signature[static NODE_SIGNATURE_BYTES]);

/* Calls sodium_init() once; every entry point that needs libsodium calls it.
 * Returns 0, or NODE_E_INVALID if libsodium cannot start. */
int node_crypto_init(void);

/* --- Growable byte buffer (the output of every encoder) ------------------- */

struct node_buf {
    uint8_t *data; /* owned; malloc'd */
    size_t len;
    size_t cap;
    bool failed;   /* an append ran out of memory: the content is incomplete */
};
void node_buf_init(struct node_buf *b);
void node_buf_free(struct node_buf *b);
void node_buf_reset(struct node_buf *b);
int node_buf_append(struct node_buf *b, const void *bytes, size_t len);

/* --- Transactions ----------------------------------------------------------- */

enum node_tx_type {
    NODE_TX_PAY = 1,
    NODE_TX_RESOURCE_REGISTER = 2,
    NODE_TX_RESOURCE_UPDATE = 3,
    NODE_TX_BOOKING_CREATE = 4,
    NODE_TX_BOOKING_CANCEL = 5,
    NODE_TX_BOOKING_COMPLETE = 6,
    NODE_TX_BOOKING_RATE = 7,
    NODE_TX_GOV_PROPOSE = 8,
    NODE_TX_GOV_VOTE = 9,
};
#define NODE_TX_TYPE_MIN NODE_TX_PAY
#define NODE_TX_TYPE_MAX NODE_TX_GOV_VOTE

/* Returns the type's dotted name ("booking.create"), or NULL if unknown. */
const char *node_tx_type_name(unsigned type);

enum node_resource_kind {
    NODE_RESOURCE_CAR = 1,
    NODE_RESOURCE_PARKING = 2,
    NODE_RESOURCE_TOOL = 3,
    NODE_RESOURCE_ROOM = 4,
};
const char *node_resource_kind_name(unsigned kind);

enum node_proposal_kind {
    NODE_PROPOSAL_VALIDATOR_ADD = 1,
    NODE_PROPOSAL_VALIDATOR_REMOVE = 2,
    NODE_PROPOSAL_ORG_ADMIT = 3,
    NODE_PROPOSAL_MEMBER_ADMIT = 4,
    NODE_PROPOSAL_MEMBER_REMOVE = 5,
    NODE_PROPOSAL_PARAM_SET = 6,
    NODE_PROPOSAL_TREASURY_PAY = 7,
};
#define NODE_PROPOSAL_KIND_MAX NODE_PROPOSAL_TREASURY_PAY
const char *node_proposal_kind_name(unsigned kind);

/* Network parameters that governance can change (spec/transactions.md). */
#define NODE_PARAMS(X)                                                            \
    /* id, name, default, min, max */                                             \
    X(0, base_fee, 1, 0, 1000000)               /* minor units per transaction */ \
    X(1, min_balance, 100, 1, 100000000000ULL)  /* to create an account */        \
    X(2, coop_fee_bp, 500, 0, 5000)             /* basis points of a booking's price */ \
    X(3, complete_grace_s, 86400, 0, 2592000)   /* renter may complete after end + grace */ \
    X(4, vote_period_s, 604800, 60, 31536000)   /* voting window of a proposal */ \
    X(5, vote_quorum_pct, 50, 1, 100)           /* share of members who must vote */ \
    X(6, tx_per_ledger_max, 2000, 1, 100000)                                      \
    X(7, batch_window_ms, 50, 1, 60000)                                           \
    X(8, idle_close_ms, 5000, 100, 3600000)                                       \
    X(9, booking_duration_max_s, 2592000, 3600, 31536000)                         \
    X(10, booking_backdate_max_s, 900, 0, 86400)                                  \
    X(11, close_time_drift_max_s, 10, 1, 3600)                                    \
    X(12, quorum_threshold_bp, 6667, 1, 10000)  /* orgs needed at the top of the quorum set */ \
    X(13, nomination_timeout_ms, 100, 10, 60000) /* nomination round r lasts r × this */ \
    X(14, ballot_timeout_ms, 500, 50, 600000)    /* ballot counter c times out after c × this */

enum node_param_id {
#define NODE_PARAM_ENUM(id, name, def, min, max) NODE_PARAM_##name = id,
    NODE_PARAMS(NODE_PARAM_ENUM)
#undef NODE_PARAM_ENUM
    NODE_PARAM_COUNT
};
struct node_params {
    uint64_t values[NODE_PARAM_COUNT];
};
/* Fills params with the defaults. */
void node_params_default(struct node_params *params);
/* Returns the parameter's name or NULL; its id by name or -1. */
const char *node_param_name(unsigned id);
int node_param_id(const char *name);
/* true if value is within the parameter's allowed range. */
bool node_param_valid(unsigned id, uint64_t value);

struct node_tx_pay {
    uint8_t destination[NODE_KEY_BYTES];
    uint64_t amount;
};
struct node_tx_resource_register {
    uint8_t kind; /* enum node_resource_kind */
    char title[NODE_TITLE_BYTES_MAX + 1];
    uint64_t price_per_hour;
    uint64_t deposit;
    uint32_t min_completed;   /* renter's completed bookings, at least */
    uint16_t min_rating_x100; /* renter's average rating × 100, at least (0: none) */
};
struct node_tx_resource_update {
    uint64_t resource_id;
    uint64_t price_per_hour;
    uint64_t deposit;
    uint32_t min_completed;
    uint16_t min_rating_x100;
    bool active;
};
struct node_tx_booking_create {
    uint64_t resource_id;
    uint64_t start; /* unix seconds, inclusive */
    uint64_t end;   /* unix seconds, exclusive */
    uint64_t escrow_max; /* the most the renter agrees to put in escrow */
};
struct node_tx_booking_ref {
    uint64_t booking_id;
};
struct node_tx_booking_complete {
    uint64_t booking_id;
    uint64_t damage_claim; /* owner only; at most the deposit */
};
struct node_tx_booking_rate {
    uint64_t booking_id;
    uint8_t stars; /* 1..5 */
};
struct node_validator {
    uint8_t node_key[NODE_KEY_BYTES];
    uint8_t org[NODE_KEY_BYTES]; /* the org's account */
    char address[NODE_ADDRESS_HINT_BYTES_MAX + 1];
};
struct node_proposal_body {
    uint8_t kind; /* enum node_proposal_kind */
    char title[NODE_PROPOSAL_TITLE_BYTES_MAX + 1];
    union {
        struct node_validator validator_add;
        struct { uint8_t node_key[NODE_KEY_BYTES]; } validator_remove;
        struct { uint8_t account[NODE_KEY_BYTES]; char name[NODE_NAME_BYTES_MAX + 1]; } org_admit;
        struct { uint8_t account[NODE_KEY_BYTES]; } member; /* admit and remove */
        struct { uint16_t param_id; uint64_t value; } param_set;
        struct { uint8_t destination[NODE_KEY_BYTES]; uint64_t amount; } treasury_pay;
    } u;
};
struct node_tx_gov_vote {
    uint64_t proposal_id;
    bool yes;
};

struct node_tx {
    uint8_t version; /* NODE_TX_VERSION */
    uint8_t type;    /* enum node_tx_type */
    uint8_t source[NODE_KEY_BYTES];
    uint64_t seq;
    uint64_t fee;
    char memo[NODE_MEMO_BYTES_MAX + 1];
    union {
        struct node_tx_pay pay;
        struct node_tx_resource_register resource_register;
        struct node_tx_resource_update resource_update;
        struct node_tx_booking_create booking_create;
        struct node_tx_booking_ref booking_cancel;
        struct node_tx_booking_complete booking_complete;
        struct node_tx_booking_rate booking_rate;
        struct node_proposal_body gov_propose;
        struct node_tx_gov_vote gov_vote;
    } body;
};

struct node_tx_envelope {
    struct node_tx tx;
    uint8_t signature[NODE_SIGNATURE_BYTES];
};

/* Appends the canonical encoding of tx (the signed part) to out. */
int node_tx_encode(const struct node_tx *tx, struct node_buf *out);
/* Appends the canonical encoding of the envelope [tx, signature] to out. */
int node_envelope_encode(const struct node_tx_envelope *env, struct node_buf *out);
/* Strictly decodes an envelope (the whole input; NODE_TX_BYTES_MAX). */
int node_envelope_decode(const uint8_t *bytes, size_t len, struct node_tx_envelope *out);

/* The transaction's id: BLAKE2b-256 of "nanum/tx/v1" || network id || tx bytes. */
int node_tx_hash(const struct node_tx *tx, const uint8_t network_id[static NODE_HASH_BYTES],
                 uint8_t out[static NODE_HASH_BYTES]);
/* Signs tx into env (copying tx). */
int node_tx_sign(const struct node_tx *tx, const uint8_t network_id[static NODE_HASH_BYTES],
                 const uint8_t secret_key[static NODE_SECRET_KEY_BYTES],
                 struct node_tx_envelope *env);
/* 0 if env's signature is the source's over the tx on this network. */
int node_envelope_verify(const struct node_tx_envelope *env,
                         const uint8_t network_id[static NODE_HASH_BYTES]);

/*
 * Decodes envelope bytes and, from the same bytes, computes the transaction
 * id (id may be NULL) and, if verify, checks the signature — without
 * re-encoding: a strictly decoded envelope's tx part is its canonical
 * encoding.  0, a decode error, or NODE_E_BAD_SIGNATURE.
 */
int node_envelope_open(const uint8_t *bytes, size_t len, const uint8_t network_id[static NODE_HASH_BYTES],
                       bool verify, struct node_tx_envelope *env, uint8_t *id);

/* --- State records ---------------------------------------------------------- */

enum node_account_flag {
    NODE_ACCOUNT_MEMBER = 1u << 0,
    NODE_ACCOUNT_ORG = 1u << 1,
};
#define NODE_ACCOUNT_FLAGS_ALL (NODE_ACCOUNT_MEMBER | NODE_ACCOUNT_ORG)

struct node_account {
    uint8_t key[NODE_KEY_BYTES]; /* not encoded: it is the record's key */
    uint64_t balance;            /* spendable, minor units */
    uint64_t seq;                /* last sequence number used */
    uint32_t flags;              /* enum node_account_flag */
    uint64_t held;               /* in escrow for this account's bookings */
    uint32_t completed_as_renter;
    uint32_t completed_as_owner;
    uint64_t rating_sum;         /* stars received */
    uint32_t rating_count;
    char name[NODE_NAME_BYTES_MAX + 1]; /* orgs' names; may be empty */
};

struct node_resource {
    uint64_t id;
    uint8_t owner[NODE_KEY_BYTES];
    uint8_t kind;
    char title[NODE_TITLE_BYTES_MAX + 1];
    uint64_t price_per_hour;
    uint64_t deposit;
    uint32_t min_completed;
    uint16_t min_rating_x100;
    bool active;
    uint64_t created_height;
};

enum node_booking_status {
    NODE_BOOKING_ACTIVE = 1,
    NODE_BOOKING_CANCELLED = 2,
    NODE_BOOKING_COMPLETED = 3,
};
const char *node_booking_status_name(unsigned status);

struct node_booking {
    uint64_t id;
    uint64_t resource_id;
    uint8_t renter[NODE_KEY_BYTES];
    uint8_t owner[NODE_KEY_BYTES];
    uint64_t start, end;
    uint64_t price_total; /* price per hour × hours */
    uint64_t deposit;
    uint8_t status;       /* enum node_booking_status */
    uint64_t damage_claim;
    uint64_t coop_fee;    /* to the commons fund at completion */
    bool rated_by_renter;
    bool rated_by_owner;
    uint64_t created_height;
    uint64_t closed_height; /* cancelled or completed at; 0 while active */
};

enum node_proposal_status {
    NODE_PROPOSAL_OPEN = 1,
    NODE_PROPOSAL_PASSED = 2,    /* takes effect at effective_height */
    NODE_PROPOSAL_REJECTED = 3,
    NODE_PROPOSAL_ENACTED = 4,
    NODE_PROPOSAL_ENACT_FAILED = 5, /* passed, but could not take effect */
};
const char *node_proposal_status_name(unsigned status);

struct node_proposal {
    uint64_t id;
    uint8_t proposer[NODE_KEY_BYTES];
    struct node_proposal_body body;
    uint64_t created_height;
    uint64_t deadline;        /* close time when voting ends */
    uint32_t yes, no;
    uint8_t status;           /* enum node_proposal_status */
    uint64_t decided_height;
    uint64_t effective_height;
    uint16_t enact_result;    /* ledger result code of enactment (0: ok) */
};

/* Singletons of the ledger state (the 'globals' table). */
struct node_counters {
    uint64_t next_resource_id;
    uint64_t next_booking_id;
    uint64_t next_proposal_id;
    uint32_t member_count;
    uint32_t open_proposals;
};

struct node_validator_set {
    uint32_t count;
    struct node_validator *validators; /* owned; sorted by node_key */
};
void node_validator_set_free(struct node_validator_set *set);

int node_account_encode(const struct node_account *a, struct node_buf *out);
int node_account_decode(const uint8_t *bytes, size_t len, struct node_account *out);
int node_resource_encode(const struct node_resource *r, struct node_buf *out);
int node_resource_decode(const uint8_t *bytes, size_t len, struct node_resource *out);
int node_booking_encode(const struct node_booking *b, struct node_buf *out);
int node_booking_decode(const uint8_t *bytes, size_t len, struct node_booking *out);
int node_proposal_encode(const struct node_proposal *p, struct node_buf *out);
int node_proposal_decode(const uint8_t *bytes, size_t len, struct node_proposal *out);
int node_params_encode(const struct node_params *p, struct node_buf *out);
int node_params_decode(const uint8_t *bytes, size_t len, struct node_params *out);
int node_counters_encode(const struct node_counters *c, struct node_buf *out);
int node_counters_decode(const uint8_t *bytes, size_t len, struct node_counters *out);
int node_validator_set_encode(const struct node_validator_set *s, struct node_buf *out);
/* Decodes into out, allocating out->validators (free with node_validator_set_free). */
int node_validator_set_decode(const uint8_t *bytes, size_t len, struct node_validator_set *out);
/* A validator era: the validator set and quorum_threshold_bp parameter that
 * agree on ledgers from one change to the next (the ledger's
 * validator_history table, spec/storage.md): [version, threshold_bp,
 * [[node_key, org, address]...]]. */
struct node_validator_era {
    uint64_t threshold_bp;
    struct node_validator_set set; /* owned after decode */
};
int node_validator_era_encode(const struct node_validator_era *e, struct node_buf *out);
/* Decodes, allocating e->set.validators (free with node_validator_set_free). */
int node_validator_era_decode(const uint8_t *bytes, size_t len, struct node_validator_era *e);

/* BLAKE2b-256 of the set's canonical encoding. */
int node_validator_set_hash(const struct node_validator_set *s, uint8_t out[static NODE_HASH_BYTES]);

/* --- Ledger headers and blocks -------------------------------------------- */

struct node_header {
    uint32_t version; /* NODE_HEADER_VERSION */
    uint64_t height;
    uint8_t previous_hash[NODE_HASH_BYTES];
    uint64_t close_time_ms; /* unix milliseconds: ledgers close many times a second */
    uint8_t tx_set_hash[NODE_HASH_BYTES];   /* Merkle root of the envelopes */
    uint8_t results_hash[NODE_HASH_BYTES];
    uint8_t state_hash[NODE_HASH_BYTES];
    uint8_t validator_set_hash[NODE_HASH_BYTES];
};

int node_header_encode(const struct node_header *h, struct node_buf *out);
int node_header_decode(const uint8_t *bytes, size_t len, struct node_header *out);
/* BLAKE2b-256 of "nanum/ledger-header/v1" || network id || header bytes. */
int node_header_hash(const struct node_header *h, const uint8_t network_id[static NODE_HASH_BYTES],
                     uint8_t out[static NODE_HASH_BYTES]);

/* One transaction's outcome in a ledger. */
struct node_tx_result {
    uint16_t code;        /* enum ledger_result (node/ledger/ledger.h) */
    uint64_t fee_charged;
};

/*
 * A block as stored: [header, [envelope bytes...], [[code, fee]...]].
 * Envelopes are kept as their exact bytes (bin), so hashes and proofs are
 * computed over what was signed and sent.
 */
struct node_block {
    struct node_header header;
    uint32_t tx_count;
    uint8_t **tx_bytes;        /* owned: tx_count envelopes */
    size_t *tx_lens;
    struct node_tx_result *results; /* owned: tx_count results */
};
#define NODE_BLOCK_TXS_MAX 100000
int node_block_encode(const struct node_block *b, struct node_buf *out);
/* Decodes a block, allocating its arrays (free with node_block_free). */
int node_block_decode(const uint8_t *bytes, size_t len, struct node_block *out);
void node_block_free(struct node_block *b);

/* RFC 6962-style Merkle tree over the envelopes (spec/encoding.md). */
void node_merkle_leaf(const uint8_t *bytes, size_t len, uint8_t out[static NODE_HASH_BYTES]);
/* Root over leaf hashes (count may be 0).  Returns NODE_E_NOMEM on failure. */
int node_merkle_root(const uint8_t (*leaves)[NODE_HASH_BYTES], size_t count,
                     uint8_t out[static NODE_HASH_BYTES]);
/* Writes the audit path of leaf `index` (at most 64 hashes) and its length. */
int node_merkle_path(const uint8_t (*leaves)[NODE_HASH_BYTES], size_t count, size_t index,
                     uint8_t (*path)[NODE_HASH_BYTES], size_t *path_len);
/* true if leaf at index, with path, leads to root in a tree of count leaves. */
bool node_merkle_verify(const uint8_t leaf[static NODE_HASH_BYTES], size_t index, size_t count,
                        const uint8_t (*path)[NODE_HASH_BYTES], size_t path_len,
                        const uint8_t root[static NODE_HASH_BYTES]);
/* results_hash: BLAKE2b-256 of the canonical encoding of [[code, fee]...]. */
int node_results_hash(const struct node_tx_result *results, uint32_t count,
                      uint8_t out[static NODE_HASH_BYTES]);

/* --- Genesis ----------------------------------------------------------------- */

struct node_genesis_account {
    uint8_t key[NODE_KEY_BYTES];
    uint64_t balance;
    uint32_t flags;
    char name[NODE_NAME_BYTES_MAX + 1];
};

struct node_genesis {
    char network[NODE_NETWORK_NAME_BYTES_MAX + 1];
    uint64_t close_time;            /* the genesis ledger's close time */
    struct node_params params;
    uint32_t account_count;
    struct node_genesis_account *accounts; /* owned; sorted by key */
    struct node_validator_set validators;  /* owned */
    uint64_t commons_balance;              /* the commons fund at genesis */
    uint8_t network_id[NODE_HASH_BYTES];   /* computed */
};

/*
 * Reads and validates a genesis JSON document (spec/genesis.md).  On error,
 * returns NODE_E_GENESIS (or NODE_E_IO / NODE_E_NOMEM) and writes a sentence
 * naming the offending field into err (err_len bytes, may be NULL).
 * On success computes network_id over the canonical encoding.
 */
int node_genesis_parse(const char *json_text, size_t len, struct node_genesis *out,
                       char *err, size_t err_len);
int node_genesis_load(const char *path, struct node_genesis *out, char *err, size_t err_len);
/* The canonical encoding whose BLAKE2b-256 is the network id. */
int node_genesis_encode(const struct node_genesis *g, struct node_buf *out);
void node_genesis_free(struct node_genesis *g);

/* === Peer messages ========================================================= */

/*
 * the node's messages between peers (carried by net/ as typed
 * payloads) and the consensus value, with their strict codecs
 * (spec/node.md).
 *
 *   type  name         flooded  payload
 *   16    tx           yes      a transaction envelope (spec/encoding.md)
 *   17    scp          yes      an SCP envelope (spec/consensus.md)
 *   18    txset        yes      [envelope bin, ...]; identified by its Merkle root
 *   19    get_txset    no       bin32 Merkle root
 *   20    ledger_sig   yes      [height, header hash bin32, node key bin32, signature bin64]
 *   21    status       no       [height, header hash bin32]
 *   22    get_ledgers  no       [from height, count]
 *   23    ledgers      no       [[block bin, certificate bin], ...]
 *   24    get_scp      no       [slot, count]: ask for the latest envelopes of a slot
 *   25    txs          yes      [envelope bin, ...]: 2 to 64 transactions submitted
 *                               to one node in one turn of its loop
 *
 * The consensus value: [tx-set Merkle root bin32, close time ms, tx count,
 * upgrades []].
 * A certificate: [[node key bin32, signature bin64], ...] sorted by key.
 */
enum node_msg_type {
    NODE_MSG_TX = 16,
    NODE_MSG_SCP = 17,
    NODE_MSG_TXSET = 18,
    NODE_MSG_GET_TXSET = 19,
    NODE_MSG_LEDGER_SIG = 20,
    NODE_MSG_STATUS = 21,
    NODE_MSG_GET_LEDGERS = 22,
    NODE_MSG_LEDGERS = 23,
    NODE_MSG_GET_SCP = 24,
    NODE_MSG_TXS = 25,
};

#define NODE_TX_BATCH_MAX 64 /* transactions in one txs message */
#define NODE_TX_BATCH_BYTES_MAX (NODE_TX_BATCH_MAX * (NODE_TX_BYTES_MAX + 3) + 5)

#define NODE_TXSET_TXS_MAX 5000
#define NODE_TXSET_BYTES_MAX (NODE_TXSET_TXS_MAX * (NODE_TX_BYTES_MAX + 5) + 16)
#define NODE_LEDGERS_BATCH_MAX 32          /* ledgers per ledgers message */
#define NODE_LEDGERS_BYTES_MAX (6u << 20)   /* one ledgers message */
#define NODE_CERTIFICATE_SIGNERS_MAX NODE_VALIDATORS_MAX

struct node_value {
    uint8_t tx_set_hash[NODE_HASH_BYTES];
    uint64_t close_time_ms; /* unix milliseconds */
    uint32_t tx_count;      /* transactions in the set: lets every node combine
                               candidates alike, whether or not it holds the sets */
};
int node_value_encode(const struct node_value *v, struct node_buf *out);
int node_value_decode(const uint8_t *bytes, size_t len, struct node_value *out);

/* A transaction set: envelopes in apply order.  txs point into `owned`. */
struct node_txset {
    uint8_t hash[NODE_HASH_BYTES]; /* Merkle root of the envelopes */
    uint32_t count;
    const uint8_t **txs;
    size_t *lens;
    uint8_t *owned;                /* one block holding every envelope */
};
/* Builds a tx set copying txs; computes its hash. */
int node_txset_build(const uint8_t *const *txs, const size_t *lens, uint32_t count,
                     struct node_txset **out);
int node_txset_encode(const struct node_txset *s, struct node_buf *out);
int node_txset_decode(const uint8_t *bytes, size_t len, struct node_txset **out);
void node_txset_free(struct node_txset *s);

/* A txs message (spec/node.md §3.10): NODE_TX_BATCH_MIN to NODE_TX_BATCH_MAX
 * envelopes (not checked as envelopes here); txs point into the decoded
 * bytes. */
#define NODE_TX_BATCH_MIN 2
struct node_txs {
    uint32_t count;
    const uint8_t *txs[NODE_TX_BATCH_MAX];
    size_t lens[NODE_TX_BATCH_MAX];
};
int node_txs_encode(const struct node_txs *t, struct node_buf *out);
int node_txs_decode(const uint8_t *bytes, size_t len, struct node_txs *out);

struct node_ledger_sig {
    uint64_t height;
    uint8_t header_hash[NODE_HASH_BYTES];
    uint8_t node_key[NODE_KEY_BYTES];
    uint8_t signature[NODE_SIGNATURE_BYTES];
};
int node_ledger_sig_encode(const struct node_ledger_sig *s, struct node_buf *out);
int node_ledger_sig_decode(const uint8_t *bytes, size_t len, struct node_ledger_sig *out);

struct node_certificate {
    uint32_t count;
    struct {
        uint8_t node_key[NODE_KEY_BYTES];
        uint8_t signature[NODE_SIGNATURE_BYTES];
    } signers[NODE_CERTIFICATE_SIGNERS_MAX];
};
/* Adds or keeps one signer (sorted, no duplicates); false if already there. */
bool node_certificate_add(struct node_certificate *c, const uint8_t key[static NODE_KEY_BYTES],
                          const uint8_t sig[static NODE_SIGNATURE_BYTES]);
int node_certificate_encode(const struct node_certificate *c, struct node_buf *out);
int node_certificate_decode(const uint8_t *bytes, size_t len, struct node_certificate *out);

/* get_txset (type 19): the Merkle root of the set asked for, as bin32. */
int node_txset_request_encode(const uint8_t root[static NODE_HASH_BYTES], struct node_buf *out);
int node_txset_request_decode(const uint8_t *bytes, size_t len, uint8_t root[static NODE_HASH_BYTES]);

/* ledgers (type 23): up to NODE_LEDGERS_BATCH_MAX [block bin, certificate
 * bin] pairs, in height order.  Decoded entries point into the input; the
 * block and certificate bytes are decoded by their own codecs. */
struct node_ledgers {
    uint32_t count;
    struct {
        const uint8_t *block;
        size_t block_len;
        const uint8_t *certificate;
        size_t certificate_len;
    } entries[NODE_LEDGERS_BATCH_MAX];
};
int node_ledgers_encode(const struct node_ledgers *l, struct node_buf *out);
int node_ledgers_decode(const uint8_t *bytes, size_t len, struct node_ledgers *out);

/* A validator's own latest consensus statements, as stored (the
 * "consensus" table, key "own"; spec/storage.md): [slot, [envelope bin,
 * ...]], so a restarted validator never contradicts what it said.  Decoded
 * envelopes point into the input. */
#define NODE_OWN_STATEMENTS_MAX 4 /* a nomination and a ballot statement, with room */
struct node_own_statements {
    uint64_t slot;
    uint32_t count;
    const uint8_t *envelopes[NODE_OWN_STATEMENTS_MAX];
    size_t lens[NODE_OWN_STATEMENTS_MAX];
};
int node_own_statements_encode(const struct node_own_statements *s, struct node_buf *out);
int node_own_statements_decode(const uint8_t *bytes, size_t len, struct node_own_statements *out);

/* The signed body of the cooperative's validator list
 * (spec/validator-list.md): [publisher, sequence, valid_from_s, expires_s,
 * [[node_key, org, address]...]].  The signature over it
 * (NODE_DOMAIN_VALIDATOR_LIST) travels beside it in the JSON document. */
struct node_validator_list {
    uint8_t publisher[NODE_KEY_BYTES];
    uint64_t sequence;
    uint64_t valid_from_s; /* unix seconds */
    uint64_t expires_s;    /* unix seconds; valid while now < expires_s */
    uint32_t count;
    struct node_validator *validators; /* NODE_VALIDATORS_MAX at most; owned after decode */
};
int node_validator_list_encode(const struct node_validator_list *l, struct node_buf *out);
/* Decodes, allocating out->validators (free with node_validator_list_free). */
int node_validator_list_decode(const uint8_t *bytes, size_t len, struct node_validator_list *out);
void node_validator_list_free(struct node_validator_list *l);

struct node_status {
    uint64_t height;
    uint8_t header_hash[NODE_HASH_BYTES];
};
int node_status_encode(const struct node_status *s, struct node_buf *out);
int node_status_decode(const uint8_t *bytes, size_t len, struct node_status *out);

struct node_range {
    uint64_t from;
    uint64_t count;
};
int node_range_encode(const struct node_range *r, struct node_buf *out);
int node_range_decode(const uint8_t *bytes, size_t len, struct node_range *out);

/* === Quorum sets =========================================================== */

/*
 * the network's quorum sets, derived from the ledger's validator
 * set, and the check that they keep quorum intersection (DESIGN §5).
 *
 * Every validator uses the same quorum set: one inner set per org, needing a
 * simple majority of that org's validators; at the top, t of the n orgs with
 * t = ⌊n × quorum_threshold_bp / 10,000⌋ + 1 (at most n).  The default
 * 6,667 bp gives t = ⌊2n/3⌋ + 1 for every n up to the validator limit: any
 * two quorums then share an org's majority even with ⌊(n−1)/3⌋ orgs faulty.
 * A lower threshold, chosen by governance, may lose intersection; the
 * ledger refuses such a change (node/ledger/governance.c).
 */
/* Builds the quorum set of set with the threshold parameter into one heap
 * block (free with free()). */
int node_quorum_build(const struct node_validator_set *set, uint64_t threshold_bp, struct scp_qset **out);

/* true if every two quorums of the network intersect (false also when the
 * quorum set cannot be built).  Exact and linear: see node/protocol/quorum.c. */
bool node_quorum_intersects(const struct node_validator_set *set, uint64_t threshold_bp);

/* === The certificate check ================================================= */

/*
 * A ledger's certificate is valid (spec/node.md §7) when, against the
 * validator set and quorum threshold IN FORCE FOR ITS HEIGHT h — the set
 * and the quorum_threshold_bp parameter after ledger h − 1, i.e. genesis
 * plus every change enacted at heights up to h − 1; the validators that
 * agreed on h —
 *   1. every entry whose key is a validator of that set carries a good
 *      Ed25519 signature, domain NODE_DOMAIN_HEADER, over the header hash
 *      (one forged signature makes the whole certificate invalid: it is
 *      evidence of tampering, and an honest node stores only signatures it
 *      verified);
 *   2. entries of keys outside the set are ignored (they prove nothing);
 *   3. the validators that signed satisfy the quorum set built from that
 *      set and threshold (node_quorum_build).
 * Ledger 0, the genesis ledger, has no certificate: it is fixed by the
 * network id.
 *
 * Every user of certificates calls this one check: the herder, catch-up,
 * the API's certificate_quorum field and the wallet's --verify.
 */
struct node_certificate_report {
    uint32_t counted;   /* entries of validators in force, with good signatures */
    uint32_t ignored;   /* entries of keys outside the set in force */
    int64_t bad_index;  /* the entry whose signature failed, or -1 */
};

/*
 * Checks cert for the header with hash header_hash on network network_id
 * against the validator set `in_force` and its quorum threshold
 * `threshold_bp`.  Returns 0 (valid), NODE_E_CERT_BAD_SIGNATURE (report's
 * bad_index names the entry), NODE_E_CERT_NO_QUORUM, NODE_E_BAD_VALUE for
 * entries not in strictly ascending key order, or NODE_E_NOMEM.  report
 * may be NULL.
 */
int node_certificate_check(const uint8_t network_id[static NODE_HASH_BYTES],
                           const uint8_t header_hash[static NODE_HASH_BYTES],
                           const struct node_certificate *cert, const struct node_validator_set *in_force,
                           uint64_t threshold_bp, struct node_certificate_report *report);

/*
 * Step 3 alone, for a certificate whose every entry the caller has already
 * verified with node_certificate_signature_valid() (the herder gathers
 * signatures one by one and checks each once, on arrival): true when the
 * entries of validators in `in_force` satisfy its quorum set.
 */
bool node_certificate_has_quorum(const struct node_certificate *cert, const struct node_validator_set *in_force,
                                 uint64_t threshold_bp);

/* Step 1 for one signature: key is in `in_force` and signature is its
 * signature of header_hash on this network. */
bool node_certificate_signature_valid(const uint8_t network_id[static NODE_HASH_BYTES],
                                      const uint8_t header_hash[static NODE_HASH_BYTES],
                                      const struct node_validator_set *in_force,
                                      const uint8_t key[static NODE_KEY_BYTES],
                                      const uint8_t signature[static NODE_SIGNATURE_BYTES]);

/* True if key is a validator of set (sets are sorted by node key). */
bool node_validator_set_contains(const struct node_validator_set *set, const uint8_t key[static NODE_KEY_BYTES]);

#endif
