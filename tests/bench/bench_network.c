/*
 * bench_network.c — what four validators on loopback commit under open-loop
 * load, against the bound set by signature checks on this machine.
 *
 *   build/tests/bench/bench-network [--nanumd PATH] [--rates 250,500,...]
 *                                   [--seconds S] [--dir DIR] [--runs R]
 *
 * It writes a `nanumd testnet` of 4 validators (batch_window_ms 20,
 * idle_close_ms 1000, tx_per_ledger_max 5000; durable storage), starts the
 * nodes, funds LOAD_ACCOUNTS accounts from the "operator" wallet, then for
 * each rate pre-signs rate × S pays among those accounts (round-robin, so
 * sequence numbers do not serialise the load) and sends transaction i at
 * start + i/rate whatever the responses (open loop), over keep-alive
 * HTTP/1.1 connections spread over the nodes.  A second thread watches one
 * node's ledgers; a transaction's latency is from the moment its request
 * was handed to the kernel to the moment the client first saw the height of
 * the ledger that holds it.  The bound is the Ed25519 verify rate of the
 * machine ÷ validators (every validator checks every signature): one
 * thread per online core verifying at once, rates summed (the issue's
 * "single-core rate × cores", measured on each core, since the cores of
 * these machines differ); measured right before and right after each
 * rate's load, and averaged.
 *
 * Prints one JSON line per rate (medians of R sweeps).  Every process it
 * starts is stopped on every exit path, SIGINT and SIGTERM included.
 *
 * Read next: tests/system/harness.py (the same network, from Python),
 * node/daemon/api.c (the endpoints used), node/daemon/herder.c (when ledgers close).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"
#include "protocol.h"
#include "verify_bound.h"

#define VALIDATORS 4
#define CONNS_PER_NODE 4
#define CONNS_MAX (VALIDATORS * CONNS_PER_NODE)
#define LOAD_ACCOUNTS 2048         /* divisible by CONNS_MAX: an account always uses one connection;
                                      many, so that no account has more than
                                      NODE_MEMPOOL_SEQ_AHEAD_MAX waiting at 8,000 tx/s */
#define FUND_AMOUNT_MINOR 2000     /* 20.00: 2,048 of them fit the operator's 50,000.00 */
#define FUND_BATCH_MAX 60          /* below NODE_MEMPOOL_SEQ_AHEAD_MAX (64) */
#define PAY_AMOUNT_MINOR 1         /* 0.01 */
#define FEE_MINOR 1                /* 0.01, the base fee */
#define RATES_MAX 16
#define RUNS_MAX 15
#define VERIFY_SAMPLE 4000
#define PIPELINE_MAX 64            /* requests in flight on one connection */
#define OUT_BATCH_BYTES 32768      /* requests written with one send() */
#define RING_MAX 32768             /* transactions assigned to one connection and not answered */
#define REQUEST_BYTES_MAX (256 + NODE_TX_BYTES_MAX)
#define RESPONSE_BYTES_MAX (64u << 20)
#define INPUT_BYTES_MAX 65536      /* unparsed response bytes of one load connection */
#define HEAD_BYTES_MAX 16384
#define IO_TIMEOUT_MS 5000
#define START_WAIT_MS 30000
#define FUND_WAIT_MS 30000
#define ANSWER_WAIT_MS 10000       /* for the last responses after the last send */
#define COMMIT_WAIT_MS 20000       /* for the last commits after the last send */
#define CATCH_UP_WAIT_MS 10000     /* for every node to reach the watched height */
#define STOP_WAIT_MS 10000         /* SIGTERM, then SIGKILL */
#define COMMAND_WAIT_MS 30000      /* nanumd testnet / genesis-id */
#define WATCH_INTERVAL_MS 5
#define PORT_TRIES_MAX 200

static volatile sig_atomic_t interrupted;
static pid_t node_pids[VALIDATORS];

/* --- Time, numbers --------------------------------------------------------------- */

/* Monotonic seconds. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* s seconds (≥ 0) as a timespec. */
static struct timespec timespec_of(double s)
{
    long long ns = (long long)(s * 1e9);
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
}

/* Sleeps ms milliseconds: the cadence of a poll, never a wait for a condition. */
static void pause_ms(double ms)
{
    struct timespec ts = timespec_of(ms / 1000);
    nanosleep(&ts, NULL);
}

/* x (≥ 0) rounded to the nearest multiple of unit. */
static double rounded(double x, double unit)
{
    return (double)(long long)(x / unit + 0.5) * unit;
}

/* qsort order of doubles, ascending. */
static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v); 0 for n = 0. */
static double median(double *v, int n)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, compare_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Nearest-rank percentile p (0..1) of sorted v[0..n); 0 for n = 0. */
static double percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(p * (double)n);
    if ((double)rank < p * (double)n)
        rank++; /* the ceiling */
    return sorted[rank > 0 ? rank - 1 : 0];
}

/* --- Processes ----------------------------------------------------------------- */

/* Only records the signal: the loops see it and the exit path stops the nodes. */
static void on_signal(int signum)
{
    (void)signum;
    interrupted = 1;
}

/* SIGINT and SIGTERM only set `interrupted` (every loop checks it); writes to
 * a closed socket return EPIPE instead of killing the benchmark. */
