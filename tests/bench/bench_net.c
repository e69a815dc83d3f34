/*
 * bench_net.c — net/ throughput and flood latency, printed as JSON.
 *
 *   build/tests/bench/bench-net [messages]
 *
 * 1. Two nodes on loopback, each on its own loop and thread (the machine's
 *    two cores), one sending `messages` 4 KiB payloads to the other:
 *    encrypted messages/s and MB/s (payload bytes).
 * 2. The same transfer over plain libuv TCP with the same 4-byte length
 *    framing and the same threads, in the same run: the baseline.  Both
 *    run three times, alternating; medians are reported.
 * 3. Eight nodes in a ring-plus-chords mesh on one loop: one message at a
 *    time is broadcast from a random node; the latency from broadcast to
 *    each of the seven deliveries gives p50 and p99.
 * Target: encrypted throughput >= 50% of plain TCP.
 *
 * Read next: spec/network.md.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/resource.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "net.h"
#include "net_internal.h" /* net__stream: the cipher alone */

#define BENCH_TYPE 20       /* point to point */
#define BENCH_TYPE_FLOOD 21 /* flooded */
#define BENCH_MESSAGE_BYTES 4096
#define BENCH_FLOOD_NODES 8
#define BENCH_FLOOD_MESSAGES 1000
#define BENCH_BATCH_BYTES (256u << 10)
#define BENCH_ROUNDS 3 /* alternating plain/encrypted runs */
#define BENCH_PACE_MESSAGES 64     /* sends between loop turns */
#define BENCH_QUEUE_DEPTH_MAX 1024 /* the sender waits above this */

static uint64_t now_ns(void)
{
    return uv_hrtime();
}

/* CPU seconds (user + system) the calling thread used so far. */
static double thread_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench-net: %s: %d\n", what, rc);
    exit(1);
}

/* ---- a node on its own loop ---- */
typedef struct bench_node {
    uv_loop_t loop;
    net_node *net;
    uint8_t pk[32], sk[64];
    uint64_t delivered;
    uint64_t peers_up;
    uint64_t *latencies_ns; /* flood: one per delivery */
    size_t latency_count;
} bench_node;

static uint8_t network_id[32];

static void on_message(void *user, const net_peer_info *peer, uint8_t type,
                       const uint8_t *payload, size_t len)
{
    (void)peer;
    (void)type;
    bench_node *n = user;
    n->delivered++;
    if (n->latencies_ns != NULL && len >= 8) {
        uint64_t sent;
        memcpy(&sent, payload, 8);
        n->latencies_ns[n->latency_count++] = now_ns() - sent;
    }
}

static void on_up(void *user, const net_peer_info *peer)
{
    (void)peer;
    ((bench_node *)user)->peers_up++;
}

static void node_start(bench_node *n, uv_loop_t *loop)
{
    crypto_sign_keypair(n->pk, n->sk);
    net_config c;
    memset(&c, 0, sizeof c);
    c.loop = loop;
    memcpy(c.network_id, network_id, 32);
    memcpy(c.public_key, n->pk, 32);
    memcpy(c.secret_key, n->sk, 64);
    c.listen_host = "127.0.0.1";
    net_limits_default(&c.limits);
    c.limits.outbound_peers_target = 0;
    if (getenv("BENCH_NET_CREDIT"))
        c.limits.credit_messages = (uint32_t)atoi(getenv("BENCH_NET_CREDIT"));
    c.callbacks = (net_callbacks){n, on_message, on_up, NULL, NULL};
    int rc = net_create(&c, &n->net);
    if (rc != 0)
        die("net_create", rc);
    rc = net_register_type(n->net, BENCH_TYPE, BENCH_MESSAGE_BYTES, false);
    if (rc == 0)
        rc = net_register_type(n->net, BENCH_TYPE_FLOOD, BENCH_MESSAGE_BYTES,
                               true);
    if (rc != 0)
        die("net_register_type", rc);
}

