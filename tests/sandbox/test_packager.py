"""The CENC packager: its output decrypts back to the clear samples, and carries what a player needs."""

import re
import struct
from pathlib import Path
from xml.etree import ElementTree

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings

from sandbox.packager import PackagingError, package_clip, package_track

SOURCES = Path(settings.BASE_DIR) / "media" / "sources"
KID = bytes.fromhex("0123456789abcdef0123456789abcdef")
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")


def boxes(data, start=0, end=None):
    """Yield (type, payload start, payload end, box start) — an independent reader, not the packager's."""
    end = len(data) if end is None else end
    while start < end:
        size, kind = struct.unpack_from(">I4s", data, start)
        yield kind, start + 8, start + size, start
        start += size


def child(data, parent, kind):
    return next((b for b in boxes(data, parent[1], parent[2]) if b[0] == kind), None)


def clear_samples(mp4: bytes) -> list[bytes]:
    """Return every sample of a clear single-track fragmented MP4, in order."""
    samples = []
    top = list(boxes(mp4))
    trex = child(mp4, child(mp4, next(b for b in top if b[0] == b"moov"), b"mvex"), b"trex")
    default_size = struct.unpack_from(">I", mp4, trex[1] + 16)[0]
    for moof in (b for b in top if b[0] == b"moof"):
        samples += [mp4[o : o + s] for o, s in fragment_samples(mp4, moof, default_size)]
    return samples


def fragment_samples(data, moof, default_size):
    traf = child(data, moof, b"traf")
    tfhd, trun = child(data, traf, b"tfhd"), child(data, traf, b"trun")
    tf_flags = struct.unpack_from(">I", data, tfhd[1])[0] & 0xFFFFFF
    if tf_flags & 0x10:
        default_size = struct.unpack_from(
            ">I", data, tfhd[1] + 8 + (4 if tf_flags & 0x2 else 0) + (4 if tf_flags & 0x8 else 0)
        )[0]
    flags = struct.unpack_from(">I", data, trun[1])[0] & 0xFFFFFF
    count, offset = struct.unpack_from(">Ii", data, trun[1] + 4)
    pos = trun[1] + 12 + (4 if flags & 0x4 else 0)
    cursor = moof[3] + offset
    out = []
    for _ in range(count):
        size = default_size
        for bit in (0x100, 0x200, 0x400, 0x800):
            if flags & bit:
                if bit == 0x200:
                    size = struct.unpack_from(">I", data, pos)[0]
                pos += 4
        out.append((cursor, size))
        cursor += size
    return out


def decrypt_segment(segment: bytes, key: bytes, default_size: int) -> list[bytes]:
    moof = next(b for b in boxes(segment) if b[0] == b"moof")
    traf = child(segment, moof, b"traf")
    senc = child(segment, traf, b"senc")
    saio = child(segment, traf, b"saio")
    flags = struct.unpack_from(">I", segment, senc[1])[0] & 0xFFFFFF
    # saio must point at the first IV (offset from the moof start).
    assert struct.unpack_from(">I", segment, saio[1] + 8)[0] == senc[1] + 8 - moof[3]
    pos = senc[1] + 8
    out = []
    for offset, size in fragment_samples(segment, moof, default_size):
        iv = segment[pos : pos + 8]
        pos += 8
        sample = segment[offset : offset + size]
        decryptor = Cipher(algorithms.AES(key), modes.CTR(iv + bytes(8))).decryptor()
        if flags & 0x2:
            (n,) = struct.unpack_from(">H", segment, pos)
            pos += 2
            clear_out, at = b"", 0
            for _ in range(n):
                clear, protected = struct.unpack_from(">HI", segment, pos)
                pos += 6
                clear_out += sample[at : at + clear] + decryptor.update(
                    sample[at + clear : at + clear + protected]
                )
                at += clear + protected
            assert at == size
            out.append(clear_out)
        else:
            out.append(decryptor.update(sample))
    return out


@pytest.mark.parametrize("track", ["video", "audio"])
def test_encrypted_segments_decrypt_back_to_the_clear_samples(tmp_path, track):
    source = (SOURCES / "mandelbrot" / f"{track}.mp4").read_bytes()
    result = package_clip(SOURCES / "mandelbrot", tmp_path, kid=KID, key=KEY)
    assert result.duration == pytest.approx(6.0, abs=0.1)
    expected = clear_samples(source)
    init = (tmp_path / f"{track}-init.mp4").read_bytes()
    trex_default = 0
    segments = sorted(tmp_path.glob(f"{track}-*.m4s"), key=lambda p: int(re.findall(r"\d+", p.name)[0]))
    decrypted = []
    for segment in segments:
        decrypted += decrypt_segment(segment.read_bytes(), KEY, trex_default)
    assert len(decrypted) == len(expected) > 0
    assert decrypted == expected
    # The ciphertext really differs from the clear text (most samples; tiny NAL-only ones may be clear).
    encrypted_total = b"".join(s.read_bytes() for s in segments)
    assert sum(sample in encrypted_total for sample in expected if len(sample) > 64) == 0
    assert b"encv" in init or b"enca" in init
    assert KID in init and bytes.fromhex("1077efecc0b24d02ace33c1e52e2fb4b") in init
    assert KEY not in init and KEY not in encrypted_total


def test_manifest_lists_both_tracks_with_clearkey_protection(tmp_path):
    result = package_clip(SOURCES / "device-check", tmp_path, kid=KID, key=KEY)
    mpd = ElementTree.parse(result.manifest).getroot()  # noqa: S314 - our own output
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011", "cenc": "urn:mpeg:cenc:2013"}
    sets = mpd.findall(".//d:AdaptationSet", ns)
    assert [s.get("contentType") for s in sets] == ["video", "audio"]
    video = sets[0].find("d:Representation", ns)
    assert video.get("codecs") == "avc1.42C01E"
    assert (video.get("width"), video.get("height")) == ("320", "180")
    schemes = [p.get("schemeIdUri") for p in sets[0].findall("d:ContentProtection", ns)]
    assert "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" in schemes
    kid_attr = sets[0].find("d:ContentProtection", ns).get("{urn:mpeg:cenc:2013}default_KID")
    assert kid_attr.replace("-", "") == KID.hex()
    timeline = sets[0].findall(".//d:S", ns)
    assert len(timeline) == len(list(tmp_path.glob("video-*.m4s"))) == 3
    assert sets[1].find("d:Representation", ns).get("codecs") == "mp4a.40.2"


def test_ivs_are_unique_within_a_track(tmp_path):
    track = package_track((SOURCES / "life" / "video.mp4").read_bytes(), kid=KID, key=KEY)
    ivs = []
    for fragment in track.fragments:
        moof = next(b for b in boxes(fragment.data) if b[0] == b"moof")
        senc = child(fragment.data, child(fragment.data, moof, b"traf"), b"senc")
        ivs.append(fragment.data[senc[1] + 8 : senc[1] + 16])
    assert len(set(ivs)) == len(ivs)


def test_non_mp4_input_is_refused():
    with pytest.raises(PackagingError):
        package_track(b"\x00\x00\x00\x08free" + b"junk", kid=KID, key=KEY)
