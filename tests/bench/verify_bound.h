/*
 * verify_bound.h — the machine's Ed25519 verify rate, the bound the
 * benchmarks compare against.
 */
#ifndef NANUM_BENCH_VERIFY_BOUND_H
#define NANUM_BENCH_VERIFY_BOUND_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

/*
 * Verifies per second of the whole machine over envelopes[0..count): one
 * thread pinned to each online CPU, all at once, each checking every
 * envelope; the sum of their rates.  *cores gets the number of threads.
 * The cores of these machines are not alike (one verifies ~20k/s, the
 * other ~15k/s while both are busy), so one thread's rate × cores misstates
 * the machine by up to a third, depending on the core it ran on.  Prints a
 * warning if a signature fails.  0 when threads cannot be started.
 */
double bench_verify_rate_all_cores(const uint8_t network_id[static NODE_HASH_BYTES],
                                   const struct node_tx_envelope *envelopes, size_t count, long *cores);

#endif