/* ---- encrypted transfer: receiver thread ---- */
typedef struct transfer {
    bench_node sender, receiver;
    uint64_t messages;
    volatile int receiver_ready;
    volatile int done;
} transfer;

static void *receiver_main(void *arg)
{
    transfer *t = arg;
    uv_loop_init(&t->receiver.loop);
    node_start(&t->receiver, &t->receiver.loop);
    __atomic_store_n(&t->receiver_ready, 1, __ATOMIC_RELEASE);
    while (t->receiver.delivered < t->messages)
        uv_run(&t->receiver.loop, UV_RUN_ONCE);
    if (getenv("BENCH_NET_VERBOSE"))
        fprintf(stderr, "receiver cpu %.2fs\n", thread_cpu_seconds());
    __atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
    /* Keep serving until the sender has seen the last bytes leave. */
    while (__atomic_load_n(&t->done, __ATOMIC_ACQUIRE) != 2)
        uv_run(&t->receiver.loop, UV_RUN_NOWAIT);
    net_destroy(t->receiver.net);
    uv_run(&t->receiver.loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->receiver.loop);
    return NULL;
}

/* Sends t->messages payloads, pacing on the peer's queue depth. */
static double encrypted_run(uint64_t messages)
{
    static transfer t;
    memset(&t, 0, sizeof t);
    t.messages = messages;
    pthread_t thread;
    pthread_create(&thread, NULL, receiver_main, &t);
    while (!__atomic_load_n(&t.receiver_ready, __ATOMIC_ACQUIRE))
        ;
    uv_loop_init(&t.sender.loop);
    node_start(&t.sender, &t.sender.loop);
    net_add_peer(t.sender.net, "127.0.0.1", net_listen_port(t.receiver.net));
    while (t.sender.peers_up == 0)
        uv_run(&t.sender.loop, UV_RUN_ONCE);
    net_peer_info peer;
    size_t count = 0;
    net_peers(t.sender.net, &peer, 1, &count);
    static uint8_t payload[BENCH_MESSAGE_BYTES];
    uint64_t start = now_ns();
    /* This thread also ran the plain runs: count this transfer only. */
    double cpu_start = thread_cpu_seconds();
    for (uint64_t i = 0; i < messages; i++) {
        /* Let the loop run as we go, and wait when the queue is deep: a
         * sender paces itself on the queue depth net_peers() reports.
         * Asked once per loop turn rather than per message (copying every
         * peer's info per send was the bench's cost, not the library's);
         * the queue holds queue_messages_max (4,096), more than
         * BENCH_QUEUE_DEPTH_MAX + BENCH_PACE_MESSAGES. */
        if (i % BENCH_PACE_MESSAGES == 0) {
            uv_run(&t.sender.loop, UV_RUN_NOWAIT);
            for (;;) {
                net_peers(t.sender.net, &peer, 1, &count);
                if (peer.queue_messages < BENCH_QUEUE_DEPTH_MAX)
                    break;
                uv_run(&t.sender.loop, UV_RUN_ONCE);
            }
        }
        memcpy(payload, &i, sizeof i); /* distinct: no seen-set hits */
        int rc = net_send(t.sender.net, peer.id, BENCH_TYPE, payload,
                          sizeof payload);
        if (rc != 0)
            die("net_send", rc);
    }
    while (!__atomic_load_n(&t.done, __ATOMIC_ACQUIRE))
        uv_run(&t.sender.loop, UV_RUN_NOWAIT);
    double seconds = (double)(now_ns() - start) / 1e9;
    if (getenv("BENCH_NET_VERBOSE"))
        fprintf(stderr, "sender cpu %.2fs wall %.2fs\n",
                thread_cpu_seconds() - cpu_start, seconds);
    __atomic_store_n(&t.done, 2, __ATOMIC_RELEASE);
    pthread_join(thread, NULL);
    net_destroy(t.sender.net);
    uv_run(&t.sender.loop, UV_RUN_DEFAULT);
    uv_loop_close(&t.sender.loop);
    return seconds;
}

