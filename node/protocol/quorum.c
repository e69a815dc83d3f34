/*
 * quorum.c — quorum sets from the validator set, and their intersection
 * check through consensus/'s checker (node/protocol/protocol.h).
 */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

struct org_count {
    uint8_t org[NODE_KEY_BYTES];
    uint32_t count;
};

int node_quorum_build(const struct node_validator_set *set, uint64_t threshold_bp, struct scp_qset **out)
{
    uint32_t orgs = 0;
    struct org_count *list = calloc(set->count ? set->count : 1, sizeof *list);
    if (list == NULL)
        return NODE_E_NOMEM;
    for (uint32_t i = 0; i < set->count; i++) {
        uint32_t k = 0;
        while (k < orgs && memcmp(list[k].org, set->validators[i].org, NODE_KEY_BYTES) != 0)
            k++;
        if (k == orgs)
            memcpy(list[orgs++].org, set->validators[i].org, NODE_KEY_BYTES);
        list[k].count++;
    }
    /* One block: the top set, the inner sets, then every id. */
    size_t bytes = sizeof(struct scp_qset) * (1 + orgs) + (size_t)set->count * SCP_NODE_ID_BYTES;
    uint8_t *block = calloc(1, bytes);
    if (block == NULL) {
        free(list);
        return NODE_E_NOMEM;
    }
    struct scp_qset *top = (struct scp_qset *)block;
    struct scp_qset *inner = top + 1;
    uint8_t (*ids)[SCP_NODE_ID_BYTES] = (uint8_t(*)[SCP_NODE_ID_BYTES])(inner + orgs);
    uint32_t used = 0;
    for (uint32_t k = 0; k < orgs; k++) {
        inner[k].validators = (const uint8_t(*)[SCP_NODE_ID_BYTES])&ids[used];
        for (uint32_t i = 0; i < set->count; i++)
            if (memcmp(set->validators[i].org, list[k].org, NODE_KEY_BYTES) == 0)
                memcpy(ids[used++], set->validators[i].node_key, SCP_NODE_ID_BYTES);
        inner[k].validators_count = list[k].count;
        inner[k].threshold = list[k].count / 2 + 1;
    }
    uint64_t t = (uint64_t)orgs * threshold_bp / 10000 + 1;
    top->inner = inner;
    top->inner_count = orgs;
    top->threshold = (uint32_t)(t < orgs ? t : orgs);
    free(list);
    *out = top;
    return 0;
}

/*
 * Every validator shares one quorum set Q, so a set of validators is a
 * quorum exactly when it satisfies Q: it holds a majority of t orgs.  Two
 * majorities of one org always share a validator, so two quorums can miss
 * each other only by using 2t different orgs: intersection holds exactly
 * when 2t > n.  This closed form gives the general checker's answer
 * (tests/node/test_quorum.c compares them) at no cost, where the general
 * search grows exponentially with mutually dependent orgs.
 */
bool node_quorum_intersects(const struct node_validator_set *set, uint64_t threshold_bp)
{
    struct scp_qset *qset;
    if (set->count == 0 || node_quorum_build(set, threshold_bp, &qset) != 0)
        return false;
    bool intersects = qset->inner_count > 0 && 2 * (uint64_t)qset->threshold > qset->inner_count;
    free(qset);
    return intersects;
}
