/*
 * fs.c - a log-structured file system on NOR flash (docs/flash-fs.md).
 *
 * The region is a ring of sectors. The log runs from its oldest sector (the tail) to its
 * newest (the head) in ring order, each sector numbered by a sequence number one more than the
 * one before it; records are appended at the head. Every change is a transaction: data records,
 * then one commit record, and a change exists only once its commit record is whole. Garbage
 * collection copies the live records of the tail to the head and commits with a record that
 * moves the tail on, so every sector is erased in turn (wear levelling) and never one that
 * holds the only copy of anything.
 *
 * Nothing is kept in RAM but a table of the files (where each one's name record is, its
 * inode, size and bytes used) and the log's ends; data is found by scanning record headers.
 */
#include "fs/fs.h"

#include <string.h>

#include "hal/hal.h"

enum {
    SH_SIZE = 16,        /* sector header: magic, seq, first seq of the log, CRC */
    HDR = 20,            /* record header, below */
    T_DATA = 1,          /* id: inode, val: file offset, payload: bytes */
    T_NAME = 2,          /* id: inode, val: file size, payload: the name */
    T_REMOVE = 3,        /* payload: the name */
    T_GCDONE = 4,        /* val: the log's new first seq */
    T_COMMIT = 0x80,     /* flag: this record commits the transaction before it */
    NAMEREC_MAX = HDR + ((FS_NAME_MAX + 3) & ~3),
    /* Space one garbage-collection step may take beyond the live bytes it copies: its commit,
     * a data record split on each of two sector boundaries, a name record that did not fit at
     * the end of a sector (twice). Rounded up. */
    SLACK = 256,
    CHUNK = 64,          /* bytes moved per flash call when copying or checking */
};
#define MAGIC 0x53464842u       /* "BHFS" in little-endian order */
#define SEQ_LIMIT 0xF0000000u   /* sequence numbers and inodes stay below this */
#define ALIVE 0xFF              /* record byte 1; anything else: killed (uncommitted) */

/* A record: header (type, alive, plen u16, id, val, dcrc, hcrc; little-endian), then plen
 * payload bytes padded to 4. hcrc covers the header but the alive byte, which the mount
 * programs to 0 to kill records of a transaction that never committed. */
typedef struct {
    uint8_t type, alive;
    uint16_t plen;
    uint32_t id, val, dcrc;
    char name[FS_NAME_MAX + 1];   /* NAME and REMOVE: the payload, NUL-terminated */
} rec;

typedef struct {
    uint32_t addr;   /* its newest name record */
    uint32_t ino;    /* 0: a free slot */
    uint32_t size, used, hash;   /* hash: CRC-32 of the name, the name record's dcrc */
    uint8_t nlen;
} entry;

static const bh_flash *fl;
static uint32_t nsec, ssz;           /* sectors in the region, bytes in one */
static uint32_t head, hseq, nlog;    /* the head sector, its seq, sectors in the log */
static uint32_t wp;                  /* where the next record goes in the head sector */
static uint32_t live;                /* bytes of live records: what collection must keep */
static uint32_t next_ino;
static int state;                    /* 0: no flash given, 1: not mounted, 2: mounted */
static entry files[FS_MAX_FILES];
static const uint8_t killed = 0;     /* programmed over a record's alive byte */

