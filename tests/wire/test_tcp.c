/* TCP: captured curl handshake (MSS, SACK-permitted, timestamps, window scale), data, FIN, RST, SACK
 * blocks from a lossy transfer; emit(parse(x)) == x for every captured segment (Linux's option layout);
 * every truncation; data offset < 5 or past the end; option lengths 0, 1 and overflow; wrong sizes for
 * known kinds; unknown kinds skipped; bad checksums; sequence arithmetic. */
#include <stdlib.h>
#include <string.h>

#include "wire_test_util.h"

static enum wire_err parse_frame(const uint8_t *f, struct tcp_repr *r)
{
	return tcp_parse(frame_l4(f), frame_l4_len(f), frame_src(f), frame_dst(f), WIRE_CSUM_VERIFY, r);
}

static void test_syn(void **state)
{
	struct tcp_repr r;

	assert_int_equal(parse_frame(cap_tcp_syn, &r), WIRE_OK);
	assert_int_equal(r.src_port, 35622);
	assert_int_equal(r.dst_port, 8080);
	assert_int_equal(r.seq, 3671189790u);
	assert_int_equal(r.ack, 0);
	assert_int_equal(r.flags, TCP_SYN);
	assert_int_equal(r.header_len, 40);
	assert_int_equal(r.window, 64240);
	assert_int_equal(r.urgent, 0);
	assert_int_equal(r.payload_len, 0);
	assert_true(r.opts.has_mss);
	assert_int_equal(r.opts.mss, 1460);
	assert_true(r.opts.sack_permitted);
	assert_true(r.opts.has_timestamp);
	assert_int_equal(r.opts.ts_val, 1951051127u);
	assert_int_equal(r.opts.ts_ecr, 0);
	assert_true(r.opts.has_wscale);
	assert_int_equal(r.opts.wscale, 10);
	assert_int_equal(r.opts.sack_count, 0);
	assert_int_equal(r.opts.unknown_count, 0);
}

