/*
 * check_quorum.h — `nanumd check-quorum FILE`: does a network enjoy quorum
 * intersection?  Reads the network's quorum sets from JSON in stellar-core's
 * format or stellarbeat's node list, prints the verdict (and two disjoint
 * quorums when there are some).  Read check_quorum.c next; the checker
 * itself is scp_check_intersection() in consensus/consensus.h.
 */
#ifndef NANUM_NODE_CHECK_QUORUM_H
#define NANUM_NODE_CHECK_QUORUM_H

/* Exit codes of the subcommand. */
#define NANUMD_CHECK_QUORUM_INTERSECTS 0
#define NANUMD_CHECK_QUORUM_SPLIT 1
#define NANUMD_CHECK_QUORUM_BAD_INPUT 2

/* Runs the subcommand: argv[0] is "check-quorum", argv[1] the JSON file.
 * Prints to stdout (verdict) and stderr (problems); returns the exit code. */
int nanumd_check_quorum(int argc, char **argv);

#endif
