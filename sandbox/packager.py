"""A small CENC packager: clear fragmented MP4 in, ClearKey-playable encrypted DASH out.

It does what a packaging service does for a content owner, just enough for the sample clips: each input is
a single-track fragmented MP4 (H.264 with 4-byte NAL lengths, or AAC), as `media/sources/make_sources.sh`
makes them. The output is an init segment and one media segment per fragment per track, encrypted with the
`cenc` scheme (AES-128-CTR, subsample encryption for H.264), the W3C common `pssh` for ClearKey, and a DASH
manifest Shaka Player reads. See ../shared/research/eme-clearkey.md for why it is written by hand.
"""

from __future__ import annotations

import os
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

COMMON_SYSTEM_ID = bytes.fromhex("1077efecc0b24d02ace33c1e52e2fb4b")
CLEARKEY_SCHEME = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
IV_SIZE = 8
MAX_CLEAR = 0xFFFF
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"edts", b"dinf"}


class PackagingError(ValueError):
    pass


# --- boxes ------------------------------------------------------------------------------------------------------


@dataclass
class Box:
    type: bytes
    payload: bytes = b""
    children: list[Box] | None = None

    def find(self, kind: bytes) -> Box | None:
        return next((child for child in self.children or [] if child.type == kind), None)

    def find_all(self, kind: bytes) -> list[Box]:
        return [child for child in self.children or [] if child.type == kind]

    def serialise(self) -> bytes:
        body = (
            b"".join(child.serialise() for child in self.children)
            if self.children is not None
            else self.payload
        )
        return struct.pack(">I4s", 8 + len(body), self.type) + body


def parse_boxes(data: bytes, start: int = 0, end: int | None = None) -> list[Box]:
    """Return the boxes in data[start:end], descending into the container boxes this packager edits."""
    end = len(data) if end is None else end
    boxes, pos = [], start
    while pos < end:
        if end - pos < 8:
            raise PackagingError("truncated box header")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise PackagingError(f"bad size for box {kind!r}")
        if kind in CONTAINERS:
            boxes.append(Box(kind, children=parse_boxes(data, pos + header, pos + size)))
        else:
            boxes.append(Box(kind, payload=data[pos + header : pos + size]))
        pos += size
    return boxes


def full_box(kind: bytes, version: int, flags: int, body: bytes) -> Box:
    return Box(kind, payload=struct.pack(">I", (version << 24) | flags) + body)


def _version_flags(box: Box) -> tuple[int, int]:
    (word,) = struct.unpack_from(">I", box.payload)
    return word >> 24, word & 0xFFFFFF


# --- init segment -----------------------------------------------------------------------------------------------


@dataclass
class TrackInfo:
    kind: str  # "video" or "audio"
    track_id: int
    timescale: int
    codec: str
    width: int = 0
    height: int = 0
    sample_rate: int = 0
    channels: int = 0
    default_duration: int = 0
    default_size: int = 0
    nal_length_size: int = 4


def _child_boxes_of_sample_entry(entry: Box, fixed: int) -> list[Box]:
    return parse_boxes(entry.payload, fixed)


def _track_info(trak: Box, mvex: Box | None) -> TrackInfo:
    tkhd = trak.find(b"tkhd")
    version, _ = _version_flags(tkhd)
    track_id = struct.unpack_from(">I", tkhd.payload, 4 + (16 if version == 1 else 8))[0]
    mdia = trak.find(b"mdia")
    mdhd = mdia.find(b"mdhd")
    version, _ = _version_flags(mdhd)
    timescale = struct.unpack_from(">I", mdhd.payload, 4 + (16 if version == 1 else 8))[0]
    stsd = mdia.find(b"minf").find(b"stbl").find(b"stsd")
    entries = parse_boxes(stsd.payload, 8)
    if len(entries) != 1:
        raise PackagingError("exactly one sample entry per track is supported")
    entry = entries[0]
    defaults = (0, 0)
    for trex in mvex.find_all(b"trex") if mvex else []:
        if struct.unpack_from(">I", trex.payload, 4)[0] == track_id:
            defaults = struct.unpack_from(">II", trex.payload, 12)
    if entry.type == b"avc1":
        width, height = struct.unpack_from(">HH", entry.payload, 24)
        avcc = next(b for b in _child_boxes_of_sample_entry(entry, 78) if b.type == b"avcC")
        profile, compat, level = avcc.payload[1:4]
        return TrackInfo(
            "video", track_id, timescale, f"avc1.{profile:02X}{compat:02X}{level:02X}", width=width,
            height=height, default_duration=defaults[0], default_size=defaults[1],
            nal_length_size=(avcc.payload[4] & 0x03) + 1,
        )  # fmt: skip
    if entry.type == b"mp4a":
        channels = struct.unpack_from(">H", entry.payload, 16)[0]
        sample_rate = struct.unpack_from(">I", entry.payload, 24)[0] >> 16
        return TrackInfo(
            "audio", track_id, timescale, "mp4a.40.2", sample_rate=sample_rate, channels=channels,
            default_duration=defaults[0], default_size=defaults[1],
        )  # fmt: skip
    raise PackagingError(f"unsupported sample entry {entry.type!r}: only avc1 and mp4a")


