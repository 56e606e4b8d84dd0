# cython: language_level=3, boundscheck=False, wraparound=False
"""The verification fast path, compiled: the rows that pass, passed without the interpreter.

Verifying a million events spends most of its time not in SHA-256 but around it:
turning each row into Python objects, the interpreter's bookkeeping per row, building
each link's text and hashlib's per-call set-up. This module does exactly what
``verification._check_row`` does for a row that passes, in C, with OpenSSL's SHA-256
(the library hashlib itself uses), and hands back every row it does not pass. That
row (a tampered one, a household's first row in a range above version 1, a missing
event, a text that is not ASCII, an unexpected type) goes to the Python code, which
alone decides what is wrong. So this module can only make a verification faster,
never change its answer; the tests check both ways give the same answers.

Rows come either from Python (``Rule.pass_rows``: a batch the reader fetched, as on
PostgreSQL) or straight from a SQLite file (``SQLiteRows``), which skips building
Python objects for the columns of a row that passes.
"""

import sqlite3 as python_sqlite3

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.long cimport PyLong_CheckExact
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_CheckExact, PyTuple_GET_SIZE
from cpython.unicode cimport PyUnicode_CheckExact, PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8
from libc.limits cimport LLONG_MAX
from libc.string cimport memcmp, memcpy


cdef extern from "Python.h":
    bint PyUnicode_IS_COMPACT_ASCII(object text)
    void *PyUnicode_DATA(object text)
    Py_ssize_t PyUnicode_GET_LENGTH(object text)


cdef extern from "openssl/evp.h":
    ctypedef struct EVP_MD:
        pass
    ctypedef struct EVP_MD_CTX:
        pass
    EVP_MD *EVP_MD_fetch(void *ctx, const char *algorithm, const char *properties)
    EVP_MD_CTX *EVP_MD_CTX_new()
    void EVP_MD_CTX_free(EVP_MD_CTX *ctx)
    int EVP_DigestInit_ex2(EVP_MD_CTX *ctx, const EVP_MD *type, void *params)
    int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt)
    int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s)


cdef extern from "sqlite3.h":
    ctypedef struct sqlite3:
        pass
    ctypedef struct sqlite3_stmt:
        pass
    const char *sqlite3_libversion()
    int sqlite3_open_v2(const char *filename, sqlite3 **db, int flags, const char *vfs)
    int sqlite3_close_v2(sqlite3 *db)
    const char *sqlite3_errmsg(sqlite3 *db)
    int sqlite3_exec(sqlite3 *db, const char *sql, void *callback, void *arg, char **errmsg)
    int sqlite3_busy_timeout(sqlite3 *db, int ms)
    int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int size, sqlite3_stmt **stmt, const char **tail)
    int sqlite3_bind_int64(sqlite3_stmt *stmt, int index, long long value)
    int sqlite3_step(sqlite3_stmt *stmt) nogil
    int sqlite3_finalize(sqlite3_stmt *stmt)
    int sqlite3_column_count(sqlite3_stmt *stmt)
    int sqlite3_column_type(sqlite3_stmt *stmt, int column)
    long long sqlite3_column_int64(sqlite3_stmt *stmt, int column)
    double sqlite3_column_double(sqlite3_stmt *stmt, int column)
    const unsigned char *sqlite3_column_text(sqlite3_stmt *stmt, int column)
    const void *sqlite3_column_blob(sqlite3_stmt *stmt, int column)
    int sqlite3_column_bytes(sqlite3_stmt *stmt, int column)
    int SQLITE_OK, SQLITE_ROW, SQLITE_DONE, SQLITE_OPEN_READONLY, SQLITE_OPEN_URI, SQLITE_OPEN_NOMUTEX
    int SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL


cdef const EVP_MD *SHA256 = EVP_MD_fetch(NULL, b"SHA256", NULL)  # fetched once: no lookup per hash
if SHA256 is NULL:
    raise ImportError("OpenSSL offers no SHA256")

