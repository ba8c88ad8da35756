/*
 * wire.h - the few requests of dqlite's wire protocol that the node program
 * needs to join a cluster: find the leader (LEADER), add a node (ADD) and make
 * it a voter (ASSIGN).  Written from dqlite's protocol reference; the Python
 * client (cluster/dqlite_client.py) speaks the query side of the same protocol.
 *
 * The protocol in short: after connecting, the client sends one 8-byte word,
 * the protocol version (1, little endian).  Every message is then a header
 * word (body size in words: 4 bytes LE; type: 1 byte; schema: 1 byte; 2 unused
 * bytes) followed by the body, a sequence of 8-byte-aligned fields: uint64 is
 * one LE word, text is NUL-terminated UTF-8 padded with zeros to a word.
 *
 * Every function returns 0 or -1; on -1, err (WIRE_ERR_SIZE bytes) says why.
 */
#ifndef EMB_CLUSTER_WIRE_H
#define EMB_CLUSTER_WIRE_H
#include <stddef.h>
#include <stdint.h>

#define WIRE_ERR_SIZE 256
#define WIRE_ADDR_SIZE 256

enum {
    WIRE_REQ_LEADER = 0,
    WIRE_REQ_ADD = 12,
    WIRE_REQ_ASSIGN = 13,
    WIRE_REQ_CLUSTER = 16,
    WIRE_RESP_FAILURE = 0,
    WIRE_RESP_SERVER = 1,
    WIRE_RESP_SERVERS = 3,
    WIRE_RESP_EMPTY = 8,
    WIRE_ROLE_VOTER = 0
};

/* Connect to "host:port" (timeout in milliseconds) and send the protocol
 * version.  *fd is the connected socket on success. */
int wire_connect(const char *address, int timeout_ms, int *fd, char *err);

/* Ask the node on fd who the leader is: *id and address (WIRE_ADDR_SIZE
 * bytes).  An empty address means the node does not know one (yet). */
int wire_leader(int fd, uint64_t *id, char *address, char *err);

/* On the leader: add node (id, address) to the cluster as a spare, then make
 * it a voter (ADD alone leaves it a spare).  A failure response becomes -1 with the server's message and
 * its code in *code (0 for errors of our own: I/O, a malformed reply). */
int wire_add(int fd, uint64_t id, const char *address, uint64_t *code, char *err);
int wire_assign(int fd, uint64_t id, uint64_t role, uint64_t *code, char *err);

/* The role (0 voter, 1 standby, 2 spare) node id has in the configuration
 * the node on fd knows (CLUSTER request, format 1), or -1 in *role when id
 * is not a member. */
int wire_role(int fd, uint64_t id, int *role, char *err);

#endif