static void install_signal_handlers(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Forks argv; the child's stdout goes to out_fd (or /dev/null when -1), its
 * stderr to err_fd (or stays ours when -1), and it dies with us.  Returns the
 * pid or -1. */
static pid_t spawn(char *const argv[], int out_fd, int err_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    setpgid(0, 0); /* a terminal's ^C reaches only us; we stop the child */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(out_fd >= 0 ? out_fd : null_fd, 1);
    if (err_fd >= 0)
        dup2(err_fd, 2);
    execv(argv[0], argv);
    fprintf(stderr, "bench-network: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Waits until pid exits or deadline_s passes; returns its wait status, or -1
 * if it is still running. */
static int wait_exit(pid_t pid, double deadline_s, bool stop_on_interrupt)
{
    int status;
    while (now_s() < deadline_s && !(stop_on_interrupt && interrupted)) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return r == pid ? status : 0;
        pause_ms(5);
    }
    return -1;
}

/* Stops pid: SIGTERM, then SIGKILL if it has not exited after STOP_WAIT_MS. */
static void stop_process(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    if (wait_exit(pid, now_s() + STOP_WAIT_MS / 1000.0, false) == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

/* Stops every node this benchmark started (each at most once). */
static void stop_nodes(void)
{
    for (int k = 0; k < VALIDATORS; k++) {
        stop_process(node_pids[k]);
        node_pids[k] = 0;
    }
}

/* Runs argv to completion (COMMAND_WAIT_MS); its stdout goes to out (NUL-ended,
 * may be NULL).  Returns 0 if it exited 0. */
static int run_command(char *const argv[], char *out, size_t out_len)
{
    int fds[2] = {-1, -1};
    if (out != NULL && pipe(fds) != 0)
        return -1;
    pid_t pid = spawn(argv, fds[1], -1);
    if (fds[1] >= 0)
        close(fds[1]);
    int status = pid > 0 ? wait_exit(pid, now_s() + COMMAND_WAIT_MS / 1000.0, true) : -1;
    if (pid > 0 && status == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    if (out != NULL) {
        ssize_t n = status == -1 ? 0 : read(fds[0], out, out_len - 1);
        out[n > 0 ? n : 0] = '\0';
        close(fds[0]);
    }
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* --- The blocking client (setup, watching, checking) ------------------------- */

struct http_client {
    uint16_t port;
    int fd;            /* -1 when not connected */
    char *data;        /* the last response: head, then body */
    size_t len, cap;
};

/* A connected blocking TCP socket to 127.0.0.1:port with I/O timeouts, or -1. */
static int connect_loopback(uint16_t port, bool blocking)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = IO_TIMEOUT_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (!blocking)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Parses a response head in buf[0..len).  Returns 1 with *status, *head_len,
 * *body_len and *closes (the server will close after it) set; 0 if the head
 * is not complete yet; -1 if it is not a response with a Content-Length. */
static int parse_head(const char *buf, size_t len, int *status, size_t *head_len, size_t *body_len, bool *closes)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (end == NULL)
        return len > HEAD_BYTES_MAX ? -1 : 0;
    *head_len = (size_t)(end - buf) + 4;
    char head[HEAD_BYTES_MAX + 1];
    if (*head_len > HEAD_BYTES_MAX || len < 12 || memcmp(buf, "HTTP/1.1 ", 9) != 0)
        return -1;
    memcpy(head, buf, *head_len);
    head[*head_len] = '\0';
    *status = atoi(head + 9);
    const char *cl = strcasestr(head, "\r\nContent-Length:");
    if (cl == NULL)
        return -1;
    *body_len = strtoull(cl + 17, NULL, 10);
    *closes = strcasestr(head, "\r\nConnection: close") != NULL;
    return 1;
}

/* Writes all of buf to the blocking fd; 0 or -1. */
static int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one whole response into c->data.  OUT: *status, *body (inside
 * c->data), *body_len.  Returns 0 or -1 (connection closed). */
static int read_response(struct http_client *c, int *status, const char **body, size_t *body_len)
{
    c->len = 0;
    size_t head_len = 0;
    bool closes = false;
    int parsed = 0;
    while (parsed == 0 || c->len < head_len + *body_len) {
        if (c->cap - c->len < 65536) {
            size_t cap = c->cap ? 2 * c->cap : 1u << 20;
            char *grown = cap <= RESPONSE_BYTES_MAX ? realloc(c->data, cap) : NULL;
            if (grown == NULL)
                return -1;
            c->data = grown;
            c->cap = cap;
        }
        ssize_t n = recv(c->fd, c->data + c->len, c->cap - c->len, 0);
        if (n < 0 && errno == EINTR && !interrupted)
            continue;
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
        if (parsed == 0 && (parsed = parse_head(c->data, c->len, status, &head_len, body_len, &closes)) < 0)
            return -1;
    }
    *body = c->data + head_len;
    if (closes) {
        close(c->fd);
        c->fd = -1;
    }
    return 0;
}

/* One request on c (reconnecting once if a kept-alive connection was closed).
 * Returns the HTTP status with *body / *body_len valid until the next call on
 * c, or -1 when the node did not answer. */
static int http_call(struct http_client *c, const char *method, const char *path, const void *payload,
                     size_t payload_len, const char **body, size_t *body_len)
{
    char head[512];
    int head_len = snprintf(head, sizeof head,
                            "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/msgpack\r\n"
                            "Content-Length: %zu\r\n\r\n",
                            method, path, payload_len);
    for (int attempt = 0; attempt < 2 && !interrupted; attempt++) {
        if (c->fd < 0 && (c->fd = connect_loopback(c->port, true)) < 0)
            return -1;
        int status;
        if (send_all(c->fd, head, (size_t)head_len) == 0 && send_all(c->fd, payload, payload_len) == 0 &&
            read_response(c, &status, body, body_len) == 0)
            return status;
        close(c->fd);
        c->fd = -1;
    }
    return -1;
}

/* GET path as JSON: the parsed body of a 200 response (caller decrefs), or NULL. */
static json_t *http_get_json(struct http_client *c, const char *path)
{
    const char *body;
    size_t len;
    if (http_call(c, "GET", path, "", 0, &body, &len) != 200)
        return NULL;
    return json_loadb(body, len, 0, NULL);
}

/* Closes c's connection and frees its buffer; c may be reused after. */
static void http_client_close(struct http_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->data);
    *c = (struct http_client){.fd = -1};
}

/* The node's height, or -1 if it does not answer. */
static long long node_height(struct http_client *c)
{
    json_t *s = http_get_json(c, "/v1/status");
    long long h = s != NULL && json_is_integer(json_object_get(s, "height"))
                      ? (long long)json_integer_value(json_object_get(s, "height")) : -1;
    json_decref(s);
    return h;
}

/* --- The network --------------------------------------------------------------- */

struct network {
    char nanumd[PATH_MAX];
    char dir[PATH_MAX];
    bool made_dir;                      /* ours to remove */
    uint16_t base_port;
    uint8_t network_id[NODE_HASH_BYTES];
    struct http_client api[VALIDATORS]; /* one per node, main thread only */
};

/* Node k's API port (k 0-based; node/daemon/testnet.c: base + 2K + 1 for node K). */
static uint16_t api_port(const struct network *n, int k)
{
    return (uint16_t)(n->base_port + 2 * (k + 1) + 1);
}

/* True when every port of base+2..base+2*VALIDATORS+1 binds on 127.0.0.1. */
static bool ports_free(uint16_t base)
{
    for (int port = base + 2; port <= base + 2 * VALIDATORS + 1; port++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
        close(fd);
        if (rc != 0)
            return false;
    }
    return true;
}

/* A random even base port in 20000..60000 whose ports are free, or 0. */
static uint16_t pick_base_port(void)
{
    for (int i = 0; i < PORT_TRIES_MAX; i++) {
        uint16_t base = (uint16_t)(20000 + 2 * randombytes_uniform(20000));
        if (ports_free(base))
            return base;
    }
    return 0;
}

/* Sets the genesis params of the benchmark in DIR/genesis.json. */
static int set_genesis_params(const struct network *n)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/genesis.json", n->dir);
    json_t *root = json_load_file(path, 0, NULL);
    json_t *params = root != NULL ? json_object_get(root, "params") : NULL;
    if (params == NULL) {
        params = json_object();
        json_object_set_new(root, "params", params);
    }
    json_object_set_new(params, "batch_window_ms", json_integer(20));
    json_object_set_new(params, "idle_close_ms", json_integer(1000));
    json_object_set_new(params, "tx_per_ledger_max", json_integer(5000));
    int rc = root != NULL ? json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : -1;
    json_decref(root);
    return rc;
}

/* Asks `nanumd genesis-id` for the network id and writes it to testnet.json. */
static int update_network_id(struct network *n)
{
    char genesis[PATH_MAX + 32], meta[PATH_MAX + 32], out[256];
    snprintf(genesis, sizeof genesis, "%s/genesis.json", n->dir);
    snprintf(meta, sizeof meta, "%s/testnet.json", n->dir);
    char *argv[] = {n->nanumd, "genesis-id", genesis, NULL};
    if (run_command(argv, out, sizeof out) != 0)
        return -1;
    out[strcspn(out, " \r\n")] = '\0';
    if (strlen(out) != 2 * NODE_HASH_BYTES || node_hex_decode(out, n->network_id, NODE_HASH_BYTES) != 0)
        return -1;
    json_t *root = json_load_file(meta, 0, NULL);
    int rc = root != NULL ? json_object_set_new(root, "network_id", json_string(out)) : -1;
    if (rc == 0)
        rc = json_dump_file(root, meta, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return rc;
}

/* Writes the testnet: `nanumd testnet`, then the params and network id. */
static int write_testnet(struct network *n)
{
    char port[16];
    if ((n->base_port = pick_base_port()) == 0) {
        fputs("bench-network: no free port range on 127.0.0.1\n", stderr);
        return -1;
    }
    snprintf(port, sizeof port, "%u", n->base_port);
    char *argv[] = {n->nanumd, "testnet", "--validators", "4", "--watchers", "0", "--dir", n->dir,
                    "--base-port", port, "--force", NULL};
    if (run_command(argv, NULL, 0) != 0 || set_genesis_params(n) != 0 || update_network_id(n) != 0) {
        fprintf(stderr, "bench-network: cannot write the testnet in %s with %s\n", n->dir, n->nanumd);
        return -1;
    }
    return 0;
}

/* Starts node k (0-based) with its log in DIR/nodeK.log. */
static int start_node(struct network *n, int k)
{
    char config[PATH_MAX + 32], log[PATH_MAX + 32];
    snprintf(config, sizeof config, "%s/node%d/nanumd.ini", n->dir, k + 1);
    snprintf(log, sizeof log, "%s/node%d.log", n->dir, k + 1);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0)
        return -1;
    char *argv[] = {n->nanumd, "--config", config, NULL};
    node_pids[k] = spawn(argv, fd, fd);
    close(fd);
    n->api[k] = (struct http_client){.port = api_port(n, k), .fd = -1};
    return node_pids[k] > 0 ? 0 : -1;
}

/* Starts every node and waits until each answers with a height ≥ 1. */
static int start_network(struct network *n)
{
    for (int k = 0; k < VALIDATORS; k++)
        if (start_node(n, k) != 0)
            return -1;
    double deadline = now_s() + START_WAIT_MS / 1000.0;
    for (int k = 0; k < VALIDATORS; k++) {
        while (node_height(&n->api[k]) < 1) {
            if (now_s() > deadline || interrupted || waitpid(node_pids[k], NULL, WNOHANG) == node_pids[k]) {
                fprintf(stderr, "bench-network: node%d did not reach height 1 (see %s/node%d.log)\n", k + 1,
                        n->dir, k + 1);
                return -1;
            }
            pause_ms(20);
        }
    }
    return 0;
}

/* --- Accounts and signing ------------------------------------------------------ */

struct account {
    uint8_t pk[NODE_KEY_BYTES], sk[NODE_SECRET_KEY_BYTES];
    uint64_t seq; /* the last sequence number signed */
};

/* One pre-signed transaction and what the benchmark saw of it. */
struct load_tx {
    struct node_buf envelope;
    uint8_t id[NODE_HASH_BYTES];
    double sent_s;      /* handed to the kernel; 0 until then */
    double committed_s; /* its ledger first seen; 0 until then */
    int status;         /* HTTP status of the answer; 0 if none */
};

/* Load account k's key pair, from a seed that depends on k only. */
static void load_account_keys(int k, struct account *a)
{
    char label[64];
    uint8_t seed[NODE_KEY_SEED_BYTES];
    int len = snprintf(label, sizeof label, "nanum bench-network load account %d", k);
    crypto_generichash(seed, sizeof seed, (const uint8_t *)label, (size_t)len, NULL, 0);
    crypto_sign_seed_keypair(a->pk, a->sk, seed);
    sodium_memzero(seed, sizeof seed);
}

/* Signs a pay of amount from `from` (its next seq) to `to` into t. */
static int sign_pay(const struct network *n, struct account *from, const uint8_t to[NODE_KEY_BYTES],
                    uint64_t amount, struct load_tx *t)
{
    struct node_tx tx = {.version = NODE_TX_VERSION, .type = NODE_TX_PAY, .seq = ++from->seq, .fee = FEE_MINOR};
    memcpy(tx.source, from->pk, NODE_KEY_BYTES);
    memcpy(tx.body.pay.destination, to, NODE_KEY_BYTES);
    tx.body.pay.amount = amount;
    struct node_tx_envelope env;
    memset(t, 0, sizeof *t);
    node_buf_init(&t->envelope);
    if (node_tx_sign(&tx, n->network_id, from->sk, &env) != 0 || node_envelope_encode(&env, &t->envelope) != 0 ||
        node_tx_hash(&tx, n->network_id, t->id) != 0)
        return -1;
    return 0;
}

/* Frees txs[0..count) and the array (NULL-safe). */
static void free_txs(struct load_tx *txs, size_t count)
{
    for (size_t i = 0; txs != NULL && i < count; i++)
        node_buf_free(&txs[i].envelope);
    free(txs);
}

/* Reads account a's seq from the node (404: not created yet, seq 0). */
static int refresh_seq(struct http_client *c, struct account *a)
{
    char address[NODE_ADDRESS_TEXT_BYTES + 1], path[128];
    node_address_encode(a->pk, address);
    snprintf(path, sizeof path, "/v1/accounts/%s", address);
    json_t *obj = http_get_json(c, path);
    json_t *seq = json_object_get(obj, "seq");
    bool found = json_is_integer(seq);
    if (found)
        a->seq = (uint64_t)json_integer_value(seq);
    json_decref(obj);
    return found ? 0 : -1;
}

/* Waits until the node reports tx id committed or failed; 0 if committed. */
static int wait_tx_committed(struct http_client *c, const uint8_t id[NODE_HASH_BYTES], double deadline_s)
{
    char hex[2 * NODE_HASH_BYTES + 1], path[128];
    node_hex_encode(id, NODE_HASH_BYTES, hex);
    snprintf(path, sizeof path, "/v1/tx/%s", hex);
    while (now_s() < deadline_s && !interrupted) {
        json_t *obj = http_get_json(c, path);
        const char *status = json_string_value(json_object_get(obj, "status"));
        int done = status == NULL ? 0 : strcmp(status, "committed") == 0 ? 1 : strcmp(status, "failed") == 0 ? -1 : 0;
        json_decref(obj);
        if (done != 0)
            return done == 1 ? 0 : -1;
        pause_ms(20);
    }
    return -1;
}

/* Submits count pre-signed transactions to c; 0 if each was admitted. */
static int submit_all(struct http_client *c, struct load_tx *txs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const char *body;
        size_t len;
        int status = http_call(c, "POST", "/v1/tx", txs[i].envelope.data, txs[i].envelope.len, &body, &len);
        if (status != 202 && status != 200) {
            fprintf(stderr, "bench-network: funding pay refused with %d: %.*s\n", status,
                    status > 0 ? (int)len : 0, status > 0 ? body : "");
            return -1;
        }
    }
    return 0;
}

/* Creates the load accounts with FUND_AMOUNT_MINOR each from the operator
 * wallet, a batch at a time (the mempool takes at most 64 sequence numbers
 * ahead of an account), waiting for each batch to commit. */
static int fund_accounts(struct network *n, struct account *load)
{
    char path[PATH_MAX + 32], err[256];
    struct account op = {0};
    snprintf(path, sizeof path, "%s/wallets/operator.key", n->dir);
    snprintf(err, sizeof err, "node1 does not know the operator account");
    if (node_key_file_load(path, NODE_KEY_KIND_WALLET_PLAIN, op.pk, op.sk, err, sizeof err) < 0 ||
        refresh_seq(&n->api[0], &op) != 0) {
        fprintf(stderr, "bench-network: operator wallet: %s\n", err);
        return -1;
    }
    int rc = 0;
    for (int first = 0; first < LOAD_ACCOUNTS && rc == 0; first += FUND_BATCH_MAX) {
        int count = LOAD_ACCOUNTS - first < FUND_BATCH_MAX ? LOAD_ACCOUNTS - first : FUND_BATCH_MAX;
        struct load_tx *batch = calloc((size_t)count, sizeof *batch);
        for (int i = 0; batch != NULL && i < count && rc == 0; i++)
            rc = sign_pay(n, &op, load[first + i].pk, FUND_AMOUNT_MINOR, &batch[i]);
        if (batch == NULL || rc != 0 || submit_all(&n->api[0], batch, (size_t)count) != 0 ||
            wait_tx_committed(&n->api[0], batch[count - 1].id, now_s() + FUND_WAIT_MS / 1000.0) != 0)
            rc = -1;
        free_txs(batch, (size_t)count);
    }
    sodium_memzero(op.sk, sizeof op.sk);
    if (rc != 0)
        fputs("bench-network: funding the load accounts failed\n", stderr);
    return rc;
}

/* Reads every load account's seq from node 1 (so a tx lost in one rate does
 * not leave a gap in the next). */
static int refresh_load_seqs(struct network *n, struct account *load)
{
    for (int k = 0; k < LOAD_ACCOUNTS; k++)
        if (refresh_seq(&n->api[0], &load[k]) != 0) {
            fprintf(stderr, "bench-network: load account %d is missing on node1\n", k);
            return -1;
        }
    return 0;
}

/* Pre-signs count pays, round-robin over the load accounts, each of 0.01 to
 * the next account.  Returns the array (caller frees with free_txs) or NULL. */
static struct load_tx *presign(const struct network *n, struct account *load, size_t count)
{
    struct load_tx *txs = calloc(count ? count : 1, sizeof *txs);
    for (size_t i = 0; txs != NULL && i < count; i++) {
        struct account *from = &load[i % LOAD_ACCOUNTS];
        if (sign_pay(n, from, load[(i + 1) % LOAD_ACCOUNTS].pk, PAY_AMOUNT_MINOR, &txs[i]) != 0) {
            free_txs(txs, i + 1);
            return NULL;
        }
    }
    return txs;
}

/* Verifies per second of the whole machine over txs[0..count)
 * (verify_bound.h). */
static double verify_rate(const struct network *n, const struct load_tx *txs, size_t count)
{
    struct node_tx_envelope *decoded = malloc(count * sizeof *decoded);
    if (decoded == NULL)
        return 0;
    for (size_t i = 0; i < count; i++)
        node_envelope_decode(txs[i].envelope.data, txs[i].envelope.len, &decoded[i]);
    double rate = bench_verify_rate_all_cores(n->network_id, decoded, count, NULL);
    free(decoded);
    return rate;
}

/* --- Transaction ids → index ---------------------------------------------------- */

struct id_table {
    uint32_t *slots; /* index + 1; 0 is empty */
    size_t mask;
    const struct load_tx *txs;
};

/* The home slot of id (ids are hashes: their first bytes are uniform). */
static size_t id_slot(const uint8_t id[NODE_HASH_BYTES], size_t mask)
{
    uint64_t h;
    memcpy(&h, id, sizeof h);
    return (size_t)h & mask;
}

/* Builds the table of txs[0..count) (open addressing, load ≤ 1/2). */
static int id_table_build(struct id_table *t, const struct load_tx *txs, size_t count)
{
    size_t size = 16;
    while (size < 2 * count)
        size *= 2;
    *t = (struct id_table){.slots = calloc(size, sizeof *t->slots), .mask = size - 1, .txs = txs};
    if (t->slots == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        size_t s = id_slot(txs[i].id, t->mask);
        while (t->slots[s] != 0)
            s = (s + 1) & t->mask;
        t->slots[s] = (uint32_t)i + 1;
    }
    return 0;
}

/* The index of id, or -1. */
static long id_table_find(const struct id_table *t, const uint8_t id[NODE_HASH_BYTES])
{
    for (size_t s = id_slot(id, t->mask); t->slots[s] != 0; s = (s + 1) & t->mask)
        if (memcmp(t->txs[t->slots[s] - 1].id, id, NODE_HASH_BYTES) == 0)
            return (long)t->slots[s] - 1;
    return -1;
}

/* --- The commit watcher (its own thread) ---------------------------------------- */

struct watcher {
    struct http_client client;   /* node 1; this thread only */
    struct load_tx *txs;
    struct id_table table;
    long long start_height;      /* ledgers above it belong to this rate */
    long long seen_height;       /* written by the watcher only */
    atomic_size_t committed, failed;
    atomic_bool stop;
    double last_commit_s;
    pthread_t thread;
};

/* Records the commits of ledger height, first seen at seen_s. */
static int watch_ledger(struct watcher *w, long long height, double seen_s)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/ledgers/%lld?brief=1", height);
    json_t *ledger = http_get_json(&w->client, path);
    if (ledger == NULL)
        return -1;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(ledger, "transactions"), i, t) {
        const char *hex = json_string_value(json_object_get(t, "hash"));
        uint8_t id[NODE_HASH_BYTES];
        long index = hex != NULL && strlen(hex) == 2 * NODE_HASH_BYTES && node_hex_decode(hex, id, sizeof id) == 0
                         ? id_table_find(&w->table, id) : -1;
        if (index < 0 || w->txs[index].committed_s != 0)
            continue;
        w->txs[index].committed_s = seen_s;
        w->last_commit_s = seen_s;
        const char *result = json_string_value(json_object_get(t, "result"));
        if (result == NULL || strcmp(result, "ok") != 0)
            atomic_fetch_add(&w->failed, 1);
        atomic_fetch_add(&w->committed, 1);
    }
    json_decref(ledger);
    return 0;
}

