/*
 * txgen.c — signs transactions for the multi-process tests and benchmarks,
 * with the demo wallets a `nanumd testnet` directory holds.
 *
 *   txgen --dir DIR [--seq NAME=N]... [--fee F] pays COUNT
 *       COUNT pays round-robin among the member wallets, one line each:
 *       "<tx id hex> <envelope hex>".  Sequences start after --seq values
 *       (default 0: fresh accounts).
 *   txgen --dir DIR [--seq NAME=N] [--fee F] [--bad-signature]
 *         [--wrong-network] pay FROM TO AMOUNT
 *       One pay (TO is a wallet name or an address).
 *   txgen --dir DIR [--seq NAME=N] propose-param FROM PARAM VALUE
 *   txgen --dir DIR [--seq NAME=N] propose-validator FROM NODE_KEY ORG ADDRESS_HINT
 *   txgen --dir DIR [--seq NAME=N] vote FROM PROPOSAL_ID yes|no
 *       Governance (NODE_KEY is an address; ORG a wallet name).
 *
 * It uses node/'s own codec and signing: the tests exercise the node, not a
 * second implementation of the protocol.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "protocol.h"

#define WALLETS_MAX 64

struct wallet {
    char name[64];
    uint8_t pk[NODE_KEY_BYTES], sk[NODE_SECRET_KEY_BYTES];
    uint64_t seq;
    bool member;
};

static struct wallet wallets[WALLETS_MAX];
static int wallet_count;
static uint8_t network_id[NODE_HASH_BYTES];

static int load_testnet(const char *dir)
{
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/testnet.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        fprintf(stderr, "txgen: %s: %s\n", path, jerr.text);
        return -1;
    }
    node_hex_decode(json_string_value(json_object_get(root, "network_id")), network_id, NODE_HASH_BYTES);
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(root, "wallets"), i, w) {
        if (wallet_count == WALLETS_MAX)
            break;
        struct wallet *x = &wallets[wallet_count];
        snprintf(x->name, sizeof x->name, "%s", json_string_value(json_object_get(w, "name")));
        snprintf(path, sizeof path, "%s/%s", dir, json_string_value(json_object_get(w, "key")));
        if (node_key_file_load(path, "nanum-wallet-key-plain", x->pk, x->sk, err, sizeof err) < 0) {
            fprintf(stderr, "txgen: %s: %s\n", path, err);
            json_decref(root);
            return -1;
        }
        size_t k;
        json_t *role;
        json_array_foreach(json_object_get(w, "roles"), k, role)
            x->member = x->member || strcmp(json_string_value(role), "member") == 0;
        wallet_count++;
    }
    json_decref(root);
    return 0;
}

static struct wallet *find(const char *name)
{
    for (int i = 0; i < wallet_count; i++)
        if (strcmp(wallets[i].name, name) == 0)
            return &wallets[i];
    return NULL;
}

/* Signs tx as from (next sequence) and prints "<id hex> <envelope hex>". */
static int emit(struct wallet *from, struct node_tx *tx, bool bad_signature, bool wrong_network)
{
    tx->version = NODE_TX_VERSION;
    tx->seq = ++from->seq;
    memcpy(tx->source, from->pk, NODE_KEY_BYTES);
    uint8_t net[NODE_HASH_BYTES], id[NODE_HASH_BYTES];
    memcpy(net, network_id, sizeof net);
    if (wrong_network)
        net[0] ^= 0xff;
    struct node_tx_envelope env;
    struct node_buf b;
    node_buf_init(&b);
    if (node_tx_sign(tx, net, from->sk, &env) != 0)
        return -1;
    if (bad_signature)
        env.signature[10] ^= 0x01;
    if (node_envelope_encode(&env, &b) != 0 || node_tx_hash(tx, network_id, id) != 0)
        return -1;
    char id_hex[2 * NODE_HASH_BYTES + 1], *hex = malloc(2 * b.len + 1);
    node_hex_encode(id, NODE_HASH_BYTES, id_hex);
    node_hex_encode(b.data, b.len, hex);
    printf("%s %s\n", id_hex, hex);
    free(hex);
    node_buf_free(&b);
    return 0;
}

static int emit_pay(struct wallet *from, const uint8_t to[NODE_KEY_BYTES], uint64_t amount, uint64_t fee,
                    bool bad_signature, bool wrong_network)
{
    struct node_tx tx = {.type = NODE_TX_PAY, .fee = fee};
    memcpy(tx.body.pay.destination, to, NODE_KEY_BYTES);
    tx.body.pay.amount = amount;
    return emit(from, &tx, bad_signature, wrong_network);
}

