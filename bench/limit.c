/*
 * The limit: what answering HTTP/1.1 keep-alive requests over TCP costs on this machine at the
 * least. It is the cost floor the bench divides every server's CPU per request by, NOT a
 * server: it parses nothing, opens no file, and answers every request, whatever it asks for,
 * with the same fixed 200 response carrying an 18-byte body (the length of the bench's small
 * file). What it does per request is what any server must do: be woken by epoll, read the
 * bytes, write a response. A server's CPU per request divided by this one's is then what its
 * parsing, routing, files and bookkeeping cost on top of the syscalls it cannot avoid.
 *
 * Built by bench/run.py with `cc -O2 -pthread`; run as `limit PORT [THREADS]` (2 threads by
 * default, as nginx and h2o get 2 workers). Each thread has its own listening socket on
 * 127.0.0.1:PORT (SO_REUSEPORT: the kernel spreads new connections over them, no lock, no
 * shared accept queue) and its own epoll instance; a connection stays on the thread that
 * accepted it, so the threads share nothing but the per-descriptor arrays below, in which each
 * descriptor has one owner.
 *
 * Requests are counted by the occurrences of "\r\n\r\n", matched across reads (a terminator
 * split between two reads still counts once), so pipelined requests each get their response.
 * All the responses a read calls for go out in one write. A request with a body would be
 * miscounted: wrk sends none.
 *
 * Level-triggered epoll, on purpose: a wakeup does one read, with a buffer (64 KiB) far larger
 * than what a client sends between two responses, and goes back to epoll_wait. Edge-triggered
 * would have to read until EAGAIN, one more read per wakeup that returns nothing, and its
 * advantage (one wakeup per descriptor when several threads wait on it) does not apply, as no
 * descriptor is in two epoll sets. If a read does fill the buffer, level triggering reports
 * the descriptor again at the next epoll_wait: nothing is lost and no thread loops on one
 * connection.
 *
 * When a write is short (the client is not reading), the bytes still owed are remembered and
 * the descriptor waits for EPOLLOUT instead of EPOLLIN: nothing more is read from a client
 * that does not take its responses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* 18 bytes, as the bench's /small.txt. */
#define BODY "0123456789abcdef\r\n"
static const char RESPONSE[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\n" BODY;
#define RLEN (sizeof RESPONSE - 1)

/* COPIES responses back to back: a read that calls for up to COPIES responses (wrk's
 * pipelined script sends 16) is answered with one write. */
#define COPIES 64
static char out[RLEN * COPIES];

/* Per descriptor, indexed by fd and sized by RLIMIT_NOFILE: how many bytes of "\r\n\r\n" the
 * data read so far ends with, and how many bytes of responses are owed but not yet written. */
static unsigned char *matched;
static size_t *owed;
static int port;

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* Writes what `fd` is owed until done or the socket is full. 0 if the connection is fine
 * (owed[fd] says whether bytes remain), -1 if it failed. The bytes owed always end at the end
 * of a response, so the first of them sits `off` bytes into one. */
static int flush(int fd) {
    while (owed[fd]) {
        size_t off = (RLEN - owed[fd] % RLEN) % RLEN;
        size_t len = sizeof out - off;
        if (len > owed[fd]) len = owed[fd];
        ssize_t w = write(fd, out + off, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN ? 0 : -1;
        }
        owed[fd] -= (size_t)w;
    }
    return 0;
}

/* Counts the requests that end in buf[0..n): the "\r\n\r\n" in it, continuing the match the
 * previous read of this connection ended with. */
static size_t count_requests(int fd, const char *buf, size_t n) {
    unsigned s = matched[fd];
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '\r')
            s = (s == 0 || s == 2) ? s + 1 : 1;
        else if (c == '\n' && s == 1)
            s = 2;
        else if (c == '\n' && s == 3) {
            count++;
            s = 0;
        } else
            s = 0;
    }
    matched[fd] = (unsigned char)s;
    return count;
}

static void watch(int ep, int op, int fd, unsigned events) {
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(ep, op, fd, &ev) < 0) die("epoll_ctl");
}

static void *serve(void *unused) {
    (void)unused;
    int one = 1;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0) die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) die("SO_REUSEPORT");
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    /* The kernel caps this at net.core.somaxconn; the 10,000-connection row connects all at
     * once, and a short queue would only delay some connects (the SYN is sent again). */
    if (listen(lfd, 65535) < 0) die("listen");
    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    watch(ep, EPOLL_CTL_ADD, lfd, EPOLLIN);

    static __thread char buf[65536];
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                /* At most 64 at a time, so the connections already open are not kept
                 * waiting by a burst of new ones; level triggering brings the rest. */
                for (int k = 0; k < 64; k++) {
                    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (c < 0) break;
                    /* Responses go out at once, not held back by Nagle's algorithm behind
                     * an earlier one not yet acknowledged (nginx: tcp_nodelay on). */
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    matched[c] = 0;
                    owed[c] = 0;
                    watch(ep, EPOLL_CTL_ADD, c, EPOLLIN);
                }
                continue;
            }
            if (owed[fd]) {
                /* Waiting for EPOLLOUT (or an error, which the write reports). */
                if (flush(fd) < 0) {
                    close(fd);
                } else if (!owed[fd]) {
                    watch(ep, EPOLL_CTL_MOD, fd, EPOLLIN);
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) {
                /* End of stream or an error: closing also takes it out of the epoll set. */
                close(fd);
                continue;
            }
            owed[fd] = count_requests(fd, buf, (size_t)r) * RLEN;
            if (flush(fd) < 0) {
                close(fd);
            } else if (owed[fd]) {
                watch(ep, EPOLL_CTL_MOD, fd, EPOLLOUT);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    if (port <= 0 || port > 65535 || threads < 1) {
        fprintf(stderr, "bad port or thread count\n");
        return 2;
    }
    /* A client gone before its response is written must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < COPIES; i++) memcpy(out + i * RLEN, RESPONSE, RLEN);
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) < 0) die("getrlimit");
    size_t fds = nofile.rlim_cur == RLIM_INFINITY ? 1 << 20 : (size_t)nofile.rlim_cur;
    matched = calloc(fds, 1);
    owed = calloc(fds, sizeof *owed);
    if (!matched || !owed) die("calloc");
    pthread_t tids[64];
    if (threads > 64) threads = 64;
    for (int t = 0; t < threads; t++)
        if (pthread_create(&tids[t], NULL, serve, NULL)) die("pthread_create");
    for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
    return 0;
}
