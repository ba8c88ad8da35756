/*
 * node.c - embext-node: one dqlite node with embext linked in.
 *
 *   make cluster          # build/cluster/embext-node (needs libdqlite-dev)
 *   embext-node DATA_DIR ADDRESS                    # first node: a new cluster
 *   embext-node DATA_DIR ADDRESS --join A1[,A2...]  # a node that joins it
 *   embext-node DATA_DIR                            # restart from DATA_DIR
 *
 * Every SQLite connection the node opens (dqlite's leader connections and
 * the ones that apply replicated frames) has embext registered through
 * sqlite3_auto_extension before dqlite_node_start, so the embedding table,
 * its shadow tables and the emb_* functions work through any dqlite client.
 *
 * Identity: the first node of a cluster takes id 1 (dqlite bootstraps a
 * one-voter cluster for it); a joining node takes an id from
 * dqlite_generate_node_id, then asks the leader (found through any --join
 * address) to ADD it and ASSIGN it the voter role (cluster/wire.c).  The id
 * and address are kept in DATA_DIR/embext-node.conf, written before the node
 * starts, and DATA_DIR/embext-node.joined marks a finished join, so a node
 * restarted on its directory comes back as the same member.
 *
 * Signals: SIGPIPE is ignored (dqlite writes to peers that may have died:
 * without this a follower is killed when the leader dies); SIGTERM and SIGINT
 * stop the node cleanly (dqlite_node_stop, then exit 0).
 */
#include "wire.h"

#include <dqlite.h>
#include <sqlite3.h>
#include <sqlite3_embext.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONF_NAME "embext-node.conf"
#define JOINED_NAME "embext-node.joined"
#define JOIN_WAIT_S 30

static const char usage[] =
    "usage: embext-node DATA_DIR [ADDRESS] [--join ADDR[,ADDR...]] [--latency-ms N]\n"
    "\n"
    "Run one dqlite node with embext registered on every connection.\n"
    "  DATA_DIR        raft log, snapshots and the node's id (created if missing)\n"
    "  ADDRESS         host:port to serve and to be known by (e.g. 127.0.0.1:9001);\n"
    "                  may be left out when DATA_DIR already holds a node\n"
    "  --join ADDRS    comma-separated addresses of members of an existing cluster;\n"
    "                  without it a new cluster is started with this node as its\n"
    "                  only voter (id 1)\n"
    "  --latency-ms N  expected network round trip: raft's heartbeat is 1.5 N ms and\n"
    "                  its election timeout 15 N ms (default: dqlite's 500 / 3000 ms)\n"
    "  --help          this text\n"
    "\n"
    "Prints 'embext-node: ready id=ID address=ADDRESS' once serving (and joined).\n"
    "SIGTERM or SIGINT stops the node cleanly; SIGPIPE is ignored.\n";

struct node_conf {
    uint64_t id;
    char address[WIRE_ADDR_SIZE];
};

static int path_in(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* 1 if DATA_DIR holds a conf, 0 if not, -1 on a malformed one. */
static int conf_read(const char *dir, struct node_conf *conf)
{
    char path[4096];
    if (path_in(path, sizeof path, dir, CONF_NAME) != 0)
        return -1;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return errno == ENOENT ? 0 : -1;
    unsigned long long id = 0;
    char addr[WIRE_ADDR_SIZE];
    int ok = fscanf(f, "id %llu address %255s", &id, addr) == 2 && id != 0;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "embext-node: %s is not 'id N address HOST:PORT'\n", path);
        return -1;
    }
    conf->id = id;
    snprintf(conf->address, sizeof conf->address, "%s", addr);
    return 1;
}

static int conf_write(const char *dir, const struct node_conf *conf)
{
    char path[4096], tmp[4200];
    if (path_in(path, sizeof path, dir, CONF_NAME) != 0)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "id %llu\naddress %s\n", (unsigned long long)conf->id, conf->address);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        return -1;
    }
    fclose(f);
    return rename(tmp, path);
}

static int file_exists(const char *dir, const char *name)
{
    char path[4096];
    return path_in(path, sizeof path, dir, name) == 0 && access(path, F_OK) == 0;
}

static int mark_joined(const char *dir)
{
    char path[4096];
    if (path_in(path, sizeof path, dir, JOINED_NAME) != 0)
        return -1;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    return fclose(f);
}