/* Every WATCH_INTERVAL_MS: asks node 1's height and reads each new ledger. */
static void *watch_main(void *arg)
{
    struct watcher *w = arg;
    while (!atomic_load(&w->stop) && !interrupted) {
        long long height = node_height(&w->client);
        double seen_s = now_s();
        while (w->seen_height < height && watch_ledger(w, w->seen_height + 1, seen_s) == 0)
            w->seen_height++;
        pause_ms(WATCH_INTERVAL_MS);
    }
    return NULL;
}

/* Starts watching node 1 for txs[0..count) above the current height. */
static int watcher_start(struct watcher *w, const struct network *n, struct load_tx *txs, size_t count)
{
    memset(w, 0, sizeof *w);
    w->client = (struct http_client){.port = api_port(n, 0), .fd = -1};
    w->txs = txs;
    atomic_init(&w->committed, 0);
    atomic_init(&w->failed, 0);
    atomic_init(&w->stop, false);
    w->start_height = w->seen_height = node_height(&w->client);
    if (w->start_height < 0 || id_table_build(&w->table, txs, count) != 0)
        return -1;
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        free(w->table.slots);
        return -1;
    }
    return 0;
}

/* Stops and joins the watcher; its counts stay readable. */
static void watcher_stop(struct watcher *w)
{
    atomic_store(&w->stop, true);
    pthread_join(w->thread, NULL);
    http_client_close(&w->client);
    free(w->table.slots);
}

