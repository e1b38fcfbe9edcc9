/*
 * The bench's UDP sender in C: the same lines, datagrams and pacing as the node sender in
 * child.ts, sent with sendmmsg in batches. The node sender spends about 5.5 us of CPU per line in
 * dgram.send, which on a 2-core host limits the bare receiver and rsyslog before they limit
 * themselves; this one spends a fraction of that, so the baselines measure the receivers.
 *
 * Usage: udpSender SPEC RATE COUNT SEQSTART MAXMS PORT[,PORT...]
 *   SPEC   a file written by child.ts (all integers u32 little-endian):
 *            "LGBS" ntemplates { len msgAt bytes[len] }... ntexts textLen bytes[ntexts*textLen]
 *          msgAt is where the 120-byte message "#SSSSSSSSSS tTTTTTTTTTTTTTTTTTTTT text" starts.
 *   Line seq (SEQSTART, SEQSTART+1, ...) uses template seq % ntemplates, text seq % ntexts, and
 *   goes to 127.0.0.1:PORT[seq % nports]. Its send time is CLOCK_MONOTONIC in ns, the clock of
 *   node's process.hrtime.bigint(), so any process on the host can compute a latency from it.
 *
 * Pacing, as the node sender: line k is due at k / RATE s after the start; each round sends what
 * is due, at most 2 ms worth of lines (a stall is caught up over several rounds), and sleeps 1 ms
 * when nothing more is due. It stops after COUNT lines or MAXMS, whichever comes first.
 *
 * Prints one JSON line: sent, firstSendNs, lastSendNs, elapsedMs, achievedRate, maxBacklog,
 * sendErrors, cpuMs (user + system CPU of this process).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SEQ_DIGITS 10
#define TIME_DIGITS 20
#define SEQ_OFFSET 1
#define TIME_OFFSET (1 + SEQ_DIGITS + 2)
#define TEXT_OFFSET (1 + SEQ_DIGITS + 2 + TIME_DIGITS + 1)
#define MAX_PORTS 256
/* Datagrams per sendmmsg call: a round larger than this takes several calls. */
#define VLEN 256

struct tmpl {
  uint32_t len;
  uint32_t msg_at;
  unsigned char *bytes;
};