/* ---- helpers ------------------------------------------------------------------------------- */
/* CRC-32 (zlib's), four bits at a time: a 64-byte table, four times the speed of none */
static uint32_t crc32(uint32_t c, const void *data, size_t n)
{
    static const uint32_t t[16] = {
        0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
        0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
        0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C};
    const uint8_t *p = data;
    c = ~c;
    while (n--) {
        c ^= *p++;
        c = (c >> 4) ^ t[c & 15];
        c = (c >> 4) ^ t[c & 15];
    }
    return ~c;
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static uint32_t rsize(uint32_t plen) { return HDR + ((plen + 3u) & ~3u); }
static uint32_t cap_sec(void) { return ssz - SH_SIZE; }
/* space the log can still take without collecting: the head's rest and the free sectors */
static uint32_t room(void) { return (head + 1) * ssz - wp; }
static uint32_t space(void) { return room() + (nsec - nlog) * cap_sec(); }
/* Free space kept after every write: enough for collection to go once round the whole ring
 * (each step may take SLACK more than it frees), and for one step cut short by a power loss. */
static uint32_t reserve(void) { return 2 * cap_sec() + (nsec + 4) * SLACK; }
/* The most the live records may take: with this much live, one round of collection leaves
 * reserve() free (docs/flash-fs.md). */
static uint32_t limit(void)
{
    uint32_t total = nsec * (cap_sec() - SLACK), keep = cap_sec() + reserve();
    return total > keep ? total - keep : 0;
}
static uint32_t tail_sec(void) { return (head + nsec + 1 - nlog) % nsec; }
static uint32_t tail_seq(void) { return hseq + 1 - nlog; }

/* Flash calls, checked against the region so that no address computed from a damaged image
 * reaches the port's driver out of bounds. */
static int rd(uint32_t off, void *buf, size_t len)
{
    if (off > nsec * ssz || len > nsec * ssz - off)
        return BH_ERR_IO;
    return fl->read(off, buf, len) < 0 ? BH_ERR_IO : BH_OK;
}
static int pg(uint32_t off, const void *buf, size_t len)
{
    if (off > nsec * ssz || len > nsec * ssz - off)
        return BH_ERR_IO;
    return fl->program(off, buf, len) < 0 ? BH_ERR_IO : BH_OK;
}

/* Reads n flash bytes at off, CHUNK at a time, for one of three ends: their CRC-32 into *crc;
 * or (crc NULL) programmed again at dst; or (crc NULL, dst 0, where no payload ever goes)
 * checked erased, 1 if they are not. <0 on I/O error. */
static int chunks(uint32_t off, uint32_t n, uint32_t *crc, uint32_t dst)
{
    uint8_t b[CHUNK];
    uint32_t c = 0;
    while (n) {
        uint32_t k = n < CHUNK ? n : CHUNK;
        if (rd(off, b, k) < 0)
            return BH_ERR_IO;
        if (crc) {
            c = crc32(c, b, k);
        } else if (dst) {
            if (pg(dst, b, k) < 0)
                return BH_ERR_IO;
            dst += k;
        } else {
            for (uint32_t j = 0; j < k; j++)
                if (b[j] != 0xFF)
                    return 1;
        }
        off += k;
        n -= k;
    }
    if (crc)
        *crc = c;
    return BH_OK;
}
static int fcrc(uint32_t off, uint32_t n, uint32_t *crc)
{
    return chunks(off, n, crc, 0);
}

/* ---- sector headers ------------------------------------------------------------------------ */
/* The header's CRC covers the region's geometry too: an image mounted with another sector or
 * region size (whose ring and records would be read at the wrong places) has no valid
 * header, so it is no file system there, rather than a damaged one. */
static uint32_t sh_crc(const uint8_t *b)
{
    uint8_t g[8];
    put32(g, ssz);
    put32(g + 4, nsec);
    return crc32(crc32(0, b, 12), g, 8);
}
/* 1 and its seq and first if sector s has a whole header, 0 if not, <0 on I/O error */
static int sh_get(uint32_t s, uint32_t *seq, uint32_t *first)
{
    uint8_t b[SH_SIZE];
    if (rd(s * ssz, b, SH_SIZE) < 0)
        return BH_ERR_IO;
    *seq = get32(b + 4);
    *first = get32(b + 8);
    return get32(b) == MAGIC && get32(b + 12) == sh_crc(b) && *first >= 1 &&
           *first <= *seq && *seq < SEQ_LIMIT;
}
/* The sector with the highest seq: 1 and it, its seq and first, 0 if no sector has a whole
 * header, <0 on I/O error. */
static int find_top(uint32_t *sec, uint32_t *seq, uint32_t *first)
{
    uint32_t q, f;
    int found = 0;
    for (uint32_t s = 0; s < nsec; s++) {
        int rc = sh_get(s, &q, &f);
        if (rc < 0)
            return rc;
        if (rc && (!found || q > *seq)) {
            found = 1;
            *sec = s;
            *seq = q;
            *first = f;
        }
    }
    return found;
}
/* Erases sector s and makes it the log's sector seq. A power loss in between leaves a sector
 * without a whole header, which is not in the log. */
static int sh_put(uint32_t s, uint32_t seq, uint32_t first)
{
    uint8_t b[SH_SIZE];
    put32(b, MAGIC);
    put32(b + 4, seq);
    put32(b + 8, first);
    put32(b + 12, sh_crc(b));
    if (fl->erase(s * ssz) < 0)
        return BH_ERR_IO;
    return pg(s * ssz, b, SH_SIZE);
}

/* ---- records ------------------------------------------------------------------------------- */
static uint32_t hcrc(const uint8_t *b)
{
    return crc32(crc32(0, b, 1), b + 2, 14);
}
static int name_ok(uint32_t plen)
{
    return plen >= 1 && plen <= FS_NAME_MAX;
}
/* The record at pos in a sector of the log numbered seq and ending at end: 1 if it is whole
 * and makes sense, 0 if not (erased space, a record cut short, damage: the sector's records
 * end there), <0 on I/O error. Data payloads are checked when read, not here. */
static int rec_get(uint32_t pos, uint32_t end, uint32_t seq, rec *r)
{
    uint8_t b[HDR];
    if (end - pos < HDR)
        return 0;
    if (rd(pos, b, HDR) < 0)
        return BH_ERR_IO;
    r->type = b[0];
    r->alive = b[1] == ALIVE;
    r->plen = (uint16_t)(b[2] | b[3] << 8);
    r->id = get32(b + 4);
    r->val = get32(b + 8);
    r->dcrc = get32(b + 12);
    if (get32(b + 16) != hcrc(b) || rsize(r->plen) > end - pos)
        return 0;
    int named = 0;
    switch (r->type) {
    /* no file is larger than the region */
    case T_DATA:
        if (r->plen == 0 || r->id == 0 || r->id >= SEQ_LIMIT || r->val > nsec * ssz - r->plen)
            return 0;
        break;
    case T_NAME:
    case T_NAME | T_COMMIT:
        if (r->id == 0 || r->id >= SEQ_LIMIT || r->val > nsec * ssz)
            return 0;
        named = 1;
        break;
    case T_REMOVE | T_COMMIT:
        named = 1;
        break;
    case T_GCDONE | T_COMMIT:
        /* the tail it moves to is after the one it collected and no later than its own sector */
        if (r->plen != 0 || r->val < 2 || r->val > seq)
            return 0;
        break;
    default:
        return 0;
    }
    if (named) {
        if (!name_ok(r->plen))
            return 0;
        if (rd(pos + HDR, r->name, r->plen) < 0)
            return BH_ERR_IO;
        r->name[r->plen] = 0;
        if (crc32(0, r->name, r->plen) != r->dcrc || memchr(r->name, 0, r->plen))
            return 0;
    }
    return 1;
}

/* Walks the records of n log sectors from the tail, in log order. */
typedef struct {
    uint32_t k, n;      /* sectors done, sectors to walk */
    uint32_t seq, pos, end, at;
} walk;
static void walk_start(walk *w, uint32_t n)
{
    w->k = 0;
    w->n = n;
    w->pos = 0;
}
/* 1: *r is the record at w->at; 0: no more (w->pos is where the last sector's records end);
 * <0: I/O error */
static int walk_next(walk *w, rec *r)
{
    while (w->k < w->n) {
        if (!w->pos) {
            uint32_t s = (tail_sec() + w->k) % nsec;
            w->seq = tail_seq() + w->k;
            w->pos = s * ssz + SH_SIZE;
            w->end = s * ssz + ssz;
        }
        int rc = rec_get(w->pos, w->end, w->seq, r);
        if (rc < 0)
            return rc;
        if (rc) {
            w->at = w->pos;
            w->pos += rsize(r->plen);
            return 1;
        }
        if (++w->k < w->n)
            w->pos = 0;
    }
    return 0;
}

/* The data record the last read used (ino 0: none), its CRC checked: small reads of one record
 * find and check it once. Cleared by every change. */
static struct { uint32_t ino, off, len, addr; } cache;

/* ---- the file table ------------------------------------------------------------------------ */
/* the slot holding name (n bytes, CRC-32 hash): its index, -1 if none, BH_ERR_IO (< -1) */
static int find(const char *name, size_t n, uint32_t hash)
{
    char b[FS_NAME_MAX];
    for (int i = 0; i < FS_MAX_FILES; i++) {
        entry *e = &files[i];
        if (!e->ino || e->hash != hash || e->nlen != n)
            continue;
        if (rd(e->addr + HDR, b, n) < 0)
            return BH_ERR_IO;
        if (memcmp(b, name, n) == 0)
            return i;
    }
    return -1;
}
static int find_user(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > FS_NAME_MAX)
        return -1;
    return find(name, n, crc32(0, name, n));
}
static int free_slot(void)
{
    for (int i = 0; i < FS_MAX_FILES; i++)
        if (!files[i].ino)
            return i;
    return -1;
}
static entry *by_ino(uint32_t ino)
{
    for (int i = 0; i < FS_MAX_FILES; i++)
        if (files[i].ino == ino)
            return &files[i];
    return NULL;
}
/* the file whose newest name record is at `at` */
static entry *by_addr(uint32_t at)
{
    for (int i = 0; i < FS_MAX_FILES; i++)
        if (files[i].ino && files[i].addr == at)
            return &files[i];
    return NULL;
}
/* the file the record at `at` is live for (collection must keep it), or NULL */
static entry *owner(const rec *r, uint32_t at)
{
    if (r->type == T_DATA) {
        entry *e = by_ino(r->id);
        return e && r->val < e->size ? e : NULL;
    }
    return (r->type & 0x7F) == T_NAME ? by_addr(at) : NULL;
}

