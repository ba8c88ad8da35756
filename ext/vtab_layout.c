/*
 * vtab_layout.c - where the bytes of one row of an `embedding` table sit in
 * its stored chunk, and row-sized reads and writes in place, so that a
 * single-row INSERT, UPDATE or DELETE changes the database pages that hold
 * that row and no others.
 *
 *   .load ./embext
 *   create virtual table wte using embedding(dim=64);
 *   select key, value from wte_config;   -- format 2, chunk_rows 480, slab_rows 15, ...
 *   insert into wte(vector) values (emb_vec(zeroblob(256)));  -- writes the row's page
 *
 * How it works
 *   Format 1 (tables made by embext 0.2.0, still read and written): chunk
 *   row = valid (1 byte per row), vectors (row_bytes per row), scales (int8:
 *   one float per row).  A row write changes up to three places.
 *   Format 2 (new tables): chunk row = pad, slots.  `slots` is a sequence of
 *   slabs; slab k holds slab_rows slots, slot = the row's stored bytes, its
 *   scale (int8) and one valid byte.  When slabs are page-sized (slab_bytes =
 *   usable page size - 4, the payload of one overflow page), `pad` is sized
 *   so that the record's local part in the b-tree leaf ends exactly where
 *   `slots` begins (SQLite keeps minLocal + (P - minLocal) % (U - 4) bytes
 *   of a P-byte record locally, see the file format's "cell payload overflow
 *   pages"); slab k is then overflow page k and a slot never straddles two
 *   pages: a row's write, valid byte included, dirties one page.  The plan
 *   is computed once at CREATE from the page size and stored in _config
 *   (slab_rows, slab_bytes, pad_bytes, chunk_bytes), so a database whose page
 *   size changes later (VACUUM) still reads correctly, only less aligned.
 *   Page-sized slabs waste the tail of each page (at most a quarter of it is
 *   allowed: e.g. dim 768 f32, 3073-byte slots, 1019 of 4092 bytes, the same
 *   share a plain rowid table with one such row per page leaves empty);
 *   rows that leave more (e.g. 2049-byte slots) or exceed a page are packed
 *   back to back instead, and chunks small enough to stay inside their
 *   b-tree leaf (chunk_rows * slot <= a quarter page) are packed without pad.
 *   Single-row I/O opens the one blob with sqlite3_blob_open and reads or
 *   writes the slot's bytes; SQLite journals exactly the pages touched.
 */
#include "vtab_store.h"

#include <string.h>

/* ---- plan ------------------------------------------------------------------- */

static int varintLen(int64_t v)
{
    int n = 1;
    while (v > 127 && n < 9)
        v >>= 7, n++;
    return n;
}

/* Record header length of (NULL rowid alias, pad blob, slots blob). */
static int headerLen(int pad, int slots)
{
    int body = varintLen(0) + varintLen(2 * (int64_t)pad + 12) + varintLen(2 * (int64_t)slots + 12);
    int h = body + 1;
    while (varintLen(h) + body != h)
        h = varintLen(h) + body;
    return h;
}

void embLayoutPlan(EmbLayout *l, int usable, size_t row_bytes, int is_i8, int packed,
                   int *chunk_rows)
{
    int payload = usable - 4;                        /* bytes of one overflow page */
    int min_local = (usable - 12) * 32 / 255 - 23;   /* table b-tree leaf */
    int slot = (int)row_bytes + (is_i8 ? 4 : 0) + 1;
    int rps = payload / slot, cr = *chunk_rows;
    memset(l, 0, sizeof *l);
    l->format = 2;
    l->slot_bytes = slot;
    if (!packed && rps >= 1 && (payload - rps * slot) * 4 <= payload) {
        l->slab_rows = rps;
        l->slab_bytes = payload;
        if (!cr) {
            int n = EMB_CHUNK_BYTES / payload;
            cr = (n > 0 ? n : 1) * rps;
            if (cr > EMB_CHUNK_MAX_ROWS)
                cr = EMB_CHUNK_MAX_ROWS;
        }
    } else {
        l->slab_rows = 1;
        l->slab_bytes = slot;
        if (!cr)
            for (cr = 1; cr * 2 * (size_t)slot <= EMB_CHUNK_BYTES && cr * 2 <= EMB_CHUNK_MAX_ROWS;)
                cr *= 2;
    }
    *chunk_rows = cr;
    if ((size_t)cr * slot * 4 <= (size_t)payload) { /* small: the record stays in its leaf */
        l->slab_rows = cr;
        l->slab_bytes = cr * slot;
        l->chunk_bytes = cr * slot;
        return;
    }
    int64_t raw = (int64_t)((cr + l->slab_rows - 1) / l->slab_rows) * l->slab_bytes;
    l->chunk_bytes = (int)((raw + payload - 1) / payload * payload);
    int pad = min_local - headerLen(0, l->chunk_bytes);
    while (pad > 0 && headerLen(pad, l->chunk_bytes) + pad != min_local)
        pad--;
    l->pad_bytes = pad > 0 ? pad : 0;
}

