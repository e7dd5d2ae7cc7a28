/*
 * nlcount - counts a VTEP's remote rows from the kernel's own notifications
 * (rtnetlink group RTNLGRP_NEIGH), for scripts/bench-vtep-ingest.sh.
 *
 * usage: nlcount FDB_TARGET NEIGH_TARGET [MAC_PREFIX=02:eb]
 *
 * Three sets, each keyed so that a row counts once however often the kernel
 * reports it (an add, a replace, a state change), and leaves the set with its
 * RTM_DELNEIGH:
 *   m  bridge fdb rows (AF_BRIDGE with NDA_MASTER): "MAC vlan V extern_learn master br0"
 *   x  vxlan fdb rows (AF_BRIDGE with NDA_DST, no NDA_MASTER): "MAC dst VTEP [src_vni V] self"
 *   n  neighbours (AF_INET) whose lladdr has MAC_PREFIX: "IP dev SVI lladdr MAC"
 * Only MACs starting with MAC_PREFIX count (the load generator's remote MACs,
 * 02:eb:<route index>), so flood rows, local and bridge-own entries do not. The
 * generic "MAC vlan V self" echo of an NTF_SELF add has neither NDA_DST nor
 * NDA_MASTER and is not counted.
 *
 * Prints one line per milestone on stdout (flushed), times in seconds since the
 * epoch (CLOCK_REALTIME) taken when the batch holding the event was read:
 *   first T              the first counted add
 *   fdb T m x n          m >= FDB_TARGET and x >= FDB_TARGET (the neighbours aside)
 *   install T m x n      m >= FDB_TARGET, x >= FDB_TARGET and n >= NEIGH_TARGET
 *   wfirst T             the first counted delete after install
 *   withdraw T m x n     all three back to 0 after install
 *   progress T m x n     once a second while something changes
 *   lost T COUNT         the socket overflowed (ENOBUFS): counts are no longer exact
 *   final T m x n events E lost L   on SIGTERM/SIGINT
 * The socket gets a 256 MiB receive buffer (SO_RCVBUFFORCE, root) and is read
 * with recvmmsg, up to 256 notifications per call, so it keeps up where
 * `bridge monitor fdb` (one read and one formatted line per event) loses
 * events at a few hundred thousand rows per second.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_BRIDGE
#define AF_BRIDGE 7
#endif

/* A set that never removes a key: a key is inserted once and its flag says
 * whether it is present now. Open addressing, linear probing. */
struct set {
	uint64_t *keys; /* key + 1; 0 = empty slot */
	uint8_t *on;
	size_t mask;
	long count;
};

static void set_init(struct set *s, size_t want)
{
	size_t cap = 1 << 20;
	while (cap < want * 4)
		cap <<= 1;
	s->keys = calloc(cap, sizeof(uint64_t));
	s->on = calloc(cap, 1);
	if (!s->keys || !s->on) {
		perror("nlcount: calloc");
		exit(1);
	}
	s->mask = cap - 1;
	s->count = 0;
}

static size_t set_slot(struct set *s, uint64_t key)
{
	uint64_t h = (key + 1) * 0x9e3779b97f4a7c15ULL;
	size_t i = (size_t)(h >> 20) & s->mask;
	size_t probes = 0;
	while (s->keys[i] != 0 && s->keys[i] != key + 1) {
		i = (i + 1) & s->mask;
		if (++probes > s->mask) {
			fprintf(stderr, "nlcount: set full\n");
			exit(1);
		}
	}
	s->keys[i] = key + 1;
	return i;
}