/* ---- mount --------------------------------------------------------------------------------- */
/* Whether the record at (seq, at) comes before the end of the last commit (cseq, cend). */
static int committed(uint32_t seq, uint32_t at, uint32_t cseq, uint32_t cend)
{
    return seq < cseq || (seq == cseq && at < cend);
}

static int mount(void)
{
    uint32_t seq, first, hfirst;
    state = 1;
    cache.ino = 0;
    memset(files, 0, sizeof files);
    /* the head: the sector with the highest seq */
    int rc = find_top(&head, &hseq, &hfirst);
    if (rc <= 0)
        return rc < 0 ? rc : BH_ERR_PROTO;
    /* back from it while the seqs count down: the log */
    for (nlog = 1; nlog < nsec && hseq - nlog >= hfirst; nlog++) {
        rc = sh_get((head + nsec - nlog) % nsec, &seq, &first);
        if (rc < 0)
            return rc;
        if (!rc || seq != hseq - nlog)
            break;
    }
    /* Pass 1: where collection moved the tail to, and where the last commit ends. Records
     * after it belong to a transaction a power loss cut short. */
    walk w;
    rec r;
    uint32_t tail = tail_seq(), cseq = 0, cend = 0;
    walk_start(&w, nlog);
    while ((rc = walk_next(&w, &r)) > 0) {
        if (r.type == (T_GCDONE | T_COMMIT) && r.alive && r.val > tail)
            tail = r.val;
        if ((r.type & T_COMMIT) && r.alive) {
            cseq = w.seq;
            cend = w.pos;
        }
    }
    if (rc < 0)
        return rc;
    nlog = hseq - tail + 1;
    /* Pass 2: the files, from the committed name and remove records, in log order. */
    uint32_t max_ino = 0;
    walk_start(&w, nlog);
    while ((rc = walk_next(&w, &r)) > 0) {
        if (!r.alive || !committed(w.seq, w.at, cseq, cend))
            continue;
        if (r.type != (T_REMOVE | T_COMMIT) && r.type != (T_GCDONE | T_COMMIT) && r.id > max_ino)
            max_ino = r.id;
        if (r.type == T_DATA || r.type == (T_GCDONE | T_COMMIT))
            continue;
        int i = find(r.name, r.plen, r.dcrc);
        if (i < -1)
            return i;
        if (r.type == (T_REMOVE | T_COMMIT)) {
            if (i >= 0)
                files[i].ino = 0;
            continue;
        }
        if (i < 0 && (i = free_slot()) < 0)
            continue;   /* more files than the table holds: only a damaged image has them */
        /* an inode is one file's: another file claiming it (damage) is dropped, lest the
         * two share data */
        entry *e = by_ino(r.id);
        if (e && e != &files[i])
            e->ino = 0;
        e = &files[i];
        e->addr = w.at;
        e->ino = r.id;
        e->size = r.val;
        e->hash = r.dcrc;
        e->nlen = (uint8_t)r.plen;
    }
    if (rc < 0)
        return rc;
    /* Pass 3: the bytes each file uses; kill the records no commit covers, so that a later
     * commit does not take them in, and (in a damaged image only: a file's newest name record
     * lost, an older one in force) a file's data past its end, where its next append goes. A
     * power loss while killing: the next mount kills again. */
    live = 0;
    walk_start(&w, nlog);
    while ((rc = walk_next(&w, &r)) > 0) {
        if (!r.alive)
            continue;
        entry *e = r.type == T_DATA ? by_ino(r.id) : NULL;
        if (committed(w.seq, w.at, cseq, cend) && !(e && r.val + r.plen > e->size)) {
            if ((e = owner(&r, w.at))) {
                e->used += rsize(r.plen);
                live += rsize(r.plen);
            }
        } else if (pg(w.at + 1, &killed, 1) < 0) {
            return BH_ERR_IO;
        }
    }
    if (rc < 0)
        return rc;
    /* The head takes more records after its last one only if the rest of it is erased: a
     * record cut short before its header was whole leaves bytes that are neither. */
    uint32_t end = (head + 1) * ssz;
    if ((rc = chunks(w.pos, end - w.pos, NULL, 0)) < 0)
        return rc;
    wp = rc ? end : w.pos;
    next_ino = max_ino + 1;
    state = 2;
    return BH_OK;
}

