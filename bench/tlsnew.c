/*
 * New TLS connections per second: the client of the bench's tls-new-full and tls-new-resumed
 * rows. Each of THREADS threads loops, for SECONDS seconds: connect to 127.0.0.1:PORT, a TLS
 * 1.3 handshake, one `GET PATH HTTP/1.1` with `Connection: close`, read until the server
 * closes, close. Nothing is kept between two connections but, in `resumed` mode, the TLS
 * session: each handshake offers the session (the ticket) the thread's previous connection
 * received, as a browser or an HTTP client library does when it comes back, and OpenSSL's
 * SSL_session_reused() tells whether the server took it. In `full` mode every handshake is a
 * full one.
 *
 * Built by bench/run.py with `cc -O2 -pthread ... -lssl -lcrypto`; run as
 * `tlsnew PORT THREADS SECONDS full|resumed PATH`. Prints one line:
 * `connections N resumed R failed F responses_ok K seconds S`, where N counts the connections
 * that completed a handshake and read a whole 200 response, R those of them whose handshake
 * resumed a session, F the connections that failed (connect, handshake or response), and K the
 * responses that began `HTTP/1.1 200`.
 *
 * Why a client of its own: `openssl s_time -reuse` keeps one session only as long as the
 * server's TLS 1.2 session ID cache does and, with TLS 1.3, offers a ticket only once it has
 * read it after the handshake, which s_time does not wait for; wrk reuses connections rather
 * than sessions; h2load is not installed here. This one checks each resumption, so a server
 * that silently falls back to full handshakes shows as `resumed 0`, not as a fast row.
 *
 * The client offers OpenSSL's default groups (X25519 first) and does not verify the
 * certificate: verification is client work, and the row measures the server. TLS 1.3 only.
 * In TLS 1.3 a server sends its tickets after the handshake (RFC 8446 §4.6.1); the client
 * reads the whole response, so the tickets, sent before it, are in by the time the session is
 * taken for the next connection. A server that sends no new ticket on a resumed connection
 * (h2o 2.2 here: without this, every other handshake of its row was a full one) has its
 * last ticket offered again, a copy of it, as OpenSSL marks a session it resumed as used up:
 * RFC 8446 §C.4 asks clients not to reuse a ticket, for privacy, but the servers here accept
 * one more than once, and the row is about the cost of a resumption, not about how many
 * tickets a server hands out.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, seconds, resume;
static const char *path;
static SSL_CTX *ctx;

/* The session of the last ticket (NewSessionTicket) this thread's current connection
 * received, if any, and in `resumed` mode only. */
static __thread SSL_SESSION *fresh;

/* Called by OpenSSL for each ticket received: keeps the newest (taking ownership: 1). */
static int new_session(SSL *ssl, SSL_SESSION *s) {
    (void)ssl;
    if (!resume) return 0;
    if (fresh) SSL_SESSION_free(fresh);
    fresh = s;
    return 1;
}

struct counts {
    long connections, resumed, failed, ok;
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* One connection: returns 1 if it completed (handshake, a whole response), else 0. `*session`
 * is offered (when not NULL) and replaced by the one this connection ends with. */
static int one(SSL_SESSION **session, struct counts *c) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), done = 0;
    if (fd < 0) return 0;
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    SSL *ssl = NULL;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) goto out;
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    if (resume && *session) {
        /* A copy: OpenSSL marks a TLS 1.3 session it resumed as used up. */
        SSL_SESSION *copy = SSL_SESSION_dup(*session);
        SSL_set_session(ssl, copy);
        SSL_SESSION_free(copy);
    }
    if (SSL_connect(ssl) != 1) goto out;
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
    if (SSL_write(ssl, req, n) != n) goto out;
    char buf[16384];
    size_t total = 0;
    int ok = 0;
    for (;;) {
        int r = SSL_read(ssl, buf, sizeof buf);
        if (r <= 0) break;
        if (total == 0 && r >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0) ok = 1;
        total += r;
    }
    if (!ok) goto out;
    c->ok++;
    if (SSL_session_reused(ssl)) c->resumed++;
    if (fresh) {
        /* The newest ticket this connection received; with none, the one just used is
         * offered again (see the notes at the top). */
        if (*session) SSL_SESSION_free(*session);
        *session = fresh;
        fresh = NULL;
    }
    done = 1;
out:
    if (!done && fresh) {
        SSL_SESSION_free(fresh);
        fresh = NULL;
    }
    if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    close(fd);
    ERR_clear_error();
    return done;
}

static void *worker(void *arg) {
    struct counts *c = arg;
    SSL_SESSION *session = NULL;
    double end = now() + seconds;
    while (now() < end) {
        if (one(&session, c))
            c->connections++;
        else
            c->failed++;
    }
    if (session) SSL_SESSION_free(session);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s PORT THREADS SECONDS full|resumed PATH\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    int threads = atoi(argv[2]);
    seconds = atoi(argv[3]);
    resume = strcmp(argv[4], "resumed") == 0;
    path = argv[5];
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    /* The sessions are kept by the threads themselves, not in the context's cache. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, new_session);
    pthread_t t[256];
    struct counts c[256];
    if (threads < 1 || threads > 256) return 2;
    memset(c, 0, sizeof c);
    double start = now();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, &c[i]);
    struct counts sum = {0};
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        sum.connections += c[i].connections;
        sum.resumed += c[i].resumed;
        sum.failed += c[i].failed;
        sum.ok += c[i].ok;
    }
    printf("connections %ld resumed %ld failed %ld responses_ok %ld seconds %.3f\n",
           sum.connections, sum.resumed, sum.failed, sum.ok, now() - start);
    return 0;
}
