#!/usr/bin/env python3
"""The voice acting of Beneath a Steel Sky (CD version), read straight from the game's files.

The freeware adventure game Beneath a Steel Sky (1994; Debian main, `beneath-a-steel-sky`,
v0.0372, run by ScummVM's `sky` engine) keeps everything in two files: `sky.dnr`, the "dinner
table" that says where each numbered file lies, and `sky.dsk`, the files themselves, nearly all
packed with Rob Northen's RNC method 1. This module only reads them; it transcribes nothing
(label-game-speech.py labels them).

Format, as ScummVM's engines/sky reads it:

* sky.dnr (`Disk::Disk`, `Disk::getFileInfo`): a little-endian u32 entry count, then one 8-byte
  entry per file: u16 file number, u24 offset, u24 size-and-flags (all little-endian). The entry
  count names the release (`Disk::determineGameVersion`): 5097 is the CD v0.0372.
* an entry (`Disk::loadFile`): the offset's bit 23 says it counts 16-byte units (8-byte ones in
  v0.0331), its low 23 bits the value. The size is the low 22 bits of the third field; bit 23
  set means "not compressed", bit 22 set means "unpack without the file's header".
* a file starts with a 22-byte `DataFileHeader` (struc.h: eleven little-endian u16). When bit 23
  is clear and bit 7 of `flag` is set, the rest is an RNC stream ("RNC\\x01", `RncDecoder::
  unpackM1` in rnc_deco.cpp) unpacking to ((flag & ~0xFF) << 8 | s_tot_size) bytes, header
  included unless bit 22 is set.
* in-game speech (`Sound::startSpeech` in sound.cpp): text number T (section T >> 12, line
  T & 0xFFF) is file 50000 + `_speechConvertTable`[section] + line, with the table
  0, 600, 1100, 2430, 3380, 4530, 5080, 5230. The samples are the s_tot_size - 22 bytes after
  the header: raw 8-bit unsigned mono PCM at 11,025 Hz (v0.0368's half-speed bug for two lines
  does not apply to v0.0372).
* the spoken CD intro (`Intro::nextPart`, PLAYVOICE, and the CDV_nn numbers in intro.cpp): 88
  voice files 59500-59672, mixed in among the intro's pictures. ScummVM plays the whole unpacked
  file at 11,025 Hz, 8-bit unsigned, with the 22 header bytes overwritten by silence; here those
  2 ms are dropped.

In v0.0372 all 3,491 in-game lines (50007-55277, 1.93 h) and the 88 intro lines (3.6 min) are
RNC-packed: 3,579 clips, 1.99 h, 0.26-5.8 s each (s_tot_size is 16-bit, so no line is longer than
65,535 bytes). Every unpacked stream is checked against both of RNC's CRC-16s; anything
malformed raises ValueError naming the file. Some shouted lines are hard-clipped in the
recording itself (speech-53840 has 30 % of its samples at full scale): a labeller should let
Whisper's confidence decide, not reject loud clips.

Use:
  apt-get download beneath-a-steel-sky && dpkg -x beneath-a-steel-sky_*.deb x
  python3 tools/corpus/bass_speech.py x/usr/share/scummvm/beneath-a-steel-sky OUT  # 16-bit WAVs
or from Python: `for name, samples, rate in speech_clips(dnr, dsk): ...`.
"""

import argparse
import bisect
import os
import struct
import sys
import wave

import numpy as np

HEADER_SIZE = 22  # sizeof(DataFileHeader), struc.h
ENTRY_SIZE = 8
FLAG_NO_HEADER = 1  # entry flag bit 22: the unpacked file leaves out its header
FLAG_UNCOMPRESSED = 2  # entry flag bit 23
SAMPLE_RATE = 11025
SPEECH_BASE = 50000
SPEECH_CONVERT_TABLE = (0, 600, 1100, 2430, 3380, 4530, 5080, 5230)  # Sound::_speechConvertTable
SPEECH_LAST = SPEECH_BASE + SPEECH_CONVERT_TABLE[-1] + 0xFFF
# CDV_00 .. CDV_87 of intro.cpp (CDV_28 and CDV_44 are defined there but never played).
INTRO_VOICES = (
    59500, 59504, 59505, 59507, 59508, 59510, 59511, 59513, 59514, 59515, 59518, 59520, 59523,
    59525, 59527, 59528, 59531, 59534, 59535, 59536, 59539, 59541, 59545, 59546, 59551, 59554,
    59556, 59558, 59561, 59562, 59563, 59565, 59566, 59567, 59568, 59570, 59574, 59576, 59579,
    59581, 59583, 59587, 59588, 59590, 59594, 59596, 59600, 59602, 59606, 59610, 59612, 59613,
    59614, 59615, 59616, 59618, 59621, 59622, 59624, 59627, 59628, 59629, 59630, 59631, 59632,
    59633, 59635, 59639, 59642, 59644, 59647, 59648, 59649, 59654, 59655, 59656, 59659, 59660,
    59663, 59664, 59665, 59666, 59667, 59668, 59669, 59670, 59671, 59672)