cdef const char *HEX = b"0123456789abcdef"
cdef enum:
    HASH = 64  # a hash as lower-case hexadecimal text
    MAX_TEXT = 1024  # a link's text longer than this (a very long topic) goes to Python
    COLUMNS = 7  # nid, link, stored previous link, event's id, version, topic, bytes


cdef bint sha256_hex(EVP_MD_CTX *ctx, const char *data, Py_ssize_t size, char *out) noexcept:
    cdef unsigned char digest[32]
    cdef unsigned int length
    cdef int i
    if not (EVP_DigestInit_ex2(ctx, SHA256, NULL) and EVP_DigestUpdate(ctx, data, size)
            and EVP_DigestFinal_ex(ctx, digest, &length)):
        return False
    for i in range(32):
        out[2 * i] = HEX[digest[i] >> 4]
        out[2 * i + 1] = HEX[digest[i] & 15]
    return True


cdef inline const char *ascii_of(object value, Py_ssize_t *size) noexcept:
    """An ASCII str's characters, as they are (hashes, ids and topics are ASCII), or NULL
    for anything else: Python then encodes it as the rule says."""
    if not (PyUnicode_CheckExact(value) and PyUnicode_IS_COMPACT_ASCII(value)):
        return NULL
    size[0] = PyUnicode_GET_LENGTH(value)
    return <const char *>PyUnicode_DATA(value)


cdef inline bint is_ascii(const char *text, Py_ssize_t size) noexcept:
    cdef Py_ssize_t i
    for i in range(size):
        if <unsigned char>text[i] >= 128:
            return False
    return True


cdef inline Py_ssize_t put(char *text, Py_ssize_t at, const char *part, Py_ssize_t size) noexcept:
    """Appends one field and its newline; -1 when the text would not fit."""
    if at < 0 or at + size + 1 > MAX_TEXT:
        return -1
    memcpy(text + at, part, size)
    text[at + size] = 10
    return at + size + 1


cdef long long limit_of(object boundary) except? -1:
    """The open seal's last notification id; no seal open is infinity."""
    return LLONG_MAX if boundary == float("inf") else boundary


cdef Py_ssize_t decimal(long long value, char *out) noexcept:
    """``value`` in decimal, as Python's ``str`` writes it; returns its length."""
    cdef char digits[24]
    cdef Py_ssize_t count = 0, i, at = 0
    cdef unsigned long long rest = (0ULL - <unsigned long long>value) if value < 0 else <unsigned long long>value
    if value < 0:
        out[0] = 45  # "-"
        at = 1
    while True:
        digits[count] = 48 + rest % 10
        count += 1
        rest //= 10
        if rest == 0:
            break
    for i in range(count):
        out[at + i] = digits[count - 1 - i]
    return at + count


