/*
 * daemon.h — internal: the running node `nanumd` and how its parts share it.
 *
 * One libuv loop, one thread (plus the signature-check workers of
 * node/ledger/verifier.c while a ledger is applied).  The parts:
 *
 *   node/daemon/daemon.c   start, stop, the loop, signals, the close tick
 *   node/daemon/herder.c   the consensus driver: slots, values, tx sets, applying
 *                   what was externalized, ledger signatures, certificates
 *   node/daemon/overlay.c  the peer messages (node/protocol/protocol.h) in and out of net/
 *   node/daemon/catchup.c  fetching and checking ledgers a node is missing
 *   node/daemon/api.c      the HTTP/JSON API
 *
 * Read next: node/daemon/herder.c.
 */
#ifndef NANUM_DAEMON_H
#define NANUM_DAEMON_H

#include <uv.h>

#include "ledger.h"
#include "consensus.h"
#include "metrics.h"
#include "net.h"
#include "validator_list.h"
#include "protocol.h"

#define NANUMD_PEERS_MAX 64
#define NANUMD_HOST_MAX 64
#define NANUMD_PATH_MAX 4096
#define NANUMD_TXSETS_MAX 64            /* tx sets kept for open slots */
#define NANUMD_PENDING_ENVELOPES_MAX 512 /* SCP envelopes waiting for a tx set */
#define NANUMD_PENDING_SIGS_MAX 4096    /* ledger signatures for heights not yet closed */
#define NANUMD_RECENT_HEADERS 128        /* header hashes kept to check signatures */
#define NANUMD_TICK_MS 10                /* how often the close conditions are checked */
#define NANUMD_CATCHUP_TIMEOUT_MS 5000   /* a ledgers request unanswered this long is retried */
#define NANUMD_REBROADCAST_MS 2000       /* own latest SCP statements re-sent this often */
#define NANUMD_ADMIN_TOKEN_BYTES_MAX 128 /* [api] admin_token (NODE_CONFIG_TOKEN_BYTES_MAX) */
#define NANUMD_PEER_HEIGHTS_MAX 128      /* peers whose claimed height is remembered */
#define NANUMD_TXSET_REQUEST_MS 1000     /* a missing tx set is asked for again after this */


/* What the daemon is told to be (from the config file, node/daemon/daemon.c). */
struct nanumd_options {
    bool validator;
    char data_dir[NANUMD_PATH_MAX];
    uint8_t node_pk[NODE_KEY_BYTES];
    uint8_t node_sk[NODE_SECRET_KEY_BYTES];
    char p2p_host[NANUMD_HOST_MAX];
    uint16_t p2p_port;
    uint32_t peer_count;
    struct {
        char host[NANUMD_HOST_MAX];
        uint16_t port;
    } peers[NANUMD_PEERS_MAX];
    uint32_t inbound_max, outbound_max;
    char api_host[NANUMD_HOST_MAX];
    uint16_t api_port;
    uint32_t api_connections_max;
    uint32_t api_body_bytes_max;
    uint32_t api_request_timeout_ms;
    bool sync;
    bool equivocate; /* test-only: a Byzantine validator */
    char api_admin_token[NANUMD_ADMIN_TOKEN_BYTES_MAX + 1]; /* "": admin endpoints off */
    struct nanumd_vlist_options vlist;                       /* node/daemon/validator_list.c */
};

struct nanumd_txset_entry {
    struct node_txset *set;
    bool valid;
    uint64_t checked_slot; /* the verdict holds for this slot only (0: none) */
    uint64_t added_ms;
};

struct nanumd_pending_envelope {
    struct scp_envelope envelope;
    uint64_t received_ms;
};

struct nanumd_stats {
    uint64_t ledgers_closed;
    uint64_t ledgers_caught_up;
    uint64_t txs_applied;
    uint64_t txs_failed;
    uint64_t txs_submitted;
    uint64_t txs_from_peers;   /* admitted from a peer's tx or txs message */
    uint64_t txs_expired;      /* dropped from the mempool after NODE_MEMPOOL_TX_TTL_MS */
    uint64_t tx_batches_sent;  /* txs messages flooded */
    uint64_t txs_batched;      /* transactions in them */
    uint64_t equivocations_seen;
    uint64_t hash_mismatches;
    uint64_t last_close_latency_ms;
    uint64_t slot_started_ms;
};

