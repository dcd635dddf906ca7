/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * repram.h: librepram, the client SDK of repram.  It encrypts values and blinds key names on the
 * client, then stores them on any Redis-protocol server (repram, or Redis itself) with a TTL.
 * The server learns sizes and times, never a key name or a value.  The blob format is specified
 * in sdk/FORMAT.md.
 *
 *     repram_keys *keys;  repram *db;  repram_config cfg;  void *val;  size_t len;
 *     repram_keys_create_file(&keys, "/path/to/key");     // or _text, _passphrase, _create
 *     repram_config_init(&cfg);  cfg.port = 6379;
 *     repram_create(&db, &cfg, keys);  repram_keys_free(keys);   // the client keeps a copy
 *     repram_put(db, "greeting", 8, "hello", 5, 60);             // sealed, expires in 60 s
 *     if (repram_get(db, "greeting", 8, &val, &len) == REPRAM_OK) { ...; repram_buf_free(val); }
 *     else fprintf(stderr, "%s\n", repram_errstr(db));
 *     repram_free(db);
 *
 * Conventions of every function here:
 *   - Return REPRAM_OK (0) or one of the negative REPRAM_ERR_* codes below; never abort, exit,
 *     print, or raise a signal (SIGPIPE from a closed socket is suppressed in the calling thread).
 *   - Keys and values are (pointer, length) pairs, binary-safe; a NULL pointer is allowed only
 *     with length 0.  The caller keeps ownership of every argument; the library copies what it keeps.
 *   - Buffers the library returns belong to the caller and are released with repram_buf_free(),
 *     which wipes them first.  Key material the library holds is wiped when it is freed.
 *   - Threads: a repram_keys is immutable once built (after repram_keys_set_prefix) and may be used
 *     by any number of threads at once.  A repram client is not thread-safe: use one per thread, or
 *     serialise calls on it.  repram_strerror() is thread-safe.  The library keeps no global state.
 *   - "The connection errors" below are CONNECT, TIMEOUT, CONNECTION and PROTOCOL; they are sticky
 *     (see repram_reset).  Calls on a client block for at most the configured time-outs per
 *     send or receive.
 *   - Costs: put, get, del, ttl and exists are one round trip plus O(value length) of AES-GCM and
 *     two HMACs; mput and mget take about n/256 round trips.  Key derivation from a passphrase is
 *     deliberately slow (scrypt); every other key constructor takes microseconds.
 */
#ifndef SDK_REPRAM_H
#define SDK_REPRAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define REPRAM_VERSION_MAJOR 1
#define REPRAM_VERSION_MINOR 0
#define REPRAM_VERSION_PATCH 0
#define REPRAM_VERSION_STRING "1.0.0"
#define REPRAM_FORMAT_VERSION 1 /* the blob format version this library writes (FORMAT.md) */

#if defined(__GNUC__) || defined(__clang__)
#define REPRAM_API __attribute__((visibility("default")))
#else
#define REPRAM_API
#endif

/* Result codes.  Each failure has its own code; repram_strerror() names it. */
#define REPRAM_OK 0
#define REPRAM_ERR_INVALID (-1)    /* a bad argument: NULL, bad length, TTL < 1, bad prefix */
#define REPRAM_ERR_NOMEM (-2)      /* an allocation failed; nothing changed */
#define REPRAM_ERR_NOT_FOUND (-3)  /* no such key (absent, expired, or written with another key) */
#define REPRAM_ERR_WRONG_KEY (-4)  /* the blob's key check fails: another key sealed it */
#define REPRAM_ERR_TAMPERED (-5)   /* authentication failed: bytes or the key name were altered */
#define REPRAM_ERR_TRUNCATED (-6)  /* the blob is shorter than its header says */
#define REPRAM_ERR_VERSION (-7)    /* unknown format version, algorithm suite or flags */
#define REPRAM_ERR_NOT_BLOB (-8)   /* the stored value is not a repram blob (bad magic) */
#define REPRAM_ERR_KEY_FORMAT (-9) /* key text is not 32 bytes of hex or base64 */
#define REPRAM_ERR_IO (-10)        /* reading a key file failed; errno tells why */
#define REPRAM_ERR_CRYPTO (-11)    /* libcrypto failed (random source, unavailable algorithm) */
#define REPRAM_ERR_CONNECT (-12)   /* could not connect (refused, unreachable, unknown host) */
#define REPRAM_ERR_TIMEOUT (-13)   /* connecting, sending or waiting for a reply took too long */
#define REPRAM_ERR_CONNECTION (-14) /* the connection broke (reset, closed by the server) */
#define REPRAM_ERR_AUTH (-15)      /* AUTH refused, or the server demands AUTH (NOAUTH) */
#define REPRAM_ERR_SERVER (-16)    /* the server answered an error; its text is in repram_errstr */
#define REPRAM_ERR_PROTOCOL (-17)  /* the server answered something no Redis server would */
#define REPRAM_ERR_TOO_LARGE (-18) /* the value exceeds REPRAM_VALUE_MAX */