cdef class Rule:
    """One range's running check: each household's ``(canonical id, last link, last
    version)``, keyed by its id as stored, shared with ``verification._check_row``.

    The household of the rows just passed is kept in C (its "run"): consecutive rows
    of one household, as one command writes them, then cost no dictionary work. The
    run is written to ``households`` before any row or result goes back to Python.
    """

    cdef EVP_MD_CTX *ctx
    cdef dict households
    cdef object canonical
    cdef object starts
    cdef const char *zero
    cdef object _zero_hash  # keeps ``zero`` alive
    cdef bint run
    cdef char run_id[HASH]
    cdef Py_ssize_t run_id_size
    cdef object run_key, run_oid, run_link
    cdef long long run_version

    def __cinit__(self, dict households, object canonical, object starts, str zero_hash):
        cdef Py_ssize_t size = 0
        self.zero = ascii_of(zero_hash, &size)
        if self.zero is NULL or size != HASH:
            raise ValueError("zero_hash must be 64 ASCII characters")
        self.ctx = EVP_MD_CTX_new()
        if self.ctx is NULL:
            raise MemoryError()
        self.households, self.canonical, self.starts = households, canonical, starts
        self._zero_hash = zero_hash
        self.run = False

    def __dealloc__(self):
        EVP_MD_CTX_free(self.ctx)

    cdef int flush(self) except -1:
        """Writes the run's household back, so ``households`` is whole for Python."""
        if self.run:
            PyDict_SetItem(self.households, self.run_key, (self.run_oid, self.run_link, self.run_version))
            self.run = False
            self.run_key = self.run_oid = self.run_link = None
        return 0

    cdef int passes(self, object nid, const char *id_text, Py_ssize_t id_size, object key, long long version,
                    object link, const char *link_text,
                    const char *prev_text, Py_ssize_t prev_size,
                    const char *topic_text, Py_ssize_t topic_size,
                    const char *state, Py_ssize_t state_size, list links) except -1:
        """1 when the row passes, with the rule's effects; 0 when it is left to Python.

        It passes when its household was seen in this range, its version follows the
        last one, its stored previous link is that household's last link and its link
        recomputes; or when its household is new here, it is version 1, its previous
        link is 64 zeros and its link recomputes (then recorded in ``starts``, unless
        that is None). The event's id is ``id_text`` (ASCII) and, when the caller has
        it, the str ``key``; ``link`` may be None: each is made only when needed.
        """
        cdef PyObject *known = NULL
        cdef Py_ssize_t oid_size = 0, last_size = 0, at
        cdef const char *oid_text
        cdef const char *last_text
        cdef long long last_version
        cdef char text[MAX_TEXT]
        cdef char computed[HASH]
        cdef char number[24]
        cdef tuple household
        cdef object oid
        cdef bint same = self.run and id_size == self.run_id_size and memcmp(id_text, self.run_id, id_size) == 0
        if same:
            oid, last_version = self.run_oid, self.run_version
            last_text = ascii_of(self.run_link, &last_size)
            key = self.run_key
        else:
            self.flush()
            if key is None:
                key = PyUnicode_DecodeASCII(id_text, id_size, NULL)
            known = PyDict_GetItem(self.households, key)
            if known is not NULL:
                # Python may have recorded any value for a row it diagnosed: only an
                # exact (oid, link, int version) is compared here, the rest goes back.
                if not (PyTuple_CheckExact(<object>known) and PyTuple_GET_SIZE(<object>known) == 3):
                    return 0
                household = <tuple>known
                if not PyLong_CheckExact(household[2]):
                    return 0
                oid = household[0]
                try:
                    last_version = household[2]
                except OverflowError:
                    return 0
                last_text = ascii_of(household[1], &last_size)
        if same or known is not NULL:
            if (last_version == LLONG_MAX or version != last_version + 1 or last_text is NULL or last_size != prev_size
                    or memcmp(last_text, prev_text, prev_size) != 0):
                return 0
        else:
            if version != 1 or prev_size != HASH or memcmp(prev_text, self.zero, HASH) != 0:
                return 0
            oid = self.canonical(key)
        oid_text = ascii_of(oid, &oid_size)
        if oid_text is NULL:
            return 0
        at = put(text, 0, prev_text, prev_size)
        at = put(text, at, oid_text, oid_size)
        at = put(text, at, number, decimal(version, number))
        at = put(text, at, topic_text, topic_size)
        if at < 0 or at + HASH > MAX_TEXT:
            return 0
        if not (sha256_hex(self.ctx, state, state_size, text + at)
                and sha256_hex(self.ctx, text, at + HASH, computed)
                and memcmp(computed, link_text, HASH) == 0):
            return 0
        if link is None:
            link = PyUnicode_DecodeASCII(link_text, HASH, NULL)
        links.append(link)
        if not same and known is NULL and self.starts is not None:
            PyDict_SetItem(self.starts, oid, nid)
        if id_size > HASH:  # too long to keep as a run (ids are 32 or 36 characters)
            PyDict_SetItem(self.households, key, (oid, link, version))
            return 1
        if not same:
            memcpy(self.run_id, id_text, id_size)
            self.run_id_size, self.run_key, self.run_oid, self.run = id_size, key, oid, True
        self.run_link, self.run_version = link, version
        return 1

    def pass_rows(self, list batch not None, Py_ssize_t start, list links not None, object boundary):
        """Passes a fetched batch's rows from ``start`` on; returns the index of the first
        row not passed (``len(batch)`` when all passed). A row is ``(nid, link,
        prev_stored, e_oid, e_version, e_topic, e_state)``; it is not passed when past
        ``boundary`` (the open seal's last notification id)."""
        if start < 0:
            raise ValueError("start must not be negative")
        try:
            return self._pass_rows(batch, start, links, limit_of(boundary))
        finally:
            self.flush()

    cdef Py_ssize_t _pass_rows(self, list batch, Py_ssize_t start, list links, long long limit) except -1:
        cdef Py_ssize_t index, size = len(batch), link_size = 0, prev_size = 0, topic_size = 0, id_size = 0
        cdef long long nid, version
        cdef const char *link_text
        cdef const char *prev_text
        cdef const char *topic_text
        cdef const char *id_text
        cdef tuple row
        for index in range(start, size):
            row = <tuple?>batch[index]
            if len(row) != COLUMNS:
                return index
            e_oid, e_version, state = row[3], row[4], row[6]
            if not (PyLong_CheckExact(row[0]) and PyBytes_CheckExact(state) and PyLong_CheckExact(e_version)):
                return index
            try:
                nid, version = row[0], e_version
            except OverflowError:
                return index
            if nid > limit:
                return index
            link_text = ascii_of(row[1], &link_size)
            prev_text = ascii_of(row[2], &prev_size)
            id_text = ascii_of(e_oid, &id_size)
            topic_text = ascii_of(row[5], &topic_size)
            if link_text is NULL or prev_text is NULL or id_text is NULL or topic_text is NULL or link_size != HASH:
                return index
            if not self.passes(row[0], id_text, id_size, e_oid, version, row[1], link_text, prev_text, prev_size,
                               topic_text, topic_size, PyBytes_AS_STRING(state), PyBytes_GET_SIZE(state), links):
                return index
        return size


