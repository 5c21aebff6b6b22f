"""Assessment ids: random UUIDs (version 4), made many at a time for a batch or a chunk of rows."""

from __future__ import annotations

import os


def assessment_ids(count: int) -> list[str]:
    """`count` random version-4 UUIDs as text: what str(uuid.uuid4()) gives, from one read of the OS's randomness."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes(byte & 0x0F | 0x40 for byte in raw[6::16])  # the version: 4
    raw[8::16] = bytes(byte & 0x3F | 0x80 for byte in raw[8::16])  # the variant: RFC 9562's
    text = raw.hex()
    return [f"{text[i:i + 8]}-{text[i + 8:i + 12]}-{text[i + 12:i + 16]}-{text[i + 16:i + 20]}-{text[i + 20:i + 32]}"
            for i in range(0, 32 * count, 32)]