/* ---- plain TCP baseline: same framing, same threads ---- */
typedef struct plain {
    uv_loop_t loop;
    uv_tcp_t server, conn;
    uint64_t messages, received;
    uint32_t need;          /* bytes left of the current length or body */
    uint8_t length[4];
    uint32_t length_have;
    bool in_body;
    char chunk[64 << 10];
    volatile int ready;
    uint16_t port;
} plain;

static void plain_alloc(uv_handle_t *h, size_t s, uv_buf_t *buf)
{
    (void)s;
    plain *p = h->data;
    *buf = uv_buf_init(p->chunk, sizeof p->chunk);
}

/* Parses 4-byte lengths and skips bodies, counting messages. */
static void plain_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    plain *p = stream->data;
    if (nread <= 0)
        return;
    const uint8_t *b = (const uint8_t *)buf->base;
    size_t n = (size_t)nread;
    while (n > 0) {
        if (!p->in_body) {
            p->length[p->length_have++] = *b++;
            n--;
            if (p->length_have == 4) {
                p->need = (uint32_t)p->length[0] << 24 | p->length[1] << 16 |
                          p->length[2] << 8 | p->length[3];
                p->length_have = 0;
                p->in_body = true;
            }
            continue;
        }
        size_t take = n < p->need ? n : p->need;
        b += take;
        n -= take;
        p->need -= (uint32_t)take;
        if (p->need == 0) {
            p->in_body = false;
            p->received++;
        }
    }
    if (p->received >= p->messages)
        uv_read_stop(stream);
}

static void plain_on_connection(uv_stream_t *server, int status)
{
    plain *p = server->data;
    if (status < 0)
        return;
    uv_tcp_init(&p->loop, &p->conn);
    p->conn.data = p;
    uv_accept(server, (uv_stream_t *)&p->conn);
    uv_read_start((uv_stream_t *)&p->conn, plain_alloc, plain_read);
}

static void *plain_receiver_main(void *arg)
{
    plain *p = arg;
    uv_loop_init(&p->loop);
    uv_tcp_init(&p->loop, &p->server);
    p->server.data = p;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_tcp_bind(&p->server, (const struct sockaddr *)&sa, 0);
    uv_listen((uv_stream_t *)&p->server, 8, plain_on_connection);
    int len = sizeof sa;
    uv_tcp_getsockname(&p->server, (struct sockaddr *)&sa, &len);
    p->port = ntohs(sa.sin_port);
    __atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
    while (p->received < p->messages)
        uv_run(&p->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&p->conn, NULL);
    uv_close((uv_handle_t *)&p->server, NULL);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    uv_loop_close(&p->loop);
    __atomic_store_n(&p->ready, 2, __ATOMIC_RELEASE);
    return NULL;
}

typedef struct plain_sender {
    uv_loop_t loop;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uint8_t *batch;
    uint64_t sent, messages;
    bool connected;
} plain_sender;

/* Writes the next batch of frames (one write in flight, as net does). */
static void plain_write_next(plain_sender *s);

static void plain_on_write(uv_write_t *req, int status)
{
    (void)status;
    plain_write_next(req->data);
}

static void plain_write_next(plain_sender *s)
{
    size_t frame = 4 + BENCH_MESSAGE_BYTES, n = 0;
    while (s->sent < s->messages && n + frame <= BENCH_BATCH_BYTES) {
        uint8_t *f = s->batch + n;
        f[0] = 0, f[1] = 0, f[2] = BENCH_MESSAGE_BYTES >> 8, f[3] = 0;
        memcpy(f + 4, &s->sent, sizeof s->sent); /* the payload is built */
        n += frame;
        s->sent++;
    }
    if (n == 0)
        return;
    uv_buf_t buf = uv_buf_init((char *)s->batch, (unsigned)n);
    s->write.data = s;
    uv_write(&s->write, (uv_stream_t *)&s->tcp, &buf, 1, plain_on_write);
}

static void plain_on_connect(uv_connect_t *req, int status)
{
    plain_sender *s = req->data;
    if (status < 0)
        die("plain connect", status);
    s->connected = true;
}