RNC_SIGNATURE = b"RNC\x01"
RNC_HEADER = 18


def read_dinner_table(dnr_bytes, dsk_size=None):
    """sky.dnr as {file number: (byte offset in sky.dsk, size, flags)}, following Disk::Disk and
    Disk::loadFile. flags holds the entry's bits 22-23: FLAG_NO_HEADER | FLAG_UNCOMPRESSED.
    dsk_size is needed only to tell v0.0331 (8-byte offset units) from v0.0348 (1445 entries)."""
    if len(dnr_bytes) < 4:
        raise ValueError("sky.dnr: shorter than its 4-byte entry count")
    (count,) = struct.unpack_from("<I", dnr_bytes, 0)
    if count == 0:
        raise ValueError("sky.dnr: zero entries")
    if 4 + count * ENTRY_SIZE > len(dnr_bytes):
        raise ValueError(f"sky.dnr: {count} entries need {4 + count * ENTRY_SIZE} bytes, "
                         f"file has {len(dnr_bytes)}")
    shift = 4
    if count == 1445:  # floppy v0.0331 or v0.0348 (determineGameVersion)
        if dsk_size is None:
            raise ValueError("sky.dnr: 1445 entries (v0.0331 or v0.0348): pass dsk_size")
        shift = 4 if dsk_size == 8830435 else 3
    table = {}
    for i in range(count):
        o = 4 + i * ENTRY_SIZE
        number = dnr_bytes[o] | dnr_bytes[o + 1] << 8
        raw_offset = int.from_bytes(dnr_bytes[o + 2:o + 5], "little")
        size_flags = int.from_bytes(dnr_bytes[o + 5:o + 8], "little")
        offset = raw_offset & 0x7FFFFF
        if raw_offset >> 23:
            offset <<= shift
        size = size_flags & 0x3FFFFF
        if number in table:
            raise ValueError(f"sky.dnr: file {number} listed twice (entry {i} and an earlier one)")
        if dsk_size is not None and offset + size > dsk_size:
            raise ValueError(f"sky.dnr: file {number} at {offset} + {size} runs past the end "
                             f"of sky.dsk ({dsk_size} bytes)")
        table[number] = (offset, size, size_flags >> 22)
    return table


# --- RNC method 1, after RncDecoder (engines/sky/rnc_deco.cpp) ---------------------------------

_CRC_TABLE = None
_CRC_TABLE2 = None


def _crc_tables():
    """RncDecoder::initCrc's table (CRC-16, reflected polynomial 0xA001), and the same advanced
    by two bytes at once so crc16 can eat 16-bit words: T2[c ^ w] == two byte steps from c."""
    global _CRC_TABLE, _CRC_TABLE2
    if _CRC_TABLE is None:
        t = []
        for n in range(256):
            c = n
            for _ in range(8):
                c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
            t.append(c)
        t1 = np.array(t, dtype=np.uint32)
        x = np.arange(65536, dtype=np.uint32)
        for _ in range(2):
            x = t1[x & 0xFF] ^ (x >> 8)
        _CRC_TABLE, _CRC_TABLE2 = t, x.tolist()
    return _CRC_TABLE, _CRC_TABLE2