struct nanumd_recent_header {
    uint64_t height;
    uint8_t hash[NODE_HASH_BYTES];
    struct node_certificate *cert; /* signatures gathered so far (owned) */
};

struct nanumd {
    uv_loop_t *loop;
    struct nanumd_options options;
    struct node_genesis genesis;
    uint8_t network_id[NODE_HASH_BYTES];
    ledger_chain *chain;
    node_mempool *mempool;
    net_node *net;
    struct http_server *http;
    bool stopping;
    bool herder_started;            /* its handles exist and must be closed */

    /* consensus */
    struct scp *scp;
    struct scp_qset *qset;          /* built from the validator set (owned) */
    uint8_t qset_hash[NODE_HASH_BYTES];
    uint8_t validator_set_hash[NODE_HASH_BYTES];
    struct node_validator_set validators;
    uint64_t slot;                  /* the ledger height being agreed */
    uint64_t nomination_timeout_ms; /* parameters of the ledger in force */
    uint64_t ballot_timeout_ms;
    bool nominated;                 /* nominated for slot */
    uint64_t last_close_ms;         /* uv_now when the last ledger closed */
    uv_timer_t tick;
    uv_timer_t scp_timers[SCP_TIMERS_COUNT];
    uint64_t scp_timer_slot[SCP_TIMERS_COUNT];
    uv_timer_t work;                /* runs deferred work after scp callbacks */
    /* transactions admitted from the API this loop turn, flooded together
     * (one txs message) when the turn ends */
    uv_check_t tx_flush;
    bool tx_flush_started;
    struct node_txs tx_batch;       /* points into tx_batch_bytes */
    size_t tx_batch_used;
    uint8_t tx_batch_bytes[NODE_TX_BATCH_MAX * NODE_TX_BYTES_MAX];
    bool externalized_pending;
    uint64_t externalized_slot;
    struct scp_value externalized_value;
    uint64_t last_rebroadcast_ms;
    struct keymap txsets;           /* Merkle root → nanumd_txset_entry */
    struct keymap txset_requests;   /* Merkle root → uint64_t ms of the last get_txset */
    struct nanumd_pending_envelope *pending;
    uint32_t pending_count;
    /* equivocation watch: last nomination seen per validator for slot */
    uint64_t watch_slot;
    struct keymap watch;            /* node key → scp_nominate copy */

    /* certificates */
    struct nanumd_recent_header recent[NANUMD_RECENT_HEADERS];
    struct node_ledger_sig *pending_sigs;
    uint32_t pending_sig_count;

    /* catch-up */
    uint64_t best_peer_height;      /* the highest height a connected peer claims */
    uint64_t catchup_peer;          /* asked last; 0: none */
    uint32_t peer_height_count;
    struct {
        uint64_t peer;
        uint64_t height;
    } peer_heights[NANUMD_PEER_HEIGHTS_MAX];
    uint64_t catchup_requested_ms;  /* 0: no request in flight */
    uint64_t catchup_from;
    uint64_t catchup_started_ms, catchup_start_height;
    uint64_t catchup_last_log_ms;
    bool synced;

    struct nanumd_stats stats;
    struct nanumd_metrics metrics;           /* node/daemon/metrics.c */
    struct nanumd_vlist_fetcher *vlist;      /* node/daemon/validator_list.c; NULL when off */
};

/* node/daemon/daemon.c */
/* `nanumd --config FILE` (argv[0] is "--config"). */
int nanumd_run_main(int argc, char **argv);
int nanumd_start(struct nanumd *d, uv_loop_t *loop, const struct nanumd_options *options,
                 const struct node_genesis *genesis);
void nanumd_stop(struct nanumd *d);
/* The node's state for reads (API); cleared of cached reads after use. */
ledger_state *nanumd_state(struct nanumd *d);