int fs_mount(const bh_flash *f)
{
    state = 0;
    if (!f || !f->read || !f->erase || !f->program || f->sector < 512 || f->sector > 65536 ||
        f->size % f->sector || f->size / f->sector < 4 || f->size > 0x40000000u)
        return BH_ERR_ARG;
    fl = f;
    ssz = f->sector;
    nsec = f->size / f->sector;
    return mount();
}

/* After a flash error in the middle of a change: mount again, which drops what the change
 * wrote (as after a power loss) and rebuilds the table. */
static int fail(int rc)
{
    mount();
    return rc;
}

int fs_format(void)
{
    if (state == 0)
        return BH_ERR_STATE;
    state = 1;   /* not mounted until it is done: a failed format leaves no stale table */
    uint32_t first, top = 0, at = nsec - 1;
    int rc = find_top(&at, &top, &first);
    if (rc < 0)
        return rc;
    /* A new sector after the highest seq, whose header says the log starts there: every
     * other sector is out of the log whatever it holds, and is erased when the log reaches it.
     * Only when the seqs have run out (never, short of a made-up image) is everything erased. */
    if (top + 1 >= SEQ_LIMIT) {
        for (uint32_t s = 0; s < nsec; s++)
            if (fl->erase(s * ssz) < 0)
                return BH_ERR_IO;
        top = 0;
        at = nsec - 1;
    }
    uint32_t s = (at + 1) % nsec;
    if (sh_put(s, top + 1, top + 1) < 0)
        return BH_ERR_IO;
    return mount();
}

