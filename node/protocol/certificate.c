/*
 * certificate.c — the one check of a ledger's certificate
 * (node/protocol/protocol.h, "The certificate check"; spec/node.md §7).
 *
 * Which validator set to check against is the caller's to find (the ledger
 * keeps the history: ledger_chain_validators_in_force; the wallet rebuilds
 * it from the genesis and the enacted proposals); what makes a certificate
 * valid against it is decided here only.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

bool node_validator_set_contains(const struct node_validator_set *set, const uint8_t key[static NODE_KEY_BYTES])
{
    uint32_t low = 0, high = set->count;
    while (low < high) {
        uint32_t mid = low + (high - low) / 2;
        int cmp = memcmp(set->validators[mid].node_key, key, NODE_KEY_BYTES);
        if (cmp == 0)
            return true;
        if (cmp < 0)
            low = mid + 1;
        else
            high = mid;
    }
    return false;
}

bool node_certificate_signature_valid(const uint8_t network_id[static NODE_HASH_BYTES],
                                      const uint8_t header_hash[static NODE_HASH_BYTES],
                                      const struct node_validator_set *in_force,
                                      const uint8_t key[static NODE_KEY_BYTES],
                                      const uint8_t signature[static NODE_SIGNATURE_BYTES])
{
    return node_validator_set_contains(in_force, key) &&
           node_verify(NODE_DOMAIN_HEADER, network_id, header_hash, NODE_HASH_BYTES, key, signature) == 0;
}

bool node_certificate_has_quorum(const struct node_certificate *cert, const struct node_validator_set *in_force,
                                 uint64_t threshold_bp)
{
    struct scp_qset *qset;
    uint8_t (*signers)[SCP_NODE_ID_BYTES] = malloc((cert->count ? cert->count : 1) * sizeof *signers);
    if (signers == NULL || in_force->count == 0 || node_quorum_build(in_force, threshold_bp, &qset) != 0) {
        free(signers);
        return false;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < cert->count; i++)
        if (node_validator_set_contains(in_force, cert->signers[i].node_key))
            memcpy(signers[n++], cert->signers[i].node_key, SCP_NODE_ID_BYTES);
    bool quorum = scp_qset_is_slice_satisfied(qset, (const uint8_t(*)[SCP_NODE_ID_BYTES])signers, n);
    free(qset);
    free(signers);
    return quorum;
}

int node_certificate_check(const uint8_t network_id[static NODE_HASH_BYTES],
                           const uint8_t header_hash[static NODE_HASH_BYTES],
                           const struct node_certificate *cert, const struct node_validator_set *in_force,
                           uint64_t threshold_bp, struct node_certificate_report *report)
{
    struct node_certificate_report local;
    if (report == NULL)
        report = &local;
    *report = (struct node_certificate_report){.bad_index = -1};
    for (uint32_t i = 0; i < cert->count; i++) {
        if (i > 0 && memcmp(cert->signers[i - 1].node_key, cert->signers[i].node_key, NODE_KEY_BYTES) >= 0)
            return NODE_E_BAD_VALUE; /* the codec refuses it; a caller's struct might not be */
        if (!node_validator_set_contains(in_force, cert->signers[i].node_key)) {
            report->ignored++;
            continue;
        }
        if (node_verify(NODE_DOMAIN_HEADER, network_id, header_hash, NODE_HASH_BYTES, cert->signers[i].node_key,
                        cert->signers[i].signature) != 0) {
            report->bad_index = i;
            return NODE_E_CERT_BAD_SIGNATURE;
        }
        report->counted++;
    }
    return node_certificate_has_quorum(cert, in_force, threshold_bp) ? 0 : NODE_E_CERT_NO_QUORUM;
}
