/* Where aaren serve keeps streams on disk.
 *
 * A store is a folder. Durable stores (--state-dir) hold:
 *   wal.log          the write-ahead log: records appended as steps are answered, each
 *                    [magic u32][payload length u32][CRC-32 of payload u32][payload], the payload
 *                    [kind u8][7 zero bytes][stream id u64][stream state record (kind STATE)];
 *                    a group of records is written and fdatasync'ed before its requests are
 *                    answered;
 *   snapshot.bin     the states of the streams in memory when the log was last compacted
 *                    (written whole through aaren_writer, then the log is emptied):
 *                    "AASNAP01", entries [id u64][length u64][state record], then the entry
 *                    count u64 and the CRC-32 of everything before it;
 *   <id>.state       the state of a stream spilled from memory (whole file, aaren_writer);
 *   lock             held (flock) while a server uses the folder.
 * A stream state record (the server's, opaque here) is [position u64][the task's state: nothing
 * for an encoder or classifier, the last event's time for an event model, the window of dates and
 * rows for a forecaster, the return-to-go (a double) for a decision model, whose position counts
 * steps of three encoder tokens][the encoder's stream state record, aaren_stream_get_state_one; none for
 * a forecaster].
 * A stream's acknowledged state is the one with the highest position among these; a delete
 * record removes it. Positions only grow, so that rule needs no timestamps.
 * A scratch store (no --state-dir) is a private temporary folder holding spill files only,
 * removed when the server stops. */
#ifndef AAREN_SERVE_STORE_H
#define AAREN_SERVE_STORE_H
#include <stddef.h>
#include <stdint.h>

typedef struct serve_store serve_store;

/* dir NULL: a scratch store. */
serve_store *serve_store_open(const char *dir, char *err, size_t errlen);
void serve_store_close(serve_store *st);
int serve_store_durable(const serve_store *st);
const char *serve_store_dir(const serve_store *st);

/* Replays the folder: every spill file, then the snapshot, then the log in order, calling
 * state(ctx, source, id, rec, len) for a state (source: 0 spill file, 1 snapshot, 2 log) and
 * state(ctx, 2, id, NULL, 0) for a delete; a non-zero return is an error naming the file. A torn or
 * damaged tail of the log (bad length, magic or checksum) is cut off and described in note
 * (empty when none). Anything else damaged is an error naming the file. */
int serve_store_recover(serve_store *st,
                        int (*state)(void *ctx, int source, uint64_t id, const void *rec, size_t len),
                        void *ctx, char *note, size_t notelen, char *err, size_t errlen);

/* Adds a record to the group being formed (memory only). -1 when out of memory. */
int serve_store_log_state(serve_store *st, uint64_t id, const void *rec, size_t len);
int serve_store_log_delete(serve_store *st, uint64_t id);
/* Appends the group to the log and syncs it. A failure leaves the store unusable. */
int serve_store_commit(serve_store *st, char *err, size_t errlen);
size_t serve_store_log_bytes(const serve_store *st);   /* bytes in wal.log */

/* Compaction: the snapshot of the streams in memory, then an empty log. */
typedef struct serve_snapshot serve_snapshot;
serve_snapshot *serve_store_snapshot_begin(serve_store *st, char *err, size_t errlen);
int serve_store_snapshot_add(serve_snapshot *w, uint64_t id, const void *rec, size_t len);
int serve_store_snapshot_commit(serve_store *st, serve_snapshot *w, char *err, size_t errlen);

/* Spill files. get grows *buf (*cap bytes) with realloc and sets *len. */
int serve_store_put(serve_store *st, uint64_t id, const void *rec, size_t len, char *err, size_t errlen);
int serve_store_get(serve_store *st, uint64_t id, void **buf, size_t *cap, size_t *len, char *err, size_t errlen);
void serve_store_drop(serve_store *st, uint64_t id);

/* Bytes of every file in the folder (for the metrics). */
uint64_t serve_store_disk_bytes(const serve_store *st);

#endif
