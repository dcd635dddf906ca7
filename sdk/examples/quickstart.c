/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * quickstart.c: a tour of librepram in one program.
 *
 *     quickstart [HOST [PORT]]        (default 127.0.0.1 6379; AUTH from $REPRAM_PASSWORD)
 *
 * It takes the master key from $REPRAM_KEY, or makes a throw-away one, then stores a value with a
 * TTL, reads it back, looks at its TTL, writes and reads a batch, deletes, and shows what a
 * failure looks like.  Build: cc quickstart.c -lrepram -lhiredis -lcrypto (the tree's Makefile
 * builds it into build/<variant>/bin/examples/quickstart).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk/repram.h" /* installed: <repram.h> */

/* Print the failure of a call on db and say whether it was one. */
static int failed(repram *db, int rc, const char *what)
{
    if (rc == REPRAM_OK) return 0;
    fprintf(stderr, "%s failed: %s (%s)\n", what, repram_strerror(rc), repram_errstr(db));
    return 1;
}

int main(int argc, char **argv)
{
    /* 1. Key material.  Real programs load a key file (repram_keys_create_file) or derive the key
     *    from a passphrase; the key context may be freed once a client has been created. */
    repram_keys *keys = NULL;
    const char *text = getenv("REPRAM_KEY");
    int rc;
    if (text != NULL) {
        rc = repram_keys_create_text(&keys, text, strlen(text));
    } else {
        uint8_t key[REPRAM_KEY_BYTES];
        rc = repram_keygen(key);
        if (rc == REPRAM_OK) rc = repram_keys_create(&keys, key);
        printf("using a throw-away key (set REPRAM_KEY to keep what you store)\n");
    }
    if (rc != REPRAM_OK) {
        fprintf(stderr, "key: %s\n", repram_strerror(rc));
        return 1;
    }
    repram_keys_set_prefix(keys, "quickstart:"); /* keeps our names apart on a shared server */

    /* 2. A client.  Nothing is sent until the first operation (or repram_connect). */
    repram_config cfg;
    repram_config_init(&cfg);
    if (argc > 1) cfg.host = argv[1];
    if (argc > 2) cfg.port = atoi(argv[2]);
    cfg.password = getenv("REPRAM_PASSWORD");
    repram *db = NULL;
    rc = repram_create(&db, &cfg, keys);
    repram_keys_free(keys);
    if (rc != REPRAM_OK) {
        fprintf(stderr, "create: %s\n", repram_strerror(rc));
        return 1;
    }

    /* 3. One value: sealed and stored under a blinded name for 60 seconds. */
    const char *msg = "meet at the usual place";
    void *value = NULL;
    size_t len = 0;
    long long ttl = 0;
    int bad = failed(db, repram_put(db, "greeting", 8, msg, strlen(msg), 60), "put");
    if (!bad) bad = failed(db, repram_get(db, "greeting", 8, &value, &len), "get");
    if (!bad) {
        printf("get greeting -> \"%.*s\"\n", (int)len, (const char *)value);
        repram_buf_free(value); /* wipes the plaintext */
        bad = failed(db, repram_ttl(db, "greeting", 8, &ttl), "ttl");
    }
    if (!bad) printf("ttl greeting -> %lld s\n", ttl);

    /* 4. A batch: one pipelined round of SETs, one of GETs. */
    repram_put_item puts[3] = {
        {"alpha", 5, "first", 5, 60, 0},
        {"beta", 4, "second", 6, 60, 0},
        {"gamma", 5, "third", 5, 60, 0},
    };
    repram_get_item gets[4] = {
        {"alpha", 5, NULL, 0, 0},
        {"beta", 4, NULL, 0, 0},
        {"gamma", 5, NULL, 0, 0},
        {"delta", 5, NULL, 0, 0}, /* never written */
    };
    if (!bad) bad = failed(db, repram_mput(db, puts, 3), "mput");
    if (!bad) bad = failed(db, repram_mget(db, gets, 4), "mget");
    for (int i = 0; !bad && i < 4; i++) {
        if (gets[i].status == REPRAM_OK)
            printf("mget %s -> \"%.*s\"\n", (const char *)gets[i].key, (int)gets[i].value_len,
                   (const char *)gets[i].value);
        else
            printf("mget %s -> %s\n", (const char *)gets[i].key, repram_strerror(gets[i].status));
        repram_buf_free(gets[i].value);
    }

    /* 5. Delete, and what a failure looks like: a code to branch on and a message to show. */
    if (!bad) bad = failed(db, repram_del(db, "greeting", 8), "del");
    if (!bad) {
        rc = repram_get(db, "greeting", 8, &value, &len);
        printf("get greeting after del -> %s (%s)\n", repram_strerror(rc), repram_errstr(db));
        bad = rc != REPRAM_ERR_NOT_FOUND;
    }
    repram_free(db);
    return bad;
}
