/* xsk_ntuple.c's install path against a fake driver: ioctl is wrapped (-Wl,--wrap=ioctl) and
 * SIOCETHTOOL answered from a classification-rule table in memory (fake_nic.h), the way linux/ethtool.h
 * asks drivers with n-tuple filters to answer ETHTOOL_GRXCLSRLCNT, GRXCLSRLALL, GRXCLSRULE, SRXCLSRLINS
 * and SRXCLSRLDEL. State files go to a temporary SMOLXDP_STATE_DIR: neither root nor such a NIC is needed.
 * Each case checks the fake table's exact contents afterwards. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <cmocka.h>

#include "fake_nic.h"
#include "smolxdp/xsk_ntuple.h"

#define IFNAME "fake0"
#define ADDR IPV4_ADDR(10, 0, 0, 1)
#define OTHER IPV4_ADDR(10, 9, 9, 9)
#define ETH_P_LLDP_ 0x88cc

static const struct fake_driver drivers[] = {
	{ "places rules itself (sfc)", true, true, 0 },
	{ "needs a location, GRXCLSRLCNT gives the size, -EINVAL to RX_CLS_LOC_ANY (i40e)", false, true, -EINVAL },
	{ "needs a location, GRXCLSRLCNT's data 0, -EINVAL to RX_CLS_LOC_ANY (ixgbe, igc)", false, false, -EINVAL },
	{ "needs a location, -ENOSPC to RX_CLS_LOC_ANY (ice)", false, true, -ENOSPC },
};
#define PLACES (&drivers[0])
#define NDRIVERS (sizeof(drivers) / sizeof(drivers[0]))

static struct fake_nic nic;

static uint32_t nic_count(void)
{
	return fake_nic_count(&nic);
}

int __wrap_ioctl(int fd, unsigned long request, ...);

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	struct ifreq *ifr;
	va_list ap;
	int err;

	(void)fd;
	va_start(ap, request);
	ifr = va_arg(ap, struct ifreq *);
	va_end(ap);
	assert_int_equal(request, SIOCETHTOOL); /* nothing else is emulated */
	if (strcmp(ifr->ifr_name, IFNAME) != 0) {
		errno = ENODEV;
		return -1;
	}
	err = fake_nic_ethtool(&nic, ifr->ifr_data);
	if (err < 0) {
		errno = -err;
		return -1;
	}
	return 0;
}

static void nic_reset(const struct fake_driver *drv, uint32_t size)
{
	memset(&nic, 0, sizeof(nic));
	nic.drv = drv;
	nic.size = size;
}

/* Someone else's rule at loc: IPv4 to OTHER, or LLDP frames, to queue 3. */
static void nic_put_foreign(uint32_t loc, bool ether)
{
	struct ethtool_rx_flow_spec *fs = &nic.rule[loc];

	memset(fs, 0, sizeof(*fs));
	if (ether) {
		fs->flow_type = ETHER_FLOW;
		fs->h_u.ether_spec.h_proto = htons(ETH_P_LLDP_);
		fs->m_u.ether_spec.h_proto = 0xffff;
	} else {
		fs->flow_type = IP_USER_FLOW;
		fs->h_u.usr_ip4_spec.ip_ver = ETH_RX_NFC_IP4;
		fs->h_u.usr_ip4_spec.ip4dst = htonl(OTHER);
		fs->m_u.usr_ip4_spec.ip4dst = 0xffffffffu;
	}
	fs->ring_cookie = 3;
	fs->location = loc;
	nic.used[loc] = true;
}

