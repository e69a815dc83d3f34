/*
 * quorum.h — the network's quorum sets, derived from the ledger's validator
 * set, and the check that they keep quorum intersection (DESIGN §5).
 *
 * Every validator uses the same quorum set: one inner set per org, needing a
 * simple majority of that org's validators; at the top, t of the n orgs with
 * t = ⌊n × quorum_threshold_bp / 10,000⌋ + 1 (at most n).  The default
 * 6,667 bp gives t = ⌊2n/3⌋ + 1 for every n up to the validator limit: any
 * two quorums then share an org's majority even with ⌊(n−1)/3⌋ orgs faulty.
 * A lower threshold, chosen by governance, may lose intersection; the
 * ledger refuses such a change (node/governance.c).
 */
#ifndef NANUM_QUORUM_H
#define NANUM_QUORUM_H

#include "consensus.h"
#include "protocol.h"

/* Builds the quorum set of set with the threshold parameter into one heap
 * block (free with free()). */
int node_quorum_build(const struct node_validator_set *set, uint64_t threshold_bp, struct scp_qset **out);

/* true if every two quorums of the network intersect (false also when the
 * quorum set cannot be built).  Exact and linear: see node/quorum.c. */
bool node_quorum_intersects(const struct node_validator_set *set, uint64_t threshold_bp);

#endif
