/*
 * net_internal.h — how net/'s files fit together; not installed, not public.
 *
 * Layers, leaves first:
 *   buffer.c     net__buf: a growable byte buffer with a consumed prefix.
 *   seen.c       net__seen: a bounded set of 32-byte ids, oldest evicted
 *                first (flood seen-set, handshake replay cache).
 *   handshake.c  the three handshake messages, pure: bytes in, bytes out,
 *                keys and secretstream states at the end.  No I/O.
 *   frame.c      frame sealing/opening and control payload codecs, pure.
 *   conn.c       one TCP connection on libuv: reads, the per-connection
 *                output buffer, the handshake driver, frame dispatch,
 *                flow control, close.
 *   node.c       the public API: create/destroy, listening, the address
 *                book and dialing with backoff, bans, the tick timer, the
 *                flush (prepare) handle, broadcast and send.
 * Cross-file internals carry a double underscore (net__); statics none.
 *
 * Read next: net/handshake.c, then net/conn.c.
 */
#ifndef NANUM_NET_INTERNAL_H
#define NANUM_NET_INTERNAL_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

/* ---- limits fixed by the implementation (spec/network.md) ---- */
#define NET__READ_CHUNK_BYTES (256u << 10)  /* one read from the socket */
#define NET__OUT_BUFFER_BYTES_HIGH (256u << 10) /* stop moving queued
                                                 messages into the output
                                                 buffer above this */
#define NET__SEAL_DIRECT_BYTES_MAX (64u << 10) /* payloads up to this are
                                                 sealed from a node scratch
                                                 when they need not wait;
                                                 larger ones are queued */
#define NET__URGENT_QUEUE_MAX 256          /* urgent-type messages waiting per
                                              peer; beyond it they queue with
                                              the rest */
#define NET__PEERS_FRAME_ENTRIES_MAX 32    /* addresses in one peers frame */
#define NET__BANS_MAX 1024                 /* banned keys remembered */
#define NET__TICK_MS_MIN 5
#define NET__TICK_MS_MAX 1000
#define NET__BACKOFF_SHIFT_MAX 20          /* 2^20 * base before the cap */

/* ---- reserved control types ---- */
enum net__control_type {
    NET__TYPE_PING = 1,   /* 8-byte nonce */
    NET__TYPE_PONG = 2,   /* the ping's 8 bytes echoed */
    NET__TYPE_CREDIT = 3, /* u32 messages, u32 bytes granted in addition */
    NET__TYPE_PEERS = 4,  /* u16 own listen port, u8 n, n addresses */
    NET__TYPE_CLOSE = 5,  /* i32 reason (a NET_E_* code) */
};
#define NET__CONTROL_PAYLOAD_MAX                                              \
    (3u + NET__PEERS_FRAME_ENTRIES_MAX * 19u) /* the peers frame's bound */

/* ---- buffer.c ---- */
typedef struct net__buf {
    uint8_t *data;
    size_t start; /* bytes before this are consumed */
    size_t len;   /* bytes in use after start */
    size_t cap;
} net__buf;

/* Makes room for `extra` more bytes after the used ones; 0 or NET_E_NOMEM. */
int net__buf_reserve(net__buf *buf, size_t extra);
/* Appends bytes; 0 or NET_E_NOMEM. */
int net__buf_append(net__buf *buf, const void *bytes, size_t len);
/* The first unconsumed byte. */
static inline uint8_t *net__buf_head(const net__buf *buf)
{
    return buf->data + buf->start;
}
/* Drops the first n used bytes (n <= len). */
void net__buf_consume(net__buf *buf, size_t n);
/* Frees the memory (wiping it: it may hold plaintext). */
void net__buf_free(net__buf *buf);

/* ---- seen.c ---- */
typedef struct net__seen {
    uint8_t (*ids)[32];  /* ring of ids in insertion order */
    uint32_t *chain;     /* next index in the same bucket, or UINT32_MAX */
    uint32_t *buckets;   /* first index per bucket, or UINT32_MAX */
    uint32_t capacity;   /* ids kept; the oldest is evicted beyond it */
    uint32_t bucket_count;
    uint32_t count;
    uint32_t next;       /* ring slot the next insertion takes */
} net__seen;