def protect_init(moov: Box, kid: bytes) -> TrackInfo:
    """Turn the moov's sample entry into an encrypted one (encv/enca + sinf) and add the ClearKey pssh."""
    traks = moov.find_all(b"trak")
    if len(traks) != 1:
        raise PackagingError("inputs must have exactly one track")
    info = _track_info(traks[0], moov.find(b"mvex"))
    stsd = traks[0].find(b"mdia").find(b"minf").find(b"stbl").find(b"stsd")
    (entry,) = parse_boxes(stsd.payload, 8)
    sinf = Box(
        b"sinf",
        children=[
            Box(b"frma", payload=entry.type),
            full_box(b"schm", 0, 0, b"cenc" + struct.pack(">I", 0x00010000)),
            Box(b"schi", children=[full_box(b"tenc", 0, 0, bytes([0, 0, 1, IV_SIZE]) + kid)]),
        ],
    )
    protected = Box(b"encv" if entry.type == b"avc1" else b"enca", payload=entry.payload + sinf.serialise())
    stsd.payload = stsd.payload[:8] + protected.serialise()
    moov.children.append(
        full_box(b"pssh", 1, 0, COMMON_SYSTEM_ID + struct.pack(">I", 1) + kid + struct.pack(">I", 0))
    )
    return info


# --- media segments ---------------------------------------------------------------------------------------------


@dataclass
class Fragment:
    start: int  # decode time, in the track's timescale
    duration: int
    data: bytes = field(repr=False)


def _subsamples(sample: bytes, nal_length_size: int) -> list[tuple[int, int]]:
    """Return (clear, protected) byte counts for an H.264 sample: slice data protected in 16-byte blocks."""
    runs: list[tuple[int, int]] = []
    clear = pos = 0
    while pos < len(sample):
        nal_size = int.from_bytes(sample[pos : pos + nal_length_size], "big")
        if nal_size == 0 or pos + nal_length_size + nal_size > len(sample):
            raise PackagingError("malformed NAL unit length")
        nal_type = sample[pos + nal_length_size] & 0x1F
        protected = (nal_size - 1) // 16 * 16 if 1 <= nal_type <= 5 else 0
        clear += nal_length_size + nal_size - protected
        if protected:
            while clear > MAX_CLEAR:
                runs.append((MAX_CLEAR, 0))
                clear -= MAX_CLEAR
            runs.append((clear, protected))
            clear = 0
        pos += nal_length_size + nal_size
    if clear:
        while clear > MAX_CLEAR:
            runs.append((MAX_CLEAR, 0))
            clear -= MAX_CLEAR
        runs.append((clear, 0))
    return runs


def _encrypt_sample(sample: bytes, key: bytes, iv: bytes, runs: list[tuple[int, int]] | None) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv + bytes(8))).encryptor()
    if runs is None:
        return encryptor.update(sample) + encryptor.finalize()
    out, pos = bytearray(), 0
    for clear, protected in runs:
        out += sample[pos : pos + clear]
        pos += clear
        out += encryptor.update(sample[pos : pos + protected])
        pos += protected
    encryptor.finalize()
    return bytes(out)


def _parse_trun(trun: Box) -> tuple[int, int, list[dict], int]:
    """Return (flags, data_offset, samples, offset of data_offset in the payload)."""
    _, flags = _version_flags(trun)
    (count,) = struct.unpack_from(">I", trun.payload, 4)
    pos, data_offset, offset_at = 8, 0, -1
    if flags & 0x1:
        offset_at = pos
        (data_offset,) = struct.unpack_from(">i", trun.payload, pos)
        pos += 4
    if flags & 0x4:
        pos += 4
    samples = []
    for _ in range(count):
        sample = {}
        for bit, name in ((0x100, "duration"), (0x200, "size"), (0x400, "flags"), (0x800, "cto")):
            if flags & bit:
                (sample[name],) = struct.unpack_from(">I", trun.payload, pos)
                pos += 4
        samples.append(sample)
    return flags, data_offset, samples, offset_at