static void assert_foreign(uint32_t loc, bool ether)
{
	const struct ethtool_rx_flow_spec *fs = &nic.rule[loc];

	assert_true(nic.used[loc]);
	assert_int_equal(fs->ring_cookie, 3);
	if (ether) {
		assert_int_equal(fs->flow_type, ETHER_FLOW);
		assert_int_equal(fs->h_u.ether_spec.h_proto, htons(ETH_P_LLDP_));
	} else {
		assert_int_equal(fs->flow_type, IP_USER_FLOW);
		assert_int_equal(fs->h_u.usr_ip4_spec.ip4dst, htonl(OTHER));
	}
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Our IPv4 rule at loc: every IPv4 frame to ADDR (dst fully masked, nothing else matched) to queue. */
static void assert_ip_rule(uint32_t loc, uint32_t queue)
{
	const struct ethtool_rx_flow_spec *fs = &nic.rule[loc];
	struct ethtool_usrip4_spec m = fs->m_u.usr_ip4_spec;

	assert_true(loc < nic.size && nic.used[loc]);
	assert_int_equal(fs->flow_type, IP_USER_FLOW);
	assert_int_equal(fs->h_u.usr_ip4_spec.ip_ver, ETH_RX_NFC_IP4);
	assert_int_equal(fs->h_u.usr_ip4_spec.ip4dst, htonl(ADDR));
	assert_int_equal(m.ip4dst, 0xffffffffu);
	m.ip4dst = 0;
	assert_true(all_zero(&m, sizeof(m)));
	assert_true(all_zero(&fs->m_ext, sizeof(fs->m_ext)));
	assert_int_equal(fs->ring_cookie, queue);
	assert_int_equal(fs->location, loc);
}

/* Our ARP rule at loc: ethertype 0x0806 only, to queue. */
static void assert_arp_rule(uint32_t loc, uint32_t queue)
{
	const struct ethtool_rx_flow_spec *fs = &nic.rule[loc];
	struct ethhdr m = fs->m_u.ether_spec;

	assert_true(loc < nic.size && nic.used[loc]);
	assert_int_equal(fs->flow_type, ETHER_FLOW);
	assert_int_equal(fs->h_u.ether_spec.h_proto, htons(ETH_P_ARP));
	assert_int_equal(m.h_proto, 0xffff);
	m.h_proto = 0;
	assert_true(all_zero(&m, sizeof(m)));
	assert_int_equal(fs->ring_cookie, queue);
	assert_int_equal(fs->location, loc);
}

static struct {
	unsigned warnings;
	char warning[256];
} logged;

static void log_capture(void *ctx, enum xsk_log_level level, const char *msg)
{
	(void)ctx;
	if (level == XSK_LOG_WARN) {
		logged.warnings++;
		snprintf(logged.warning, sizeof(logged.warning), "%s", msg);
	}
}

static char tmpdir[64], statedir[80];

/* A fresh state directory (not created yet: steer makes it) and an empty log. */
static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/smx-ntuple.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(statedir, sizeof(statedir), "%s/run", tmpdir);
	setenv(XSK_NTUPLE_STATE_ENV, statedir, 1);
	memset(&logged, 0, sizeof(logged));
	return 0;
}

static int teardown(void **state)
{
	char path[160];

	(void)state;
	snprintf(path, sizeof(path), "%s/ntuple-" IFNAME "-10.0.0.1", statedir);
	unlink(path);
	rmdir(statedir);
	rmdir(tmpdir);
	unsetenv(XSK_NTUPLE_STATE_ENV);
	return 0;
}

static bool state_file(char *buf, size_t cap)
{
	char path[160];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/ntuple-" IFNAME "-10.0.0.1", statedir);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return true;
}

static int steer(uint32_t queue, struct xsk_ntuple *r)
{
	return xsk_ntuple_steer(IFNAME, ADDR, queue, log_capture, NULL, r);
}

/* Both rules installed where the driver put them, beside a rule of someone else's; the state file
 * records the locations. */
static void test_install(void **state)
{
	struct xsk_ntuple r;
	char buf[64], want[160];

	(void)state;
	nic_reset(PLACES, 16);
	nic_put_foreign(0, false);
	assert_int_equal(steer(1, &r), 0);
	assert_true(r.installed);
	assert_int_equal(r.loc_ip, 1);
	assert_int_equal(r.loc_arp, 2);
	assert_int_equal(nic_count(), 3);
	assert_foreign(0, false);
	assert_ip_rule(1, 1);
	assert_arp_rule(2, 1);
	snprintf(want, sizeof(want), "%s/ntuple-" IFNAME "-10.0.0.1", statedir);
	assert_string_equal(r.state_path, want);
	assert_true(state_file(buf, sizeof(buf)));
	assert_string_equal(buf, "ip 1 arp 2\n");
	assert_int_equal(logged.warnings, 0);
}