static void die(const char *what) {
  fprintf(stderr, "udpSender: %s: %s\n", what, errno ? strerror(errno) : "bad input");
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void write_digits(unsigned char *at, int width, uint64_t v) {
  for (int i = width - 1; i >= 0; i--) {
    at[i] = (unsigned char)('0' + v % 10);
    v /= 10;
  }
}

static uint32_t read_u32(FILE *f) {
  unsigned char b[4];
  if (fread(b, 1, 4, f) != 4) die("spec truncated");
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: udpSender SPEC RATE COUNT SEQSTART MAXMS PORT[,PORT...]\n");
    return 2;
  }
  /* Ends with the node sender that started it: no orphan keeps sending. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 2;

  double rate = atof(argv[2]);
  uint64_t count = strtoull(argv[3], NULL, 10);
  uint64_t seq_start = strtoull(argv[4], NULL, 10);
  double max_ms = atof(argv[5]);
  if (!(rate > 0) || !(max_ms > 0)) die("RATE and MAXMS must be > 0");

  struct sockaddr_in addrs[MAX_PORTS];
  int nports = 0;
  for (char *p = argv[6], *tok; (tok = strsep(&p, ",")) != NULL;) {
    if (nports == MAX_PORTS) die("too many ports");
    long port = strtol(tok, NULL, 10);
    if (port <= 0 || port > 65535) die("bad port");
    memset(&addrs[nports], 0, sizeof addrs[nports]);
    addrs[nports].sin_family = AF_INET;
    addrs[nports].sin_port = htons((uint16_t)port);
    addrs[nports].sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* only ever 127.0.0.1 */
    nports++;
  }

  FILE *f = fopen(argv[1], "rb");
  if (!f) die("open SPEC");
  unsigned char magic[4];
  if (fread(magic, 1, 4, f) != 4 || memcmp(magic, "LGBS", 4) != 0) die("SPEC magic");
  uint32_t ntemplates = read_u32(f);
  if (ntemplates == 0 || ntemplates > 1000000) die("template count");
  struct tmpl *templates = calloc(ntemplates, sizeof *templates);
  uint32_t max_len = 0;
  for (uint32_t i = 0; i < ntemplates; i++) {
    templates[i].len = read_u32(f);
    templates[i].msg_at = read_u32(f);
    if (templates[i].len == 0 || templates[i].len > 65507) die("template length");
    templates[i].bytes = malloc(templates[i].len);
    if (!templates[i].bytes || fread(templates[i].bytes, 1, templates[i].len, f) != templates[i].len) die("template bytes");
    if (templates[i].len > max_len) max_len = templates[i].len;
  }
  uint32_t ntexts = read_u32(f);
  uint32_t text_len = read_u32(f);
  if (ntexts == 0 || text_len == 0) die("texts");
  for (uint32_t i = 0; i < ntemplates; i++)
    if ((uint64_t)templates[i].msg_at + TEXT_OFFSET + text_len > templates[i].len) die("message outside its template");
  unsigned char *texts = malloc((size_t)ntexts * text_len);
  if (!texts || fread(texts, 1, (size_t)ntexts * text_len, f) != (size_t)ntexts * text_len) die("text bytes");
  fclose(f);

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  int sndbuf = 4 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf); /* the kernel may cap it, as for node */
  /* One destination: a connected socket, as the node sender's (no address per datagram). */
  if (nports == 1 && connect(fd, (struct sockaddr *)&addrs[0], sizeof addrs[0]) != 0) die("connect");

  static struct mmsghdr msgs[VLEN];
  static struct iovec iovs[VLEN];
  unsigned char *slots = malloc((size_t)VLEN * max_len);
  if (!slots) die("malloc");

  uint64_t max_burst = (uint64_t)ceil(rate * 0.002);
  if (max_burst < 1) max_burst = 1;
  uint64_t sent = 0, max_backlog = 0, send_errors = 0;
  uint64_t t0 = now_ns();
  uint64_t deadline = t0 + (uint64_t)(max_ms * 1e6);
  uint64_t first_ns = 0, last_ns = t0;

  /* Bounded: every round sends at least one line or sleeps 1 ms, and the deadline ends it. */
  for (;;) {
    uint64_t now = now_ns();
    uint64_t due = (uint64_t)floor((double)(now - t0) * rate / 1e9) + 1;
    if (due > count) due = count;
    uint64_t backlog = due > sent ? due - sent : 0;
    if (backlog > max_backlog) max_backlog = backlog;
    uint64_t n = backlog < max_burst ? backlog : max_burst;
    while (n > 0) {
      unsigned int k = n < VLEN ? (unsigned int)n : VLEN;
      uint64_t stamp = now_ns();
      if (first_ns == 0) first_ns = stamp;
      for (unsigned int j = 0; j < k; j++) {
        uint64_t seq = seq_start + sent + j;
        const struct tmpl *t = &templates[seq % ntemplates];
        unsigned char *b = slots + (size_t)j * max_len;
        memcpy(b, t->bytes, t->len);
        unsigned char *m = b + t->msg_at;
        write_digits(m + SEQ_OFFSET, SEQ_DIGITS, seq);
        write_digits(m + TIME_OFFSET, TIME_DIGITS, stamp);
        memcpy(m + TEXT_OFFSET, texts + (size_t)(seq % ntexts) * text_len, text_len);
        iovs[j].iov_base = b;
        iovs[j].iov_len = t->len;
        memset(&msgs[j].msg_hdr, 0, sizeof msgs[j].msg_hdr);
        msgs[j].msg_hdr.msg_iov = &iovs[j];
        msgs[j].msg_hdr.msg_iovlen = 1;
        if (nports > 1) {
          msgs[j].msg_hdr.msg_name = &addrs[seq % nports];
          msgs[j].msg_hdr.msg_namelen = sizeof addrs[0];
        }
      }
      /* A datagram that fails (e.g. ECONNREFUSED after an ICMP unreachable) is counted and
       * skipped, as the node sender does; the rest of the batch is sent again. */
      unsigned int done = 0;
      while (done < k) {
        int r = sendmmsg(fd, msgs + done, k - done, 0);
        if (r > 0) done += (unsigned int)r;
        else if (r < 0 && errno == EINTR) continue;
        else {
          send_errors++;
          done++;
        }
      }
      sent += k;
      n -= k;
    }
    last_ns = now_ns();
    if (sent >= count || last_ns > deadline) break;
    if (due > sent) continue;
    struct timespec one_ms = {0, 1000000};
    nanosleep(&one_ms, NULL);
  }

  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  double elapsed_ms = (double)(last_ns - t0) / 1e6;
  printf("{\"sent\":%llu,\"firstSendNs\":%llu,\"lastSendNs\":%llu,\"elapsedMs\":%.3f,\"achievedRate\":%.1f,"
         "\"maxBacklog\":%llu,\"sendErrors\":%llu,\"cpuMs\":%.3f}\n",
         (unsigned long long)sent, (unsigned long long)(first_ns ? first_ns : t0), (unsigned long long)last_ns, elapsed_ms,
         elapsed_ms > 0 ? sent / elapsed_ms * 1000 : 0.0, (unsigned long long)max_backlog, (unsigned long long)send_errors, cpu_ms);
  return 0;
}