def protect_fragment(
    moof: Box, mdat: Box, info: TrackInfo, key: bytes, next_iv: Callable[[], bytes]
) -> tuple[bytes, int, int]:
    """Encrypt one moof+mdat pair in place; return (moof+mdat bytes, decode time, duration)."""
    traf = moof.find(b"traf")
    tfhd, trun = traf.find(b"tfhd"), traf.find(b"trun")
    _, tf_flags = _version_flags(tfhd)
    if tf_flags & 0x1 or not tf_flags & 0x020000:
        raise PackagingError("fragments must use default-base-is-moof without base_data_offset")
    pos = 8 + (4 if tf_flags & 0x2 else 0)
    default_duration, default_size = info.default_duration, info.default_size
    if tf_flags & 0x8:
        (default_duration,) = struct.unpack_from(">I", tfhd.payload, pos)
        pos += 4
    if tf_flags & 0x10:
        (default_size,) = struct.unpack_from(">I", tfhd.payload, pos)
    tfdt = traf.find(b"tfdt")
    version, _ = _version_flags(tfdt)
    decode_time = struct.unpack_from(">Q" if version == 1 else ">I", tfdt.payload, 4)[0]
    _, data_offset, samples, offset_at = _parse_trun(trun)
    if offset_at < 0:
        raise PackagingError("trun without data_offset")

    old_moof_size = len(moof.serialise())
    # mdat's payload starts 8 bytes after the moof ends; data_offset counts from the moof's first byte.
    cursor = data_offset - old_moof_size - 8
    data = bytearray(mdat.payload)
    senc_entries, aux_sizes, duration = [], [], 0
    for sample in samples:
        size = sample.get("size", default_size)
        duration += sample.get("duration", default_duration)
        clear_sample = bytes(data[cursor : cursor + size])
        iv = next_iv()
        runs = _subsamples(clear_sample, info.nal_length_size) if info.kind == "video" else None
        data[cursor : cursor + size] = _encrypt_sample(clear_sample, key, iv, runs)
        entry = iv
        if runs is not None:
            entry += struct.pack(">H", len(runs)) + b"".join(struct.pack(">HI", c, p) for c, p in runs)
        senc_entries.append(entry)
        aux_sizes.append(len(entry))
        cursor += size
    mdat.payload = bytes(data)

    subsample_flag = 0x2 if info.kind == "video" else 0
    senc = full_box(b"senc", 0, subsample_flag, struct.pack(">I", len(samples)) + b"".join(senc_entries))
    uniform = len(set(aux_sizes)) == 1
    saiz_body = struct.pack(">BI", aux_sizes[0] if uniform else 0, len(samples))
    saiz = full_box(b"saiz", 0, 0, saiz_body if uniform else saiz_body + bytes(aux_sizes))
    saio = full_box(b"saio", 0, 0, struct.pack(">II", 1, 0))
    traf.children += [senc, saiz, saio]

    new_moof = moof.serialise()
    growth = len(new_moof) - old_moof_size
    trun.payload = (
        trun.payload[:offset_at] + struct.pack(">i", data_offset + growth) + trun.payload[offset_at + 4 :]
    )
    # saio points at the first IV in senc, relative to the moof (default-base-is-moof).
    senc_at = new_moof.index(senc.serialise())
    saio.payload = saio.payload[:8] + struct.pack(">I", senc_at + 16)
    return moof.serialise() + mdat.serialise(), decode_time, duration


# --- whole tracks and the manifest ------------------------------------------------------------------------------


@dataclass
class PackagedTrack:
    info: TrackInfo
    init: bytes
    fragments: list[Fragment]