/* ---- writing records ----------------------------------------------------------------------- */
/* a new head sector after the current one, which must not be the tail */
static int alloc(void)
{
    if (nlog >= nsec || hseq + 1 >= SEQ_LIMIT)
        return BH_ERR_FULL;
    uint32_t s = (head + 1) % nsec;
    if (sh_put(s, hseq + 1, tail_seq()) < 0)
        return BH_ERR_IO;
    head = s;
    hseq++;
    nlog++;
    wp = s * ssz + SH_SIZE;
    return BH_OK;
}
/* Room for a record of n bytes at the head: a new sector if the head's rest is too small. */
static int need(uint32_t n)
{
    return room() < n ? alloc() : BH_OK;
}
/* Appends a record: the header, then the payload from RAM (data) or from flash (src). */
static int put(rec *r, const void *data, uint32_t src)
{
    uint8_t b[HDR];
    b[0] = r->type;
    b[1] = ALIVE;
    b[2] = (uint8_t)r->plen;
    b[3] = (uint8_t)(r->plen >> 8);
    put32(b + 4, r->id);
    put32(b + 8, r->val);
    put32(b + 12, r->dcrc);
    put32(b + 16, hcrc(b));
    uint32_t at = wp;
    if (pg(at, b, HDR) < 0)
        return BH_ERR_IO;
    if (data ? r->plen && pg(at + HDR, data, r->plen) < 0
             : chunks(src, r->plen, NULL, at + HDR) < 0)
        return BH_ERR_IO;
    wp = at + rsize(r->plen);
    return BH_OK;
}

