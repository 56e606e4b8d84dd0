# cython: language_level=3, boundscheck=False, wraparound=False
"""The verification fast path, compiled: the rows that pass, passed without the interpreter.

Verifying a million events spends most of its time not in SHA-256 but around it: the
interpreter's bookkeeping per row, building each link's text, and hashlib's per-call
set-up. This module does exactly what ``verification._check_row`` does for a row
that passes, in C, with OpenSSL's SHA-256 (the library hashlib itself uses), and
stops at the first row it does not pass. That row (a tampered one, a household's
first row in a range above version 1, a missing event, an unexpected type) goes to
the Python code, which alone decides what is wrong. So this module can only make a
verification faster, never change its answer; the tests run both ways.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.long cimport PyLong_CheckExact
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_CheckExact
from libc.stdio cimport snprintf
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


cdef const EVP_MD *SHA256 = EVP_MD_fetch(NULL, b"SHA256", NULL)  # fetched once: no lookup per hash
if SHA256 is NULL:
    raise ImportError("OpenSSL offers no SHA256")

cdef const char *HEX = b"0123456789abcdef"
cdef enum:
    HASH = 64  # a hash as lower-case hexadecimal text
    MAX_TEXT = 1024  # a link's text longer than this (a very long topic) goes to Python


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


cdef inline const char *text_of(object value, Py_ssize_t *size) noexcept:
    """An ASCII str's characters, as they are (hashes, ids and topics are ASCII), or NULL
    for anything else: Python then encodes it as the rule says."""
    if not (PyUnicode_CheckExact(value) and PyUnicode_IS_COMPACT_ASCII(value)):
        return NULL
    size[0] = PyUnicode_GET_LENGTH(value)
    return <const char *>PyUnicode_DATA(value)


cdef inline Py_ssize_t put(char *text, Py_ssize_t at, const char *part, Py_ssize_t size) noexcept:
    """Appends one field and its newline; -1 when the text would not fit."""
    if at < 0 or at + size + 1 > MAX_TEXT:
        return -1
    memcpy(text + at, part, size)
    text[at + size] = 10
    return at + size + 1


def pass_rows(list batch, Py_ssize_t start, dict households, object canonical, list links,
              object boundary, object starts, str zero_hash):
    """Checks rows from ``start`` on; returns the index of the first row not passed.

    A row is ``(nid, link, prev_stored, e_oid, e_version, e_topic, e_state)``, and is
    passed, with the same effects as ``verification._check_row``, when:

    * its household was seen in this range, its version follows the last one, its
      stored previous link is that household's last link and its link recomputes; or
    * its household is new here, it is version 1, its previous link is 64 zeros and
      its link recomputes (recorded in ``starts`` unless that is None).

    It stops before a row past ``boundary`` (the open seal's last notification id).
    """
    cdef Py_ssize_t index, size = len(batch), length, at
    cdef Py_ssize_t link_size = 0, prev_size = 0, oid_size = 0, topic_size = 0
    cdef const char *link_text
    cdef const char *prev_text
    cdef const char *oid_text
    cdef const char *topic_text
    cdef const char *zero_text = text_of(zero_hash, &length)
    cdef char text[MAX_TEXT]
    cdef char computed[HASH]
    cdef char number[24]
    cdef long long version, last_version
    cdef PyObject *known
    cdef tuple row, household
    cdef object oid, last, state
    cdef EVP_MD_CTX *ctx = EVP_MD_CTX_new()
    if ctx is NULL:
        raise MemoryError()
    if zero_text is NULL or length != HASH:
        raise ValueError("zero_hash must be 64 ASCII characters")
    try:
        for index in range(start, size):
            row = <tuple?>batch[index]
            if len(row) != 7 or row[0] > boundary:
                return index
            link, prev_stored, e_oid, e_version, e_topic, state = row[1], row[2], row[3], row[4], row[5], row[6]
            if not (PyBytes_CheckExact(state) and PyLong_CheckExact(e_version) and PyUnicode_CheckExact(e_oid)):
                return index
            try:
                version = e_version
            except OverflowError:
                return index
            link_text = text_of(link, &link_size)
            prev_text = text_of(prev_stored, &prev_size)
            topic_text = text_of(e_topic, &topic_size)
            if link_text is NULL or prev_text is NULL or topic_text is NULL or link_size != HASH:
                return index  # (a text that is no str, or not UTF-8: Python says why)
            known = PyDict_GetItem(households, e_oid)
            if known is not NULL:
                household = <tuple>known
                oid, last = household[0], household[1]
                try:
                    last_version = household[2]
                except OverflowError:
                    return index
                if version != last_version + 1 or prev_stored != last:
                    return index
            else:
                if version != 1 or prev_size != HASH or memcmp(prev_text, zero_text, HASH) != 0:
                    return index
                oid = canonical(e_oid)
            oid_text = text_of(oid, &oid_size)
            if oid_text is NULL:
                return index
            at = put(text, 0, prev_text, prev_size)
            at = put(text, at, oid_text, oid_size)
            at = put(text, at, number, snprintf(number, sizeof(number), b"%lld", version))
            at = put(text, at, topic_text, topic_size)
            if at < 0 or at + HASH > MAX_TEXT:
                return index
            if not sha256_hex(ctx, PyBytes_AS_STRING(state), PyBytes_GET_SIZE(state), text + at):
                return index
            if not sha256_hex(ctx, text, at + HASH, computed) or memcmp(computed, link_text, HASH) != 0:
                return index
            links.append(link)
            PyDict_SetItem(households, e_oid, (oid, link, e_version))
            if known is NULL and starts is not None:
                PyDict_SetItem(starts, oid, row[0])
        return size
    finally:
        EVP_MD_CTX_free(ctx)