def crc16(data):
    """RncDecoder::crcBlock: CRC-16/ARC of data (init 0)."""
    t1, t2 = _crc_tables()
    n = len(data) & ~1
    crc = 0
    for w in np.frombuffer(data, dtype="<u2", count=n // 2).tolist():
        crc = t2[crc ^ w]
    if len(data) & 1:
        crc = t1[(crc ^ data[-1]) & 0xFF] ^ (crc >> 8)
    return crc


class _Bits:
    """RNC's bit stream: little-endian 16-bit words read least significant bit first, with the
    literal bytes stored between them. RncDecoder keeps one word of look-ahead in _bitBuffl
    (which literals then overwrite); here a word is taken only when its bits are used, so the
    next literal starts at `pos`."""

    __slots__ = ("buf", "end", "pos", "acc", "n")

    def __init__(self, buf, end):
        self.buf, self.end, self.pos, self.acc, self.n = buf, end, 0, 0, 0

    def _word(self, at):
        """The word at `at`; the stream's last word may hang one byte past the packed data
        (literal runs of odd length shift the words), that byte reads as zero."""
        if at >= self.end:
            return None
        if at + 1 == self.end:
            return self.buf[at]
        return self.buf[at] | self.buf[at + 1] << 8

    def peek(self, count):
        """The next `count` (<= 16) bits without using them; past the end reads as zeros."""
        acc, n, at = self.acc, self.n, self.pos
        while n < count:
            w = self._word(at)
            acc |= (w or 0) << n
            n += 16
            at += 2
        return acc & ((1 << count) - 1)

    def read(self, count):
        while self.n < count:
            w = self._word(self.pos)
            if w is None:
                raise ValueError("RNC: bit stream runs past the packed data")
            self.acc |= w << self.n
            self.n += 16
            self.pos += 2
        v = self.acc & ((1 << count) - 1)
        self.acc >>= count
        self.n -= count
        return v

    def literal(self, count):
        if self.pos + count > self.end:
            raise ValueError("RNC: literal run past the packed data")
        v = self.buf[self.pos:self.pos + count]
        self.pos += count
        return v


def _huff_table(bits):
    """RncDecoder::makeHufftable as a look-up table: (width, [(code length, symbol)] indexed by
    the next `width` bits). None when the block keeps the previous table (0 codes)."""
    num = bits.read(5)
    if not num:
        return None
    lengths = [bits.read(4) for _ in range(num)]
    codes, huff = [], 0
    for length in range(1, 17):
        for sym in range(num):
            if lengths[sym] == length:
                b = huff >> (16 - length)
                rev = int(format(b, f"0{length}b")[::-1], 2)
                codes.append((length, rev, sym))
                huff = (huff + (1 << (16 - length))) & 0xFFFF
    if not codes:
        raise ValueError("RNC: Huffman table with no codes")
    width = max(c[0] for c in codes)
    lut = [None] * (1 << width)
    for length, rev, sym in reversed(codes):  # earlier codes win, as in inputValue's scan
        step = 1 << length
        lut[rev::step] = [(length, sym)] * len(range(rev, 1 << width, step))
    return width, lut


def _value(bits, table):
    """RncDecoder::inputValue: a Huffman symbol s, then for s >= 2 the number
    (1 << (s - 1)) | (s - 1 more bits)."""
    if table is None:
        raise ValueError("RNC: a block uses a Huffman table that was never defined")
    width, lut = table
    hit = lut[bits.peek(width)]
    if hit is None:
        raise ValueError("RNC: bit pattern matches no Huffman code")
    length, sym = hit
    bits.read(length)
    if sym >= 2:
        sym -= 1
        return bits.read(sym) | (1 << sym)
    return sym


def rnc_unpack(data):
    """RncDecoder::unpackM1: unpacks an RNC method 1 stream ("RNC\\x01" + 18-byte header).
    Returns None when data does not start with the signature (ScummVM's NOT_PACKED); raises
    ValueError on a malformed stream or a CRC mismatch (PACKED_CRC, UNPACKED_CRC)."""
    data = bytes(data)
    if data[:4] != RNC_SIGNATURE:
        return None
    if len(data) < RNC_HEADER:
        raise ValueError("RNC: header cut short")
    unpack_len, pack_len, crc_unpacked, crc_packed = struct.unpack_from(">IIHH", data, 4)
    blocks = data[17]
    packed = data[RNC_HEADER:RNC_HEADER + pack_len]
    if len(packed) != pack_len:
        raise ValueError(f"RNC: {pack_len} packed bytes announced, {len(packed)} present")
    if crc16(packed) != crc_packed:
        raise ValueError("RNC: packed data fails its CRC")
    if blocks == 0:
        raise ValueError("RNC: zero blocks")
    bits = _Bits(packed, pack_len)
    out = bytearray()
    bits.read(2)  # lock and key flags
    raw_t = pos_t = len_t = None
    for _ in range(blocks):
        raw_t = _huff_table(bits) or raw_t
        pos_t = _huff_table(bits) or pos_t
        len_t = _huff_table(bits) or len_t
        counts = bits.read(16)
        if counts == 0:
            raise ValueError("RNC: block with zero commands")
        while True:
            n = _value(bits, raw_t)
            if n:
                out += bits.literal(n)
            if counts > 1:
                offset = _value(bits, pos_t) + 1
                n = _value(bits, len_t) + 2
                start = len(out) - offset
                if start < 0:
                    raise ValueError("RNC: match reaches before the start of the output")
                if offset >= n:
                    out += out[start:start + n]
                else:  # overlapping copy repeats the last `offset` bytes
                    chunk = out[start:]
                    out += (chunk * (n // offset + 1))[:n]
            if len(out) > unpack_len:
                raise ValueError(f"RNC: unpacks to more than the {unpack_len} bytes announced")
            counts -= 1
            if counts == 0:
                break
    if len(out) != unpack_len:
        raise ValueError(f"RNC: unpacked {len(out)} bytes, header says {unpack_len}")
    if crc16(out) != crc_unpacked:
        raise ValueError("RNC: unpacked data fails its CRC")
    return bytes(out)


# --- files and speech ---------------------------------------------------------------------------

def load_file(dsk, entry):
    """Disk::loadFile: one file's bytes, unpacked. dsk is sky.dsk's bytes (or a memoryview),
    entry a (offset, size, flags) from read_dinner_table."""
    offset, size, flags = entry
    raw = bytes(dsk[offset:offset + size])
    if len(raw) != size:
        raise ValueError(f"wanted {size} bytes at {offset}, sky.dsk has {len(raw)}")
    if flags & FLAG_UNCOMPRESSED or size < HEADER_SIZE:
        return raw
    flag, tot_size = struct.unpack_from("<H10xH", raw, 0)
    if not (flag >> 7) & 1:
        return raw
    decomp_size = ((flag & ~0xFF) << 8) | tot_size
    out = rnc_unpack(raw[HEADER_SIZE:])
    if out is None:  # "file was probably not packed"
        return raw
    if not flags & FLAG_NO_HEADER:
        out = raw[:HEADER_SIZE] + out
    if len(out) != decomp_size:
        raise ValueError(f"unpacked to {len(out)} bytes, header says {decomp_size}")
    return out


def text_number(file_number):
    """The text number (section << 12 | line) whose speech is file_number: the inverse of
    Sound::startSpeech's file_number = 50000 + _speechConvertTable[section] + line."""
    n = file_number - SPEECH_BASE
    if not 0 <= n <= SPEECH_LAST - SPEECH_BASE:
        raise ValueError(f"file {file_number} is not an in-game speech file")
    section = bisect.bisect_right(SPEECH_CONVERT_TABLE, n) - 1
    return section << 12 | (n - SPEECH_CONVERT_TABLE[section])


def _pcm(u8):
    return (np.frombuffer(u8, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0


def speech_clips(dnr_path, dsk_path, intro=True):
    """Yields (name, samples, sample_rate) for every speech file of the game: float32 mono
    samples in [-1, 1) at 11,025 Hz. Names: "speech-<file number>" for in-game lines (in file
    number order; text_number() gives the line's text number) and "intro-cdvNN" for the intro's
    voice-over (when intro is true). Raises ValueError, naming the file, on malformed data."""
    with open(dnr_path, "rb") as f:
        dnr = f.read()
    with open(dsk_path, "rb") as f:
        dsk = f.read()
    table = read_dinner_table(dnr, len(dsk))
    for number in sorted(k for k in table if SPEECH_BASE <= k <= SPEECH_LAST):
        try:
            data = load_file(dsk, table[number])
            if len(data) < HEADER_SIZE:
                raise ValueError(f"{len(data)} bytes, shorter than its header")
            (tot_size,) = struct.unpack_from("<H", data, 12)
            if tot_size != len(data):  # startSpeech plays s_tot_size - 22 bytes
                raise ValueError(f"header says {tot_size} bytes, file has {len(data)}")
        except ValueError as e:
            raise ValueError(f"speech file {number}: {e}") from None
        yield f"speech-{number}", _pcm(data[HEADER_SIZE:tot_size]), SAMPLE_RATE
    if intro:
        for i, number in enumerate(INTRO_VOICES):
            if number not in table:
                continue
            try:
                data = load_file(dsk, table[number])
                if len(data) <= HEADER_SIZE:
                    raise ValueError(f"{len(data)} bytes, no audio after the header")
            except ValueError as e:
                raise ValueError(f"intro voice file {number} (CDV_{i:02d}): {e}") from None
            yield f"intro-cdv{i:02d}", _pcm(data[HEADER_SIZE:]), SAMPLE_RATE


def write_wav(path, samples, rate):
    """16-bit mono WAV at the clip's own rate (no resampling); `path` may be a file object."""
    pcm = (np.clip(samples, -1.0, 32767 / 32768) * 32768.0).astype("<i2").tobytes()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("game_dir", help="folder with sky.dnr and sky.dsk")
    ap.add_argument("out", nargs="?", help="write <name>.wav here (16-bit, 11,025 Hz)")
    ap.add_argument("--limit", type=int, default=0, help="first N clips only")
    a = ap.parse_args()
    if a.out:
        os.makedirs(a.out, exist_ok=True)
    count, seconds = 0, 0.0
    for name, samples, rate in speech_clips(os.path.join(a.game_dir, "sky.dnr"),
                                            os.path.join(a.game_dir, "sky.dsk")):
        count += 1
        seconds += len(samples) / rate
        if a.out:
            write_wav(os.path.join(a.out, name + ".wav"), samples, rate)
        if a.limit and count >= a.limit:
            break
    print(f"{count} clips, {seconds / 3600:.2f} h ({seconds:.0f} s) at {SAMPLE_RATE} Hz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
