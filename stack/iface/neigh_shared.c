/* The neighbour table the interfaces of one link share (one per receive queue, each on its own thread):
 * fixed size, laid out at init, open addressing as the per-interface cache (arp.c). Each entry is a
 * sequence lock (Boehm, "Can Seqlocks Get Along with Programming Language Memory Models?", 2012):
 * readers copy it and retry if a writer came by, writers take it with a compare-and-swap. Interfaces
 * read it only when their own cache misses, and once per poll a version word that says whether some
 * entry became known or changed its address. */
#include <stdatomic.h>

#include "iface_internal.h"

#define SHARED_PROBES 8       /* an address lives within this many slots of its hash */
#define SHARED_READ_TRIES 64  /* a writer holds an entry for a few stores; past this it was preempted */
#define SHARED_WRITE_TRIES 4  /* a put that loses every race gives up: the next ARP packet tries again */
#define SHARED_MAC_KNOWN (1ull << 48) /* in mac: the entry is resolved (else a request is out) */

struct shared_entry {
	_Atomic uint32_t seq; /* odd while a writer holds it */
	_Atomic uint32_t ip;  /* 0: free (0.0.0.0 is never a neighbour) */
	_Atomic uint64_t mac; /* 48 bits, first byte highest, and SHARED_MAC_KNOWN */
	_Atomic uint64_t expires;
	_Atomic uint64_t asked; /* while a request is out: when one last went (32 bytes: two a line) */
};

struct iface_neigh_table {
	_Atomic uint64_t version; /* bumped when an entry becomes known or changes its address */
	uint32_t mask;
	struct shared_entry *e;
};

struct entry_copy {
	ipv4_addr ip;
	uint64_t mac;
	smx_instant expires;
};

static void table_layout(struct smx_carve *c, uint32_t entries, struct iface_neigh_table **t,
			 struct shared_entry **e)
{
	*t = smx_carve_take(c, sizeof(struct iface_neigh_table));
	*e = smx_carve_take(c, (size_t)entries * sizeof(struct shared_entry));
}

static uint32_t table_entries(uint32_t want)
{
	uint32_t n = 1;

	want = want ? want : 256;
	while (n < want && n < (1u << 24))
		n <<= 1;
	return n;
}

size_t iface_neigh_table_mem_size(uint32_t entries)
{
	struct smx_carve c;
	struct iface_neigh_table *t;
	struct shared_entry *e;

	smx_carve_start(&c, NULL);
	table_layout(&c, table_entries(entries), &t, &e);
	return smx_carve_total(&c);
}

struct iface_neigh_table *iface_neigh_table_init(void *mem, size_t mem_size, uint32_t entries)
{
	struct smx_carve c;
	struct iface_neigh_table *t;
	struct shared_entry *e;
	uint32_t n = table_entries(entries);

	if (!mem || mem_size < iface_neigh_table_mem_size(entries))
		return NULL;
	smx_carve_start(&c, mem);
	table_layout(&c, n, &t, &e);
	/* Before any interface is given the table: plain stores, published by whatever starts them. */
	memset(e, 0, (size_t)n * sizeof(*e));
	atomic_init(&t->version, 0);
	t->mask = n - 1;
	t->e = e;
	return t;
}

static uint64_t mac_pack(const struct eth_addr *m)
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | m->b[i];
	return v | SHARED_MAC_KNOWN;
}

static void mac_unpack(uint64_t v, struct eth_addr *m)
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		m->b[i] = (uint8_t)v;
}

/* A consistent copy of e, or false if a writer held it all along (then it reads as absent). */
static bool entry_read(struct shared_entry *e, struct entry_copy *out)
{
	for (int i = 0; i < SHARED_READ_TRIES; i++) {
		uint32_t s = atomic_load_explicit(&e->seq, memory_order_acquire);
		if (s & 1)
			continue;
		out->ip = atomic_load_explicit(&e->ip, memory_order_relaxed);
		out->mac = atomic_load_explicit(&e->mac, memory_order_relaxed);
		out->expires = atomic_load_explicit(&e->expires, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&e->seq, memory_order_relaxed) == s)
			return true;
	}
	return false;
}

static bool entry_lock(struct shared_entry *e, uint32_t *seq)
{
	uint32_t s = atomic_load_explicit(&e->seq, memory_order_relaxed);

	if ((s & 1) || !atomic_compare_exchange_strong_explicit(&e->seq, &s, s + 1, memory_order_acquire,
								  memory_order_relaxed))
		return false;
	/* The odd sequence is visible before any field changes. */
	atomic_thread_fence(memory_order_release);
	*seq = s + 1;
	return true;
}

static void entry_unlock(struct shared_entry *e, uint32_t seq)
{
	atomic_store_explicit(&e->seq, seq + 1, memory_order_release);
}

static uint32_t shared_hash(const struct iface_neigh_table *t, ipv4_addr ip)
{
	return ((ip * 2654435761u) >> 7) & t->mask;
}