/* The governance commands; argv points at the command name. */
static int governance(int argc, char **argv, uint64_t fee)
{
    struct wallet *from = argc > 1 ? find(argv[1]) : NULL;
    struct node_tx tx = {.fee = fee};
    struct node_proposal_body *p = &tx.body.gov_propose;
    if (from == NULL)
        return 64;
    if (strcmp(argv[0], "propose-param") == 0 && argc == 4 && node_param_id(argv[2]) >= 0) {
        tx.type = NODE_TX_GOV_PROPOSE;
        p->kind = NODE_PROPOSAL_PARAM_SET;
        snprintf(p->title, sizeof p->title, "set %s", argv[2]);
        p->u.param_set.param_id = (uint16_t)node_param_id(argv[2]);
        p->u.param_set.value = strtoull(argv[3], NULL, 10);
    } else if (strcmp(argv[0], "propose-validator") == 0 && argc == 5 && find(argv[3]) != NULL &&
               node_address_decode(argv[2], p->u.validator_add.node_key) == 0) {
        tx.type = NODE_TX_GOV_PROPOSE;
        p->kind = NODE_PROPOSAL_VALIDATOR_ADD;
        snprintf(p->title, sizeof p->title, "add a validator for %s", argv[3]);
        memcpy(p->u.validator_add.org, find(argv[3])->pk, NODE_KEY_BYTES);
        snprintf(p->u.validator_add.address, sizeof p->u.validator_add.address, "%s", argv[4]);
    } else if (strcmp(argv[0], "vote") == 0 && argc == 4) {
        tx.type = NODE_TX_GOV_VOTE;
        tx.body.gov_vote.proposal_id = strtoull(argv[2], NULL, 10);
        tx.body.gov_vote.yes = strcmp(argv[3], "yes") == 0;
    } else {
        return 64;
    }
    return emit(from, &tx, false, false) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    uint64_t fee = 1;
    bool bad_signature = false, wrong_network = false;
    int i = 1;
    char seqs[32][96];
    int seq_count = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--fee") == 0 && i + 1 < argc)
            fee = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seq") == 0 && i + 1 < argc && seq_count < 32)
            snprintf(seqs[seq_count++], sizeof seqs[0], "%s", argv[++i]);
        else if (strcmp(argv[i], "--bad-signature") == 0)
            bad_signature = true;
        else if (strcmp(argv[i], "--wrong-network") == 0)
            wrong_network = true;
        else
            break;
    }
    if (dir == NULL || i >= argc || node_crypto_init() != 0 || load_testnet(dir) != 0) {
        fputs("usage: txgen --dir DIR [--seq NAME=N]... [--fee F] pays COUNT | pay FROM TO AMOUNT\n", stderr);
        return 64;
    }
    for (int k = 0; k < seq_count; k++) {
        char *eq = strchr(seqs[k], '=');
        if (eq == NULL)
            return 64;
        *eq = '\0';
        struct wallet *w = find(seqs[k]);
        if (w != NULL)
            w->seq = strtoull(eq + 1, NULL, 10);
    }
    if (strcmp(argv[i], "pays") == 0 && i + 1 < argc) {
        long count = atol(argv[i + 1]);
        int members[WALLETS_MAX], m = 0;
        for (int k = 0; k < wallet_count; k++)
            if (wallets[k].member)
                members[m++] = k;
        for (long n = 0; n < count && m > 1; n++) {
            struct wallet *from = &wallets[members[n % m]];
            struct wallet *to = &wallets[members[(n + 1 + n / m) % m]];
            if (to == from)
                to = &wallets[members[(n + 1) % m]];
            if (emit_pay(from, to->pk, 1 + (uint64_t)(n % 100), fee, false, false) != 0)
                return 1;
        }
        return 0;
    }
    if (strcmp(argv[i], "pay") == 0 && i + 3 < argc) {
        struct wallet *from = find(argv[i + 1]), *to = find(argv[i + 2]);
        uint8_t dest[NODE_KEY_BYTES];
        uint64_t amount;
        if (from == NULL || (to == NULL && node_address_decode(argv[i + 2], dest) != 0) ||
            node_amount_parse(argv[i + 3], &amount) != 0) {
            fputs("txgen: unknown wallet, bad address or bad amount\n", stderr);
            return 64;
        }
        if (to != NULL)
            memcpy(dest, to->pk, NODE_KEY_BYTES);
        return emit_pay(from, dest, amount, fee, bad_signature, wrong_network) == 0 ? 0 : 1;
    }
    if (strncmp(argv[i], "propose-", 8) == 0 || strcmp(argv[i], "vote") == 0)
        return governance(argc - i, argv + i, fee);
    fputs("txgen: unknown command\n", stderr);
    return 64;
}