def sqlite_libversion_address():
    """Where this module's SQLite is, to tell it from another copy in the process."""
    return <size_t>&sqlite3_libversion


cdef class SQLiteRows:
    """The verification query, run on its own read-only connection to a SQLite file.

    The statement is one read transaction, with a snapshot of its own. New events are
    chained past the range's end, so it sees the caller's rows; only a backfill running
    meanwhile adds rows inside the range, which the caller then finds missing from its
    own snapshot and says so.
    """

    cdef sqlite3 *db
    cdef sqlite3_stmt *stmt

    def __cinit__(self, str path, str sql, tuple params, int mmap_bytes=0, int busy_ms=5000):
        cdef int status, index
        status = sqlite3_open_v2(path.encode(), &self.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL)
        if status != SQLITE_OK:
            self._fail("open")
        sqlite3_busy_timeout(self.db, busy_ms)
        if mmap_bytes:
            sqlite3_exec(self.db, f"PRAGMA mmap_size={mmap_bytes}".encode(), NULL, NULL, NULL)
        status = sqlite3_prepare_v2(self.db, sql.encode(), -1, &self.stmt, NULL)
        if status != SQLITE_OK:
            self._fail("prepare")
        if sqlite3_column_count(self.stmt) != COLUMNS:
            raise ValueError(f"the verification query must return {COLUMNS} columns")
        for index, value in enumerate(params, 1):
            sqlite3_bind_int64(self.stmt, index, value)

    cdef _fail(self, str what):
        message = sqlite3_errmsg(self.db).decode("utf-8", "replace") if self.db is not NULL else "out of memory"
        raise OSError(f"verification could not {what} the SQLite file: {message}")

    def __dealloc__(self):
        sqlite3_finalize(self.stmt)
        sqlite3_close_v2(self.db)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        sqlite3_finalize(self.stmt)
        self.stmt = NULL
        return False

    def next_left(self, Rule rule not None, list links not None, object boundary):
        """Passes rows until one is not passed, and returns that row as Python's sqlite3
        would (ints, str, bytes, None); None when the query has no more rows."""
        try:
            return self._next_left(rule, links, limit_of(boundary))
        finally:
            rule.flush()

    cdef object _next_left(self, Rule rule, list links, long long limit):
        cdef long long nid, version
        cdef int status
        cdef const char *link_text
        cdef const char *prev_text
        cdef const char *topic_text
        cdef const char *oid_text
        cdef const void *state
        cdef Py_ssize_t prev_size, topic_size, oid_size
        cdef sqlite3_stmt *stmt = self.stmt
        cdef unsigned int stepped = 0
        if stmt is NULL:
            raise ValueError("the rows are closed")
        while True:
            # The first step takes the read lock, and may wait for a writer: without the
            # GIL, so other threads (web requests) run meanwhile. Later steps keep it,
            # letting go now and then: releasing it on every row would cost more than
            # the row's own work.
            if stepped == 0:
                with nogil:
                    status = sqlite3_step(stmt)
            else:
                if stepped % 1024 == 0:
                    with nogil:
                        pass
                status = sqlite3_step(stmt)
            stepped += 1
            if status == SQLITE_DONE:
                return None
            if status != SQLITE_ROW:
                self._fail("read")
            if (sqlite3_column_type(stmt, 0) != SQLITE_INTEGER or sqlite3_column_type(stmt, 1) != SQLITE_TEXT
                    or sqlite3_column_type(stmt, 2) != SQLITE_TEXT or sqlite3_column_type(stmt, 3) != SQLITE_TEXT
                    or sqlite3_column_type(stmt, 4) != SQLITE_INTEGER or sqlite3_column_type(stmt, 5) != SQLITE_TEXT
                    or sqlite3_column_type(stmt, 6) != SQLITE_BLOB):
                return self._row()
            nid = sqlite3_column_int64(stmt, 0)
            if nid > limit or sqlite3_column_bytes(stmt, 1) != HASH:
                return self._row()
            link_text = <const char *>sqlite3_column_text(stmt, 1)
            prev_text = <const char *>sqlite3_column_text(stmt, 2)
            prev_size = sqlite3_column_bytes(stmt, 2)
            oid_text = <const char *>sqlite3_column_text(stmt, 3)
            oid_size = sqlite3_column_bytes(stmt, 3)
            topic_text = <const char *>sqlite3_column_text(stmt, 5)
            topic_size = sqlite3_column_bytes(stmt, 5)
            if not (is_ascii(oid_text, oid_size) and is_ascii(topic_text, topic_size)):
                return self._row()
            version = sqlite3_column_int64(stmt, 4)
            state = sqlite3_column_blob(stmt, 6)
            if not rule.passes(nid, oid_text, oid_size, None, version, None,
                               link_text, prev_text, prev_size, topic_text, topic_size,
                               <const char *>state, sqlite3_column_bytes(stmt, 6), links):
                return self._row()

    cdef tuple _row(self):
        return tuple([self._column(index) for index in range(COLUMNS)])

    cdef object _column(self, int index):
        cdef int kind = sqlite3_column_type(self.stmt, index)
        cdef const char *data
        if kind == SQLITE_INTEGER:
            return sqlite3_column_int64(self.stmt, index)
        if kind == SQLITE_FLOAT:
            return sqlite3_column_double(self.stmt, index)
        if kind == SQLITE_TEXT:
            data = <const char *>sqlite3_column_text(self.stmt, index)
            try:
                return PyUnicode_DecodeUTF8(data, sqlite3_column_bytes(self.stmt, index), NULL)
            except UnicodeDecodeError:  # as Python's sqlite3 says it
                raise python_sqlite3.OperationalError(f"Could not decode to UTF-8 column {index} with text") from None
        if kind == SQLITE_BLOB:
            data = <const char *>sqlite3_column_blob(self.stmt, index)
            return PyBytes_FromStringAndSize(data, sqlite3_column_bytes(self.stmt, index))
        return None
