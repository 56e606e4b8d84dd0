"""The documented hash rules of the tamper-evident record, and nothing else.

These few lines are the contract with auditors: the README explains them so an export
can be checked with ``sha256sum`` and ``printf``, without this software. Every hash is
lower-case hexadecimal SHA-256; every text is UTF-8; fields are joined by one newline
and there is no trailing newline.

* content hash = sha256(the event's stored bytes, exactly as stored)
* link hash    = sha256(prev_hash \\n originator_id \\n version \\n topic \\n content_hash)
  where prev_hash is the link hash of the same household's previous version, or 64
  zeros for version 1, and originator_id is the canonical UUID (with hyphens).
* events digest of a seal = sha256 of the sealed events' link hashes in notification
  order, each followed by one newline (the file ``sha256sum`` sees when the hashes are
  listed one per line).
* seal hash = sha256(prev_seal_hash \\n period \\n first_id \\n last_id \\n count \\n
  events_digest), prev_seal_hash being 64 zeros for the first seal.
"""

from __future__ import annotations

from hashlib import sha256

RULE_VERSION = 1
ZERO_HASH = "0" * 64


def content_hash(state: bytes) -> str:
    return sha256(state).hexdigest()


def link_hash(prev_hash: str, originator_id: str, version: int, topic: str, content: str) -> str:
    return sha256(f"{prev_hash}\n{originator_id}\n{version}\n{topic}\n{content}".encode()).hexdigest()


def seal_hash(prev_seal_hash: str, period: str, first_id: int, last_id: int, count: int, digest: str) -> str:
    text = f"{prev_seal_hash}\n{period}\n{first_id}\n{last_id}\n{count}\n{digest}"
    return sha256(text.encode()).hexdigest()


class EventsDigest:
    """Accumulates a seal's events digest one link hash at a time."""

    def __init__(self) -> None:
        self._sha = sha256()
        self.count = 0

    def add(self, link: str) -> None:
        self._sha.update(f"{link}\n".encode())
        self.count += 1

    def hexdigest(self) -> str:
        return self._sha.hexdigest()
