#!/usr/bin/env bash
# Makes the catalogue posters (static/img/posters/<clip>.jpg, 240x360) from a frame of each clip.
set -euo pipefail
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
OUT=../../static/img/posters
poster() {  # clip title colour
  ffmpeg -y -loglevel error -ss 2 -i "$1/video.mp4" -frames:v 1 \
    -vf "crop=110:110:105:28,scale=240:240:flags=lanczos,pad=240:360:0:40:color=$3,drawtext=fontfile=$FONT:text='$2':fontcolor=white:fontsize=20:x=(w-tw)/2:y=300,drawtext=fontfile=$FONT:text='BINDERY':fontcolor=white@0.7:fontsize=12:x=(w-tw)/2:y=14" \
    -q:v 4 "$OUT/$1.jpg"
}
poster mandelbrot  "Mandelbrot Dreams" "#1b1440"
poster life        "A Life in Green"   "#0b3d20"
poster colour-bars "Colour Bars"       "#3a1020"
poster cellular    "Rule 110"          "#102a3a"