static double plain_run(uint64_t messages)
{
    static plain p;
    static plain_sender s;
    memset(&p, 0, sizeof p);
    memset(&s, 0, sizeof s);
    p.messages = s.messages = messages;
    s.batch = calloc(1, BENCH_BATCH_BYTES);
    pthread_t thread;
    pthread_create(&thread, NULL, plain_receiver_main, &p);
    while (!__atomic_load_n(&p.ready, __ATOMIC_ACQUIRE))
        ;
    uv_loop_init(&s.loop);
    uv_tcp_init(&s.loop, &s.tcp);
    uv_tcp_nodelay(&s.tcp, 1);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", p.port, &sa);
    s.connect.data = &s;
    uv_tcp_connect(&s.connect, &s.tcp, (const struct sockaddr *)&sa,
                   plain_on_connect);
    while (!s.connected)
        uv_run(&s.loop, UV_RUN_ONCE);
    uint64_t start = now_ns();
    plain_write_next(&s);
    while (__atomic_load_n(&p.ready, __ATOMIC_ACQUIRE) != 2)
        uv_run(&s.loop, UV_RUN_NOWAIT);
    double seconds = (double)(now_ns() - start) / 1e9;
    pthread_join(thread, NULL);
    uv_close((uv_handle_t *)&s.tcp, NULL);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    uv_loop_close(&s.loop);
    free(s.batch);
    return seconds;
}

/* The cipher alone: secretstream push of 4 KiB messages on one core, the
 * ceiling for one direction of an encrypted connection; net/stream.c (what
 * the overlay uses) or libsodium's own push (the same bytes). */
static double cipher_mb_per_s(bool ours)
{
    static uint8_t m[1 + BENCH_MESSAGE_BYTES];
    static uint8_t c[1 + BENCH_MESSAGE_BYTES +
                     crypto_secretstream_xchacha20poly1305_ABYTES];
    uint8_t key[32], header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    crypto_secretstream_xchacha20poly1305_state st;
    randombytes_buf(key, sizeof key);
    crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
    net__stream stream;
    net__stream_init(&stream, &st);
    const int rounds = 20000;
    uint64_t start = now_ns();
    for (int i = 0; i < rounds; i++) {
        if (ours)
            net__stream_push(&stream, c, m, sizeof m, NULL, 0, 0);
        else
            crypto_secretstream_xchacha20poly1305_push(&st, c, NULL, m,
                                                       sizeof m, NULL, 0, 0);
    }
    double seconds = (double)(now_ns() - start) / 1e9;
    net__stream_wipe(&stream);
    return (double)rounds * BENCH_MESSAGE_BYTES / seconds / 1e6;
}

/* ---- flood latency across eight nodes on one loop ---- */
static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void flood_run(double *p50_us, double *p99_us)
{
    enum { N = BENCH_FLOOD_NODES, M = BENCH_FLOOD_MESSAGES };
    static bench_node nodes[N];
    uv_loop_t loop;
    uv_loop_init(&loop);
    uint64_t *latencies = calloc((size_t)N * M, sizeof *latencies);
    for (int i = 0; i < N; i++) {
        memset(&nodes[i], 0, sizeof nodes[i]);
        node_start(&nodes[i], &loop);
        nodes[i].latencies_ns = latencies + (size_t)i * M;
    }
    for (int i = 0; i < N; i++) {
        net_add_peer(nodes[i].net, "127.0.0.1",
                     net_listen_port(nodes[(i + 1) % N].net));
        if (i < N / 2)
            net_add_peer(nodes[i].net, "127.0.0.1",
                         net_listen_port(nodes[i + N / 2].net));
    }
    for (bool ready = false; !ready;) {
        uv_run(&loop, UV_RUN_ONCE);
        ready = true;
        for (int i = 0; i < N; i++) {
            size_t count = 0;
            net_peers(nodes[i].net, NULL, 0, &count);
            ready = ready && count == 3;
        }
    }
    uint8_t payload[256];
    uint64_t total = 0;
    for (uint64_t m = 0; m < M; m++) {
        uint64_t sent = now_ns();
        memcpy(payload, &sent, 8);
        memcpy(payload + 8, &m, 8);
        net_broadcast(nodes[randombytes_uniform(N)].net, BENCH_TYPE_FLOOD,
                      payload, sizeof payload);
        total += N - 1;
        for (;;) {
            uint64_t got = 0;
            for (int i = 0; i < N; i++)
                got += nodes[i].delivered;
            if (got >= total)
                break;
            uv_run(&loop, UV_RUN_ONCE);
        }
    }
    size_t count = 0;
    for (int i = 0; i < N; i++)
        for (size_t j = 0; j < nodes[i].latency_count; j++)
            latencies[count++] = nodes[i].latencies_ns[j];
    qsort(latencies, count, sizeof *latencies, compare_u64);
    *p50_us = (double)latencies[count / 2] / 1e3;
    *p99_us = (double)latencies[count * 99 / 100] / 1e3;
    for (int i = 0; i < N; i++)
        net_destroy(nodes[i].net);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(latencies);
}

