#!/usr/bin/env bash
# Makes the clear sample clips that the sandbox packager encrypts at install time (Debian ffmpeg 5.1).
# Each clip is two fragmented MP4 files, video-only (H.264 Baseline, 320x180, 1 s GOPs) and audio-only
# (AAC-LC), so the DASH manifest can list them as separate adaptation sets. Run from this folder.
set -euo pipefail
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
FRAG="-movflags frag_keyframe+empty_moov+default_base_moof+skip_trailer -fflags +bitexact -map_metadata -1"
VIDEO="-c:v libx264 -profile:v baseline -level 3.0 -pix_fmt yuv420p -g 25 -keyint_min 25 -sc_threshold 0 -b:v 110k -bitexact"

clip() {  # name seconds lavfi-video-source title frequency
  local name=$1 seconds=$2 source=$3 title=$4 freq=$5
  mkdir -p "$name"
  ffmpeg -y -loglevel error -f lavfi -i "$source:rate=25" -t "$seconds" \
    -vf "scale=320:180,drawtext=fontfile=$FONT:text='$title':fontcolor=white:fontsize=20:box=1:boxcolor=black@0.55:boxborderw=6:x=(w-tw)/2:y=h-th-14,drawtext=fontfile=$FONT:text='%{pts\:hms}':fontcolor=white:fontsize=12:x=8:y=8:box=1:boxcolor=black@0.5" \
    $VIDEO -an $FRAG "$name/video.mp4"
  ffmpeg -y -loglevel error -f lavfi -i "sine=frequency=$freq:duration=$seconds:sample_rate=44100" \
    -c:a aac -b:a 40k -ac 2 -vn $FRAG "$name/audio.mp4"
}

clip device-check   3 "testsrc2=size=320x180"            "Device check"      660
clip mandelbrot     6 "mandelbrot=size=320x180"          "Mandelbrot Dreams" 220
clip life           6 "life=size=320x180:mold=10:ratio=0.2:life_color=#2ecc71:death_color=#0b3d20" "A Life in Green" 330
clip colour-bars    6 "smptehdbars=size=320x180"         "Colour Bars"       440
clip cellular       6 "cellauto=size=320x180:rule=110"   "Rule 110"          550