#define REPRAM_KEY_BYTES 32        /* a master key */
#define REPRAM_KEY_TEXT_LEN 64     /* its hex form, without the NUL */
#define REPRAM_BLOB_OVERHEAD 44    /* blob bytes = value bytes + 44 (FORMAT.md) */
#define REPRAM_NAME_LEN 47         /* stored key name bytes, not counting the prefix */
#define REPRAM_PREFIX_MAX 64       /* bytes of a key-name prefix (printable ASCII, no space) */
#define REPRAM_NAMESPACE_MAX 255   /* bytes of a passphrase namespace (the scrypt salt) */
/* Largest value: Redis's 512 MiB bulk limit less the blob overhead.  repram servers refuse
 * blobs over their configured value limit (10 MiB by default) with REPRAM_ERR_SERVER. */
#define REPRAM_VALUE_MAX ((size_t)512 * 1024 * 1024 - REPRAM_BLOB_OVERHEAD)
#define REPRAM_ERRSTR_MAX 256      /* bytes of repram_errstr(), NUL included */

/* Name of a result code ("tampered blob", ...).  Static storage; unknown codes get a fixed text. */
REPRAM_API const char *repram_strerror(int err);
/* The library's version, e.g. "1.0.0"; may differ from REPRAM_VERSION_STRING of the header used. */
REPRAM_API const char *repram_version(void);

/* Wipe (OPENSSL_cleanse) and release a buffer the library returned.  NULL is a no-op. */
REPRAM_API void repram_buf_free(void *buf);

/* ---- key contexts ---------------------------------------------------------------------- */

typedef struct repram_keys repram_keys;

/* Fill key with REPRAM_KEY_BYTES random bytes from RAND_bytes.  REPRAM_ERR_CRYPTO when the random
 * source fails.  Format it with repram_key_to_hex() to store it. */
REPRAM_API int repram_keygen(uint8_t key[REPRAM_KEY_BYTES]);
/* Write the 64 lowercase hex digits of key and a NUL into out. */
REPRAM_API void repram_key_to_hex(const uint8_t key[REPRAM_KEY_BYTES], char out[REPRAM_KEY_TEXT_LEN + 1]);

/* Build a key context from a 32-byte master key: derives the value, name and key-check subkeys
 * with HKDF-SHA256 (FORMAT.md section 2); the master key itself is not kept.  *out is set only on
 * success and is released with repram_keys_free().  Errors: INVALID, NOMEM, CRYPTO. */
REPRAM_API int repram_keys_create(repram_keys **out, const uint8_t key[REPRAM_KEY_BYTES]);

/* As repram_keys_create, from text: 64 hex digits, or base64 of 32 bytes (standard or URL-safe
 * alphabet, padding optional).  Leading and trailing white space is ignored.  REPRAM_ERR_KEY_FORMAT
 * when the text is anything else. */
REPRAM_API int repram_keys_create_text(repram_keys **out, const char *text, size_t len);

/* As repram_keys_create_text, from a file holding the key text; lines starting with '#' are
 * comments.  REPRAM_ERR_IO (errno set) when the file cannot be read, REPRAM_ERR_KEY_FORMAT when its
 * content is not one key or is larger than 4 KiB.  The file's bytes are wiped after parsing. */
REPRAM_API int repram_keys_create_file(repram_keys **out, const char *path);

/* scrypt cost parameters.  N must be a power of two in [2, 2^20], r * p < 2^30; memory used is
 * about 128 * r * N bytes.  The defaults (FORMAT.md section 2) are N 32768, r 8, p 1 (32 MiB). */