/* Appends n bytes of inode ino's data at file offset off, from RAM (data) or from flash (src),
 * in records that fill the head sector after sector; *wrote grows by the bytes they take. */
static int put_data(uint32_t ino, uint32_t off, const uint8_t *data, uint32_t src, uint32_t n,
                    uint32_t *wrote)
{
    rec r;
    int rc;
    for (uint32_t done = 0; done < n;) {
        if (room() < HDR + 4 && (rc = alloc()) < 0)
            return rc;
        uint32_t k = n - done;
        if (k > room() - HDR)
            k = room() - HDR;
        r.type = T_DATA;
        r.plen = (uint16_t)k;
        r.id = ino;
        r.val = off + done;
        if (data)
            r.dcrc = crc32(0, data + done, k);
        else if ((rc = fcrc(src + done, k, &r.dcrc)) < 0)
            return rc;
        if ((rc = put(&r, data ? data + done : NULL, src + done)) < 0)
            return rc;
        *wrote += rsize(k);
        done += k;
    }
    return BH_OK;
}

/* ---- garbage collection -------------------------------------------------------------------- */
/* Copies the tail's live records to the head and commits with a record that moves the tail to
 * the next sector; the old tail is erased when the head comes round to it. Until the commit
 * is whole, the copies are uncommitted (killed by the next mount) and the tail still holds
 * the originals; after it, the tail is out of the log. BH_ERR_FULL, having written nothing,
 * if the free space cannot take the copies. */
