"""Assessment ids made in bulk are random version-4 UUIDs, each different."""

from __future__ import annotations

import uuid

from service.identifiers import assessment_ids


def test_ids_are_version_4_uuids_written_as_uuid_writes_them_and_all_different() -> None:
    ids = assessment_ids(20_000)
    assert len(ids) == len(set(ids)) == 20_000
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)
    # every bit outside the version and the variant varies
    bits = [int(text.replace("-", ""), 16) for text in ids[:2000]]
    fixed = (0xF << 76) | (0x3 << 62)
    assert all(any(b >> n & 1 for b in bits) and not all(b >> n & 1 for b in bits)
               for n in range(128) if not fixed >> n & 1)
    assert assessment_ids(0) == []
