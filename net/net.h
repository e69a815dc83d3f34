/*
 * net.h — nanum's overlay network: authenticated, encrypted gossip between
 * peers over libuv TCP.
 *
 * The library moves typed, opaque payloads between peers that proved their
 * Ed25519 node keys in a three-message handshake.  It knows nothing of
 * ledgers or sharing: the caller registers payload types (small integers,
 * each with its own size limit and a flag saying whether it is flooded) and
 * receives every delivered payload through a callback.  What it promises:
 *
 *   - Handshake (DESIGN.md §6, spec/network.md): the first message carries an
 *     ephemeral X25519 key and a MAC keyed by the network id, so a peer of
 *     another network is dropped before it learns anything; both identities
 *     travel encrypted and are bound to the fresh ephemeral keys by Ed25519
 *     signatures over the transcript; session keys come from crypto_kx.
 *     Another network, a bad signature, a low-order key, a replayed first
 *     message, a truncated or slow handshake: the connection is dropped and
 *     the node keeps serving everyone else.
 *   - Frames: 4-byte big-endian length (bounded), then one
 *     crypto_secretstream_xchacha20poly1305 message per frame (one stream
 *     per direction) holding [type byte, payload].
 *   - Flooding: net_broadcast() sends a payload to every peer; a flooded type
 *     is relayed to every peer that has not sent it to us, and delivered to
 *     the application once (seen-set of BLAKE2b-256(type || payload),
 *     bounded by limits.seen_max).
 *   - Flow control: a peer is never sent more application frames (messages
 *     and bytes) than it granted; per-peer outbound queues are bounded, and a
 *     peer whose queue overflows is dropped — it never stalls the others.
 *   - Misbehaviour (malformed frame, over-limit payload, frame beyond
 *     credit, protocol violation) drops the peer and bans its key for
 *     limits.ban_ms.
 *
 * Threads and loops: a net handle lives on the caller's uv_loop_t and is used
 * from the loop's thread only.  It owns its handles; net_destroy() closes
 * them and the memory is freed by their close callbacks, so after
 * net_destroy() one more uv_run() finishes the job and uv_loop_close()
 * succeeds.  Time is uv_now(); randomness is libsodium's.
 *
 * Errors are negative NET_E_* codes (0 is success); net_strerror() and
 * net_errname() describe them.  The library never logs or exits.
 *
 * Read next: spec/network.md (bytes on the wire), net/net_internal.h (how the
 * files fit together), net/node.c.
 */
#ifndef NANUM_NET_H
#define NANUM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* X(name, value, message) — one table yields codes, names and messages. */
#define NET_ERRORS(X)                                                          \
    X(NET_E_INVALID, -1, "invalid argument")                                  \
    X(NET_E_NOMEM, -2, "out of memory")                                       \
    X(NET_E_UV, -3, "a libuv call failed")                                    \
    X(NET_E_SODIUM, -4, "libsodium could not be initialised")                 \
    X(NET_E_ADDRESS, -5, "address is not a numeric IPv4/IPv6 address")       \
    X(NET_E_LIMIT, -6, "a configured limit is reached")                       \
    X(NET_E_NO_PEER, -7, "no such peer")                                      \
    X(NET_E_TYPE, -8, "message type is reserved or not registered")           \
    X(NET_E_TOO_BIG, -9, "payload is larger than its type allows")            \
    X(NET_E_PEER_SLOW, -10, "peer's outbound queue overflowed: peer dropped") \
    X(NET_E_NETWORK, -11, "peer belongs to another network")                  \
    X(NET_E_AUTH, -12, "handshake authentication failed")                     \
    X(NET_E_LOW_ORDER, -13, "peer sent a low-order key")                      \
    X(NET_E_REPLAY, -14, "replayed handshake message")                        \
    X(NET_E_TIMEOUT, -15, "peer took too long")                               \
    X(NET_E_FRAME, -16, "malformed or oversized frame")                       \
    X(NET_E_PROTOCOL, -17, "protocol violation")                              \
    X(NET_E_CREDIT, -18, "peer sent more than it was granted")                \
    X(NET_E_BANNED, -19, "peer is banned")                                    \
    X(NET_E_SELF, -20, "connected to ourselves")                              \
    X(NET_E_DUPLICATE, -21, "another connection to this peer is kept")        \
    X(NET_E_CLOSED, -22, "connection closed by the peer")                     \
    X(NET_E_LOCAL_CLOSE, -23, "connection closed by this node")               \
    X(NET_E_SHUTDOWN, -24, "node is shutting down")                           \
    X(NET_E_IO, -25, "socket error")