static int gc_step(void)
{
    walk w;
    rec r;
    int rc;
    uint32_t keep = 0, wrote = 0;
    if (nlog < 2)
        return BH_ERR_FULL;
    walk_start(&w, 1);
    while ((rc = walk_next(&w, &r)) > 0)
        if (r.alive && owner(&r, w.at))
            keep += rsize(r.plen);
    if (rc < 0)
        return rc;
    if (space() < keep + SLACK)
        return BH_ERR_FULL;
    /* from here on, a failure mounts again, which drops the uncommitted copies */
    cache.ino = 0;
    walk_start(&w, 1);
    while ((rc = walk_next(&w, &r)) > 0) {
        entry *e = r.alive ? owner(&r, w.at) : NULL;
        if (!e)
            continue;
        uint32_t src = w.at + HDR;
        if (r.type != T_DATA) {
            /* a name record: copied without the commit flag, which only the collection's
             * own commit record may carry here */
            r.type = T_NAME;
            if ((rc = need(rsize(r.plen))) < 0 || (rc = put(&r, r.name, 0)) < 0)
                return fail(rc);
            e->addr = wp - rsize(r.plen);
            wrote += rsize(r.plen);
            continue;
        }
        /* A data record whose bytes are damaged is not copied (its file reads as BH_ERR_IO
         * there, as before); a whole one is copied in pieces that fill the head. */
        uint32_t crc, was = wrote;
        if ((rc = fcrc(src, r.plen, &crc)) < 0)
            return fail(rc);
        e->used -= rsize(r.plen);
        if (crc != r.dcrc)
            continue;
        if ((rc = put_data(r.id, r.val, NULL, src, r.plen, &wrote)) < 0)
            return fail(rc);
        e->used += wrote - was;
    }
    if (rc < 0)
        return fail(rc);
    r.type = T_GCDONE | T_COMMIT;
    r.plen = 0;
    r.id = 0;
    r.val = tail_seq() + 1;
    r.dcrc = 0;
    if ((rc = need(HDR)) < 0 || (rc = put(&r, "", 0)) < 0)
        return fail(rc);
    nlog--;
    live = live - keep + wrote;
    return BH_OK;
}
/* Collects until the free space is at least n: BH_ERR_FULL if it cannot be had. */
static int make_room(uint32_t n)
{
    for (uint32_t i = 0; space() < n; i++) {
        if (i > 2 * nsec)
            return BH_ERR_FULL;
        int rc = gc_step();
        if (rc < 0)
            return rc;
    }
    return BH_OK;
}

/* ---- the file calls ------------------------------------------------------------------------ */
int fs_size(const char *name)
{
    if (state != 2)
        return BH_ERR_IO;
    int i = find_user(name);
    if (i < -1)
        return i;
    return i < 0 ? BH_ERR_NOENT : (int)files[i].size;
}

/* The data record of inode ino that holds byte off, its payload's CRC checked: 1 (it is in
 * `cache`), 0 if no whole one does, <0 on I/O error. Always the first in log order, so that
 * what a read returns never depends on the reads before it, even where a made-up image has
 * records that overlap. */
static int locate(uint32_t ino, uint32_t off)
{
    if (cache.ino == ino && off >= cache.off && off - cache.off < cache.len)
        return 1;
    walk w;
    rec r;
    int rc;
    walk_start(&w, nlog);
    while ((rc = walk_next(&w, &r)) > 0) {
        if (r.type != T_DATA || !r.alive || r.id != ino || off < r.val || off - r.val >= r.plen)
            continue;
        uint32_t crc;
        if (fcrc(w.at + HDR, r.plen, &crc) < 0)
            return BH_ERR_IO;
        if (crc != r.dcrc)
            continue;
        cache.ino = ino;
        cache.off = r.val;
        cache.len = r.plen;
        cache.addr = w.at + HDR;
        return 1;
    }
    return rc;
}

int fs_read(const char *name, uint32_t off, void *buf, size_t len)
{
    if (state != 2)
        return BH_ERR_IO;
    int i = find_user(name);
    if (i < 0)
        return i < -1 ? i : BH_ERR_NOENT;
    entry *e = &files[i];
    if (off >= e->size)
        return 0;
    if (len > e->size - off)
        len = e->size - off;
    uint8_t *out = buf;
    for (uint32_t pos = off, end = off + (uint32_t)len; pos < end;) {
        int rc = locate(e->ino, pos);
        if (rc <= 0)
            return rc < 0 ? rc : BH_ERR_IO;   /* no whole record holds it: damage */
        uint32_t n = cache.off + cache.len - pos;
        if (n > end - pos)
            n = end - pos;
        if (rd(cache.addr + (pos - cache.off), out + (pos - off), n) < 0)
            return BH_ERR_IO;
        pos += n;
    }
    return (int)len;
}