typedef struct repram_scrypt_params {
    uint64_t n;
    uint32_t r;
    uint32_t p;
} repram_scrypt_params;
#define REPRAM_SCRYPT_N 32768
#define REPRAM_SCRYPT_R 8
#define REPRAM_SCRYPT_P 1

/* Derive the master key with scrypt(passphrase, "repram.v1.scrypt:" || namespace, N, r, p) and
 * build a context from it.  The namespace is the salt: it is required (1 to REPRAM_NAMESPACE_MAX
 * bytes) and must be the same, with the same parameters (NULL: the defaults), to read what was
 * written.  Takes about 100 ms with the defaults.  Errors: INVALID, NOMEM, CRYPTO. */
REPRAM_API int repram_keys_create_passphrase(repram_keys **out, const char *pass, size_t pass_len,
                                             const char *ns, size_t ns_len,
                                             const repram_scrypt_params *params);

/* Set the plain-text prefix put in front of every stored key name (default: none), so that
 * several applications or users can share a server.  1 to REPRAM_PREFIX_MAX bytes of printable
 * ASCII without space, or NULL/"" for none.  The prefix also enters the name's HMAC, so the same
 * name under two prefixes gives unrelated stored names.  Call it before the context is shared
 * with other threads or given to repram_create.  Errors: INVALID. */
REPRAM_API int repram_keys_set_prefix(repram_keys *keys, const char *prefix);

/* Wipe and free a key context.  NULL is a no-op. */
REPRAM_API void repram_keys_free(repram_keys *keys);

/* ---- offline sealing (no network) ------------------------------------------------------ */

/* Compute the stored key name of name: prefix || "rp1:" || base64url(HMAC), exactly
 * prefix length + REPRAM_NAME_LEN bytes, written to out with a NUL; *out_len (may be NULL) gets
 * the length without the NUL.  Errors: INVALID (cap too small), CRYPTO. */
REPRAM_API int repram_blind(const repram_keys *keys, const void *name, size_t name_len, char *out,
                            size_t cap, size_t *out_len);

/* Seal value for key name with a fresh random nonce; *blob (value_len + REPRAM_BLOB_OVERHEAD
 * bytes) is the caller's, freed with repram_buf_free.  Errors: INVALID, TOO_LARGE, NOMEM, CRYPTO. */
REPRAM_API int repram_seal(const repram_keys *keys, const void *name, size_t name_len,
                           const void *value, size_t value_len, void **blob, size_t *blob_len);

/* Open a blob sealed for key name.  On success *value (followed by a NUL that *value_len does not
 * count) is the caller's, freed with repram_buf_free; on failure *value is NULL and nothing
 * decrypted is left in memory.  Errors: NOT_BLOB, VERSION, TRUNCATED, WRONG_KEY, TAMPERED,
 * INVALID, NOMEM, CRYPTO.  WRONG_KEY is also what a blob whose nonce or key-check bytes were
 * altered gives (FORMAT.md section 5). */
REPRAM_API int repram_open(const repram_keys *keys, const void *name, size_t name_len,
                           const void *blob, size_t blob_len, void **value, size_t *value_len);

/* ---- client ---------------------------------------------------------------------------- */

typedef struct repram repram;

typedef struct repram_config {
    const char *host;       /* name or address; default "127.0.0.1" */
    int port;               /* default 6379 */
    int connect_timeout_ms; /* 1 .. 86400000; default 2000 */
    int io_timeout_ms;      /* for each blocking send or receive; 1 .. 86400000; default 5000 */
    const char *username;   /* ACL user for AUTH, or NULL for the password-only form */
    const char *password;   /* NULL: no AUTH */
} repram_config;

/* Fill cfg with the defaults above. */
REPRAM_API void repram_config_init(repram_config *cfg);

/* Create a client.  No connection is made yet: the first operation, or repram_connect, makes it.
 * Copies cfg's strings and keys (the caller may free both at once).  *out is set only on
 * success; release it with repram_free.  Errors: INVALID (bad port or time-out), NOMEM. */
REPRAM_API int repram_create(repram **out, const repram_config *cfg, const repram_keys *keys);

/* Connect and AUTH now, if not connected yet; REPRAM_OK when already connected.  Errors: CONNECT,
 * TIMEOUT, AUTH, CONNECTION, PROTOCOL, NOMEM, or the sticky error (see repram_reset). */