def package_track(
    source: bytes, *, kid: bytes, key: bytes, random: Callable[[int], bytes] = os.urandom
) -> PackagedTrack:
    """Return the encrypted init segment and media fragments of one single-track fragmented MP4."""
    boxes = parse_boxes(source)
    ftyp = next((b for b in boxes if b.type == b"ftyp"), None)
    moov = next((b for b in boxes if b.type == b"moov"), None)
    if ftyp is None or moov is None:
        raise PackagingError("not a fragmented MP4: ftyp and moov are needed")
    info = protect_init(moov, kid)
    counter = int.from_bytes(random(IV_SIZE), "big")

    def next_iv() -> bytes:
        nonlocal counter
        counter = (counter + 1) % (1 << 64)
        return counter.to_bytes(IV_SIZE, "big")

    fragments = []
    pairs = [
        (b, boxes[i + 1])
        for i, b in enumerate(boxes[:-1])
        if b.type == b"moof" and boxes[i + 1].type == b"mdat"
    ]
    if not pairs:
        raise PackagingError("no moof+mdat fragments")
    for moof, mdat in pairs:
        data, start, duration = protect_fragment(moof, mdat, info, key, next_iv)
        fragments.append(Fragment(start, duration, data))
    return PackagedTrack(info, ftyp.serialise() + moov.serialise(), fragments)


def _iso_duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def _timeline(fragments: list[Fragment]) -> str:
    return "".join(f'<S t="{f.start}" d="{f.duration}"/>' for f in fragments)


def dash_manifest(tracks: list[PackagedTrack], kid: bytes) -> str:
    """Return a static DASH manifest for the packaged tracks, with cenc and ClearKey ContentProtection."""
    default_kid = str(uuid.UUID(bytes=kid))
    seconds = max(sum(f.duration for f in t.fragments) / t.info.timescale for t in tracks)
    protection = (
        f'<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="{default_kid}"/>'
        f'<ContentProtection schemeIdUri="{CLEARKEY_SCHEME}" value="ClearKey1.0"/>'
        f'<ContentProtection schemeIdUri="urn:uuid:{uuid.UUID(bytes=COMMON_SYSTEM_ID)}"/>'
    )
    sets = []
    for index, track in enumerate(tracks):
        info, name = track.info, track.info.kind
        total = sum(len(f.data) for f in track.fragments)
        bandwidth = int(total * 8 / max(seconds, 0.001))
        if info.kind == "video":
            attrs = f'width="{info.width}" height="{info.height}"'
            extra = ""
        else:
            attrs = f'audioSamplingRate="{info.sample_rate}"'
            extra = (
                '<AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011"'
                f' value="{info.channels}"/>'
            )
        sets.append(
            f'<AdaptationSet id="{index}" contentType="{name}" mimeType="{name}/mp4" segmentAlignment="true" startWithSAP="1">'
            f"{protection}"
            f'<Representation id="{name}" bandwidth="{bandwidth}" codecs={quoteattr(info.codec)} {attrs}>{extra}'
            f'<SegmentTemplate timescale="{info.timescale}" initialization="{name}-init.mp4" media="{name}-$Number$.m4s" startNumber="1">'
            f"<SegmentTimeline>{_timeline(track.fragments)}</SegmentTimeline></SegmentTemplate>"
            "</Representation></AdaptationSet>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" type="static"'
        f' profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT1S" mediaPresentationDuration="{_iso_duration(seconds)}">'
        f'<Period id="0" start="PT0S">{"".join(sets)}</Period></MPD>\n'
    )


@dataclass(frozen=True)
class PackageResult:
    manifest: Path
    duration: float
    size: int


def package_clip(source_dir: Path, out_dir: Path, *, kid: bytes, key: bytes) -> PackageResult:
    """Encrypt every track file (video.mp4, audio.mp4) of a clip into out_dir with a manifest.mpd."""
    if len(kid) != 16 or len(key) != 16:
        raise PackagingError("kid and key are 16 bytes each")
    sources = [source_dir / name for name in ("video.mp4", "audio.mp4") if (source_dir / name).exists()]
    if not sources:
        raise PackagingError(f"no video.mp4 or audio.mp4 in {source_dir}")
    tracks = [package_track(path.read_bytes(), kid=kid, key=key) for path in sources]
    out_dir.mkdir(parents=True, exist_ok=True)
    size = 0
    for track in tracks:
        name = track.info.kind
        (out_dir / f"{name}-init.mp4").write_bytes(track.init)
        size += len(track.init)
        for number, fragment in enumerate(track.fragments, start=1):
            (out_dir / f"{name}-{number}.m4s").write_bytes(fragment.data)
            size += len(fragment.data)
    manifest = out_dir / "manifest.mpd"
    manifest.write_text(dash_manifest(tracks, kid))
    duration = max(sum(f.duration for f in t.fragments) / t.info.timescale for t in tracks)
    return PackageResult(manifest, duration, size)
