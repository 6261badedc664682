/* A UDP echo server on the stack over AF_XDP: the steering program on IFACE hands the frames for ADDR
 * (and ARP for it) to an AF_XDP socket on RX queue 0; the stack answers ARP and ping and echoes every
 * datagram to PORT. Everything else on IFACE stays with the kernel. Stops on SIGINT or SIGTERM,
 * printing its counters and detaching the program.
 *
 *   xdp_udp_echo IFACE ADDR/PREFIX [PORT]      (as root; PORT defaults to 7)
 *
 * Build: cc xdp_udp_echo.c $(pkg-config --cflags --libs smolxdp) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <smolxdp/iface.h>
#include <smolxdp/udp.h>
#include <smolxdp/xsk_dev.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The stack reads no clock: every call that needs the time is given it, in microseconds. */
static smx_instant now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (smx_instant)ts.tv_sec * 1000000u + (smx_instant)ts.tv_nsec / 1000u;
}

static int parse_cidr(const char *s, struct iface_cidr *out)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in_addr in;
	char *end;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	long prefix = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, addr, &in) != 1 || *end || end == slash + 1 || prefix < 1 || prefix > 32)
		return -1;
	out->addr = ntohl(in.s_addr); /* the stack holds addresses in host byte order */
	out->prefix_len = (uint8_t)prefix;
	return 0;
}

/* The stack takes the interface's own MAC address: a real NIC drops frames sent to any other
 * unicast address unless it is in promiscuous mode. */
static int get_mac(const char *ifname, struct eth_addr *mac)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac->b, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* Every datagram goes back where it came from. recv_view lends the payload in the received frame
 * (valid until the next iface_poll); send_begin lends room in a transmit frame to write the reply
 * into; the copying send_to is the fallback when no frame is free right now. */
static uint64_t echo_all(struct udp_socket *s)
{
	const uint8_t *data;
	size_t len;
	struct udp_meta m;
	uint64_t n = 0;

	while (udp_socket_recv_view(s, &data, &len, &m) == UDP_OK) {
		uint8_t *out;
		if (udp_socket_send_begin(s, m.remote_addr, m.remote_port, len, &out) == UDP_OK) {
			memcpy(out, data, len);
			udp_socket_send_commit(s, len);
		} else {
			udp_socket_send_to(s, data, len, m.remote_addr, m.remote_port);
		}
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct iface_cidr ip;
	struct eth_addr mac;
	struct xsk_dev *xd = NULL;
	struct iface *ifc = NULL;
	struct udp_socket *sock = NULL;
	void *iface_mem = NULL, *udp_mem = NULL, *sock_mem = NULL;
	uint64_t echoed = 0;
	int err, rc = 1;

	if (argc < 3 || argc > 4 || parse_cidr(argv[2], &ip) < 0) {
		fprintf(stderr, "usage: xdp_udp_echo IFACE ADDR/PREFIX [PORT]\n");
		return 2;
	}
	const char *ifname = argv[1];
	long port = argc > 3 ? strtol(argv[3], NULL, 10) : 7;
	if (port < 1 || port > 65535) {
		fprintf(stderr, "xdp_udp_echo: PORT must be 1..65535\n");
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll() returns on a signal */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	err = get_mac(ifname, &mac);
	if (err < 0) {
		fprintf(stderr, "xdp_udp_echo: %s: %s\n", ifname, strerror(-err));
		return 1;
	}
	/* The device: an AF_XDP socket on queue 0 with its UMEM. With no .prog it attaches the steering
	 * program itself and detaches it on close; the program steers only the addresses it is given. */
	struct xsk_dev_opts xo = {.log = xsk_log_stderr};
	err = xsk_dev_open(ifname, 0, &xo, &xd);
	if (err < 0) {
		fprintf(stderr, "xdp_udp_echo: %s\n", xsk_last_error());
		return 1;
	}
	err = xsk_prog_add_addr(xsk_dev_prog(xd), ip.addr);
	if (err < 0) {
		fprintf(stderr, "xdp_udp_echo: cannot steer the address: %s\n", strerror(-err));
		goto out;
	}

	/* The interface over it, UDP plugged into it (as TCP would be, through an l4_handler), and the
	 * socket: sizes from the config, memory from us. */
	struct iface_config cfg = {.mac = mac, .addrs = {ip}, .addr_count = 1, .seed = now_us()};
	size_t n = iface_mem_size(&cfg);
	iface_mem = malloc(n);
	ifc = iface_mem ? iface_init(iface_mem, n, &cfg, xsk_dev_as_dev(xd)) : NULL;
	struct udp_config uc = {.seed = cfg.seed};
	n = udp_mem_size(&uc);
	udp_mem = malloc(n);
	struct udp_stack *udp = udp_mem ? udp_init(udp_mem, n, &uc) : NULL;
	if (ifc && udp) {
		struct l4_handler h;
		udp_handler(udp, &h);
		iface_set_l4_handler(ifc, IP_PROTO_UDP, &h);
	}
	struct udp_socket_config sc = {.rx_slots = 64};
	n = udp_socket_mem_size(&sc);
	sock_mem = malloc(n);
	sock = sock_mem ? udp_socket_init(sock_mem, n, &sc) : NULL;
	if (!ifc || !udp || !sock || udp_socket_bind(sock, udp, 0, (uint16_t)port) != UDP_OK) {
		fprintf(stderr, "xdp_udp_echo: cannot set up the interface or the socket\n");
		goto out;
	}
	printf("xdp_udp_echo: %s on %s, echoing UDP port %ld; stop with Ctrl-C\n", argv[2], ifname, port);
	fflush(stdout);

	/* The event loop: poll the interface with the time (receive, timers, transmit), serve the socket,
	 * flush the replies, and when nothing happened sleep until a frame arrives or the next timer. */
	struct pollfd pfd = {.fd = xsk_dev_fd(xd), .events = POLLIN};
	while (!stop) {
		bool active = iface_poll(ifc, now_us());
		uint64_t answered = echo_all(sock);
		if (answered) {
			echoed += answered;
			iface_flush(ifc, now_us());
		}
		if (active || answered)
			continue;
		/* At most a second, so a signal landing just before poll() is not missed for long. */
		smx_instant delay = iface_poll_delay(ifc, now_us());
		int timeout_ms = delay < 1000000 ? (int)((delay + 999) / 1000) : 1000;
		if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR) {
			perror("xdp_udp_echo: poll");
			goto out;
		}
	}
	rc = 0;

	const uint64_t *c = iface_counters(ifc);
	printf("xdp_udp_echo: echoed %llu datagrams\n", (unsigned long long)echoed);
	for (int i = 0; i < IFACE_COUNTER_COUNT; i++)
		if (c[i])
			printf("  %-28s %llu\n", iface_counter_name((enum iface_counter)i), (unsigned long long)c[i]);
out:
	if (sock)
		udp_socket_close(sock);
	if (ifc)
		iface_release(ifc); /* frames lent to the interface go back to the device */
	xsk_dev_close(xd);      /* and the device detaches the program it attached */
	free(sock_mem);
	free(udp_mem);
	free(iface_mem);
	return rc;
}