/* add (present=1) or delete (present=0); returns 1 when the count changed */
static int set_mark(struct set *s, uint64_t key, int present)
{
	size_t i = set_slot(s, key);
	if (s->on[i] == present)
		return 0;
	s->on[i] = (uint8_t)present;
	s->count += present ? 1 : -1;
	return 1;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define VLEN 256
#define BUFSZ 8192

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: nlcount FDB_TARGET NEIGH_TARGET [MAC_PREFIX=02:eb]\n");
		return 2;
	}
	long fdb_target = atol(argv[1]), neigh_target = atol(argv[2]);
	unsigned p0 = 0x02, p1 = 0xeb;
	if (argc > 3 && sscanf(argv[3], "%x:%x", &p0, &p1) != 2) {
		fprintf(stderr, "nlcount: MAC_PREFIX must be like 02:eb\n");
		return 2;
	}
	struct set m, x, n;
	size_t want = (size_t)(fdb_target > neigh_target ? fdb_target : neigh_target) + 1024;
	set_init(&m, want);
	set_init(&x, want);
	set_init(&n, want);

	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		perror("nlcount: socket");
		return 1;
	}
	int rcv = 256 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) < 0)
		perror("nlcount: SO_RCVBUF");
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_NEIGH};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("nlcount: bind");
		return 1;
	}
	struct sigaction act = {.sa_handler = on_signal};
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	static char bufs[VLEN][BUFSZ];
	struct iovec iov[VLEN];
	struct mmsghdr msgs[VLEN];
	for (int i = 0; i < VLEN; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = BUFSZ;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	int first = 0, fdbdone = 0, installed = 0, wfirst = 0, withdrawn = 0;
	long events = 0, lost = 0;
	double last_progress = 0;
	int changed = 0;
	printf("ready %.6f\n", now());
	while (!stop) {
		int got = recvmmsg(fd, msgs, VLEN, MSG_WAITFORONE, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				lost++;
				printf("lost %.6f %ld\n", now(), lost);
				continue;
			}
			perror("nlcount: recvmmsg");
			return 1;
		}
		double t = now();
		for (int k = 0; k < got; k++) {
			int len = (int)msgs[k].msg_len;
			for (struct nlmsghdr *h = (struct nlmsghdr *)bufs[k]; NLMSG_OK(h, len);
			     h = NLMSG_NEXT(h, len)) {
				if (h->nlmsg_type != RTM_NEWNEIGH && h->nlmsg_type != RTM_DELNEIGH)
					continue;
				events++;
				int add = h->nlmsg_type == RTM_NEWNEIGH;
				struct ndmsg *nd = NLMSG_DATA(h);
				int alen = (int)NLMSG_PAYLOAD(h, sizeof(*nd));
				const uint8_t *mac = NULL, *dst = NULL;
				int dstlen = 0, master = 0;
				for (struct rtattr *a = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
				     RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
					switch (a->rta_type) {
					case NDA_LLADDR:
						if (RTA_PAYLOAD(a) == 6)
							mac = RTA_DATA(a);
						break;
					case NDA_DST:
						dst = RTA_DATA(a);
						dstlen = (int)RTA_PAYLOAD(a);
						break;
					case NDA_MASTER:
						master = 1;
						break;
					}
				}
				int c = 0;
				if (nd->ndm_family == AF_BRIDGE) {
					if (!mac || mac[0] != p0 || mac[1] != p1)
						continue;
					uint64_t key = 0;
					for (int i = 0; i < 6; i++)
						key = key << 8 | mac[i];
					if (master)
						c = set_mark(&m, key, add);
					else if (dst)
						c = set_mark(&x, key, add);
				} else if (nd->ndm_family == AF_INET && dst && dstlen == 4) {
					/* a delete may come without lladdr: only an entry counted before leaves */
					if (add && (!mac || mac[0] != p0 || mac[1] != p1))
						continue;
					uint32_t ip;
					memcpy(&ip, dst, 4);
					uint64_t key = (uint64_t)(uint32_t)nd->ndm_ifindex << 32 | ip;
					c = set_mark(&n, key, add);
				}
				if (!c)
					continue;
				changed = 1;
				if (add && !first) {
					first = 1;
					printf("first %.6f\n", t);
				}
				if (!add && installed && !wfirst) {
					wfirst = 1;
					printf("wfirst %.6f\n", t);
				}
			}
		}
		if (!fdbdone && m.count >= fdb_target && x.count >= fdb_target) {
			fdbdone = 1;
			printf("fdb %.6f %ld %ld %ld\n", t, m.count, x.count, n.count);
		}
		if (!installed && m.count >= fdb_target && x.count >= fdb_target &&
		    n.count >= neigh_target) {
			installed = 1;
			printf("install %.6f %ld %ld %ld\n", t, m.count, x.count, n.count);
		}
		if (installed && !withdrawn && m.count == 0 && x.count == 0 && n.count == 0) {
			withdrawn = 1;
			printf("withdraw %.6f %ld %ld %ld\n", t, m.count, x.count, n.count);
		}
		if (changed && t - last_progress >= 1.0) {
			printf("progress %.6f %ld %ld %ld\n", t, m.count, x.count, n.count);
			last_progress = t;
			changed = 0;
		}
	}
	printf("final %.6f %ld %ld %ld events %ld lost %ld\n", now(), m.count, x.count, n.count, events,
	       lost);
	return 0;
}
