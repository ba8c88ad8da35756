/*
 * wire.c - LEADER, ADD and ASSIGN over dqlite's wire protocol (see wire.h for
 * the message layout).  Blocking sockets with poll() timeouts; one request in
 * flight per connection.
 */
#include "wire.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#define WIRE_PROTOCOL_VERSION 1
#define WIRE_IO_TIMEOUT_MS 15000
#define WIRE_BODY_CAP 4096

__attribute__((format(printf, 2, 3)))
static void wire_err(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, WIRE_ERR_SIZE, fmt, ap);
    va_end(ap);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Bytes a text field takes: the string, its NUL, zeros up to a word. */
static size_t text_size(const char *s)
{
    return (strlen(s) + 1 + 7) / 8 * 8;
}

static size_t put_text(uint8_t *p, const char *s)
{
    size_t n = text_size(s);
    memset(p, 0, n);
    memcpy(p, s, strlen(s));
    return n;
}

static int wait_fd(int fd, short events, int timeout_ms, char *err)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int rc;
    do
        rc = poll(&pfd, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        wire_err(err, "wire: no answer within %d ms", timeout_ms);
        return -1;
    }
    if (rc < 0) {
        wire_err(err, "wire: poll: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int send_all(int fd, const uint8_t *p, size_t n, char *err)
{
    while (n > 0) {
        if (wait_fd(fd, POLLOUT, WIRE_IO_TIMEOUT_MS, err) != 0)
            return -1;
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0) {
            wire_err(err, "wire: send: %s", k < 0 ? strerror(errno) : "connection closed");
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int recv_all(int fd, uint8_t *p, size_t n, char *err)
{
    while (n > 0) {
        if (wait_fd(fd, POLLIN, WIRE_IO_TIMEOUT_MS, err) != 0)
            return -1;
        ssize_t k = recv(fd, p, n, 0);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0) {
            wire_err(err, "wire: recv: %s", k < 0 ? strerror(errno) : "connection closed");
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int wire_connect(const char *address, int timeout_ms, int *fd, char *err)
{
    char host[WIRE_ADDR_SIZE];
    const char *colon = strrchr(address, ':');
    if (colon == NULL || colon == address || (size_t)(colon - address) >= sizeof host ||
        colon[1] == '\0') {
        wire_err(err, "wire: address '%s' is not host:port", address);
        return -1;
    }
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        wire_err(err, "wire: %s: %s", address, gai_strerror(rc));
        return -1;
    }
    int s = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (s < 0) {
        wire_err(err, "wire: socket: %s", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    /* non-blocking connect so that a dead address costs at most timeout_ms */
    int flags = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, flags | O_NONBLOCK);
    rc = connect(s, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 && errno != EINPROGRESS) {
        wire_err(err, "wire: connect %s: %s", address, strerror(errno));
        close(s);
        return -1;
    }
    if (rc != 0) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (wait_fd(s, POLLOUT, timeout_ms, err) != 0 ||
            getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
            if (soerr != 0)
                wire_err(err, "wire: connect %s: %s", address, strerror(soerr));
            close(s);
            return -1;
        }
    }
    uint8_t version[8];
    put_u64(version, WIRE_PROTOCOL_VERSION);
    if (send_all(s, version, sizeof version, err) != 0) {
        close(s);
        return -1;
    }
    *fd = s;
    return 0;
}

/* Send one request and read its response into body (WIRE_BODY_CAP bytes).
 * A FAILURE response is turned into -1 with its code and message. */
static int wire_request(int fd, uint8_t type, const uint8_t *req, size_t n_req, uint8_t *rtype,
                        uint8_t *body, size_t *n_body, uint64_t *code, char *err)
{
    uint8_t head[8] = {0};
    if (code != NULL)
        *code = 0;
    put_u64(head, n_req / 8);
    head[4] = type;
    head[5] = 0;
    if (send_all(fd, head, 8, err) != 0 || send_all(fd, req, n_req, err) != 0)
        return -1;
    if (recv_all(fd, head, 8, err) != 0)
        return -1;
    size_t n = (size_t)(head[0] | head[1] << 8 | head[2] << 16 | (uint32_t)head[3] << 24) * 8;
    if (n > WIRE_BODY_CAP) {
        wire_err(err, "wire: response of %zu bytes to request %u (at most %d expected)", n,
                 (unsigned)type, WIRE_BODY_CAP);
        return -1;
    }
    if (recv_all(fd, body, n, err) != 0)
        return -1;
    *rtype = head[4];
    *n_body = n;
    if (*rtype == WIRE_RESP_FAILURE) {
        if (n < 16) {
            wire_err(err, "wire: failure response of %zu bytes", n);
            return -1;
        }
        if (code != NULL)
            *code = get_u64(body);
        body[n - 1] = '\0';
        wire_err(err, "%s (code %llu)", (const char *)body + 8,
                 (unsigned long long)get_u64(body));
        return -1;
    }
    return 0;
}

int wire_leader(int fd, uint64_t *id, char *address, char *err)
{
    uint8_t req[8] = {0}, body[WIRE_BODY_CAP], rtype;
    size_t n;
    if (wire_request(fd, WIRE_REQ_LEADER, req, sizeof req, &rtype, body, &n, NULL, err) != 0)
        return -1;
    if (rtype != WIRE_RESP_SERVER || n < 16) {
        wire_err(err, "wire: LEADER answered with type %u, %zu bytes (SERVER expected)",
                 (unsigned)rtype, n);
        return -1;
    }
    body[n - 1] = '\0';
    size_t len = strlen((const char *)body + 8);
    if (len >= WIRE_ADDR_SIZE) {
        wire_err(err, "wire: leader address of %zu bytes", len);
        return -1;
    }
    *id = get_u64(body);
    memcpy(address, body + 8, len + 1);
    return 0;
}

static int expect_empty(uint8_t rtype, const char *what, char *err)
{
    if (rtype != WIRE_RESP_EMPTY) {
        wire_err(err, "wire: %s answered with type %u (EMPTY expected)", what, (unsigned)rtype);
        return -1;
    }
    return 0;
}

int wire_add(int fd, uint64_t id, const char *address, uint64_t *code, char *err)
{
    uint8_t req[8 + WIRE_ADDR_SIZE + 8], body[WIRE_BODY_CAP], rtype;
    size_t n;
    if (strlen(address) >= WIRE_ADDR_SIZE) {
        wire_err(err, "wire: address longer than %d bytes", WIRE_ADDR_SIZE - 1);
        return -1;
    }
    put_u64(req, id);
    size_t n_req = 8 + put_text(req + 8, address);
    if (wire_request(fd, WIRE_REQ_ADD, req, n_req, &rtype, body, &n, code, err) != 0)
        return -1;
    return expect_empty(rtype, "ADD", err);
}

int wire_assign(int fd, uint64_t id, uint64_t role, uint64_t *code, char *err)
{
    uint8_t req[16], body[WIRE_BODY_CAP], rtype;
    size_t n;
    put_u64(req, id);
    put_u64(req + 8, role);
    if (wire_request(fd, WIRE_REQ_ASSIGN, req, sizeof req, &rtype, body, &n, code, err) != 0)
        return -1;
    return expect_empty(rtype, "ASSIGN", err);
}

int wire_role(int fd, uint64_t id, int *role, char *err)
{
    uint8_t req[8], body[WIRE_BODY_CAP], rtype;
    size_t n;
    put_u64(req, 1); /* format 1: id, address, role */
    if (wire_request(fd, WIRE_REQ_CLUSTER, req, sizeof req, &rtype, body, &n, NULL, err) != 0)
        return -1;
    if (rtype != WIRE_RESP_SERVERS || n < 8) {
        wire_err(err, "wire: CLUSTER answered with type %u (SERVERS expected)", (unsigned)rtype);
        return -1;
    }
    uint64_t count = get_u64(body);
    size_t at = 8;
    *role = -1;
    for (uint64_t i = 0; i < count; i++) {
        if (at + 8 > n) {
            wire_err(err, "wire: SERVERS response cut short at server %llu",
                     (unsigned long long)i);
            return -1;
        }
        uint64_t sid = get_u64(body + at);
        at += 8;
        const uint8_t *nul = memchr(body + at, 0, n - at);
        if (nul == NULL) {
            wire_err(err, "wire: SERVERS address without its NUL");
            return -1;
        }
        at += text_size((const char *)body + at);
        if (at + 8 > n) {
            wire_err(err, "wire: SERVERS response cut short at server %llu",
                     (unsigned long long)i);
            return -1;
        }
        if (sid == id)
            *role = (int)get_u64(body + at);
        at += 8;
    }
    return 0;
}
