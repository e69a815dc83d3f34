/*
 * info.h — `nanumd info --config FILE`: a node's identity, network, height,
 * peers and quorum health, from its API or, when it is stopped, from its
 * data directory.  Read node/daemon/info.c next.
 */
#ifndef NANUM_NODE_INFO_H
#define NANUM_NODE_INFO_H

/* Runs the subcommand (argv[0] is "info").  Prints to stdout; exit code 0,
 * 64 (usage) or 1. */
int nanumd_info_main(int argc, char **argv);

#endif