int embLayoutValid(const EmbLayout *l, size_t row_bytes, int is_i8, int chunk_rows)
{
    if (l->format == 1)
        return 1;
    int64_t slot = (int64_t)row_bytes + (is_i8 ? 4 : 0) + 1;
    if (l->format != 2 || l->slot_bytes != slot || l->slab_rows < 1 || l->pad_bytes < 0 ||
        (int64_t)l->slab_rows * slot > l->slab_bytes)
        return 0;
    int64_t last = (int64_t)(chunk_rows - 1) / l->slab_rows * l->slab_bytes +
                   (int64_t)((chunk_rows - 1) % l->slab_rows) * slot + slot;
    return last <= l->chunk_bytes;
}

static size_t slotOff(const EmbVtab *p, size_t i)
{
    const EmbLayout *l = &p->lay;
    return i / (size_t)l->slab_rows * (size_t)l->slab_bytes + i % (size_t)l->slab_rows * (size_t)l->slot_bytes;
}

const char *embLayoutCols(const EmbVtab *p)
{
    return p->lay.format == 1 ? "valid, vectors, scales" : "slots";
}

int embLayoutNCols(const EmbVtab *p)
{
    return p->lay.format == 1 ? 3 : 1;
}

/* ---- whole chunks ------------------------------------------------------------- */

static int corrupt(EmbVtab *p, int64_t c, const char *zCol, int64_t want, int got)
{
    return embVtabError(p, SQLITE_CORRUPT_VTAB, "embedding %s: corrupt chunk %lld (%s blob %lld bytes vs %d)",
                        p->zName, (long long)c, zCol, (long long)want, got);
}

int embChunkCheckRow(EmbVtab *p, int64_t c, sqlite3_stmt *st, int col)
{
    size_t cr = (size_t)p->chunk_rows;
    if (p->lay.format == 2) {
        int n = sqlite3_column_bytes(st, col);
        return n == p->lay.chunk_bytes ? SQLITE_OK : corrupt(p, c, "slots", p->lay.chunk_bytes, n);
    }
    int nv = sqlite3_column_bytes(st, col), nx = sqlite3_column_bytes(st, col + 1);
    int ns = sqlite3_column_bytes(st, col + 2);
    if ((size_t)nv != cr)
        return corrupt(p, c, "valid", (int64_t)cr, nv);
    if ((size_t)nx != cr * p->row_bytes)
        return corrupt(p, c, "vectors", (int64_t)(cr * p->row_bytes), nx);
    if (p->dtype == EMB_DTYPE_I8 && (size_t)ns != cr * sizeof(float))
        return corrupt(p, c, "scales", (int64_t)(cr * sizeof(float)), ns);
    return SQLITE_OK;
}

void embChunkUnpack(EmbVtab *p, sqlite3_stmt *st, int col, uint8_t *valid, unsigned char *data,
                    float *scales)
{
    size_t cr = (size_t)p->chunk_rows, rb = p->row_bytes;
    if (p->lay.format == 1) {
        memcpy(valid, sqlite3_column_blob(st, col), cr);
        memcpy(data, sqlite3_column_blob(st, col + 1), cr * rb);
        if (p->dtype == EMB_DTYPE_I8)
            memcpy(scales, sqlite3_column_blob(st, col + 2), cr * sizeof(float));
        return;
    }
    const unsigned char *s = sqlite3_column_blob(st, col);
    int i8 = p->dtype == EMB_DTYPE_I8;
    for (size_t i = 0; i < cr; i++) {
        const unsigned char *q = s + slotOff(p, i);
        memcpy(data + i * rb, q, rb);
        if (i8)
            memcpy(scales + i, q + rb, sizeof(float));
        valid[i] = q[rb + (i8 ? 4 : 0)] != 0;
    }
}

/* ---- the write buffer's rows ----------------------------------------------------- */

static size_t flagPos(const EmbVtab *p)
{
    return p->row_bytes + (p->dtype == EMB_DTYPE_I8 ? 4 : 0);
}

