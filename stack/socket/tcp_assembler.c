/* Out-of-order bookkeeping for the receive side (RFC 9293 3.10.7.4, "segment text"): which ranges
 * beyond rcv_nxt already sit in the receive ring, so they are delivered once the hole fills; the same
 * ranges hold the SACK sender's scoreboard. Their tables come from the pool only while in use, with
 * the SACK recovery's retransmission marks and RACK's transmit-time ranges (tcp_rack.c). */
#include "tcp_internal.h"

static void tcp_asm_delete(struct tcp_assembler *a, unsigned i)
{
	for (unsigned j = i; j + 1 < a->count; j++) {
		a->left[j] = a->left[j + 1];
		a->right[j] = a->right[j + 1];
	}
	a->count--;
}

bool tcp_asm_add(struct tcp_assembler *a, uint32_t left, uint32_t right)
{
	unsigned i = 0;

	if (!tcp_seq_lt(left, right))
		return true;
	/* First range whose right edge reaches left: everything before it stays as it is. */
	while (i < a->count && tcp_seq_lt(a->right[i], left))
		i++;
	if (i == a->count || tcp_seq_lt(right, a->left[i])) {
		/* Disjoint: insert a new range at i. */
		if (a->count == a->cap)
			return false;
		for (unsigned j = a->count; j > i; j--) {
			a->left[j] = a->left[j - 1];
			a->right[j] = a->right[j - 1];
		}
		a->left[i] = left;
		a->right[i] = right;
		a->count++;
		return true;
	}
	/* Overlaps or touches range i: grow it, then swallow the ranges it now reaches. */
	if (tcp_seq_lt(left, a->left[i]))
		a->left[i] = left;
	if (tcp_seq_gt(right, a->right[i]))
		a->right[i] = right;
	while (i + 1 < a->count && tcp_seq_ge(a->right[i], a->left[i + 1])) {
		if (tcp_seq_gt(a->right[i + 1], a->right[i]))
			a->right[i] = a->right[i + 1];
		tcp_asm_delete(a, i + 1);
	}
	return true;
}

uint32_t tcp_asm_advance(struct tcp_assembler *a, uint32_t upto)
{
	while (a->count > 0 && tcp_seq_le(a->left[0], upto)) {
		if (tcp_seq_gt(a->right[0], upto))
			upto = a->right[0];
		tcp_asm_delete(a, 0);
	}
	return upto;
}

bool tcp_asm_holds(const struct tcp_assembler *a, uint32_t left, uint32_t right)
{
	for (unsigned i = 0; i < a->count; i++)
		if (tcp_seq_le(a->left[i], left) && tcp_seq_ge(a->right[i], right))
			return true;
	return false;
}

void tcp_asm_note(struct tcp_assembler *a, uint32_t seq)
{
	unsigned n = a->recent_count < TCP_ASM_RECENT ? a->recent_count + 1u : TCP_ASM_RECENT;

	for (unsigned j = n - 1; j > 0; j--)
		a->recent[j] = a->recent[j - 1];
	a->recent[0] = seq;
	a->recent_count = (uint8_t)n;
}

/* The range holding seq, or -1. */
static int tcp_asm_find(const struct tcp_assembler *a, uint32_t seq)
{
	for (unsigned i = 0; i < a->count; i++)
		if (tcp_seq_le(a->left[i], seq) && tcp_seq_lt(seq, a->right[i]))
			return (int)i;
	return -1;
}

static bool tcp_asm_add_block(const struct tcp_assembler *a, int i, struct tcp_sack_block *out, unsigned *n,
			      unsigned max)
{
	if (i < 0 || *n >= max)
		return false;
	for (unsigned j = 0; j < *n; j++)
		if (out[j].left == a->left[i])
			return false;
	out[*n].left = a->left[i];
	out[*n].right = a->right[i];
	(*n)++;
	return true;
}

unsigned tcp_asm_sack_blocks(const struct tcp_assembler *a, struct tcp_sack_block *out, unsigned max)
{
	unsigned n = 0;

	/* RFC 2018 4: the block holding the latest segment first, then the most recently reported
	 * ones (ranges that merged since count once), so a lost ACK loses no news; then, beyond what
	 * the RFC asks, the remaining holes from the top, so a sender sees as much as fits. */
	for (unsigned r = 0; r < a->recent_count; r++)
		tcp_asm_add_block(a, tcp_asm_find(a, a->recent[r]), out, &n, max);
	for (int i = (int)a->count - 1; i >= 0 && n < max; i--)
		tcp_asm_add_block(a, i, out, &n, max);
	return n;
}

/* The smallest chunk holds tables of TCP_ASM_MAX ranges and 16 RACK ranges (buffers of 2 KB or less:
 * a segment or two in flight), a 4 KB one all TCP_RACK_SENT and tables of what is left. */