/* --- The open-loop sender -------------------------------------------------------- */

/* One keep-alive connection: transactions assigned to it wait in ring[]
 * (counters grow forever; index mod RING_MAX): [answered, written) are in
 * flight, [written, assigned) wait to be written. */
struct load_conn {
    uint16_t port;
    int fd;
    uint32_t ring[RING_MAX];
    uint64_t answered, written, assigned;
    char out[OUT_BATCH_BYTES];
    size_t out_len, out_done; /* requests ring[written ..] in one buffer, partly written */
    size_t out_ends[PIPELINE_MAX]; /* where each buffered request ends */
    unsigned out_count;
    char in[INPUT_BYTES_MAX];
    size_t in_len;
};

struct load_counts {
    size_t admitted, errors, reconnects, overflow;
};

/* Starts c over: closes it, puts every unanswered tx back to be written. */
static void load_conn_reset(struct load_conn *c, struct load_counts *counts)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = connect_loopback(c->port, false);
    c->written = c->answered;
    c->out_len = c->out_done = c->in_len = 0;
    c->out_count = 0;
    counts->reconnects++;
}

/* Writes waiting requests until the socket is full or PIPELINE_MAX are in
 * flight: as many as are due go into one buffer and one send() (one system
 * call per turn, not per request: the client must not steal the CPU the
 * validators are measured on).  A request's send time is when its last byte
 * was handed to the kernel. */