REPRAM_API int repram_connect(repram *db);

/* After CONNECT, TIMEOUT, CONNECTION or PROTOCOL, or AUTH refused while connecting, the
 * connection is closed and the client keeps that error ("sticky"): every later call fails with it
 * at once, without touching the network.  Other errors (SERVER, NOT_FOUND, TAMPERED, NOAUTH
 * replies, ...) concern one call only.  repram_reset closes the connection, clears the sticky
 * error and reconnects; it returns what repram_connect does. */
REPRAM_API int repram_reset(repram *db);

/* The message of the last failed call on db (with the server's own text for SERVER and AUTH
 * errors), or "" after a success.  Borrowed: valid until the next call on db. */
REPRAM_API const char *repram_errstr(const repram *db);

/* Close the connection, wipe the keys and password, free db.  NULL is a no-op. */
REPRAM_API void repram_free(repram *db);

/* Seal value and store it under the blinded name of key for ttl_s seconds (SET name blob EX ttl).
 * One round trip.  Errors: INVALID (ttl_s < 1), TOO_LARGE, SERVER (e.g. a TTL beyond the server's
 * max-ttl, a value over its size limit, out of memory, no quorum), AUTH, the connection errors,
 * NOMEM, CRYPTO. */
REPRAM_API int repram_put(repram *db, const void *key, size_t key_len, const void *value,
                          size_t value_len, long long ttl_s);

/* Fetch and open the value of key.  On success *value (NUL-terminated, not counted) is the
 * caller's, freed with repram_buf_free; otherwise *value is NULL.  Errors: NOT_FOUND, the open
 * errors of repram_open, SERVER, AUTH, PROTOCOL (not a string), the connection errors. */
REPRAM_API int repram_get(repram *db, const void *key, size_t key_len, void **value,
                          size_t *value_len);

/* Delete key.  REPRAM_ERR_NOT_FOUND when there was nothing to delete.  Other errors, here and for
 * repram_ttl and repram_exists: INVALID, SERVER, AUTH, NOMEM, CRYPTO, the connection errors. */
REPRAM_API int repram_del(repram *db, const void *key, size_t key_len);

/* Remaining time to live of key in whole seconds (rounded down by the server) in *ttl_s;
 * -1 for a key without expiry (never written by this library).  REPRAM_ERR_NOT_FOUND when absent. */
REPRAM_API int repram_ttl(repram *db, const void *key, size_t key_len, long long *ttl_s);

/* *exists = 1 when key is present, 0 when not; REPRAM_OK in both cases. */
REPRAM_API int repram_exists(repram *db, const void *key, size_t key_len, int *exists);

/* One item of a batch.  The caller fills the inputs; the library sets status (and value). */
typedef struct repram_put_item {
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    long long ttl_s;
    int status; /* out: REPRAM_OK or this item's error */
} repram_put_item;

typedef struct repram_get_item {
    const void *key;
    size_t key_len;
    void *value;      /* out: NULL, or the caller's buffer (free with repram_buf_free) */
    size_t value_len; /* out */
    int status;       /* out: REPRAM_OK, REPRAM_ERR_NOT_FOUND or this item's error */
} repram_get_item;

/* Store n items with pipelined SETs: at most 256 commands or 8 MiB are sent before their replies
 * are read, so memory stays bounded and a server that stops reading a client with unread replies
 * cannot deadlock the batch.  Not atomic: each item succeeds or fails alone.  Returns REPRAM_OK
 * when every item did, else the status of the first item (by index) that failed; repram_errstr
 * names it.  Argument errors (INVALID, TOO_LARGE) are found before anything is sent: then every
 * status is set to that code.  After a connection error, the items without a reply get it too. */
REPRAM_API int repram_mput(repram *db, repram_put_item *items, size_t n);

/* Fetch n items with pipelined GETs (in windows of 256).  Whatever the return code, every
 * items[i].value is NULL or a buffer the caller frees.  Returns REPRAM_OK when every item is OK or
 * NOT_FOUND, else the status of the first item (by index) that failed otherwise; the statuses are
 * those of repram_get, and as for repram_mput after an argument or connection error. */
REPRAM_API int repram_mget(repram *db, repram_get_item *items, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* SDK_REPRAM_H */
