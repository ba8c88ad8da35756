"""dqlite_client.py - a small client for dqlite's wire protocol (Python standard library).

Written from dqlite's protocol reference for the embext cluster tests and benchmarks;
it speaks what a program that stores and queries embeddings needs:

    from dqlite_client import Client
    c = Client(["127.0.0.1:9001", "127.0.0.1:9002"], "vectors")  # the leader, database open
    c.exec("create virtual table w using embedding(dim=3)")
    c.exec("insert into w(token_id, token, vector) values (?, ?, ?)",
           (1, "a", struct.pack("<3f", 1, 0, 0)))                  # BLOB parameter
    rows = c.query("select token_id, distance from w where vector match ? and k = 2",
                   ("[1,0,0]",))

Protocol facts used (version 1, as served by libdqlite 1.11): the client first sends one
8-byte little-endian word, the protocol version 1.  Every message is a header word (body
length in 8-byte words: uint32 LE; message type: 1 byte; schema: 1 byte; 2 bytes unused)
and a body of word-aligned fields: uint64/int64/double are one LE word, text is UTF-8 with
a NUL, zero-padded to a word, a blob is a uint64 length then the bytes zero-padded.
Statement parameters are a "tuple": one byte count, one type byte per value, zero-padded to
a word, then the values.  A ROWS response is the column count, the column names, then rows,
each a header of 4-bit type codes (two per byte, zero-padded to a word) and the values,
and finally a marker word: 0xffff... (done) or 0xeeee... (more ROWS messages follow).
Any request may be answered with FAILURE (code, message), raised here as DqliteError.

Only the leader runs statements (dqlite 1.11 serves reads from the leader too): Client
asks the given addresses who the leader is and talks to it; after a failover, make a new
Client (or call reconnect()).
"""

import socket
import struct
import time

PROTOCOL_VERSION = 1

REQ_LEADER, REQ_CLIENT, REQ_OPEN, REQ_PREPARE, REQ_EXEC, REQ_QUERY = 0, 1, 3, 4, 5, 6
REQ_FINALIZE, REQ_EXEC_SQL, REQ_QUERY_SQL = 7, 8, 9
REQ_ADD, REQ_ASSIGN, REQ_REMOVE, REQ_DUMP, REQ_CLUSTER, REQ_TRANSFER = 12, 13, 14, 15, 16, 17

RESP_FAILURE, RESP_SERVER, RESP_WELCOME, RESP_SERVERS, RESP_DB = 0, 1, 2, 3, 4
RESP_STMT, RESP_RESULT, RESP_ROWS, RESP_EMPTY, RESP_FILES = 5, 6, 7, 8, 9

T_INTEGER, T_FLOAT, T_TEXT, T_BLOB, T_NULL = 1, 2, 3, 4, 5
T_UNIXTIME, T_ISO8601, T_BOOLEAN = 9, 10, 11

ROWS_DONE = 0xFFFFFFFFFFFFFFFF
ROWS_PART = 0xEEEEEEEEEEEEEEEE

ROLE_NAMES = {0: "voter", 1: "standby", 2: "spare"}


class DqliteError(Exception):
    """A FAILURE response (code is SQLite's extended code or dqlite's) or a broken link."""

    def __init__(self, message, code=0):
        super().__init__(message)
        self.code = code


def _pad8(n):
    return (n + 7) // 8 * 8


def _text(s):
    b = s.encode("utf-8") + b"\0"
    return b + b"\0" * (_pad8(len(b)) - len(b))


def _blob(b):
    return struct.pack("<Q", len(b)) + b + b"\0" * (_pad8(len(b)) - len(b))


def encode_params(params):
    """The parameter tuple of EXEC/QUERY requests (at most 255 values in protocol 1)."""
    params = list(params)
    if len(params) > 255:
        raise ValueError("dqlite_client: %d parameters (at most 255 per statement)" % len(params))
    types = bytearray()
    values = []
    for v in params:
        if v is None:
            types.append(T_NULL)
            values.append(b"\0" * 8)
        elif isinstance(v, bool) or isinstance(v, int):
            types.append(T_INTEGER)
            values.append(struct.pack("<q", int(v)))
        elif isinstance(v, float):
            types.append(T_FLOAT)
            values.append(struct.pack("<d", v))
        elif isinstance(v, str):
            types.append(T_TEXT)
            values.append(_text(v))
        elif isinstance(v, (bytes, bytearray, memoryview)):
            types.append(T_BLOB)
            values.append(_blob(bytes(v)))
        else:
            raise TypeError("dqlite_client: cannot send a %s parameter" % type(v).__name__)
    head = bytes([len(params)]) + bytes(types)
    head += b"\0" * (_pad8(len(head)) - len(head))
    return head + b"".join(values)