static int load_conn_write(struct load_conn *c, struct load_tx *txs)
{
    for (;;) {
        if (c->out_len == 0) {
            c->out_count = 0;
            while (c->written + c->out_count < c->assigned &&
                   c->written + c->out_count - c->answered < PIPELINE_MAX) {
                struct load_tx *t = &txs[c->ring[(c->written + c->out_count) % RING_MAX]];
                if (c->out_len + REQUEST_BYTES_MAX > sizeof c->out)
                    break;
                int head = snprintf(c->out + c->out_len, REQUEST_BYTES_MAX,
                                    "POST /v1/tx HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/msgpack\r\n"
                                    "Content-Length: %zu\r\n\r\n",
                                    t->envelope.len);
                memcpy(c->out + c->out_len + head, t->envelope.data, t->envelope.len);
                c->out_len += (size_t)head + t->envelope.len;
                c->out_ends[c->out_count++] = c->out_len;
            }
            if (c->out_count == 0)
                return 0;
        }
        ssize_t n = send(c->fd, c->out + c->out_done, c->out_len - c->out_done, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->out_done += (size_t)n;
        double now = now_s();
        unsigned done = 0;
        while (done < c->out_count && c->out_ends[done] <= c->out_done) {
            struct load_tx *t = &txs[c->ring[(c->written + done) % RING_MAX]];
            if (t->sent_s == 0)
                t->sent_s = now;
            done++;
        }
        if (c->out_done < c->out_len) {
            if (done > 0) { /* keep the unsent tail at the front */
                size_t cut = c->out_ends[done - 1];
                memmove(c->out, c->out + cut, c->out_len - cut);
                c->out_len -= cut, c->out_done -= cut;
                for (unsigned i = done; i < c->out_count; i++)
                    c->out_ends[i - done] = c->out_ends[i] - cut;
                c->out_count -= done;
                c->written += done;
            }
            return 0;
        }
        c->written += done;
        c->out_len = c->out_done = 0;
        c->out_count = 0;
    }
}

/* Reads and counts complete responses; -1 when the connection must be reset. */
static int load_conn_read(struct load_conn *c, struct load_tx *txs, struct load_counts *counts)
{
    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        return -1;
    c->in_len += n > 0 ? (size_t)n : 0;
    int status;
    size_t head_len, body_len;
    bool closes;
    int parsed;
    while ((parsed = parse_head(c->in, c->in_len, &status, &head_len, &body_len, &closes)) == 1 &&
           c->in_len >= head_len + body_len) {
        if (c->answered == c->written)
            return -1; /* an answer to nothing we asked */
        txs[c->ring[c->answered % RING_MAX]].status = status;
        c->answered++;
        if (status == 202 || status == 200)
            counts->admitted++;
        else
            counts->errors++;
        memmove(c->in, c->in + head_len + body_len, c->in_len - head_len - body_len);
        c->in_len -= head_len + body_len;
        if (closes)
            return -1;
    }
    return parsed < 0 ? -1 : 0;
}

/* Assigns every tx due by now_s (tx i is due at start + i/rate) to its
 * connection; returns the next index not yet due. */
static size_t assign_due(struct load_conn *conns, size_t next, size_t count, double start_s, double rate,
                         double now, struct load_counts *counts)
{
    for (; next < count && start_s + (double)next / rate <= now; next++) {
        struct load_conn *c = &conns[next % CONNS_MAX];
        if (c->assigned - c->answered >= RING_MAX) {
            counts->overflow++;
            counts->errors++;
            continue;
        }
        c->ring[c->assigned % RING_MAX] = (uint32_t)next;
        c->assigned++;
    }
    return next;
}

/* One turn of I/O over every connection, waiting at most wait_s. */
static void load_poll(struct load_conn *conns, struct load_tx *txs, double wait_s, struct load_counts *counts)
{
    struct pollfd fds[CONNS_MAX];
    for (int k = 0; k < CONNS_MAX; k++) {
        struct load_conn *c = &conns[k];
        if (c->fd < 0 || load_conn_write(c, txs) != 0)
            load_conn_reset(c, counts);
        fds[k] = (struct pollfd){.fd = c->fd, .events = POLLIN};
        if (c->written < c->assigned && c->written - c->answered < PIPELINE_MAX)
            fds[k].events |= POLLOUT;
    }
    struct timespec ts = timespec_of(wait_s);
    if (ppoll(fds, CONNS_MAX, &ts, NULL) <= 0)
        return;
    for (int k = 0; k < CONNS_MAX; k++) {
        if (fds[k].revents & (POLLIN | POLLERR | POLLHUP))
            if (load_conn_read(&conns[k], txs, counts) != 0)
                load_conn_reset(&conns[k], counts);
        if (conns[k].fd >= 0 && load_conn_write(&conns[k], txs) != 0)
            load_conn_reset(&conns[k], counts);
    }
}

/* True when every assigned tx has been answered. */
static bool all_answered(const struct load_conn *conns)
{
    for (int k = 0; k < CONNS_MAX; k++)
        if (conns[k].answered < conns[k].assigned)
            return false;
    return true;
}

/* Sends txs[0..count) open loop at rate over CONNS_PER_NODE connections per
 * node (connection k to node k mod 4), then waits ANSWER_WAIT_MS at most for
 * the last answers. */
static void send_load(const struct network *n, struct load_tx *txs, size_t count, double rate,
                      struct load_counts *counts)
{
    struct load_conn *conns = calloc(CONNS_MAX, sizeof *conns);
    if (conns == NULL) {
        counts->errors += count;
        return;
    }
    for (int k = 0; k < CONNS_MAX; k++) {
        conns[k].port = api_port(n, k % VALIDATORS);
        conns[k].fd = connect_loopback(conns[k].port, false);
    }
    double start_s = now_s() + 0.01, deadline_s = start_s + (double)count / rate + ANSWER_WAIT_MS / 1000.0;
    size_t next = 0;
    while (!interrupted && now_s() < deadline_s && (next < count || !all_answered(conns))) {
        next = assign_due(conns, next, count, start_s, rate, now_s(), counts);
        double due_s = next < count ? start_s + (double)next / rate - now_s() : 0.005;
        load_poll(conns, txs, due_s > 0.001 ? due_s : 0.001, counts); /* a turn per ms at most */
    }
    for (int k = 0; k < CONNS_MAX; k++) {
        counts->errors += conns[k].assigned - conns[k].answered; /* never answered */
        if (conns[k].fd >= 0)
            close(conns[k].fd);
    }
    free(conns);
}

/* --- One rate ------------------------------------------------------------------------ */

struct rate_result {
    double offered, sent, committed_per_s, p50_ms, p99_ms, bound, ratio;
    double admitted, errors, committed, failed, ledgers;
    bool identical;
};

/* Waits until every node reaches height, then compares the hash of every
 * ledger in (from, to] across them. */
static bool hashes_identical(struct network *n, long long from, long long to)
{
    double deadline = now_s() + CATCH_UP_WAIT_MS / 1000.0;
    for (int k = 0; k < VALIDATORS; k++)
        while (node_height(&n->api[k]) < to)
            if (now_s() > deadline || interrupted)
                return false;
            else
                pause_ms(20);
    for (long long h = from + 1; h <= to; h++) {
        char path[64], first[2 * NODE_HASH_BYTES + 1] = "";
        snprintf(path, sizeof path, "/v1/ledgers/%lld?brief=1", h);
        for (int k = 0; k < VALIDATORS; k++) {
            json_t *ledger = http_get_json(&n->api[k], path);
            const char *hash = json_string_value(json_object_get(ledger, "hash"));
            bool same = hash != NULL && (k == 0 || strcmp(hash, first) == 0);
            if (same && k == 0)
                snprintf(first, sizeof first, "%s", hash);
            json_decref(ledger);
            if (!same) {
                fprintf(stderr, "bench-network: ledger %lld differs on node%d\n", h, k + 1);
                return false;
            }
        }
    }
    return true;
}

/* Waits (COMMIT_WAIT_MS after the last send at most) until the watcher has
 * seen every admitted tx committed. */
static void wait_commits(struct watcher *w, size_t admitted)
{
    double deadline = now_s() + COMMIT_WAIT_MS / 1000.0;
    while (atomic_load(&w->committed) < admitted && now_s() < deadline && !interrupted)
        pause_ms(WATCH_INTERVAL_MS);
}

/* Latency percentiles of the committed txs, the rate they were sent at, and
 * the committed rate over first send → last commit seen. */
static void summarise(const struct load_tx *txs, size_t count, double last_commit_s, struct rate_result *r)
{
    double *lat = malloc((count ? count : 1) * sizeof *lat), first_send_s = 0, last_send_s = 0;
    size_t m = 0;
    for (size_t i = 0; lat != NULL && i < count; i++) {
        if (txs[i].sent_s == 0)
            continue;
        if (first_send_s == 0 || txs[i].sent_s < first_send_s)
            first_send_s = txs[i].sent_s;
        if (txs[i].sent_s > last_send_s)
            last_send_s = txs[i].sent_s;
        if (txs[i].committed_s != 0)
            lat[m++] = (txs[i].committed_s - txs[i].sent_s) * 1000;
    }
    qsort(lat, m, sizeof *lat, compare_double);
    r->p50_ms = percentile(lat, m, 0.50);
    r->p99_ms = percentile(lat, m, 0.99);
    r->sent = last_send_s > first_send_s ? (double)count / (last_send_s - first_send_s) : 0;
    r->committed_per_s = last_commit_s > first_send_s ? r->committed / (last_commit_s - first_send_s) : 0;
    free(lat);
}

/* Runs one rate for seconds; fills r.  Returns 0, or -1 if it could not run. */
/* The bound (verify/s of all cores ÷ validators) from the sample. */
static double bound_now(const struct network *n, const struct load_tx *sample)
{
    return verify_rate(n, sample, VERIFY_SAMPLE) / VALIDATORS;
}

/* One rate.  The bound is measured just before the load and again once the
 * nodes are idle after it, and the two are averaged: this machine's speed
 * drifts by a third over minutes (shared host), so one measurement taken
 * away from the run misstates the bound the run had. */
static int run_rate(struct network *n, struct account *load, const struct load_tx *sample, double rate,
                    double seconds, struct rate_result *r)
{
    size_t count = (size_t)(rate * seconds);
    if (refresh_load_seqs(n, load) != 0)
        return -1;
    struct load_tx *txs = presign(n, load, count);
    struct watcher *w = malloc(sizeof *w);
    if (txs == NULL || w == NULL || watcher_start(w, n, txs, count) != 0) {
        free_txs(txs, count);
        free(w);
        return -1;
    }
    struct load_counts counts = {0};
    double bound_before = bound_now(n, sample);
    send_load(n, txs, count, rate, &counts);
    wait_commits(w, counts.admitted);
    watcher_stop(w);
    *r = (struct rate_result){.offered = rate, .admitted = (double)counts.admitted,
                              .errors = (double)counts.errors, .committed = (double)atomic_load(&w->committed),
                              .failed = (double)atomic_load(&w->failed),
                              .ledgers = (double)(w->seen_height - w->start_height)};
    summarise(txs, count, w->last_commit_s, r);
    r->identical = hashes_identical(n, w->start_height, w->seen_height);
    double bound_after = bound_now(n, sample);
    r->bound = (bound_before + bound_after) / 2;
    r->ratio = r->bound > 0 ? r->committed_per_s / r->bound : 0;
    size_t refused_400 = 0, refused_503 = 0, refused_other = 0;
    for (size_t i = 0; i < count; i++) {
        int status = txs[i].status;
        if (status == 400)
            refused_400++;
        else if (status == 503)
            refused_503++;
        else if (status != 0 && status != 200 && status != 202)
            refused_other++;
    }
    fprintf(stderr, "bench-network: %.0f tx/s offered: %.0f admitted, %.0f committed at %.0f tx/s, "
                    "p50 %.1f ms, p99 %.1f ms, %.0f ledgers, %zu reconnects; bound %.0f before, %.0f after; "
                    "refused: %zu 400, %zu 503, %zu other, %zu not sent (client queue full)\n",
            rate, r->admitted, r->committed, r->committed_per_s, r->p50_ms, r->p99_ms, r->ledgers, counts.reconnects,
            bound_before, bound_after, refused_400, refused_503, refused_other, counts.overflow);
    free_txs(txs, count);
    free(w);
    return interrupted ? -1 : 0;
}

/* --- Output ---------------------------------------------------------------------------- */

/* The median over runs[0..run_count) of the double at offset in each result. */
static double median_of(const struct rate_result *runs, int run_count, size_t offset)
{
    double v[RUNS_MAX];
    for (int r = 0; r < run_count; r++)
        v[r] = *(const double *)((const char *)&runs[r] + offset);
    return median(v, run_count);
}

/* Prints the medians over runs of one rate as one JSON line. */
static void print_rate(const struct rate_result *runs, int run_count)
{
    bool identical = true;
#define MEDIAN_OF(field) median_of(runs, run_count, offsetof(struct rate_result, field))
    for (int r = 0; r < run_count; r++)
        identical = identical && runs[r].identical;
    json_t *o = json_object();
    json_object_set_new(o, "validators", json_integer(VALIDATORS));
    json_object_set_new(o, "offered_tx_per_s", json_integer((json_int_t)runs[0].offered));
    json_object_set_new(o, "sent_tx_per_s", json_integer((json_int_t)rounded(MEDIAN_OF(sent), 1)));
    json_object_set_new(o, "committed_tx_per_s", json_integer((json_int_t)rounded(MEDIAN_OF(committed_per_s), 1)));
    json_object_set_new(o, "latency_ms_p50", json_real(rounded(MEDIAN_OF(p50_ms), 0.1)));
    json_object_set_new(o, "latency_ms_p99", json_real(rounded(MEDIAN_OF(p99_ms), 0.1)));
    json_object_set_new(o, "verify_bound_per_s", json_integer((json_int_t)rounded(MEDIAN_OF(bound), 1)));
    json_object_set_new(o, "ratio", json_real(rounded(MEDIAN_OF(ratio), 0.001)));
    json_object_set_new(o, "identical_ledger_hashes", json_boolean(identical));
    json_object_set_new(o, "admitted", json_integer((json_int_t)MEDIAN_OF(admitted)));
    json_object_set_new(o, "committed", json_integer((json_int_t)MEDIAN_OF(committed)));
    json_object_set_new(o, "failed", json_integer((json_int_t)MEDIAN_OF(failed)));
    json_object_set_new(o, "errors", json_integer((json_int_t)MEDIAN_OF(errors)));
    json_object_set_new(o, "ledgers", json_integer((json_int_t)MEDIAN_OF(ledgers)));
    json_object_set_new(o, "runs", json_integer(run_count));
#undef MEDIAN_OF
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (text != NULL)
        printf("%s\n", text);
    fflush(stdout);
    free(text);
    json_decref(o);
}

/* --- Arguments, setup, main ----------------------------------------------------------- */

struct options {
    char nanumd[PATH_MAX];
    char dir[PATH_MAX];
    double rates[RATES_MAX];
    int rate_count, runs;
    double seconds;
};

/* Parses "250,500,..." into o->rates; false if any is not a positive number. */
static bool parse_rates(const char *text, struct options *o)
{
    o->rate_count = 0;
    for (const char *p = text; *p != '\0' && o->rate_count < RATES_MAX;) {
        char *end;
        double rate = strtod(p, &end);
        if (end == p || rate <= 0 || (*end != ',' && *end != '\0'))
            return false;
        o->rates[o->rate_count++] = rate;
        p = *end == ',' ? end + 1 : end;
    }
    return o->rate_count > 0;
}

/* The default nanumd: ../../node/nanumd beside this executable. */
static void default_nanumd(char *out)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    snprintf(out, PATH_MAX, "%.*s/../../node/nanumd", PATH_MAX - 32, self);
}