int fs_write(const char *name, uint32_t off, const void *buf, size_t len)
{
    if (state != 2)
        return BH_ERR_IO;
    size_t sl = name ? strlen(name) : 0;
    if (sl == 0 || sl > FS_NAME_MAX || (len && !buf))
        return BH_ERR_ARG;
    uint32_t nl = (uint32_t)sl;
    uint32_t hash = crc32(0, name, nl);
    int i = find(name, nl, hash);
    if (i < -1)
        return i;
    if (off > 0 && (i < 0 || off != files[i].size))
        return BH_ERR_ARG;
    if (off > 0 && len == 0)
        return BH_OK;
    if (i < 0 && free_slot() < 0)
        return BH_ERR_FULL;
    /* what the transaction may take, on the safe side: the data split on every sector
     * boundary, sectors' ends too small for a record, its name record */
    uint32_t lim = limit(), c = cap_sec();
    if (len > lim || next_ino >= SEQ_LIMIT)
        return BH_ERR_FULL;
    uint32_t n32 = (uint32_t)len, pieces = n32 / (c - HDR - 8) + 2;
    uint32_t w = n32 + pieces * (2 * HDR + 8) + 2 * NAMEREC_MAX;
    if (live > lim || w > lim - live)
        return BH_ERR_FULL;
    int rc = make_room(w + reserve());
    if (rc < 0)
        return rc;
    cache.ino = 0;
    uint32_t ino = off ? files[i].ino : next_ino, wrote = 0;
    if ((rc = put_data(ino, off, buf, 0, n32, &wrote)) < 0)
        return fail(rc);
    rec r;
    r.type = T_NAME | T_COMMIT;
    r.plen = (uint16_t)nl;
    r.id = ino;
    r.val = off + n32;
    r.dcrc = hash;
    if ((rc = need(rsize(r.plen))) < 0 || (rc = put(&r, name, 0)) < 0)
        return fail(rc);
    /* committed: the table follows */
    if (off == 0)
        next_ino++;
    if (i < 0) {
        i = free_slot();
        files[i].used = 0;
    } else if (off == 0) {
        live -= files[i].used;
        files[i].used = 0;
    } else {
        live -= rsize(nl);
        files[i].used -= rsize(nl);
    }
    entry *e = &files[i];
    e->addr = wp - rsize(nl);
    e->ino = ino;
    e->size = off + n32;
    e->hash = hash;
    e->nlen = (uint8_t)nl;
    e->used += wrote + rsize(nl);
    live += wrote + rsize(nl);
    return BH_OK;
}

int fs_remove(const char *name)
{
    if (state != 2)
        return BH_ERR_IO;
    int i = find_user(name);
    if (i < 0)
        return i < -1 ? i : BH_ERR_NOENT;
    /* a remove may use what a write must leave, less one step's slack: so that a full file
     * system can always be emptied (docs/flash-fs.md) */
    uint32_t n = rsize(files[i].nlen);
    int rc = make_room(n + NAMEREC_MAX + reserve() - SLACK);
    if (rc < 0)
        return rc;
    cache.ino = 0;
    rec r;
    r.type = T_REMOVE | T_COMMIT;
    r.plen = files[i].nlen;
    r.id = 0;
    r.val = 0;
    r.dcrc = files[i].hash;
    if ((rc = need(n)) < 0 || (rc = put(&r, NULL, files[i].addr + HDR)) < 0)
        return fail(rc);
    live -= files[i].used;
    files[i].ino = 0;
    return BH_OK;
}

int fs_list(int index, char *name, size_t cap)
{
    if (state != 2)
        return BH_ERR_IO;
    for (int i = 0; i < FS_MAX_FILES && index >= 0; i++) {
        if (!files[i].ino || index-- > 0)
            continue;
        if (files[i].nlen >= cap)
            return BH_ERR_NOMEM;
        if (rd(files[i].addr + HDR, name, files[i].nlen) < 0)
            return BH_ERR_IO;
        name[files[i].nlen] = 0;
        return BH_OK;
    }
    return BH_ERR_NOENT;
}

int fs_space(uint32_t *used, uint32_t *lim)
{
    if (state != 2)
        return BH_ERR_IO;
    *used = live;
    *lim = limit();
    return BH_OK;
}