enum net_error {
#define NET_ERROR_ENUM(name, value, message) name = value,
    NET_ERRORS(NET_ERROR_ENUM)
#undef NET_ERROR_ENUM
};

/* Returns a sentence describing code (never NULL). */
const char *net_strerror(int code);
/* Returns the code's name, e.g. "NET_E_AUTH" (never NULL). */
const char *net_errname(int code);

/* Sizes fixed by the protocol (spec/network.md). */
#define NET_PUBLIC_KEY_BYTES 32
#define NET_SECRET_KEY_BYTES 64
#define NET_NETWORK_ID_BYTES 32
#define NET_MESSAGE_ID_BYTES 32
/* Types below this are the library's own control frames (ping, pong,
 * credit, peers, close); callers register types in [16, 255]. */
#define NET_TYPE_USER_MIN 16
/* Plaintext bytes of one frame's payload can never exceed this, whatever
 * the registered limits say (the 4-byte length field's bound). */
#define NET_PAYLOAD_BYTES_MAX (16u << 20)
/* "255.255.255.255:65535" or "[v6]:port", NUL-terminated. */
#define NET_ADDRESS_TEXT_MAX 64

/* Every bound the library keeps.  net_limits_default() fills sane values;
 * tests shrink them.  Zero is invalid for every field except
 * outbound_peers_target. */
typedef struct net_limits {
    uint32_t inbound_peers_max;     /* accepted connections, incl. handshaking */
    uint32_t outbound_peers_max;    /* dialed connections, incl. handshaking */
    uint32_t outbound_peers_target; /* learned addresses are dialed while fewer
                                       outbound peers than this are up */
    uint32_t address_book_max;      /* configured + learned addresses */
    uint32_t queue_messages_max;    /* per peer: messages waiting to be sent */
    uint64_t queue_bytes_max;       /* per peer: their payload bytes */
    uint32_t credit_messages;       /* window we grant each peer: messages */
    uint32_t credit_bytes;          /* ... and payload bytes */
    uint32_t seen_max;              /* flood seen-set entries */
    uint32_t replay_max;            /* remembered first-message keys */
    uint32_t handshake_timeout_ms;  /* connect + three messages */
    uint32_t ping_interval_ms;      /* a ping when a peer was quiet this long */
    uint32_t idle_timeout_ms;       /* drop a peer silent this long */
    uint32_t backoff_base_ms;       /* first reconnect delay */
    uint32_t backoff_max_ms;        /* reconnect delay cap (before jitter) */
    uint32_t ban_ms;                /* ban for misbehaviour */
    uint32_t control_frames_per_second_max; /* pings, credits, peers... */
} net_limits;

/* Fills *limits with the defaults written in spec/network.md. */
void net_limits_default(net_limits *limits);

/* What the library tells about one connected peer.  Counters cover
 * application frames (types >= NET_TYPE_USER_MIN) unless said otherwise. */
typedef struct net_peer_info {
    uint64_t id;                    /* unique per connection, never 0 */
    uint8_t public_key[NET_PUBLIC_KEY_BYTES];
    char address[NET_ADDRESS_TEXT_MAX]; /* remote ip:port */
    bool outbound;                  /* we dialed it */
    uint64_t connected_ms;          /* uv_now() when it came up */
    uint64_t bytes_sent;            /* all bytes written to the socket */
    uint64_t bytes_received;        /* all bytes read from the socket */
    uint64_t messages_sent;         /* application frames written */
    uint64_t messages_received;     /* application frames read */
    uint32_t queue_messages;        /* waiting for credit or socket */
    uint64_t queue_bytes;           /* their payload bytes */
    int64_t rtt_ms;                 /* last ping round trip; -1 unknown */
} net_peer_info;

typedef struct net_node net_node;

/* Callbacks.  They run on the loop's thread, inside the library; they may
 * call every net_* function except net_destroy().  `peer` is valid only
 * during the call. */
typedef struct net_callbacks {
    void *user;
    /* A payload of a registered type arrived from `peer`.  Flooded types are
     * delivered once per message, whichever peer sent it first. */
    void (*on_message)(void *user, const net_peer_info *peer, uint8_t type,
                       const uint8_t *payload, size_t payload_len);
    /* The handshake with `peer` completed and it may be sent to. */
    void (*on_peer_up)(void *user, const net_peer_info *peer);
    /* A peer that was up is gone; reason is a NET_E_* code. */
    void (*on_peer_down)(void *user, const net_peer_info *peer, int reason);
    /* A connection closed before its handshake completed (rejected,
     * refused, timed out...).  Optional; for logs and tests. */
    void (*on_connection_failed)(void *user, const char *address,
                                 bool outbound, int reason);
} net_callbacks;