static void test_synack_data_fin_rst(void **state)
{
	struct tcp_repr r;

	assert_int_equal(parse_frame(cap_tcp_synack, &r), WIRE_OK);
	assert_int_equal(r.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(r.seq, 2770931118u);
	assert_int_equal(r.ack, 3671189791u);
	assert_int_equal(r.window, 65160);
	assert_int_equal(r.opts.ts_ecr, 1951051127u);
	assert_true(r.opts.has_mss && r.opts.sack_permitted && r.opts.has_wscale);

	assert_int_equal(parse_frame(cap_tcp_get, &r), WIRE_OK);
	assert_int_equal(r.flags, TCP_PSH | TCP_ACK);
	assert_int_equal(r.header_len, 32);
	assert_int_equal(r.payload_len, 77);
	assert_memory_equal(r.payload, "GET / HTTP/1.1\r\n", 16);
	assert_true(r.opts.has_timestamp);
	assert_false(r.opts.has_mss || r.opts.sack_permitted || r.opts.has_wscale);
	assert_int_equal(r.opts.ts_val, 1951051128u);
	assert_int_equal(r.opts.ts_ecr, 2195645718u);

	assert_int_equal(parse_frame(cap_tcp_fin_server, &r), WIRE_OK);
	assert_int_equal(r.flags, TCP_FIN | TCP_ACK);
	assert_int_equal(r.seq, 2770931306u);

	assert_int_equal(parse_frame(cap_tcp_rst, &r), WIRE_OK);
	assert_int_equal(r.flags, TCP_RST | TCP_ACK);
	assert_int_equal(r.seq, 0);
	assert_int_equal(r.ack, 3206682905u);
	assert_int_equal(r.window, 0);
	assert_int_equal(r.header_len, 20);
	assert_false(r.opts.has_timestamp);
}

static void test_sack_blocks(void **state)
{
	struct tcp_repr r;

	assert_int_equal(parse_frame(cap_sack_1block, &r), WIRE_OK);
	assert_int_equal(r.opts.sack_count, 1);
	assert_true(tcp_seq_gt(r.opts.sack[0].left, r.ack));
	assert_true(tcp_seq_lt(r.opts.sack[0].left, r.opts.sack[0].right));
	assert_true(r.opts.has_timestamp);
	assert_int_equal(parse_frame(cap_sack_2blocks, &r), WIRE_OK);
	assert_int_equal(r.opts.sack_count, 2);
	assert_int_equal(r.opts.sack[0].left, get_be32(frame_l4(cap_sack_2blocks) + 36));
	assert_int_equal(r.opts.sack[1].right, get_be32(frame_l4(cap_sack_2blocks) + 48));
}

/* The point of Linux's option layout: every captured segment comes back byte for byte. */
static void test_round_trip_all_captured(void **state)
{
	size_t n = 0;

	for (size_t i = 0; i < capture_frame_count; i++) {
		const uint8_t *f = capture_frames[i].data;
		struct tcp_repr r;
		uint8_t out[1500];
		if (get_be16(f + 12) != ETH_TYPE_IPV4 || frame_proto(f) != IP_PROTO_TCP)
			continue;
		assert_int_equal(parse_frame(f, &r), WIRE_OK);
		size_t len = frame_l4_len(f);
		assert_int_equal(tcp_options_len(&r.opts), r.header_len - 20);
		assert_int_equal(tcp_repr_len(&r), len);
		assert_int_equal(tcp_emit(&r, frame_src(f), frame_dst(f), out, sizeof(out)), len);
		if (memcmp(out, frame_l4(f), len) != 0)
			fail_msg("%s differs after emit(parse(x))", capture_frames[i].name);
		assert_int_equal(tcp_emit(&r, frame_src(f), frame_dst(f), out, len - 1), 0);
		n++;
	}
	assert_true(n >= 18);
}

/* Linux SYN without timestamps: MSS, NOP NOP SACK_PERM, NOP WSCALE. */
static void test_linux_layouts(void **state)
{
	struct tcp_repr r = {.src_port = 1, .dst_port = 2, .seq = 100, .flags = TCP_SYN, .window = 64240};
	uint8_t out[60];
	static const uint8_t syn_no_ts[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
	static const uint8_t ts_only[] = {1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6};
	static const uint8_t mss_only[] = {2, 4, 0x02, 0x18};

	r.opts.has_mss = true;
	r.opts.mss = 1460;
	r.opts.sack_permitted = true;
	r.opts.has_wscale = true;
	r.opts.wscale = 7;
	assert_int_equal(tcp_emit(&r, 1, 2, out, sizeof(out)), 20 + sizeof(syn_no_ts));
	assert_int_equal(out[12] >> 4, 8);
	assert_memory_equal(out + 20, syn_no_ts, sizeof(syn_no_ts));

	memset(&r.opts, 0, sizeof(r.opts));
	r.opts.has_timestamp = true;
	r.opts.ts_val = 5;
	r.opts.ts_ecr = 6;
	assert_int_equal(tcp_emit(&r, 1, 2, out, sizeof(out)), 20 + sizeof(ts_only));
	assert_memory_equal(out + 20, ts_only, sizeof(ts_only));

	memset(&r.opts, 0, sizeof(r.opts));
	r.opts.has_mss = true;
	r.opts.mss = 536;
	assert_int_equal(tcp_emit(&r, 1, 2, out, sizeof(out)), 24);
	assert_memory_equal(out + 20, mss_only, sizeof(mss_only));

	memset(&r.opts, 0, sizeof(r.opts));
	assert_int_equal(tcp_options_len(&r.opts), 0);
	assert_int_equal(tcp_emit(&r, 1, 2, out, sizeof(out)), 20);
	assert_int_equal(out[12], 5 << 4);
}

/* Four SACK blocks fit only without timestamps (RFC 2018 3); with them, three. */
static void test_sack_block_limits(void **state)
{
	struct tcp_options o = {.sack_count = 4};
	struct tcp_repr r = {.flags = TCP_ACK};
	uint8_t out[60];
	struct tcp_repr p;

	for (uint32_t i = 0; i < 4; i++) {
		o.sack[i].left = 1000 * (i + 1);
		o.sack[i].right = 1000 * (i + 1) + 500;
	}
	assert_int_equal(tcp_options_len(&o), 4 + 32);
	r.opts = o;
	assert_int_equal(tcp_emit(&r, 1, 2, out, sizeof(out)), 56);
	assert_int_equal(tcp_parse(out, 56, 1, 2, WIRE_CSUM_VERIFY, &p), WIRE_OK);
	assert_int_equal(p.opts.sack_count, 4);
	assert_int_equal(p.opts.sack[3].right, 4500);
	o.has_timestamp = true;
	assert_int_equal(tcp_options_len(&o), 12 + 4 + 24);
	r.opts = o;
	assert_int_equal(tcp_emit(&r, 1, 2, out, sizeof(out)), 60);
	assert_int_equal(tcp_parse(out, 60, 1, 2, WIRE_CSUM_VERIFY, &p), WIRE_OK);
	assert_int_equal(p.opts.sack_count, 3);
	assert_int_equal(p.opts.sack[2].left, 3000);
	/* everything at once still fits in 40 bytes */
	o.has_mss = o.has_wscale = o.sack_permitted = true;
	assert_true(tcp_options_len(&o) <= 40);
	assert_int_equal(tcp_options_len(&o) % 4, 0);
}

static void test_truncation(void **state)
{
	struct tcp_repr r;
	const uint8_t *f = cap_tcp_syn;
	size_t n = frame_l4_len(f);

	/* inside the header (fixed part or options): truncated, without reading past the end */
	for (size_t len = 0; len < 40; len++) {
		uint8_t *c = dup_exact(frame_l4(f), len);
		assert_int_equal(tcp_parse(c, len, frame_src(f), frame_dst(f), WIRE_CSUM_IGNORE, &r), WIRE_TRUNCATED);
		assert_int_equal(tcp_parse(c, len, frame_src(f), frame_dst(f), WIRE_CSUM_VERIFY, &r), WIRE_TRUNCATED);
		free(c);
	}
	assert_int_equal(n, 40);
	/* inside the payload: only the checksum can tell */
	f = cap_tcp_get;
	n = frame_l4_len(f);
	for (size_t len = 32; len < n; len++) {
		uint8_t *c = dup_exact(frame_l4(f), len);
		assert_int_equal(tcp_parse(c, len, frame_src(f), frame_dst(f), WIRE_CSUM_VERIFY, &r), WIRE_BAD_CHECKSUM);
		assert_int_equal(tcp_parse(c, len, frame_src(f), frame_dst(f), WIRE_CSUM_IGNORE, &r), WIRE_OK);
		assert_int_equal(r.payload_len, len - 32);
		free(c);
	}
}

static void test_data_offset(void **state)
{
	uint8_t s[40];
	struct tcp_repr r;

	for (uint8_t doff = 0; doff < 5; doff++) {
		memcpy(s, frame_l4(cap_tcp_syn), sizeof(s));
		s[12] = (uint8_t)(doff << 4);
		assert_int_equal(tcp_parse(s, sizeof(s), 1, 2, WIRE_CSUM_IGNORE, &r), WIRE_MALFORMED);
	}
	for (uint8_t doff = 11; doff < 16; doff++) { /* past the 40-byte segment */
		memcpy(s, frame_l4(cap_tcp_syn), sizeof(s));
		s[12] = (uint8_t)(doff << 4);
		assert_int_equal(tcp_parse(s, sizeof(s), 1, 2, WIRE_CSUM_IGNORE, &r), WIRE_TRUNCATED);
	}
	/* longer than any IPv4 datagram can carry */
	uint8_t *big = calloc(1, 0x10000);
	memcpy(big, frame_l4(cap_tcp_rst), 20);
	assert_int_equal(tcp_parse(big, 0x10000, 1, 2, WIRE_CSUM_VERIFY, &r), WIRE_MALFORMED);
	assert_int_equal(tcp_parse(big, 0xffff, 1, 2, WIRE_CSUM_IGNORE, &r), WIRE_OK);
	free(big);
}

/* Build a 20-byte header plus the given option bytes (padded with EOL to a multiple of 4). */
static size_t with_options(uint8_t *s, const uint8_t *opts, size_t n)
{
	size_t padded = (n + 3) / 4 * 4;
	memcpy(s, frame_l4(cap_tcp_rst), 20);
	memset(s + 20, 0, padded);
	memcpy(s + 20, opts, n);
	s[12] = (uint8_t)((20 + padded) / 4 << 4);
	return 20 + padded;
}

static enum wire_err parse_options(const uint8_t *opts, size_t n, struct tcp_repr *r)
{
	uint8_t s[60];
	size_t len = with_options(s, opts, n);
	uint8_t *c = dup_exact(s, len);
	enum wire_err err = tcp_parse(c, len, 1, 2, WIRE_CSUM_IGNORE, r);
	free(c);
	return err;
}

static void test_option_lengths(void **state)
{
	struct tcp_repr r;
	static const uint8_t len0[] = {1, 2, 0, 0x05, 0xb4};
	static const uint8_t len1[] = {8, 1, 0, 0};
	static const uint8_t unknown_len0[] = {30, 0, 0, 0};
	static const uint8_t unknown_len1[] = {30, 1, 1, 1}; /* would otherwise step onto NOPs and pass */
	static const uint8_t overflow[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 2, 8, 5, 0xb4}; /* MSS len 8 */
	static const uint8_t unknown_overflow[] = {30, 12, 1, 2, 3, 4}; /* 12 > the 8 left */
	static const uint8_t no_length_byte[] = {1, 1, 1, 2}; /* MSS kind as the last byte of the header */
	static const uint8_t mss_len3[] = {2, 3, 5, 1};
	static const uint8_t wscale_len4[] = {3, 4, 7, 0};
	static const uint8_t sackperm_len3[] = {4, 3, 0, 1};
	static const uint8_t ts_len8[] = {8, 8, 0, 0, 0, 1, 0, 0};
	static const uint8_t sack_len6[] = {5, 6, 0, 0, 0, 1};
	static const uint8_t sack_len2[] = {5, 2, 1, 1};
	static const uint8_t sack_5blocks[] = {5, 42};

	assert_int_equal(parse_options(len0, sizeof(len0), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(len1, sizeof(len1), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(unknown_len0, sizeof(unknown_len0), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(unknown_len1, sizeof(unknown_len1), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(overflow, sizeof(overflow), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(unknown_overflow, sizeof(unknown_overflow), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(no_length_byte, sizeof(no_length_byte), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(mss_len3, sizeof(mss_len3), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(wscale_len4, sizeof(wscale_len4), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(sackperm_len3, sizeof(sackperm_len3), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(ts_len8, sizeof(ts_len8), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(sack_len6, sizeof(sack_len6), &r), WIRE_MALFORMED);
	assert_int_equal(parse_options(sack_len2, sizeof(sack_len2), &r), WIRE_MALFORMED);
	/* 5 blocks cannot fit: length 42 runs past a 40-byte option area anyway */
	uint8_t big[40] = {5, 42};
	memcpy(big, sack_5blocks, sizeof(sack_5blocks));
	assert_int_equal(parse_options(big, sizeof(big), &r), WIRE_MALFORMED);
	/* every cut of the SYN's option area (doff says 40, fewer bytes of options are valid) */
	for (size_t cut = 1; cut < 20; cut++) {
		uint8_t s[40];
		memcpy(s, frame_l4(cap_tcp_syn), sizeof(s));
		size_t keep = 20 - cut; /* option bytes kept; the rest become the end of the header */
		s[12] = (uint8_t)((20 + (keep + 3) / 4 * 4) / 4 << 4);
		size_t hlen = (size_t)(s[12] >> 4) * 4;
		memset(s + 20 + keep, 0, hlen - 20 - keep); /* EOL after the cut */
		enum wire_err err = tcp_parse(s, hlen, 1, 2, WIRE_CSUM_IGNORE, &r);
		/* The SYN's options are MSS [0,4) SACK_PERM [4,6) TS [6,16) NOP [16] WSCALE [17,20). A cut
		 * leaves a zero (EOL) length byte, or a length past the padded header: malformed. Where the
		 * zero padding happens to complete an option's bytes, it parses (with zeros as values). */
		bool parses = keep == 2 || keep == 3 || keep == 4 || keep == 6 || (keep >= 13 && keep <= 17) ||
			      keep == 19;
		if (parses)
			assert_int_equal(err, WIRE_OK);
		else
			assert_int_equal(err, WIRE_MALFORMED);
	}
}

static void test_unknown_and_eol(void **state)
{
	struct tcp_repr r;
	/* an unknown kind (TCP fast open cookie, 34) is skipped by its length; MSS after it still parsed */
	static const uint8_t unknown[] = {34, 6, 0xde, 0xad, 0xbe, 0xef, 2, 4, 0x05, 0xb4};
	/* EOL ends the list: what follows is not an option */
	static const uint8_t eol[] = {2, 4, 0x05, 0xb4, 0, 0x99, 0x99, 0x99};
	static const uint8_t nops[] = {1, 1, 1, 1, 1, 1, 1, 1};

	assert_int_equal(parse_options(unknown, sizeof(unknown), &r), WIRE_OK);
	assert_int_equal(r.opts.unknown_count, 1);
	assert_true(r.opts.has_mss);
	assert_int_equal(r.opts.mss, 1460);
	assert_int_equal(parse_options(eol, sizeof(eol), &r), WIRE_OK);
	assert_true(r.opts.has_mss);
	assert_int_equal(r.opts.unknown_count, 0);
	assert_int_equal(parse_options(nops, sizeof(nops), &r), WIRE_OK);
	assert_false(r.opts.has_mss);
	char txt[300];
	struct strbuf sb;
	assert_int_equal(parse_options(unknown, sizeof(unknown), &r), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	tcp_print(&r, &sb);
	assert_contains(txt, "options [mss 1460,unknown 1]");
}

static void test_bad_checksum(void **state)
{
	const uint8_t *f = cap_tcp_http_body;
	size_t n = frame_l4_len(f);
	struct tcp_repr r;

	for (size_t bit = 0; bit < n * 8; bit++) {
		if (bit / 8 == 12) /* the data offset: changes the structure first */
			continue;
		uint8_t *c = dup_exact(frame_l4(f), n);
		c[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		enum wire_err err = tcp_parse(c, n, frame_src(f), frame_dst(f), WIRE_CSUM_VERIFY, &r);
		if (bit / 8 >= 20 && bit / 8 < 32 && err == WIRE_MALFORMED)
			; /* flipping an option's kind or length may make it malformed: also a rejection */
		else
			assert_int_equal(err, WIRE_BAD_CHECKSUM);
		free(c);
	}
	/* the pseudo-header is covered: another source address fails */
	assert_int_equal(tcp_parse(frame_l4(f), n, IPV4_ADDR(10, 0, 0, 3), frame_dst(f), WIRE_CSUM_VERIFY, &r),
			 WIRE_BAD_CHECKSUM);
	assert_int_equal(r.seq, 2770931303u); /* still filled */
}

static void test_emit_in_place_unaligned(void **state)
{
	uint8_t raw[1 + 32 + 5];
	uint8_t *buf = raw + 1;
	struct tcp_repr p;
	struct tcp_repr r = {.src_port = 80, .dst_port = 40000, .seq = 0xfffffffe, .ack = 7,
			     .flags = TCP_PSH | TCP_ACK, .window = 501, .payload = buf + 32, .payload_len = 5};

	r.opts.has_timestamp = true;
	r.opts.ts_val = 1;
	r.opts.ts_ecr = 2;
	memcpy(buf + 32, "hello", 5);
	assert_int_equal(tcp_repr_len(&r), 37);
	assert_int_equal(tcp_emit(&r, IPV4_ADDR(10, 0, 0, 2), IPV4_ADDR(10, 0, 0, 1), buf, 37), 37);
	assert_int_equal(tcp_parse(buf, 37, IPV4_ADDR(10, 0, 0, 2), IPV4_ADDR(10, 0, 0, 1), WIRE_CSUM_VERIFY, &p),
			 WIRE_OK);
	assert_memory_equal(p.payload, "hello", 5);
	assert_int_equal(p.seq, 0xfffffffe);
	/* payload given elsewhere is copied */
	uint8_t other[64];
	assert_int_equal(tcp_emit(&r, IPV4_ADDR(10, 0, 0, 2), IPV4_ADDR(10, 0, 0, 1), other, sizeof(other)), 37);
	assert_memory_equal(other, buf, 37);
}

static void test_flags_and_print(void **state)
{
	static const struct {
		uint8_t flags;
		const char *text;
	} cases[] = {
		{TCP_SYN, "S"}, {TCP_SYN | TCP_ACK, "S."}, {TCP_FIN | TCP_ACK, "F."}, {TCP_RST, "R"},
		{TCP_RST | TCP_ACK, "R."}, {TCP_PSH | TCP_ACK, "P."}, {TCP_ACK, "."}, {0, "none"},
		{0xff, "FSRP.UEW"}, {TCP_SYN | TCP_ECE | TCP_CWR, "SEW"},
	};
	char txt[300];
	struct strbuf sb;
	struct tcp_repr r;

	for (size_t i = 0; i < SMX_ARRAY_LEN(cases); i++) {
		strbuf_init(&sb, txt, sizeof(txt));
		tcp_flags_print(cases[i].flags, &sb);
		assert_string_equal(txt, cases[i].text);
	}
	assert_int_equal(parse_frame(cap_tcp_syn, &r), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	tcp_print(&r, &sb);
	assert_string_equal(txt, "TCP 35622 > 8080 Flags [S], seq 3671189790, win 64240, options [mss 1460,sackOK,"
				 "TS val 1951051127 ecr 0,wscale 10], length 0");
	assert_int_equal(parse_frame(cap_sack_1block, &r), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	tcp_print(&r, &sb);
	assert_contains(txt, ",sack 1 {");
	assert_int_equal(parse_frame(cap_tcp_rst, &r), WIRE_OK);
	strbuf_init(&sb, txt, sizeof(txt));
	tcp_print(&r, &sb);
	assert_string_equal(txt, "TCP 8081 > 50582 Flags [R.], seq 0, ack 3206682905, win 0, length 0");
}

/* RFC 9293 3.10.7.1: the answer to a segment for a closed port is Linux's, byte for byte, to the same
 * SYN; an ACK is answered with <SEQ=SEG.ACK><CTL=RST>; SEG.LEN counts SYN and FIN; a RST is never
 * answered. */
static void test_rst_reply(void **state)
{
	struct tcp_repr syn, rst;
	uint8_t buf[64];

	assert_int_equal(parse_frame(cap_tcp_syn_closed, &syn), WIRE_OK);
	assert_int_equal(tcp_seq_len(&syn), 1);
	assert_true(tcp_rst_reply(&syn, &rst));
	size_t n = tcp_emit(&rst, frame_dst(cap_tcp_syn_closed), frame_src(cap_tcp_syn_closed), buf, sizeof(buf));
	assert_int_equal(n, frame_l4_len(cap_tcp_rst));
	assert_memory_equal(buf, frame_l4(cap_tcp_rst), n);

	struct tcp_repr seg = {.src_port = 1000, .dst_port = 80, .seq = 100, .ack = 7777, .flags = TCP_ACK | TCP_PSH,
			       .payload_len = 10};
	assert_true(tcp_rst_reply(&seg, &rst));
	assert_int_equal(rst.flags, TCP_RST);
	assert_int_equal(rst.seq, 7777);
	assert_int_equal(rst.src_port, 80);
	assert_int_equal(rst.dst_port, 1000);
	seg.flags = TCP_FIN;
	assert_int_equal(tcp_seq_len(&seg), 11);
	assert_true(tcp_rst_reply(&seg, &rst));
	assert_int_equal(rst.flags, TCP_RST | TCP_ACK);
	assert_int_equal(rst.seq, 0);
	assert_int_equal(rst.ack, 111);
	seg.flags = TCP_RST | TCP_ACK;
	assert_false(tcp_rst_reply(&seg, &rst));
	/* RFC 9293 3.7.1: the MSS offered is the MTU less 40, on small links too. */
	assert_int_equal(tcp_mss_for_mtu(1500), 1460);
	assert_int_equal(tcp_mss_for_mtu(68), 28);
}

static void test_seq_arithmetic(void **state)
{
	assert_true(tcp_seq_lt(0xfffffff0u, 0x10));
	assert_true(tcp_seq_gt(0x10, 0xfffffff0u));
	assert_true(tcp_seq_le(5, 5));
	assert_true(tcp_seq_ge(5, 5));
	assert_false(tcp_seq_lt(5, 5));
	assert_true(tcp_seq_lt(0, 0x7fffffff));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn),
		cmocka_unit_test(test_synack_data_fin_rst),
		cmocka_unit_test(test_sack_blocks),
		cmocka_unit_test(test_round_trip_all_captured),
		cmocka_unit_test(test_linux_layouts),
		cmocka_unit_test(test_sack_block_limits),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_data_offset),
		cmocka_unit_test(test_option_lengths),
		cmocka_unit_test(test_unknown_and_eol),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_emit_in_place_unaligned),
		cmocka_unit_test(test_flags_and_print),
		cmocka_unit_test(test_rst_reply),
		cmocka_unit_test(test_seq_arithmetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