/* ip's entry (copied into c), or NULL. */
static struct shared_entry *shared_find(struct iface_neigh_table *t, ipv4_addr ip, struct entry_copy *c)
{
	uint32_t h = shared_hash(t, ip);
	uint32_t probes = SMX_MIN(SHARED_PROBES, t->mask + 1);

	for (uint32_t i = 0; i < probes; i++) {
		struct shared_entry *e = &t->e[(h + i) & t->mask];
		if (entry_read(e, c) && c->ip == ip)
			return e;
	}
	return NULL;
}

/* A slot for a new address: a free one near its hash, else the one that expires first. Its contents
 * as seen are in c, for the writer to check that nobody took it meanwhile. */
static struct shared_entry *shared_victim(struct iface_neigh_table *t, ipv4_addr ip, struct entry_copy *c)
{
	uint32_t h = shared_hash(t, ip);
	uint32_t probes = SMX_MIN(SHARED_PROBES, t->mask + 1);
	struct shared_entry *victim = NULL;
	struct entry_copy e;

	for (uint32_t i = 0; i < probes; i++) {
		struct shared_entry *s = &t->e[(h + i) & t->mask];
		if (!entry_read(s, &e))
			continue; /* being written: not ours to take */
		if (e.ip == 0) {
			*c = e;
			return s;
		}
		if (!victim || e.expires < c->expires) {
			victim = s;
			*c = e;
		}
	}
	return victim;
}

bool neigh_shared_get(struct iface_neigh_table *t, ipv4_addr ip, smx_instant now, struct neigh_shared_view *v)
{
	struct entry_copy c;

	if (!shared_find(t, ip, &c) || now >= c.expires)
		return false;
	v->known = (c.mac & SHARED_MAC_KNOWN) != 0;
	mac_unpack(c.mac, &v->mac);
	v->expires = c.expires;
	return true;
}

/* ip's entry, or a slot for it, locked (its sequence in *seq), or NULL if every try lost a race. */
static struct shared_entry *shared_lock_for(struct iface_neigh_table *t, ipv4_addr ip, uint32_t *seq)
{
	for (int i = 0; i < SHARED_WRITE_TRIES; i++) {
		struct entry_copy seen;
		struct shared_entry *e = shared_find(t, ip, &seen);

		if (!e)
			e = shared_victim(t, ip, &seen);
		if (!e || !entry_lock(e, seq))
			continue;
		/* Under the lock: still what we chose (another writer may have taken the slot)? */
		if (atomic_load_explicit(&e->ip, memory_order_relaxed) == seen.ip)
			return e;
		entry_unlock(e, *seq);
	}
	return NULL;
}

void neigh_shared_put(struct iface_neigh_table *t, ipv4_addr ip, const struct eth_addr *mac, smx_instant expires)
{
	uint32_t seq;
	struct shared_entry *e = shared_lock_for(t, ip, &seq);

	if (!e)
		return; /* the next ARP packet from ip tries again */
	uint64_t m = mac_pack(mac);
	bool changed = atomic_load_explicit(&e->ip, memory_order_relaxed) != ip ||
		       atomic_load_explicit(&e->mac, memory_order_relaxed) != m;
	atomic_store_explicit(&e->mac, m, memory_order_relaxed);
	atomic_store_explicit(&e->expires, expires, memory_order_relaxed);
	atomic_store_explicit(&e->ip, ip, memory_order_relaxed);
	entry_unlock(e, seq);
	if (changed)
		atomic_fetch_add_explicit(&t->version, 1, memory_order_release);
}

bool neigh_shared_ask(struct iface_neigh_table *t, ipv4_addr ip, smx_instant now, smx_instant until)
{
	uint32_t seq;
	struct shared_entry *e = shared_lock_for(t, ip, &seq);

	if (!e)
		return true; /* asking twice is better than not at all */
	bool same = atomic_load_explicit(&e->ip, memory_order_relaxed) == ip;
	bool known = atomic_load_explicit(&e->mac, memory_order_relaxed) & SHARED_MAC_KNOWN;
	smx_instant expires = atomic_load_explicit(&e->expires, memory_order_relaxed);
	smx_instant asked = atomic_load_explicit(&e->asked, memory_order_relaxed);
	bool ask = true;

	if (same && known && expires >= until) {
		/* Known for longer than a request waits: another queue learned it since this one looked. */
		ask = false;
	} else if (same && !known && now < expires && now - asked < SEC) {
		/* Another queue asked within the second (RFC 1122 2.3.2.1: at most one a second, for
		 * the host, not per queue); the reply, wherever it lands, is merged here. */
		ask = false;
	} else {
		/* An entry the replies can be merged into (RFC 826), whichever queue hears them - also
		 * in place of an expired address, or one about to expire. */
		atomic_store_explicit(&e->mac, 0, memory_order_relaxed);
		atomic_store_explicit(&e->expires, until, memory_order_relaxed);
		atomic_store_explicit(&e->asked, now, memory_order_relaxed);
		atomic_store_explicit(&e->ip, ip, memory_order_relaxed);
	}
	entry_unlock(e, seq);
	return ask;
}

uint64_t neigh_shared_version(struct iface_neigh_table *t)
{
	return atomic_load_explicit(&t->version, memory_order_acquire);
}
