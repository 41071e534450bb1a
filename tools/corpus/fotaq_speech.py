#!/usr/bin/env python3
"""The voice acting of Flight of the Amazon Queen (CD version), read straight from the game's
archive.

The freeware adventure game Flight of the Amazon Queen (1995; Debian main,
`flight-of-the-amazon-queen`, free to redistribute and modify) ships 6,745 recorded lines of
English dialogue (about 4.6 hours: Joe King and the people he meets) inside one archive,
`queen.1c`. This module only reads it; label-game-speech.py transcribes the clips.

The archive, as ScummVM's `Resource::readTableCompResource` (engines/queen/resource.cpp) reads it:
"QTBL", a 6-byte version ("CEM10"), 2 skipped bytes, a compression byte (1 = MP3), a big-endian
u16 entry count, then per entry a 12-byte NUL-padded name, a bundle byte and big-endian u32
offset and size. Speech entries are the `.SB` files: bare MP3 (MPEG 2.5 layer III, 11,025 Hz,
16 kbps).
"""

import struct

ENTRY_SIZE = 21
TABLE_START = 15
COMPRESSION_MP3 = 1


def read_table(data):
    """The (name, offset, size) of every resource in a compressed queen archive; ValueError on
    anything else or on a table that points past the end of the file."""
    if len(data) < TABLE_START or data[:4] != b"QTBL":
        raise ValueError("not a compressed Flight of the Amazon Queen archive (no QTBL header)")
    if data[12] != COMPRESSION_MP3:
        raise ValueError(f"speech compression {data[12]} is not MP3 ({COMPRESSION_MP3})")
    (count,) = struct.unpack(">H", data[13:15])
    if TABLE_START + count * ENTRY_SIZE > len(data):
        raise ValueError(f"table of {count} entries runs past the end of the file")
    entries = []
    for i in range(count):
        o = TABLE_START + i * ENTRY_SIZE
        name = data[o:o + 12].split(b"\0")[0].decode("ascii", "replace")
        _bundle, offset, size = struct.unpack(">BII", data[o + 12:o + ENTRY_SIZE])
        if offset + size > len(data):
            raise ValueError(f"{name}: offset {offset} + size {size} past the end of the file")
        entries.append((name, offset, size))
    return entries


def speech_clips(archive_path):
    """Yields (name, mp3_bytes) for every speech clip (`.SB` entry) of queen.1c, in table order;
    the name is the entry's without ".SB" (for example "020006J1": room 02, line 0006, Joe)."""
    with open(archive_path, "rb") as f:
        data = f.read()
    for name, offset, size in read_table(data):
        if name.endswith(".SB"):
            yield name[:-3], data[offset:offset + size]