typedef struct net_config {
    uv_loop_t *loop;
    uint8_t network_id[NET_NETWORK_ID_BYTES];
    uint8_t public_key[NET_PUBLIC_KEY_BYTES]; /* Ed25519 node key */
    uint8_t secret_key[NET_SECRET_KEY_BYTES]; /* copied; wiped on destroy */
    const char *listen_host;        /* numeric address; NULL: do not listen */
    uint16_t listen_port;           /* 0: the system picks (net_listen_port) */
    net_limits limits;
    net_callbacks callbacks;
} net_config;

/* Node-wide counters since net_create(). */
typedef struct net_stats {
    uint64_t messages_delivered;    /* on_message calls */
    uint64_t messages_duplicate;    /* flooded frames already seen */
    uint64_t frames_sent;           /* application frames, all peers */
    uint64_t handshakes_completed;
    uint64_t handshakes_failed;
    uint64_t peers_banned;          /* bans for misbehaviour */
    uint64_t peers_dropped_slow;    /* queue overflows */
} net_stats;

/* Creates a node on config->loop and starts listening (if asked) and
 * dialing.  On success *out owns copies of everything in config.  On error
 * nothing is left on the loop... except handles already being closed,
 * which one uv_run() finishes. */
int net_create(const net_config *config, net_node **out);

/* Closes every connection and handle.  Callbacks never run again.  Memory
 * is freed by the close callbacks: run the loop once more (uv_run returns
 * on its own) before uv_loop_close().  NULL-safe.  Not from a callback. */
void net_destroy(net_node *net);

/* The port the node listens on (useful with listen_port 0); 0 if none. */
uint16_t net_listen_port(const net_node *net);

/* Adds a configured peer: the node dials it and redials it after every
 * drop, with exponential backoff and jitter.  host is numeric. */
int net_add_peer(net_node *net, const char *host, uint16_t port);

/* Registers payload type `type` (>= NET_TYPE_USER_MIN) with its largest
 * payload; flood says whether received messages of this type are relayed
 * and de-duplicated.  bytes_max must fit the credit window
 * (limits.credit_bytes), the queue (limits.queue_bytes_max) and
 * NET_PAYLOAD_BYTES_MAX.  Both ends must register the same types: a frame
 * of an unregistered type is a protocol violation.  Re-registering
 * updates. */
int net_register_type(net_node *net, uint8_t type, uint32_t bytes_max, bool flood);

/* Marks a registered type urgent (or not): its messages are sent before
 * queued messages of other types, so consensus statements do not wait
 * behind a flood of transactions.  They still take the peer's credit. */
int net_set_urgent(net_node *net, uint8_t type, bool urgent);

/* Sends a payload to every up peer.  For a flooded type the message enters
 * the seen-set, so it is not delivered back to us.  Returns the number of
 * peers it was queued for (>= 0) or a negative code. */
int net_broadcast(net_node *net, uint8_t type, const void *payload, size_t len);

/* Sends a payload to one peer.  NET_E_PEER_SLOW: its queue was full and
 * the peer has been dropped. */
int net_send(net_node *net, uint64_t peer_id, uint8_t type, const void *payload,
             size_t len);

/* Copies up to `capacity` peers that are up into out (may be NULL when
 * capacity is 0); *count_out gets how many are up. */
int net_peers(const net_node *net, net_peer_info *out, size_t capacity,
              size_t *count_out);

/* Closes the connection to a peer gracefully: a close frame, then
 * shutdown.  A configured address is redialed after backoff. */
int net_disconnect(net_node *net, uint64_t peer_id);

/* Bans a node key for duration_ms: its connections are dropped now and
 * refused until then.  Re-banning extends or shortens the ban. */
int net_ban(net_node *net, const uint8_t public_key[NET_PUBLIC_KEY_BYTES],
            uint64_t duration_ms);
/* Lifts a ban; NET_E_NO_PEER if the key was not banned. */
int net_unban(net_node *net, const uint8_t public_key[NET_PUBLIC_KEY_BYTES]);
/* True while the key is banned. */
bool net_is_banned(const net_node *net,
                   const uint8_t public_key[NET_PUBLIC_KEY_BYTES]);

/* Copies node-wide counters into *out. */
void net_get_stats(const net_node *net, net_stats *out);

/* The message identity of the seen-set: BLAKE2b-256(type || payload). */
void net_message_id(uint8_t type, const void *payload, size_t len,
                    uint8_t out[NET_MESSAGE_ID_BYTES]);

/* Test hook: stops (paused) or resumes reading from a peer's socket, as a
 * peer that stops reading would.  Not for production use. */
int net_debug_pause_reading(net_node *net, uint64_t peer_id, bool paused);

#endif