/* Remove leaves the table as it was before (someone's rule only) and no state file; a second remove,
 * and one on a zeroed struct, do nothing. */
static void test_remove(void **state)
{
	struct xsk_ntuple r, zero = {0};
	char buf[64];

	(void)state;
	nic_reset(PLACES, 16);
	nic_put_foreign(0, false);
	assert_int_equal(steer(2, &r), 0);
	xsk_ntuple_remove(&r);
	assert_false(r.installed);
	assert_int_equal(nic_count(), 1);
	assert_foreign(0, false);
	assert_false(state_file(buf, sizeof(buf)));
	assert_int_equal(nic.deletes, 2);
	xsk_ntuple_remove(&r);
	xsk_ntuple_remove(&zero);
	xsk_ntuple_remove(NULL);
	assert_int_equal(nic.deletes, 2);
}

/* A run killed with its rules in place (steer, no remove): the next start removes them first, says
 * so, and the table then holds exactly the new two. */
static void test_killed_run(void **state)
{
	struct xsk_ntuple r;
	char buf[64];

	(void)state;
	nic_reset(PLACES, 16);
	assert_int_equal(steer(1, &r), 0);
	memset(&r, 0, sizeof(r)); /* kill -9: the process and what it knew are gone, the rules stay */
	assert_int_equal(steer(2, &r), 0);
	assert_int_equal(nic.deletes, 2);
	assert_int_equal(nic_count(), 2);
	assert_ip_rule(r.loc_ip, 2);
	assert_arp_rule(r.loc_arp, 2);
	assert_int_equal(logged.warnings, 1);
	assert_non_null(strstr(logged.warning, "earlier run"));
	assert_non_null(strstr(logged.warning, "locations 0, 1"));
	assert_non_null(strstr(logged.warning, IFNAME));
	assert_true(state_file(buf, sizeof(buf)));
	assert_string_equal(buf, "ip 0 arp 1\n");
	xsk_ntuple_remove(&r);
	assert_int_equal(nic_count(), 0);
}

/* Rules at our recorded locations that someone else put there after we were killed (another address;
 * another ethertype) are not ours: neither the next start's clean-up nor remove deletes them. */
static void test_replaced_kept(void **state)
{
	struct xsk_ntuple r;

	(void)state;
	nic_reset(PLACES, 16);
	assert_int_equal(steer(1, &r), 0);
	assert_int_equal(r.loc_ip, 0);
	assert_int_equal(r.loc_arp, 1);
	memset(&r, 0, sizeof(r));
	nic_put_foreign(0, false);
	nic_put_foreign(1, true);
	assert_int_equal(steer(1, &r), 0);
	assert_int_equal(nic.deletes, 0);
	assert_int_equal(nic_count(), 4);
	assert_foreign(0, false);
	assert_foreign(1, true);
	assert_ip_rule(2, 1);
	assert_arp_rule(3, 1);
	assert_int_equal(logged.warnings, 1);
	assert_non_null(strstr(logged.warning, "none removed"));

	/* Replaced while we run: remove deletes only what is still ours. */
	nic.used[2] = false;
	nic_put_foreign(2, false);
	xsk_ntuple_remove(&r);
	assert_int_equal(nic_count(), 3);
	assert_foreign(0, false);
	assert_foreign(1, true);
	assert_foreign(2, false);
}

/* The ARP rule refused: the IPv4 rule is rolled back, no state file, the error names the step. */
static void test_arp_refused(void **state)
{
	struct xsk_ntuple r;
	char buf[64];

	(void)state;
	for (size_t i = 0; i < NDRIVERS; i++) {
		print_message("%s\n", drivers[i].name);
		nic_reset(&drivers[i], 16);
		nic_put_foreign(0, false);
		nic.refuse_arp = true;
		assert_int_equal(steer(1, &r), -EINVAL);
		assert_false(r.installed);
		assert_int_equal(nic_count(), 1);
		assert_foreign(0, false);
		assert_int_equal(nic.deletes, 1);
		assert_non_null(strstr(xsk_last_error(), IFNAME));
		assert_non_null(strstr(xsk_last_error(), "for ARP"));
		assert_non_null(strstr(xsk_last_error(), "ETHTOOL_SRXCLSRLINS"));
		assert_false(state_file(buf, sizeof(buf)));
		xsk_ntuple_remove(&r);
		assert_int_equal(nic.deletes, 1);
	}
}

