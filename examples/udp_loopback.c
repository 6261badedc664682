/* Two stacks on one simulated wire (the loopback device), a UDP echo between them, on virtual time:
 * no root, no network, no clock. The smallest complete use of the API: memory given at init, an
 * interface per device with a UDP stack plugged into it, a socket per port, and a loop that polls each
 * interface with the time.
 *
 *   udp_loopback [COUNT]      sends COUNT datagrams (default 3) from A to B's echo port and back
 *
 * Build: cc udp_loopback.c $(pkg-config --cflags --libs smolxdp) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smolxdp/dev_loopback.h>
#include <smolxdp/iface.h>
#include <smolxdp/udp.h>

#define ECHO_PORT 7

/* Every module of the stack says how much memory it needs for a configuration (*_mem_size) and lays
 * itself out in a block the app gives it (*_init); it never allocates afterwards. */
static void *alloc_or_die(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fprintf(stderr, "udp_loopback: out of memory\n");
		exit(1);
	}
	return p;
}

static struct iface *make_iface(struct dev *dev, uint8_t last_octet, void **mem)
{
	struct iface_config cfg = {
		.mac = {{0x02, 0, 0, 0, 0, last_octet}},
		.addrs = {{IPV4_ADDR(10, 0, 0, last_octet), 24}},
		.addr_count = 1,
		.seed = last_octet, /* IP IDs: any value, fixed here for a repeatable run */
	};
	size_t n = iface_mem_size(&cfg);
	*mem = alloc_or_die(n);
	return iface_init(*mem, n, &cfg, dev);
}

/* UDP plugs into the interface the way TCP does: its handler, registered for IP protocol 17. */
static struct udp_stack *make_udp(struct iface *ifc, uint64_t seed, void **mem)
{
	struct udp_config cfg = {.seed = seed}; /* ephemeral ports: fixed here for a repeatable run */
	size_t n = udp_mem_size(&cfg);
	*mem = alloc_or_die(n);
	struct udp_stack *u = udp_init(*mem, n, &cfg);
	struct l4_handler h;
	if (!u)
		return NULL;
	udp_handler(u, &h);
	iface_set_l4_handler(ifc, IP_PROTO_UDP, &h);
	return u;
}

static struct udp_socket *make_socket(struct udp_stack *u, uint16_t port, void **mem)
{
	struct udp_socket_config cfg = {.rx_slots = 8, .tx_slots = 8}; /* the rest: defaults */
	size_t n = udp_socket_mem_size(&cfg);
	*mem = alloc_or_die(n);
	struct udp_socket *s = udp_socket_init(*mem, n, &cfg);
	if (s && udp_socket_bind(s, u, 0, port) != UDP_OK)
		return NULL;
	return s;
}

/* B's service: every datagram goes back where it came from. recv_view lends the payload where it
 * lies in the received frame (valid until B's next poll); send_to copies it into a transmit frame. */
static void echo(struct udp_socket *s)
{
	const uint8_t *data;
	size_t len;
	struct udp_meta m;

	while (udp_socket_recv_view(s, &data, &len, &m) == UDP_OK)
		udp_socket_send_to(s, data, len, m.remote_addr, m.remote_port);
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 3;
	void *wire_mem, *mem_a, *mem_b, *udp_a_mem, *udp_b_mem, *sock_a_mem, *sock_b_mem;
	int echoed = 0, sent = 0;

	if (count < 1 || count > 1000) {
		fprintf(stderr, "usage: udp_loopback [COUNT 1..1000]\n");
		return 2;
	}

	/* The wire: a pool of frames shared by its two ends; each end is a device. */
	struct dev_loopback_config lc = {.frames = 64, .frame_size = 1514};
	size_t n = dev_loopback_mem_size(&lc);
	wire_mem = alloc_or_die(n);
	struct dev_loopback *wire = dev_loopback_init(wire_mem, n, &lc);
	if (!wire)
		return 1;
	struct iface *a = make_iface(dev_loopback_end(wire, 0), 1, &mem_a);
	struct iface *b = make_iface(dev_loopback_end(wire, 1), 2, &mem_b);
	if (!a || !b)
		return 1;
	struct udp_stack *udp_a = make_udp(a, 1, &udp_a_mem);
	struct udp_stack *udp_b = make_udp(b, 2, &udp_b_mem);
	if (!udp_a || !udp_b)
		return 1;
	struct udp_socket *client = make_socket(udp_a, 0, &sock_a_mem); /* port 0: an ephemeral port */
	struct udp_socket *server = make_socket(udp_b, ECHO_PORT, &sock_b_mem);
	if (!client || !server)
		return 1;

	/* Virtual time in microseconds: this program decides what "now" is. A real program passes a
	 * monotonic clock (see xdp_udp_echo.c). The first send waits for ARP; the stack queues it. */
	smx_instant now = 1000000;
	for (int round = 0; round < 100000 && echoed < count; round++) {
		if (sent == echoed) {
			char msg[32];
			int len = snprintf(msg, sizeof(msg), "hello %d", sent);
			if (udp_socket_send_to(client, msg, (size_t)len, IPV4_ADDR(10, 0, 0, 2), ECHO_PORT) == UDP_OK)
				sent++;
		}
		iface_poll(a, now);
		iface_poll(b, now);
		echo(server);
		iface_flush(b, now); /* the echo leaves now rather than on B's next poll */

		char buf[64];
		size_t len;
		struct udp_meta m;
		while (udp_socket_recv_from(client, buf, sizeof(buf) - 1, &len, &m) == UDP_OK) {
			buf[len] = '\0';
			printf("A got \"%s\" back from %u.%u.%u.%u:%u\n", buf, m.remote_addr >> 24,
			       (m.remote_addr >> 16) & 255, (m.remote_addr >> 8) & 255, m.remote_addr & 255,
			       m.remote_port);
			echoed++;
		}
		now += 100; /* 100 us of virtual time per round */
	}

	/* Counters: one per event and per drop reason (iface.h), named for printing. */
	const uint64_t *ca = iface_counters(a);
	printf("A: %llu frames sent, %llu received, %llu ARP requests sent\n",
	       (unsigned long long)ca[IFACE_TX_FRAMES], (unsigned long long)ca[IFACE_RX_FRAMES],
	       (unsigned long long)ca[IFACE_ARP_REQUESTS_SENT]);
	printf("udp_loopback: %d of %d datagrams echoed\n", echoed, count);

	/* Tear down in reverse: sockets, then the interfaces give their held frames back, then memory. */
	udp_socket_close(client);
	udp_socket_close(server);
	iface_release(a);
	iface_release(b);
	free(sock_a_mem);
	free(sock_b_mem);
	free(udp_a_mem);
	free(udp_b_mem);
	free(mem_a);
	free(mem_b);
	free(wire_mem);
	return echoed == count ? 0 : 1;
}
