/* Out-of-order bookkeeping for the receive side (RFC 9293 3.10.7.4, "segment text"): which ranges
 * beyond rcv_nxt already sit in the receive ring, so they are delivered once the hole fills. */
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
		if (a->count == TCP_ASM_MAX)
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