/* Reads the options; false (after printing the usage) on anything unknown. */
static bool parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.runs = 1, .seconds = 5};
    default_nanumd(o->nanumd);
    bool ok = parse_rates("250,500,1000,2000,4000", o);
    for (int i = 1; ok && i < argc; i += 2) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (value == NULL)
            ok = false;
        else if (strcmp(argv[i], "--nanumd") == 0)
            snprintf(o->nanumd, sizeof o->nanumd, "%s", value);
        else if (strcmp(argv[i], "--dir") == 0)
            snprintf(o->dir, sizeof o->dir, "%s", value);
        else if (strcmp(argv[i], "--rates") == 0)
            ok = parse_rates(value, o);
        else if (strcmp(argv[i], "--seconds") == 0)
            ok = (o->seconds = atof(value)) > 0;
        else if (strcmp(argv[i], "--runs") == 0)
            ok = (o->runs = atoi(value)) >= 1 && o->runs <= RUNS_MAX;
        else
            ok = false;
    }
    if (!ok)
        fputs("usage: bench-network [--nanumd PATH] [--rates R1,R2,...] [--seconds S] [--dir DIR] [--runs R]\n",
              stderr);
    return ok;
}

/* nftw callback: removes one entry, children first (FTW_DEPTH). */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Writes the testnet, starts it and funds the load accounts. */
static int setup(struct network *n, struct account *load)
{
    if (write_testnet(n) != 0 || start_network(n) != 0)
        return -1;
    for (int k = 0; k < LOAD_ACCOUNTS; k++)
        load_account_keys(k, &load[k]);
    return fund_accounts(n, load);
}