/* mkdir -p: the directory and any missing parents. */
static int make_dirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Ask the leader, found through any address in the comma-separated list, to
 * add this node and make it a voter.  Each round looks at the leader's
 * configuration first (CLUSTER), so a round that follows one whose answer was
 * lost, or a concurrent change that made ADD or ASSIGN fail, picks up where
 * the cluster is.  Retries until JOIN_WAIT_S seconds pass (the cluster may be
 * electing a leader, or busy with another node's change). */
static int join_cluster(const char *joins, const struct node_conf *conf)
{
    char err[WIRE_ERR_SIZE] = "no address answered";
    time_t give_up = time(NULL) + JOIN_WAIT_S;
    while (time(NULL) < give_up) {
        char list[4096];
        snprintf(list, sizeof list, "%s", joins);
        char *save = NULL;
        for (char *a = strtok_r(list, ",", &save); a != NULL; a = strtok_r(NULL, ",", &save)) {
            int fd, role;
            uint64_t leader_id, code;
            char leader[WIRE_ADDR_SIZE];
            if (wire_connect(a, 1000, &fd, err) != 0)
                continue;
            int rc = wire_leader(fd, &leader_id, leader, err);
            close(fd);
            if (rc != 0)
                continue;
            if (leader[0] == '\0') {
                snprintf(err, sizeof err, "%s knows no leader yet", a);
                continue;
            }
            if (wire_connect(leader, 1000, &fd, err) != 0)
                continue;
            rc = wire_role(fd, conf->id, &role, err);
            if (rc == 0 && role == WIRE_ROLE_VOTER) {
                close(fd);
                return 0;
            }
            if (rc == 0 && role < 0)
                rc = wire_add(fd, conf->id, conf->address, &code, err);
            if (rc == 0)
                rc = wire_assign(fd, conf->id, WIRE_ROLE_VOTER, &code, err);
            close(fd);
            if (rc == 0)
                return 0;
            break; /* the leader answered: wait, then ask again */
        }
        fprintf(stderr, "embext-node: join: %s; retrying\n", err);
        sleep_ms(250);
    }
    fprintf(stderr, "embext-node: could not join through %s: %s\n", joins, err);
    return -1;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *address = NULL, *joins = NULL;
    unsigned latency_ms = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--join") == 0 && i + 1 < argc) {
            joins = argv[++i];
        } else if (strcmp(argv[i], "--latency-ms") == 0 && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end != '\0' || v < 1 || v > 3600000) {
                fprintf(stderr, "embext-node: --latency-ms wants 1..3600000, got '%s'\n", argv[i]);
                return 2;
            }
            latency_ms = (unsigned)v;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "embext-node: unknown option '%s'\n%s", argv[i], usage);
            return 2;
        } else if (dir == NULL) {
            dir = argv[i];
        } else if (address == NULL) {
            address = argv[i];
        } else {
            fprintf(stderr, "embext-node: unexpected argument '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    if (dir == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    if (make_dirs(dir) != 0) {
        fprintf(stderr, "embext-node: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }

    struct node_conf conf = {0};
    int have = conf_read(dir, &conf);
    if (have < 0)
        return 1;
    if (have) {
        if (address != NULL && strcmp(address, conf.address) != 0) {
            fprintf(stderr, "embext-node: %s belongs to node %s, not %s\n", dir, conf.address,
                    address);
            return 1;
        }
    } else {
        if (address == NULL) {
            fprintf(stderr, "embext-node: %s holds no node: give its ADDRESS\n", dir);
            return 2;
        }
        if (strlen(address) >= sizeof conf.address) {
            fprintf(stderr, "embext-node: address too long\n");
            return 2;
        }
        snprintf(conf.address, sizeof conf.address, "%s", address);
        conf.id = joins == NULL ? 1 : dqlite_generate_node_id(address);
        if (conf_write(dir, &conf) != 0) {
            fprintf(stderr, "embext-node: cannot write %s/%s: %s\n", dir, CONF_NAME,
                    strerror(errno));
            return 1;
        }
    }

    /* before any thread starts: the mask and the SIGPIPE disposition are
     * inherited by dqlite's threads */
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);

    if (sqlite3_auto_extension((void (*)(void))sqlite3_embext_init) != SQLITE_OK) {
        fprintf(stderr, "embext-node: sqlite3_auto_extension failed\n");
        return 1;
    }

    dqlite_node *node = NULL;
    int rc = dqlite_node_create(conf.id, conf.address, dir, &node);
    if (rc != 0) {
        fprintf(stderr, "embext-node: dqlite_node_create: %s\n",
                node != NULL ? dqlite_node_errmsg(node) : "failed");
        dqlite_node_destroy(node);
        return 1;
    }
    rc = dqlite_node_set_bind_address(node, conf.address);
    if (rc == 0 && latency_ms > 0)
        rc = dqlite_node_set_network_latency_ms(node, latency_ms);
    if (rc == 0)
        rc = dqlite_node_start(node);
    if (rc != 0) {
        fprintf(stderr, "embext-node: cannot start on %s: %s\n", conf.address,
                dqlite_node_errmsg(node));
        dqlite_node_destroy(node);
        return 1;
    }

    if (conf.id != 1 && !file_exists(dir, JOINED_NAME)) {
        if (joins == NULL) {
            fprintf(stderr, "embext-node: %s never finished joining: give --join\n", dir);
            rc = 1;
        } else if (join_cluster(joins, &conf) != 0 || mark_joined(dir) != 0) {
            rc = 1;
        }
        if (rc != 0) {
            dqlite_node_stop(node);
            dqlite_node_destroy(node);
            return 1;
        }
    }
    printf("embext-node: ready id=%" PRIu64 " address=%s\n", conf.id, conf.address);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop_set, &sig) != 0)
        ;
    rc = dqlite_node_stop(node);
    dqlite_node_destroy(node);
    if (rc != 0) {
        fprintf(stderr, "embext-node: stop on signal %d: error %d\n", sig, rc);
        return 1;
    }
    return 0;
}
