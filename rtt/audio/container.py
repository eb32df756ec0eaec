"""Incremental Ogg and WebM demuxers: container bytes in arbitrary chunks -> raw Opus packets.

Browsers' ``MediaRecorder`` emits one container stream cut into chunks of any size (the first
carries the header).  PyAV's demuxers want a whole file or a blocking reader; these parse only
the little of each format that carries Opus, synchronously, so that each chunk yields the
packets it completes and nothing else (no thread per session, no re-parse from the start).

``feed`` is all-or-nothing: a chunk that does not parse raises ``InvalidInput`` and leaves the
demuxer as it was, so one bad chunk costs that chunk and the stream goes on.  What a demuxer
holds between chunks is one incomplete page or element, bounded by :data:`MAX_ELEMENT_BYTES`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import Protocol

from rtt.errors import InvalidInput

# Larger than any Opus packet or Ogg page; header elements (Tracks, OpusTags) stay far below.
MAX_ELEMENT_BYTES = 1 << 20


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, code="INVALID_AUDIO")


def _check_opus_head(head: bytes) -> None:
    # RFC 7845 §5.1: mapping family 0 is mono/stereo, which the mono decoder downmixes.
    if len(head) < 19 or not head.startswith(b"OpusHead"):
        raise _invalid("the stream's first packet is not an OpusHead")
    if head[18] != 0:
        raise InvalidInput(f"Opus channel mapping family {head[18]} (multichannel) is not supported; send mono or "
                           "stereo", code="UNSUPPORTED_AUDIO_FORMAT")


_REVERSED_BITS = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def ogg_crc(page: bytes) -> int:
    """RFC 3533's CRC-32 (polynomial 0x04C11DB7, unreflected, no initial or final XOR), by way of
    zlib's reflected CRC-32 on bit-reversed bytes: C speed for a check on every page."""
    reflected = zlib.crc32(page.translate(_REVERSED_BITS), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


class Demuxer(Protocol):
    def feed(self, data: bytes) -> list[bytes]:
        """The Opus packets ``data`` completes; raises ``InvalidInput`` (state unchanged)."""
        ...


class OggOpusDemuxer:
    """RFC 3533 pages of the first Opus logical stream (other streams are ignored)."""

    def __init__(self) -> None:
        self._buf = b""  # an incomplete page
        self._packet = b""  # a packet continued on the next page
        self._serial: int | None = None
        self._headers = 0  # OpusHead and OpusTags come first and carry no audio

    def feed(self, data: bytes) -> list[bytes]:
        buf, packet, serial, headers = self._buf + data, self._packet, self._serial, self._headers
        out: list[bytes] = []
        pos = 0
        while len(buf) - pos >= 27:
            if buf[pos:pos + 4] != b"OggS" or buf[pos + 4] != 0:
                raise _invalid("not an Ogg page (no OggS capture pattern where a page must start)")
            nsegs = buf[pos + 26]
            if len(buf) - pos < 27 + nsegs:
                break
            lacing = buf[pos + 27:pos + 27 + nsegs]
            end = pos + 27 + nsegs + sum(lacing)
            if len(buf) < end:
                break
            page_serial = struct.unpack_from("<I", buf, pos + 14)[0]
            crc = struct.unpack_from("<I", buf, pos + 22)[0]
            # The CRC tells bytes that do not belong in a page (a chunk of something else cut
            # into the stream) from audio, which a structural check cannot.
            if ogg_crc(buf[pos:pos + 22] + b"\0\0\0\0" + buf[pos + 26:end]) != crc:
                raise _invalid("an Ogg page fails its CRC (bytes that are not part of the stream)")
            body = pos + 27 + nsegs
            pos = end
            if serial is None:
                if not buf[body:body + 8] == b"OpusHead":
                    raise InvalidInput("the Ogg stream does not carry Opus", code="UNSUPPORTED_AUDIO_FORMAT")
                serial = page_serial
            if page_serial != serial:
                continue
            for size in lacing:
                packet += buf[body:body + size]
                body += size
                if len(packet) > MAX_ELEMENT_BYTES:
                    raise _invalid("an Ogg packet is over 1 MiB")
                if size == 255:
                    continue  # the packet goes on in the next segment
                if headers == 0:
                    _check_opus_head(packet)
                    headers = 1
                elif headers == 1:
                    if not packet.startswith(b"OpusTags"):
                        raise _invalid("the Opus stream's second packet is not OpusTags")
                    headers = 2
                elif packet:
                    out.append(packet)
                packet = b""
        self._buf, self._packet, self._serial, self._headers = buf[pos:], packet, serial, headers
        return out


# Matroska element IDs (marker bits kept), https://www.matroska.org/technical/elements.html.
_EBML, _SEGMENT, _CLUSTER, _BLOCK_GROUP = 0x1A45DFA3, 0x18538067, 0x1F43B675, 0xA0
_TRACKS, _SIMPLE_BLOCK, _BLOCK = 0x1654AE6B, 0xA3, 0xA1
_TRACK_ENTRY, _TRACK_NUMBER, _CODEC_ID, _CODEC_PRIVATE = 0xAE, 0xD7, 0x86, 0x63A2
_DOC_TYPE = 0x4282
# Entered: their children follow (their size may be "unknown", as live recorders write it).
_MASTERS = frozenset({_SEGMENT, _CLUSTER, _BLOCK_GROUP})
# Skipped whole.  Any other ID is garbage: a flat parser that skipped unknown IDs would let
# random bytes swallow the stream behind a made-up size.
_SKIPPED = frozenset({
    0x114D9B74, 0x1549A966, 0x1C53BB6B, 0x1043A770, 0x1254C367, 0x1941A469,  # SeekHead Info Cues Chapters Tags Attachments
    0xEC, 0xBF, 0xE7, 0x5854, 0xA7, 0xAB, 0xAF,  # Void CRC-32 Timestamp SilentTracks Position PrevSize EncryptedBlock
    0x9B, 0xFB, 0x75A2, 0x75A1, 0xFA, 0xA4, 0xA2,  # BlockGroup's BlockDuration ReferenceBlock DiscardPadding ...
})
_UNKNOWN = -1


def _vint(buf: bytes, pos: int, keep_marker: bool) -> tuple[int, int] | None:
    """(value, length) of the EBML variable-size integer at ``pos``; None if it is cut off."""
    if pos >= len(buf):
        return None
    first = buf[pos]
    if first == 0:
        raise _invalid("not a WebM stream (an EBML number longer than 8 bytes)")
    length = 9 - first.bit_length()
    if pos + length > len(buf):
        return None
    value = int.from_bytes(buf[pos:pos + length], "big")
    if keep_marker:
        return value, length
    value &= (1 << (7 * length)) - 1
    return (_UNKNOWN if value == (1 << (7 * length)) - 1 else value), length


def _children(data: bytes) -> list[tuple[int, bytes]]:
    """The (id, payload) elements of a complete master element's payload."""
    out, pos = [], 0
    while pos < len(data):
        ident, size = _vint(data, pos, True), None
        if ident is not None:
            size = _vint(data, pos + ident[1], False)
        if ident is None or size is None or size[0] == _UNKNOWN:
            raise _invalid("a WebM header element is cut off")
        start = pos + ident[1] + size[1]
        out.append((ident[0], data[start:start + size[0]]))
        pos = start + size[0]
    return out


def _opus_track(tracks: bytes) -> int:
    for ident, entry in _children(tracks):
        if ident != _TRACK_ENTRY:
            continue
        fields = dict(_children(entry))
        if fields.get(_CODEC_ID) == b"A_OPUS" and _TRACK_NUMBER in fields:
            if _CODEC_PRIVATE in fields:
                _check_opus_head(fields[_CODEC_PRIVATE])
            return int.from_bytes(fields[_TRACK_NUMBER], "big")
    raise InvalidInput("the WebM stream has no Opus audio track", code="UNSUPPORTED_AUDIO_FORMAT")


def _laced_frames(block: bytes, pos: int, flags: int) -> list[bytes]:
    """The frames of a (Simple)Block's payload from ``pos`` (Matroska §10.3 lacing)."""
    lacing = (flags >> 1) & 3
    if lacing == 0:
        return [block[pos:]]
    count = block[pos] + 1
    pos += 1
    sizes: list[int] = []
    if lacing == 1:  # Xiph: sizes as runs of 255
        for _ in range(count - 1):
            size = 0
            while block[pos] == 255:
                size, pos = size + 255, pos + 1
            sizes.append(size + block[pos])
            pos += 1
    elif lacing == 3:  # EBML: the first size, then signed differences
        first = _vint(block, pos, False)
        if first is None:
            raise _invalid("a laced WebM block is cut off")
        sizes.append(first[0])
        pos += first[1]
        for _ in range(count - 2):
            diff = _vint(block, pos, True)
            if diff is None:
                raise _invalid("a laced WebM block is cut off")
            raw, n = diff
            raw &= (1 << (7 * n)) - 1
            sizes.append(sizes[-1] + raw - ((1 << (7 * n - 1)) - 1))
            pos += n
    else:  # fixed: equal sizes
        sizes = [(len(block) - pos) // count] * (count - 1)
    sizes.append(len(block) - pos - sum(sizes))
    if any(s < 0 for s in sizes):
        raise _invalid("a laced WebM block has impossible frame sizes")
    frames = []
    for size in sizes:
        frames.append(block[pos:pos + size])
        pos += size
    return frames


class WebmOpusDemuxer:
    """A flat EBML walk: enter Segment/Cluster/BlockGroup, read Tracks and the Opus track's
    blocks, skip what else the format allows, refuse any other element ID."""

    def __init__(self) -> None:
        self._buf = b""  # an incomplete element
        self._skip = 0  # bytes still to pass of a skipped element
        self._header_seen = False
        self._track: int | None = None

    def feed(self, data: bytes) -> list[bytes]:
        buf, skip, header_seen, track = self._buf + data, self._skip, self._header_seen, self._track
        out: list[bytes] = []
        pos = min(skip, len(buf))
        skip -= pos
        while pos < len(buf):
            ident = _vint(buf, pos, True)
            if ident is None:
                break
            size = _vint(buf, pos + ident[1], False)
            if size is None:
                break
            element, payload = ident[0], pos + ident[1] + size[1]
            if not header_seen and element != _EBML:
                raise _invalid("not a WebM stream (it does not start with an EBML header)")
            if element in _MASTERS:
                pos = payload
                continue
            length = size[0]
            if length == _UNKNOWN:
                raise _invalid(f"WebM element 0x{element:X} of unknown size")
            if element in _SKIPPED:
                pos, skip = min(payload + length, len(buf)), max(0, payload + length - len(buf))
                continue
            if element not in (_EBML, _TRACKS, _SIMPLE_BLOCK, _BLOCK):
                raise _invalid(f"not a WebM stream (unexpected element 0x{element:X})")
            if length > MAX_ELEMENT_BYTES:
                raise _invalid(f"WebM element 0x{element:X} of {length} bytes is over 1 MiB")
            if payload + length > len(buf):
                break
            body = buf[payload:payload + length]
            pos = payload + length
            if element == _EBML:
                doc_type = dict(_children(body)).get(_DOC_TYPE, b"")
                if doc_type not in (b"webm", b"matroska"):
                    raise _invalid(f"EBML document type {doc_type[:16]!r} is not WebM")
                header_seen = True
            elif element == _TRACKS:
                track = _opus_track(body)
            else:
                out += self._block_frames(body, track)
        self._buf, self._skip, self._header_seen, self._track = buf[pos:], skip, header_seen, track
        return out

    @staticmethod
    def _block_frames(block: bytes, track: int | None) -> list[bytes]:
        number = _vint(block, 0, False)
        if number is None or len(block) < number[1] + 3:
            raise _invalid("a WebM block is too short")
        if track is None:
            raise _invalid("a WebM block arrived before the Tracks header")
        if number[0] != track:
            return []  # another track (video, when the recorder records both)
        pos = number[1] + 3  # track number, 16-bit timecode, flags
        try:
            return [f for f in _laced_frames(block, pos, block[pos - 1]) if f]
        except IndexError:
            raise _invalid("a laced WebM block is cut off") from None


DEMUXERS: dict[str, Callable[[], Demuxer]] = {"webm-opus": WebmOpusDemuxer, "ogg-opus": OggOpusDemuxer}