int embBufValid(const EmbVtab *p, size_t off)
{
    if (p->lay.format == 1)
        return p->buf.valid[off] != 0;
    return p->buf.vectors[slotOff(p, off) + flagPos(p)] != 0;
}

const unsigned char *embBufRow(const EmbVtab *p, size_t off)
{
    return p->buf.vectors + (p->lay.format == 1 ? off * p->row_bytes : slotOff(p, off));
}

float embBufScale(const EmbVtab *p, size_t off)
{
    float s = 0;
    if (p->dtype != EMB_DTYPE_I8)
        return 0;
    if (p->lay.format == 1)
        return p->buf.scales[off];
    memcpy(&s, p->buf.vectors + slotOff(p, off) + p->row_bytes, sizeof s);
    return s;
}

void embBufSet(EmbVtab *p, size_t off, const unsigned char *row, float scale)
{
    EmbChunkBuf *b = &p->buf;
    if (p->lay.format == 1) {
        memcpy(b->vectors + off * p->row_bytes, row, p->row_bytes);
        if (b->scales)
            b->scales[off] = scale;
        b->valid[off] = 1;
    } else {
        unsigned char *q = b->vectors + slotOff(p, off);
        memcpy(q, row, p->row_bytes);
        if (p->dtype == EMB_DTYPE_I8)
            memcpy(q + p->row_bytes, &scale, sizeof scale);
        q[flagPos(p)] = 1;
    }
    b->dirty = 1;
}

void embBufClear(EmbVtab *p, size_t off)
{
    if (p->lay.format == 1)
        p->buf.valid[off] = 0;
    else
        p->buf.vectors[slotOff(p, off) + flagPos(p)] = 0;
    p->buf.dirty = 1;
}

/* ---- one row in place -------------------------------------------------------------- */

int embRowValidIO(EmbVtab *p, int64_t id, int *valid)
{
    int64_t c = id / p->chunk_rows;
    size_t off = (size_t)(id % p->chunk_rows);
    uint8_t v = 0;
    int rc = p->lay.format == 1 ? embChunkIO(p, "valid", c, 0, &v, 1, (int)off)
                                : embChunkIO(p, "slots", c, 0, &v, 1, (int)(slotOff(p, off) + flagPos(p)));
    *valid = v != 0;
    return rc;
}

int embRowReadIO(EmbVtab *p, int64_t id, unsigned char *row, float *scale)
{
    int64_t c = id / p->chunk_rows;
    size_t off = (size_t)(id % p->chunk_rows);
    int i8 = p->dtype == EMB_DTYPE_I8, rc;
    *scale = 0;
    if (p->lay.format == 1) {
        rc = embChunkIO(p, "vectors", c, 0, row, (int)p->row_bytes, (int)(off * p->row_bytes));
        if (rc == SQLITE_OK && i8)
            rc = embChunkIO(p, "scales", c, 0, scale, (int)sizeof(float), (int)(off * sizeof(float)));
        return rc;
    }
    size_t at = slotOff(p, off);
    rc = embChunkIO(p, "slots", c, 0, row, (int)p->row_bytes, (int)at);
    if (rc == SQLITE_OK && i8)
        rc = embChunkIO(p, "slots", c, 0, scale, (int)sizeof(float), (int)(at + p->row_bytes));
    return rc;
}

int embRowWriteIO(EmbVtab *p, int64_t id, const unsigned char *row, float scale)
{
    int64_t c = id / p->chunk_rows;
    size_t off = (size_t)(id % p->chunk_rows);
    int i8 = p->dtype == EMB_DTYPE_I8, rc;
    if (p->lay.format == 1) {
        uint8_t one = 1;
        rc = embChunkIO(p, "vectors", c, 1, (void *)row, (int)p->row_bytes, (int)(off * p->row_bytes));
        if (rc == SQLITE_OK && i8)
            rc = embChunkIO(p, "scales", c, 1, &scale, (int)sizeof(float), (int)(off * sizeof(float)));
        if (rc == SQLITE_OK)
            rc = embChunkIO(p, "valid", c, 1, &one, 1, (int)off);
        return rc;
    }
    /* the whole slot in one write: row, scale, valid byte */
    unsigned char *slot = (unsigned char *)(p->scratch + p->dim) + p->row_bytes;
    memcpy(slot, row, p->row_bytes);
    if (i8)
        memcpy(slot + p->row_bytes, &scale, sizeof scale);
    slot[flagPos(p)] = 1;
    return embChunkIO(p, "slots", c, 1, slot, p->lay.slot_bytes, (int)slotOff(p, off));
}