class _Reader:
    """Fields of one message body."""

    def __init__(self, body):
        self.b = body
        self.at = 0

    def u64(self):
        v = struct.unpack_from("<Q", self.b, self.at)[0]
        self.at += 8
        return v

    def i64(self):
        v = struct.unpack_from("<q", self.b, self.at)[0]
        self.at += 8
        return v

    def f64(self):
        v = struct.unpack_from("<d", self.b, self.at)[0]
        self.at += 8
        return v

    def text(self):
        end = self.b.index(b"\0", self.at)
        s = bytes(self.b[self.at:end]).decode("utf-8")
        self.at += _pad8(end - self.at + 1)
        return s

    def blob(self):
        n = self.u64()
        v = bytes(self.b[self.at:self.at + n])
        self.at += _pad8(n)
        return v

    def left(self):
        return len(self.b) - self.at


class Connection:
    """One socket to one node, after the protocol handshake."""

    def __init__(self, address, timeout=10.0):
        host, _, port = address.rpartition(":")
        self.address = address
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(struct.pack("<Q", PROTOCOL_VERSION))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, mtype, body):
        if len(body) % 8:
            raise ValueError("dqlite_client: body of %d bytes is not word-aligned" % len(body))
        self.sock.sendall(struct.pack("<IBBH", len(body) // 8, mtype, 0, 0) + body)

    def _recv_exact(self, n):
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = self.sock.recv_into(view[got:], n - got)
            if k == 0:
                raise DqliteError("dqlite_client: %s closed the connection" % self.address)
            got += k
        return buf

    def recv(self):
        """(type, body) of the next message; FAILURE raises DqliteError."""
        words, mtype, _schema, _unused = struct.unpack("<IBBH", self._recv_exact(8))
        body = self._recv_exact(words * 8)
        if mtype == RESP_FAILURE:
            r = _Reader(body)
            code = r.u64()
            raise DqliteError(r.text(), code)
        return mtype, body

    def request(self, mtype, body, want):
        self.send(mtype, body)
        rtype, rbody = self.recv()
        if rtype != want:
            raise DqliteError("dqlite_client: request %d answered with type %d (%d expected)"
                              % (mtype, rtype, want))
        return _Reader(rbody)

    # --- requests -------------------------------------------------------------
    def leader(self):
        """(id, address) of the leader this node knows; address '' when none."""
        r = self.request(REQ_LEADER, struct.pack("<Q", 0), RESP_SERVER)
        return r.u64(), r.text()

    def cluster(self):
        """[(id, address, role name)] of the configuration this node knows."""
        r = self.request(REQ_CLUSTER, struct.pack("<Q", 1), RESP_SERVERS)
        out = []
        for _ in range(r.u64()):
            nid, addr, role = r.u64(), r.text(), r.u64()
            out.append((nid, addr, ROLE_NAMES.get(role, str(role))))
        return out

    def transfer(self, node_id):
        """Ask the leader to hand leadership to node_id."""
        self.request(REQ_TRANSFER, struct.pack("<Q", node_id), RESP_EMPTY)

    def dump(self, name):
        """{file name: bytes} of database `name` as this node has it (any node, not only
        the leader): the database file and its WAL, which SQLite opens as they are."""
        r = self.request(REQ_DUMP, _text(name), RESP_FILES)
        files = {}
        for _ in range(r.u64()):
            fname = r.text()
            n = r.u64()
            files[fname] = bytes(r.b[r.at:r.at + n])
            r.at += _pad8(n)
        return files

    def open(self, name):
        r = self.request(REQ_OPEN, _text(name) + struct.pack("<Q", 0) + _text("volatile"),
                         RESP_DB)
        return struct.unpack_from("<I", r.b, 0)[0]

    def exec(self, db, sql, params=()):
        """Run every statement of sql (params bind to the first); (last_insert_id, changes)."""
        r = self.request(REQ_EXEC_SQL, struct.pack("<Q", db) + _text(sql) + encode_params(params),
                         RESP_RESULT)
        return r.u64(), r.u64()

    def prepare(self, db, sql):
        r = self.request(REQ_PREPARE, struct.pack("<Q", db) + _text(sql), RESP_STMT)
        r.u64()  # db id, statement id (2 x uint32)
        return struct.unpack_from("<I", r.b, 4)[0]

    def exec_stmt(self, db, stmt, params=()):
        r = self.request(REQ_EXEC, struct.pack("<II", db, stmt) + encode_params(params),
                         RESP_RESULT)
        return r.u64(), r.u64()

    def finalize(self, db, stmt):
        self.request(REQ_FINALIZE, struct.pack("<II", db, stmt), RESP_EMPTY)

    def query(self, db, sql, params=()):
        """Rows of one statement as a list of tuples; column names in self.columns."""
        self.send(REQ_QUERY_SQL, struct.pack("<Q", db) + _text(sql) + encode_params(params))
        return self._rows()

    def _rows(self):
        rows = []
        while True:
            rtype, body = self.recv()
            if rtype != RESP_ROWS:
                raise DqliteError("dqlite_client: query answered with type %d (ROWS expected)"
                                  % rtype)
            r = _Reader(body)
            n = r.u64()
            self.columns = [r.text() for _ in range(n)]
            head = _pad8((n + 1) // 2)
            while True:
                marker = struct.unpack_from("<Q", r.b, r.at)[0]
                if marker in (ROWS_DONE, ROWS_PART):
                    r.at += 8
                    break
                types = r.b[r.at:r.at + head]
                r.at += head
                row = []
                for i in range(n):
                    t = (types[i // 2] >> (4 * (i % 2))) & 0x0F
                    if t in (T_INTEGER, T_UNIXTIME):
                        row.append(r.i64())
                    elif t == T_FLOAT:
                        row.append(r.f64())
                    elif t in (T_TEXT, T_ISO8601):
                        row.append(r.text())
                    elif t == T_BLOB:
                        row.append(r.blob())
                    elif t == T_NULL:
                        r.u64()
                        row.append(None)
                    elif t == T_BOOLEAN:
                        row.append(bool(r.u64()))
                    else:
                        raise DqliteError("dqlite_client: unknown column type %d" % t)
                rows.append(tuple(row))
            if marker == ROWS_DONE:
                return rows


def find_leader(addresses, wait=10.0, timeout=10.0, skip=()):
    """A Connection to the leader, asked of each address in turn until one knows it
    (retried for up to `wait` seconds: the cluster may be electing).  Addresses in
    `skip` are neither asked nor accepted as leader."""
    deadline = time.monotonic() + wait
    last = "no address answered"
    while True:
        for a in addresses:
            if a in skip:
                continue
            try:
                c = Connection(a, timeout=min(timeout, 2.0))
                try:
                    _, leader = c.leader()
                finally:
                    c.close()
                if not leader or leader in skip:
                    last = "%s knows no leader" % a
                    continue
                conn = Connection(leader, timeout=timeout)
                _, again = conn.leader()
                if again == leader:
                    return conn
                conn.close()
                last = "%s is no longer the leader" % leader
            except (OSError, DqliteError) as e:
                last = "%s: %s" % (a, e)
        if time.monotonic() >= deadline:
            raise DqliteError("dqlite_client: no leader within %.1f s (%s)" % (wait, last))
        time.sleep(0.05)


class Client:
    """The leader of a cluster and one open database on it."""

    def __init__(self, addresses, database=None, wait=10.0, timeout=30.0):
        self.addresses = list(addresses)
        self.database = database
        self.wait = wait
        self.timeout = timeout
        self.conn = None
        self.db = None
        self.reconnect()

    def reconnect(self, skip=()):
        if self.conn is not None:
            self.conn.close()
        self.conn = find_leader(self.addresses, wait=self.wait, timeout=self.timeout, skip=skip)
        self.db = self.conn.open(self.database) if self.database is not None else None
        return self

    def open(self, name):
        self.database = name
        self.db = self.conn.open(name)
        return self.db

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def exec(self, sql, params=()):
        return self.conn.exec(self.db, sql, params)

    def query(self, sql, params=()):
        return self.conn.query(self.db, sql, params)

    def leader(self):
        return self.conn.leader()

    def cluster(self):
        return self.conn.cluster()