/* A driver that needs a location gets the highest free ones, as ethtool's rule manager picks. */
static void test_needs_location(void **state)
{
	struct xsk_ntuple r;
	char buf[64];

	(void)state;
	for (size_t i = 0; i < NDRIVERS; i++) {
		if (drivers[i].places_itself)
			continue;
		print_message("%s\n", drivers[i].name);
		nic_reset(&drivers[i], 16);
		nic_put_foreign(15, false);
		nic_put_foreign(13, true);
		assert_int_equal(steer(3, &r), 0);
		assert_int_equal(r.loc_ip, 14);
		assert_int_equal(r.loc_arp, 12);
		assert_int_equal(nic_count(), 4);
		assert_ip_rule(14, 3);
		assert_arp_rule(12, 3);
		assert_foreign(15, false);
		assert_foreign(13, true);
		assert_true(state_file(buf, sizeof(buf)));
		assert_string_equal(buf, "ip 14 arp 12\n");
		xsk_ntuple_remove(&r);
		assert_int_equal(nic_count(), 2);
		assert_false(state_file(buf, sizeof(buf)));
	}
}

/* A full table: -ENOSPC, a clear error, the table as it was. With room for one rule only, the IPv4
 * rule goes in and comes out again when ARP finds no room. */
static void test_full_table(void **state)
{
	struct xsk_ntuple r;
	char buf[64];

	(void)state;
	for (size_t i = 0; i < NDRIVERS; i++) {
		print_message("%s\n", drivers[i].name);
		for (uint32_t free_slots = 0; free_slots < 2; free_slots++) {
			nic_reset(&drivers[i], 4);
			for (uint32_t l = free_slots; l < 4; l++)
				nic_put_foreign(l, l & 1);
			assert_int_equal(steer(1, &r), -ENOSPC);
			assert_false(r.installed);
			assert_int_equal(nic_count(), 4 - free_slots);
			for (uint32_t l = free_slots; l < 4; l++)
				assert_foreign(l, l & 1);
			assert_int_equal(nic.inserts, free_slots);
			assert_int_equal(nic.deletes, free_slots);
			assert_non_null(strstr(xsk_last_error(), IFNAME));
			assert_non_null(strstr(xsk_last_error(), free_slots ? "for ARP" : "for IPv4"));
			assert_non_null(strstr(xsk_last_error(),
					       drivers[i].places_itself ? "No space left" : "all 4 locations"));
			assert_false(state_file(buf, sizeof(buf)));
		}
	}
}

/* A driver without n-tuple filters (veth): -EOPNOTSUPP, an error saying so, no state file. */
static void test_no_filters(void **state)
{
	struct xsk_ntuple r;
	char buf[64];

	(void)state;
	nic_reset(PLACES, 16);
	nic.no_filters = true;
	assert_int_equal(steer(1, &r), -EOPNOTSUPP);
	assert_false(r.installed);
	assert_non_null(strstr(xsk_last_error(), IFNAME ": no n-tuple filters"));
	assert_false(state_file(buf, sizeof(buf)));
}

/* A state directory whose path does not fit: refused before anything is installed. */
static void test_state_dir_too_long(void **state)
{
	struct xsk_ntuple r;
	char dir[300];

	(void)state;
	nic_reset(PLACES, 16);
	memset(dir, 'd', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	setenv(XSK_NTUPLE_STATE_ENV, dir, 1);
	assert_int_equal(steer(1, &r), -ENAMETOOLONG);
	assert_int_equal(nic.inserts, 0);
	assert_non_null(strstr(xsk_last_error(), "state directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_install, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_location, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_too_long, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