#define TCP_RACK_SENT_MIN 16u
_Static_assert(sizeof(struct tcp_ranges) + 4 * TCP_ASM_MAX * sizeof(uint32_t) +
		       TCP_RACK_SENT_MIN * sizeof(struct tcp_rack_sent) <= (1u << TCP_CHUNK_MIN_SHIFT),
	       "range tables fit one chunk");
_Static_assert(sizeof(struct tcp_ranges) + 4 * TCP_ASM_MAX * sizeof(uint32_t) +
		       TCP_RACK_SENT * sizeof(struct tcp_rack_sent) <= TCP_CHUNK_SIZE,
	       "range tables fit one chunk");

bool tcp_ranges_wanted(const struct tcp_conn *c)
{
	return c->ranges == TCP_NIL && !(c->flags & TCP_CF_RCV_FIN) && c->state != TCP_TIME_WAIT &&
	       tcp_seq_gt(c->rcv_adv, c->rcv_nxt + c->pool->size);
}

void tcp_ranges_init(struct tcp_conn *c)
{
	c->ranges = TCP_NIL;
	c->ooo.left = c->ooo_inline[0];
	c->ooo.right = c->ooo_inline[1];
	c->ooo.cap = TCP_ASM_INLINE;
	c->sb.left = c->sb.right = NULL;
	c->sb.cap = 0;
	c->rtx_marks = NULL;
	c->rtx_mark_count = 0;
	c->rack_sent = &c->rack_sent_one;
	c->rack_sent_cap = 1;
	c->rack_sent_head = c->rack_sent_count = 0;
}

bool tcp_ranges_attach(struct tcp_conn *c)
{
	bool promised = c->ranges_promised && c->rx.promised > 0;
	struct tcp_ranges *t;
	uint32_t chunk;

	if (c->ranges != TCP_NIL)
		return true;
	chunk = tcp_pool_take(c->pool, promised ? TCP_TAKE_PROMISED : TCP_TAKE_FREE);
	if (chunk == TCP_NIL)
		return false;
	if (promised)
		tcp_ring_promise_taken(c->pool, &c->rx);
	c->ranges_promised = false;
	t = (struct tcp_ranges *)(void *)tcp_pool_chunk(c->pool, chunk);
	/* The layout of struct tcp_ranges: the marks, four tables of cap, the RACK ranges. */
	uint32_t rack = c->pool->size >= TCP_CHUNK_SIZE ? TCP_RACK_SENT : TCP_RACK_SENT_MIN;
	uint32_t cap = (uint32_t)SMX_MIN((c->pool->size - sizeof(*t) - rack * sizeof(struct tcp_rack_sent)) /
					 (4 * sizeof(uint32_t)), (size_t)UINT8_MAX);
	uint32_t *tab = t->tables;
	struct tcp_rack_sent *rs = (struct tcp_rack_sent *)(void *)(tab + 4 * cap);

	memcpy(tab, c->ooo.left, sizeof(uint32_t) * c->ooo.count);
	memcpy(tab + cap, c->ooo.right, sizeof(uint32_t) * c->ooo.count);
	c->ranges = chunk;
	c->ooo.left = tab;
	c->ooo.right = tab + cap;
	c->sb.left = tab + 2 * cap;
	c->sb.right = tab + 3 * cap;
	c->ooo.cap = c->sb.cap = (uint8_t)cap;
	c->rtx_marks = t->rtx_marks;
	/* RACK's ranges so far (one at most: the control block's slot) move to the chunk's. */
	if (c->rack_sent_count > 0)
		rs[0] = c->rack_sent[c->rack_sent_head];
	c->rack_sent = rs;
	c->rack_sent_head = 0;
	c->rack_sent_cap = (uint8_t)rack;
	return true;
}

void tcp_ranges_release(struct tcp_conn *c)
{
	if (c->ranges != TCP_NIL)
		tcp_pool_give(c->pool, c->ranges);
	tcp_ranges_init(c);
	c->ooo.count = c->sb.count = 0;
}

void tcp_ranges_trim(struct tcp_conn *c)
{
	if (c->ranges == TCP_NIL || c->ooo.count > 0 || c->sb.count > 0 || c->rtx_mark_count > 0 ||
	    c->rack_sent_count > 1)
		return;
	/* A flight of one RACK range (or none) keeps it in the control block's slot. */
	struct tcp_rack_sent one = c->rack_sent[c->rack_sent_head];
	uint8_t n = c->rack_sent_count;

	tcp_pool_give(c->pool, c->ranges);
	tcp_ranges_init(c);
	c->rack_sent_one = one;
	c->rack_sent_count = n;
	if (tcp_ranges_wanted(c) && !tcp_ring_empty(&c->rx)) {
		/* The window offered still counts on them: the chunk stays promised (RFC 9293 3.8.6;
		 * an empty buffer backs nothing, tcp_rcvbuf.c). */
		tcp_ring_promise_one(c->pool, &c->rx);
		c->ranges_promised = true;
	}
}