/* Allocates a set for `capacity` ids; 0 or NET_E_NOMEM. */
int net__seen_init(net__seen *seen, uint32_t capacity);
void net__seen_free(net__seen *seen);
/* True if id is in the set. */
bool net__seen_contains(const net__seen *seen, const uint8_t id[32]);
/* Inserts id (evicting the oldest when full); returns false if it was
 * already there (nothing changes then). */
bool net__seen_insert(net__seen *seen, const uint8_t id[32]);

/* ---- handshake.c ---- */
#define NET__HS_TAG "nanum/handshake/v1"
#define NET__HS_MSG1_BYTES 64
#define NET__HS_SEALED_BYTES                                                  \
    (32 + 64 + crypto_secretstream_xchacha20poly1305_HEADERBYTES +            \
     crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define NET__HS_MSG2_BYTES (32 + NET__HS_SEALED_BYTES)
#define NET__HS_MSG3_BYTES NET__HS_SEALED_BYTES

typedef struct net__hs {
    bool dialer;
    uint8_t network_id[32];
    uint8_t own_public[32];
    uint8_t own_secret[64];
    uint8_t ephemeral_public[32];
    uint8_t ephemeral_secret[32];
    uint8_t msg1[NET__HS_MSG1_BYTES];  /* transcript: the dialer's hello */
    uint8_t listener_ephemeral[32];
    uint8_t listener_public[32];
    uint8_t box_key[32];               /* seals identities and signatures */
    uint8_t stream_key_tx[32];
    uint8_t stream_key_rx[32];
    uint8_t peer_public[32];           /* the authenticated peer key */
    crypto_secretstream_xchacha20poly1305_state tx;
    crypto_secretstream_xchacha20poly1305_state rx;
} net__hs;

/* Starts a handshake: fresh ephemeral key, copies of the identity.  The
 * signing key may differ from own_public only in tests (bad signature). */
void net__hs_init(net__hs *hs, bool dialer, const uint8_t network_id[32],
                  const uint8_t own_public[32], const uint8_t own_secret[64]);
/* Dialer: writes message 1 (ephemeral key + network MAC). */
void net__hs_write_msg1(net__hs *hs, uint8_t out[NET__HS_MSG1_BYTES]);
/* Listener: checks message 1.  NET_E_NETWORK (bad MAC) or NET_E_LOW_ORDER. */
int net__hs_read_msg1(net__hs *hs, const uint8_t in[NET__HS_MSG1_BYTES]);
/* Listener: writes message 2 (ephemeral key, sealed identity + signature +
 * stream header). */
void net__hs_write_msg2(net__hs *hs, uint8_t out[NET__HS_MSG2_BYTES]);
/* Dialer: checks message 2; NET_E_LOW_ORDER or NET_E_AUTH.  On success
 * hs->peer_public is the listener's key and hs->rx is ready. */
int net__hs_read_msg2(net__hs *hs, const uint8_t in[NET__HS_MSG2_BYTES]);
/* Dialer: writes message 3; hs->tx is ready after it. */
void net__hs_write_msg3(net__hs *hs, uint8_t out[NET__HS_MSG3_BYTES]);
/* Listener: checks message 3; NET_E_AUTH.  On success hs->peer_public is
 * the dialer's key and both streams are ready. */
int net__hs_read_msg3(net__hs *hs, const uint8_t in[NET__HS_MSG3_BYTES]);
/* Wipes every secret. */
void net__hs_wipe(net__hs *hs);

/* ---- stream.c ---- */
/* One direction's secretstream: libsodium's state (derived in the
 * handshake) and the OpenSSL context that seals or opens its messages. */
typedef struct net__stream {
    crypto_secretstream_xchacha20poly1305_state s;
    struct evp_cipher_ctx_st *cipher; /* ChaCha20, created on first use */
    struct evp_mac_ctx_st *mac;       /* Poly1305, likewise */
    bool cipher_keyed;                /* cipher holds s.k */
} net__stream;

/* Takes over a state from init_push / init_pull. */
void net__stream_init(net__stream *st,
                      const crypto_secretstream_xchacha20poly1305_state *s);
/* Frees the context and wipes the state.  Safe on a zeroed stream. */
void net__stream_wipe(net__stream *st);
/* Seals m into c (m_len + ABYTES bytes), exactly as
 * crypto_secretstream_xchacha20poly1305_push would.  0 or NET_E_NOMEM. */
int net__stream_push(net__stream *st, uint8_t *c, const uint8_t *m,
                     size_t m_len, const uint8_t *ad, size_t ad_len,
                     uint8_t tag);
/* The same with m given in two parts, m1 || m2 (either may be empty). */
int net__stream_push_parts(net__stream *st, uint8_t *c, const uint8_t *m1,
                           size_t m1_len, const uint8_t *m2, size_t m2_len,
                           const uint8_t *ad, size_t ad_len, uint8_t tag);
/* Opens c into m (c_len - ABYTES bytes), exactly as
 * crypto_secretstream_xchacha20poly1305_pull would: 0, NET_E_FRAME (short
 * or forged: nothing is written and the state is unchanged) or
 * NET_E_NOMEM. */
int net__stream_pull(net__stream *st, uint8_t *m, size_t *m_len,
                     uint8_t *tag, const uint8_t *c, size_t c_len,
                     const uint8_t *ad, size_t ad_len);

/* ---- frame.c ---- */
#define NET__FRAME_LENGTH_BYTES 4
#define NET__FRAME_OVERHEAD                                                   \
    (NET__FRAME_LENGTH_BYTES + crypto_secretstream_xchacha20poly1305_ABYTES)

/* Appends one frame (length, sealed [type, payload]) to out.
 * 0 or NET_E_NOMEM. */
int net__frame_seal(net__stream *tx,
                    uint8_t type, const uint8_t *payload, size_t len,
                    net__buf *out);
/* Appends one frame whose plaintext ([type, payload]) is already
 * contiguous.  0 or NET_E_NOMEM. */
int net__frame_seal_plain(net__stream *tx,
                          const uint8_t *plain, size_t plain_len,
                          net__buf *out);
/* Opens the frame at the start of in[0..in_len).  plain_max bounds the
 * plaintext ([type, payload]); plain must hold that many bytes.
 * Returns 1 with *consumed, *type, *payload_len set; 0 when more bytes are
 * needed (*consumed untouched); NET_E_FRAME for a bad length or a failed
 * authentication. */
int net__frame_open(net__stream *rx,
                    const uint8_t *in, size_t in_len, size_t plain_max,
                    uint8_t *plain, size_t *consumed, uint8_t *type,
                    size_t *payload_len);

typedef struct net__peer_address {
    uint8_t family;    /* 4 or 6 */
    uint8_t ip[16];
    uint16_t port;
} net__peer_address;

typedef struct net__peers_payload {
    uint16_t listen_port;  /* 0: the sender does not listen */
    uint8_t count;
    net__peer_address entries[NET__PEERS_FRAME_ENTRIES_MAX];
} net__peers_payload;

/* Control payload codecs.  Encoders return the bytes written into out
 * (which holds NET__CONTROL_PAYLOAD_MAX); decoders return 0 or
 * NET_E_PROTOCOL, and reject trailing bytes. */
size_t net__credit_encode(uint32_t messages, uint32_t bytes, uint8_t *out);
int net__credit_decode(const uint8_t *in, size_t len, uint32_t *messages,
                       uint32_t *bytes);
size_t net__peers_encode(const net__peers_payload *peers, uint8_t *out);
int net__peers_decode(const uint8_t *in, size_t len, net__peers_payload *out);
size_t net__close_encode(int32_t reason, uint8_t *out);
int net__close_decode(const uint8_t *in, size_t len, int32_t *reason);

static inline void net__put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline uint32_t net__get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* ---- conn.c ---- */
typedef enum net__conn_state {
    NET__CONN_CONNECTING,   /* dialer: TCP connect in flight */
    NET__CONN_WAIT_MSG1,    /* listener */
    NET__CONN_WAIT_MSG2,    /* dialer */
    NET__CONN_WAIT_MSG3,    /* listener */
    NET__CONN_WAIT_CREDIT,  /* dialer: authenticated, waits for the
                               listener's first frame (its credit) */
    NET__CONN_UP,
} net__conn_state;

/* One payload shared by every queue it sits in.  plain[0] is the type and
 * the payload follows, so the frame's plaintext is sealed without a copy. */
typedef struct net__msg {
    uint32_t refs;
    uint32_t len;       /* payload bytes, without the type byte */
    uint8_t plain[];
} net__msg;

typedef struct net__conn {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_write_t write_req;
    uv_shutdown_t shutdown_req;
    struct net_node *net;
    struct net__conn *next, *prev;   /* net->conns */
    struct net__conn *dirty_next;    /* net->dirty, when dirty */
    bool dirty;
    bool writing;                    /* write_req in flight */
    bool closing;                    /* no more callbacks, no more sends */
    bool closing_gracefully;         /* flushing a close frame */
    bool shutting_down;              /* shutdown_req in flight */
    bool read_paused;
    net__conn_state state;
    int64_t address_index;           /* into net->addresses, or -1 */
    uint64_t started_ms;
    uint64_t closing_ms;
    uint64_t last_receive_ms;
    uint64_t ping_sent_ms;
    uint64_t ping_nonce;
    bool ping_outstanding;
    uint32_t control_frames;         /* in the current second */
    uint64_t control_window_ms;
    net__hs *hs;                     /* during the handshake only */
    net__stream tx, rx;
    net__buf in;                     /* read, not yet parsed */
    net__buf out;                    /* appended by handlers */
    net__buf writing_buf;            /* handed to uv_write */
    /* flow control: what we may still send, what the peer may still send */
    uint64_t credit_messages, credit_bytes;
    uint64_t grant_messages, grant_bytes;
    uint64_t consumed_messages, consumed_bytes; /* since our last grant */
    /* outbound queue: a ring of queue_messages_max slots */
    net__msg **queue;
    uint32_t queue_head;
    /* urgent types' messages, sent before the queue (net_set_urgent) */
    net__msg *urgent[NET__URGENT_QUEUE_MAX];
    uint32_t urgent_head, urgent_count;
    net_peer_info info;              /* queue_* and stats live here */
} net__conn;

/* Allocates a connection and initialises its TCP handle (counted in
 * net->handles_open).  NULL on failure. */
net__conn *net__conn_new(struct net_node *net, bool outbound);
/* Starts reading and the listener's side of the handshake. */
int net__conn_start_accepted(net__conn *conn);
/* Starts the dial of addr. */
int net__conn_start_dial(net__conn *conn, const struct sockaddr *addr);
/* Drops the connection now (reason is a NET_E_* code); graceful sends a
 * close frame first.  Safe to call twice. */
void net__conn_close(net__conn *conn, int reason, bool graceful);
/* Hands the handle to uv_close (once); the close callback frees conn. */
void net__conn_close_handle(net__conn *conn);
/* Starts reading again after a pause (test hook). */
void net__conn_resume_reading(net__conn *conn);
/* Closes the connection and bans its key (misbehaviour). */
void net__conn_misbehaved(net__conn *conn, int reason);
/* A shareable copy of [type, payload] with one reference; NULL when out of
 * memory. */
net__msg *net__msg_new(uint8_t type, const void *payload, size_t len);
/* Queues msg for the peer; NET_E_PEER_SLOW drops the peer. */
int net__conn_enqueue(net__conn *conn, net__msg *msg);
/* Sends an application payload to the peer: sealed into the output buffer
 * at once when nothing waits ahead of it, credit covers it and the buffer
 * is below its high-water mark (what enqueueing would do, without copying
 * the payload into a message); otherwise queued as *shared, which is
 * created on first need (OUT: the caller releases it with
 * net__msg_unref) so one copy serves every peer of a broadcast.  0,
 * NET_E_NO_PEER, NET_E_NOMEM or NET_E_PEER_SLOW. */
int net__conn_send(net__conn *conn, uint8_t type, const uint8_t *payload,
                   size_t len, net__msg **shared);
/* Appends one control frame to the output buffer. */
int net__conn_send_control(net__conn *conn, uint8_t type,
                           const uint8_t *payload, size_t len);
/* Moves queued messages into the output buffer as credit allows. */
void net__conn_pump(net__conn *conn);
/* Hands the output buffer to libuv if no write is in flight. */
void net__conn_flush(net__conn *conn);
/* Periodic checks: timeouts, pings. */
void net__conn_tick(net__conn *conn, uint64_t now_ms);
/* Releases a queued message reference. */
void net__msg_unref(net__msg *msg);

/* ---- node.c (used by conn.c) ---- */
typedef struct net__type {
    bool registered;
    bool flood;
    bool urgent;        /* sent before queued messages of other types */
    uint32_t bytes_max;
} net__type;

typedef struct net__address {
    struct sockaddr_storage sockaddr;
    char text[NET_ADDRESS_TEXT_MAX];
    bool configured;
    bool is_self;
    bool has_key;
    uint8_t key[32];
    net__conn *conn;                 /* dial in flight or up, or NULL */
    uint32_t attempts;               /* failures since the last success */
    uint64_t next_attempt_ms;
} net__address;

typedef struct net__ban {
    uint8_t key[32];
    uint64_t until_ms;
} net__ban;

struct net_node {
    uv_loop_t *loop;
    uint8_t network_id[32];
    uint8_t public_key[32];
    uint8_t secret_key[64];
    net_limits limits;
    net_callbacks callbacks;
    uv_tcp_t listener;
    uv_timer_t tick;
    uv_prepare_t flusher;
    bool listening;
    bool accept_pending;             /* an accept failed for want of memory */
    bool destroying;
    uint32_t handles_open;           /* freed when this reaches 0 */
    uint16_t listen_port;
    net__conn *conns;
    net__conn *dirty;
    uint32_t inbound_count, outbound_count;
    net__type types[256];
    uint32_t frame_plain_max;        /* 1 + the largest payload accepted */
    uint8_t *plain;                  /* scratch for one opened frame */
    size_t plain_cap;
    uint8_t read_chunk[NET__READ_CHUNK_BYTES];
    /* [type, payload] of the frame being sealed by net__conn_send: the
     * cipher needs it contiguous.  Like `plain`, wiped when the node is
     * freed. */
    uint8_t seal_scratch[1 + NET__SEAL_DIRECT_BYTES_MAX];
    net__seen seen;
    net__seen replay;
    net__address *addresses;
    uint32_t address_count;
    net__ban bans[NET__BANS_MAX];
    uint32_t ban_count;
    uint64_t next_peer_id;
    net_stats stats;
};

/* Marks conn to be flushed before the loop next polls. */
void net__mark_dirty(net__conn *conn);
/* A connection's handle finished closing: frees it, and the node when it
 * was the last handle of a destroyed node. */
void net__conn_freed(struct net_node *net);
/* Called when a handshake authenticated conn's peer: refuses ourselves,
 * banned keys and duplicates.  0 to go on, or the NET_E_* to close with. */
int net__admit_identity(net__conn *conn);
/* The connection is up: callbacks, address book, peers frame. */
void net__peer_up(net__conn *conn);
/* The connection closed (before or after up): address backoff, counts,
 * callbacks. */
void net__conn_closed(net__conn *conn, int reason);
/* A frame of a registered or control type arrived; dispatches it. */
void net__deliver(net__conn *conn, uint8_t type, const uint8_t *payload,
                  size_t len);
/* Learns addresses from a peers frame. */
void net__learn_peers(net__conn *conn, const net__peers_payload *peers);
/* Bans key until now + duration_ms. */
void net__ban_key(struct net_node *net, const uint8_t key[32],
                  uint64_t duration_ms);

#endif