/* The middle of three values. */
static double median3(const double v[BENCH_ROUNDS])
{
    double a = v[0], b = v[1], c = v[2];
    if ((a <= b && b <= c) || (c <= b && b <= a))
        return b;
    if ((b <= a && a <= c) || (c <= a && a <= b))
        return a;
    return c;
}

int main(int argc, char **argv)
{
    uint64_t messages = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
    if (sodium_init() < 0)
        die("sodium_init", -1);
    randombytes_buf(network_id, sizeof network_id);
    /* BENCH_NET_ONLY=encrypted runs one part alone (for profiling). */
    const char *only = getenv("BENCH_NET_ONLY");
    bool all = only == NULL;
    /* Plain and encrypted runs alternate; the medians are reported, so a
     * burst of load from elsewhere on the machine skews one run only. */
    double plain_runs[BENCH_ROUNDS] = {0}, enc_runs[BENCH_ROUNDS] = {0};
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        if (all || strcmp(only, "plain") == 0)
            plain_runs[r] = plain_run(messages);
        if (all || strcmp(only, "encrypted") == 0)
            enc_runs[r] = encrypted_run(messages);
    }
    double plain_s = median3(plain_runs);
    double enc_s = median3(enc_runs);
    double p50 = 0, p99 = 0;
    if (all || strcmp(only, "flood") == 0)
        flood_run(&p50, &p99);
    double cipher = cipher_mb_per_s(true);
    double cipher_libsodium = cipher_mb_per_s(false);
    double mb = (double)messages * BENCH_MESSAGE_BYTES / 1e6;
    printf("{\"bench\": \"net\", \"message_bytes\": %d, \"messages\": %llu,\n"
           " \"encrypted\": {\"messages_per_s\": %.0f, \"mb_per_s\": %.1f},\n"
           " \"plain_tcp\": {\"messages_per_s\": %.0f, \"mb_per_s\": %.1f},\n"
           " \"encrypted_over_plain\": %.3f, \"target_ratio\": 0.5,\n"
           " \"cipher_push_mb_per_s_one_core\": %.1f,"
           " \"libsodium_push_mb_per_s_one_core\": %.1f,\n"
           " \"flood\": {\"nodes\": %d, \"messages\": %d,"
           " \"payload_bytes\": 256,"
           " \"latency_us_p50\": %.1f, \"latency_us_p99\": %.1f}}\n",
           BENCH_MESSAGE_BYTES, (unsigned long long)messages,
           enc_s > 0 ? messages / enc_s : 0.0, enc_s > 0 ? mb / enc_s : 0.0,
           plain_s > 0 ? messages / plain_s : 0.0,
           plain_s > 0 ? mb / plain_s : 0.0,
           enc_s > 0 ? plain_s / enc_s : 0.0, cipher, cipher_libsodium,
           BENCH_FLOOD_NODES, BENCH_FLOOD_MESSAGES, p50, p99);
    return 0;
}
