/*
 * log.h — the daemon's one logging macro: one line per event, key=value, to
 * stderr (DESIGN §7):
 *
 *   ts=2026-11-22T00:10:03.120Z level=info event=ledger_closed height=12 txs=40
 *
 * Only node/'s daemon parts log; the libraries return codes.
 */
#ifndef NANUM_LOG_H
#define NANUM_LOG_H

enum node_log_level { NODE_LOG_ERROR = 0, NODE_LOG_WARN, NODE_LOG_INFO, NODE_LOG_DEBUG };

extern int node_log_level;

/* Returns the level named "error", "warn", "info" or "debug", or -1. */
int node_log_level_parse(const char *name);

/* Writes one line: ts, level, event, then fields (printf format of
 * "key=value key=value" pairs; may be NULL). */
void node_log(int level, const char *event, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define NODE_LOG(level, event, ...)             \
    do {                                        \
        if ((level) <= node_log_level)          \
            node_log((level), (event), __VA_ARGS__); \
    } while (0)

#endif
