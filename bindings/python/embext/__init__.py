"""embext for Python: load the SQLite extension into a sqlite3 connection and
move vectors between Python and the extension's float32 BLOB format.

    import sqlite3, embext
    conn = sqlite3.connect(":memory:")
    embext.load(conn)
    conn.execute("select emb_dot(?, ?)", (embext.to_blob([1, 2]), embext.to_blob([3, 4])))

Needs a Python whose sqlite3 module can load extensions (Debian's
/usr/bin/python3 can).  The library is found, in order, at $EMBEXT_PATH, next
to this file (a packaged copy), or at the repository root (./embext.so of
`make`).  numpy is optional: from_blob returns a numpy.float32 array when it is
installed and numpy=True (the default), a list of floats otherwise.
"""
import os
import struct

__all__ = ["load", "path", "to_blob", "from_blob", "__version__"]

# the repository's VERSION (scripts/set-version.sh writes both; make test checks)
__version__ = "0.2.0"


def path():
    """The file name to pass to load_extension (without the .so suffix
    SQLite adds itself), or raise FileNotFoundError naming where it looked."""
    here = os.path.dirname(os.path.abspath(__file__))
    env = os.environ.get("EMBEXT_PATH")
    if env:
        if os.path.isfile(env):
            return os.path.abspath(env)
        raise FileNotFoundError("embext: EMBEXT_PATH names %s, which does not exist" % env)
    tried = []
    candidates = [
        os.path.join(here, "embext.so"),
        os.path.join(here, "..", "..", "..", "embext.so"),
    ]
    for c in candidates:
        tried.append(c)
        if os.path.isfile(c):
            return os.path.abspath(c)
    raise FileNotFoundError("embext: no embext.so (looked at: %s); run `make` or set EMBEXT_PATH"
                            % ", ".join(tried))


def load(conn):
    """Load embext into an open sqlite3.Connection; returns conn.  Loading is
    switched back off afterwards so SQL cannot load further libraries."""
    if not hasattr(conn, "enable_load_extension"):
        raise RuntimeError("embext.load: this Python's sqlite3 cannot load extensions "
                           "(use Debian's /usr/bin/python3)")
    conn.enable_load_extension(True)
    try:
        conn.load_extension(path())
    finally:
        conn.enable_load_extension(False)
    return conn


def to_blob(vector):
    """A float32 little-endian BLOB (the extension's vector format) from a
    list/tuple of numbers or a 1-D numpy array of any real dtype."""
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None and isinstance(vector, np.ndarray):
        if vector.ndim != 1:
            raise ValueError("embext.to_blob: expected a 1-D array, found shape %s"
                             % (vector.shape,))
        return np.ascontiguousarray(vector, dtype="<f4").tobytes()
    values = list(vector)
    return struct.pack("<%df" % len(values), *values)


def from_blob(blob, numpy=True):
    """The floats of a float32 BLOB: a numpy.float32 array when numpy is
    installed and numpy=True, else a list."""
    if blob is None:
        return None
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise TypeError("embext.from_blob: expected a BLOB (bytes), found %s"
                        % type(blob).__name__)
    if len(blob) % 4:
        raise ValueError("embext.from_blob: %d bytes is not a whole number of float32"
                         % len(blob))
    if numpy:
        try:
            import numpy as np
            return np.frombuffer(bytes(blob), dtype="<f4").copy()
        except ImportError:
            pass
    return list(struct.unpack("<%df" % (len(blob) // 4), bytes(blob)))