/* node/daemon/herder.c */
int nanumd_herder_start(struct nanumd *d);
void nanumd_herder_stop(struct nanumd *d);
void nanumd_herder_tick(struct nanumd *d);
void nanumd_herder_receive_envelope(struct nanumd *d, const uint8_t *bytes, size_t len);
void nanumd_herder_receive_txset(struct nanumd *d, const uint8_t *bytes, size_t len);
void nanumd_herder_receive_ledger_sig(struct nanumd *d, const uint8_t *bytes, size_t len);
/* After a ledger was committed (by consensus or catch-up). */
void nanumd_herder_ledger_committed(struct nanumd *d, const struct node_header *header,
                                    const uint8_t hash[static NODE_HASH_BYTES],
                                    const uint8_t *const *txs, const size_t *lens, uint32_t count);
/* The tx set with this root, or NULL. */
const struct node_txset *nanumd_txset_find(struct nanumd *d, const uint8_t hash[static NODE_HASH_BYTES]);
/* True if this node already verified the signature of these envelope bytes
 * (they wait in its mempool, or the signature cache holds them): ctx is the
 * struct nanumd (the shape of ledger_chain_apply_block_known's predicate). */
bool nanumd_signature_known(void *ctx, const uint8_t *tx, size_t len);
/* Checks a certificate for ledger `hash` against the current validator set. */
bool nanumd_certificate_valid(struct nanumd *d, const uint8_t hash[static NODE_HASH_BYTES],
                              const struct node_certificate *cert);
/* Drops the signers of cert that are not validators or whose signature of
 * hash does not verify (what is stored holds only good signatures); true if
 * those left satisfy the quorum set (nanumd_certificate_valid, checking
 * each signature once). */
bool nanumd_certificate_keep_valid(struct nanumd *d, const uint8_t hash[static NODE_HASH_BYTES],
                                   struct node_certificate *cert);
/* Rebuilds the quorum set and consensus instance if the validator set changed. */
int nanumd_herder_refresh_validators(struct nanumd *d);

/* node/daemon/overlay.c */
int nanumd_overlay_start(struct nanumd *d);
void nanumd_overlay_broadcast(struct nanumd *d, enum node_msg_type type, const struct node_buf *payload);
void nanumd_overlay_send(struct nanumd *d, uint64_t peer, enum node_msg_type type,
                         const struct node_buf *payload);
/* Sends our status (height, hash) to one peer (0: every peer). */
void nanumd_overlay_send_status(struct nanumd *d, uint64_t peer);
/* Admits a transaction (from the API or a peer); floods it when new. */
int nanumd_submit_tx(struct nanumd *d, const uint8_t *bytes, size_t len, bool from_peer,
                     enum mempool_verdict *verdict, uint8_t id[NODE_HASH_BYTES]);

/* node/daemon/catchup.c */
void nanumd_catchup_on_status(struct nanumd *d, uint64_t peer, const uint8_t *bytes, size_t len);
void nanumd_catchup_on_get_ledgers(struct nanumd *d, uint64_t peer, const uint8_t *bytes, size_t len);
void nanumd_catchup_on_ledgers(struct nanumd *d, uint64_t peer, const uint8_t *bytes, size_t len);
void nanumd_catchup_tick(struct nanumd *d);
/* A peer went away: its claimed height no longer counts. */
void nanumd_catchup_forget_peer(struct nanumd *d, uint64_t peer);
/* Asks peers for ledgers after ours, if any peer is ahead. */
void nanumd_catchup_maybe_start(struct nanumd *d, uint64_t peer);
/* Loads the certificate stored for height (count 0 if none). */
int nanumd_certificate_load(struct nanumd *d, uint64_t height, struct node_certificate *out);
int nanumd_certificate_store(struct nanumd *d, uint64_t height, const struct node_certificate *cert);

/* node/daemon/api.c */
int nanumd_api_start(struct nanumd *d);
void nanumd_api_stop(struct nanumd *d);

#endif