/* Runs every sweep; results[rate][run]. */
static int sweep(struct network *n, struct account *load, const struct options *o,
                 struct rate_result results[RATES_MAX][RUNS_MAX])
{
    struct load_tx *sample = presign(n, load, VERIFY_SAMPLE); /* never submitted */
    if (sample == NULL)
        return -1;
    for (int k = 0; k < LOAD_ACCOUNTS; k++)
        load[k].seq = 0; /* the sample's seqs were never used; refreshed below */
    int rc = 0;
    for (int run = 0; rc == 0 && run < o->runs; run++)
        for (int i = 0; rc == 0 && i < o->rate_count; i++)
            rc = run_rate(n, load, sample, o->rates[i], o->seconds, &results[i][run]);
    free_txs(sample, VERIFY_SAMPLE);
    return rc;
}

int main(int argc, char **argv)
{
    static struct options o;
    static struct network n;
    static struct account load[LOAD_ACCOUNTS];
    static struct rate_result results[RATES_MAX][RUNS_MAX];
    if (!parse_options(argc, argv, &o) || node_crypto_init() != 0)
        return 64;
    install_signal_handlers();
    snprintf(n.nanumd, sizeof n.nanumd, "%s", o.nanumd);
    char made[] = "/tmp/nanum-bench-network-XXXXXX";
    if (o.dir[0] == '\0' && mkdtemp(made) != NULL) {
        snprintf(o.dir, sizeof o.dir, "%s", made);
        n.made_dir = true;
    }
    snprintf(n.dir, sizeof n.dir, "%s", o.dir);
    for (int k = 0; k < VALIDATORS; k++)
        n.api[k] = (struct http_client){.fd = -1};
    int rc = n.dir[0] != '\0' && setup(&n, load) == 0 && sweep(&n, load, &o, results) == 0 ? 0 : 1;
    for (int i = 0; rc == 0 && i < o.rate_count; i++)
        print_rate(results[i], o.runs);
    stop_nodes();
    for (int k = 0; k < VALIDATORS; k++)
        http_client_close(&n.api[k]);
    sodium_memzero(load, sizeof load);
    /* A failure keeps the logs to read; a finished or interrupted run leaves nothing. */
    if (rc != 0 && !interrupted)
        fprintf(stderr, "bench-network: failed; logs kept in %s\n", n.dir);
    else if (n.made_dir)
        nftw(n.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return interrupted ? 130 : rc;
}
