/* The bounded string builder and the error names. */
#include <stdlib.h>
#include <string.h>

#include "wire_test_util.h"

static void test_formats(void **state)
{
	char b[64];
	struct strbuf sb;
	struct eth_addr mac = {{0x02, 0xab, 0x00, 0x0f, 0xff, 0x10}};

	strbuf_init(&sb, b, sizeof(b));
	strbuf_dec(&sb, 0);
	strbuf_putc(&sb, ' ');
	strbuf_dec(&sb, UINT64_MAX);
	assert_string_equal(b, "0 18446744073709551615");
	strbuf_init(&sb, b, sizeof(b));
	strbuf_hex(&sb, 0, 1);
	strbuf_putc(&sb, ' ');
	strbuf_hex(&sb, 0x800, 4);
	strbuf_putc(&sb, ' ');
	strbuf_hex(&sb, 0xdeadbeefcafe, 2);
	strbuf_putc(&sb, ' ');
	strbuf_hex(&sb, 5, 2);
	assert_string_equal(b, "0 0800 deadbeefcafe 05");
	strbuf_init(&sb, b, sizeof(b));
	strbuf_ipv4(&sb, IPV4_ADDR(255, 0, 10, 1));
	strbuf_putc(&sb, ' ');
	strbuf_mac(&sb, &mac);
	assert_string_equal(b, "255.0.10.1 02:ab:00:0f:ff:10");
}

static void test_bounds(void **state)
{
	struct strbuf sb;

	for (size_t cap = 1; cap < 12; cap++) {
		char *b = malloc(cap); /* exact: ASan catches a write past the end */
		strbuf_init(&sb, b, cap);
		strbuf_puts(&sb, "hello ");
		strbuf_dec(&sb, 12345);
		strbuf_putc(&sb, '!');
		assert_int_equal(strlen(b), SMX_MIN(cap - 1, 12));
		assert_memory_equal(b, "hello 12345!", strlen(b));
		free(b);
	}
	strbuf_init(&sb, NULL, 0); /* zero capacity: nothing at all is written */
	strbuf_puts(&sb, "x");
	strbuf_putc(&sb, 'y');
	assert_int_equal(sb.len, 0);
}

static void test_err_names(void **state)
{
	assert_string_equal(wire_err_str(WIRE_OK), "ok");
	assert_string_equal(wire_err_str(WIRE_TRUNCATED), "truncated");
	assert_string_equal(wire_err_str(WIRE_MALFORMED), "malformed");
	assert_string_equal(wire_err_str(WIRE_BAD_CHECKSUM), "bad checksum");
	assert_string_equal(wire_err_str(WIRE_UNSUPPORTED), "unsupported");
	assert_string_equal(wire_err_str((enum wire_err)99), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_err_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
