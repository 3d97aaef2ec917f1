#!/usr/bin/env bash
# tests/hostile/make_corpus.sh OUTDIR: writes the hostile sound files that
# tests/hostile/run.sh feeds to reel, so that the repository holds the recipe
# rather than opaque binaries. Deterministic: the same files every time.
#
#   OUTDIR/audio/*.wav|flac   valid files at unexpected rates (8000, 44100,
#                             96000 Hz) and channel counts (3, 6), and files
#                             truncated, malformed or lying in their headers
#
# Needs sox (valid material), printf, head, dd, od. The WAV headers are
# written byte by byte here (offsets are certain); the FLAC ones are sox's
# with STREAMINFO fields overwritten (STREAMINFO is always the first
# metadata block: bytes 8..41).
set -euo pipefail
out=${1:?usage: make_corpus.sh OUTDIR}
a=$out/audio
rm -rf "$a"
mkdir -p "$a"
export LC_ALL=C

le16() { printf "$(printf '\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)))"; }
le32() {
  local v=$(($1 & 0xffffffff))
  printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((v & 255)) $((v >> 8 & 255)) $((v >> 16 & 255)) $((v >> 24 & 255)))"
}
le64() { le32 $(($1 & 0xffffffff)); le32 $(($1 >> 32 & 0xffffffff)); }

# bytes FILE OFFSET HEX...: overwrites bytes in place.
bytes() {
  local f=$1 off=$2
  shift 2
  local s=""
  for h in "$@"; do s+="\\x$h"; done
  printf "$s" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}
byte_at() { od -An -tu1 -j"$2" -N1 "$1" | tr -d ' '; }
hex() { printf '%02x' "$1"; }

# garbage N SEED: N deterministic pseudo-random bytes (an LCG, as hex pairs
# turned into bytes by printf in chunks).
garbage() {
  awk -v n="$1" -v s="$2" 'BEGIN { for (i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648;
    printf "\\x%02x", int(s / 65536) % 256; if (i % 512 == 511) printf "\n" } printf "\n" }' |
    while IFS= read -r line; do printf "$line"; done
}

# Material: 0.05 s of a 440 Hz sine, 16-bit mono at 48 kHz, raw.
sox -n -r 48000 -c 1 -b 16 -e signed -t raw "$out/pcm.raw" synth 0.05 sine 440 vol 0.5
pcm=$out/pcm.raw
pcm_bytes=$(wc -c <"$pcm")

# wav OUT TAG CHANNELS RATE BITS DATASIZE [BLOCKALIGN [BYTERATE [FMTSIZE]]]:
# a canonical 44-byte RIFF/WAVE header (fmt chunk of 16 bytes unless told),
# then the material's bytes (as many as there are, whatever DATASIZE says).
wav() {
  local out=$1 tag=$2 ch=$3 rate=$4 bits=$5 size=$6
  local ba=${7:-$((ch * bits / 8))}
  local br=${8:-$((rate * ba))}
  local fs=${9:-16}
  {
    printf 'RIFF'; le32 $((36 + pcm_bytes)); printf 'WAVE'
    printf 'fmt '; le32 "$fs"; le16 "$tag"; le16 "$ch"; le32 "$rate"; le32 "$br"; le16 "$ba"; le16 "$bits"
    printf 'data'; le32 "$size"; cat "$pcm"
  } >"$a/$out"
}

# ---- valid files, at rates and channel counts a 48 kHz mono/stereo
# session does not expect
for r in 8000 44100 96000; do
  sox -n -r $r -c 1 -b 16 "$a/rate$r.wav" synth 0.05 sine 440 vol 0.5
  sox -n -r $r -c 1 -b 16 "$a/rate$r.flac" synth 0.05 sine 440 vol 0.5
done
for c in 3 6; do
  sox -n -r 48000 -c $c -b 24 "$a/ch$c.wav" synth 0.05 sine 440 vol 0.5
  sox -n -r 48000 -c $c -b 16 "$a/ch$c.flac" synth 0.05 sine 440 vol 0.5
done
sox -n -r 48000 -c 1 -b 16 "$a/ok.wav" synth 0.05 sine 440 vol 0.5
sox -n -r 48000 -c 2 -b 16 "$a/ok.flac" synth 0.05 sine 440 vol 0.5

# ---- truncated WAV
: >"$a/empty.wav"
head -c 4 "$a/ok.wav" >"$a/trunc_riff4.wav"        # "RIFF"
head -c 12 "$a/ok.wav" >"$a/trunc_riff12.wav"      # RIFF....WAVE, no chunks
head -c 30 "$a/ok.wav" >"$a/trunc_fmt30.wav"       # inside the fmt chunk
head -c 36 "$a/ok.wav" >"$a/trunc_nodata.wav"      # fmt, no data chunk
head -c 44 "$a/ok.wav" >"$a/trunc_header44.wav"    # data chunk announced, no data
n=$(wc -c <"$a/ok.wav")
head -c $((n / 2)) "$a/ok.wav" >"$a/trunc_half.wav"
head -c 1001 "$a/ok.wav" >"$a/trunc_oddbyte.wav"   # ends inside a sample

# ---- malformed WAV headers
wav ok_handmade.wav 1 1 48000 16 "$pcm_bytes"      # the control: a valid file
wav chan0.wav 1 0 48000 16 "$pcm_bytes" 2 96000
wav chan65535.wav 1 65535 48000 16 "$pcm_bytes"
wav chan1025.wav 1 1025 48000 16 "$pcm_bytes"
wav rate0.wav 1 1 0 16 "$pcm_bytes"
wav rate1.wav 1 1 1 16 "$pcm_bytes"
wav rate_max.wav 1 1 4294967295 16 "$pcm_bytes" 2 4294967295
wav bits0.wav 1 1 48000 0 "$pcm_bytes" 2
wav bits7.wav 1 1 48000 7 "$pcm_bytes" 1
wav bits64.wav 1 1 48000 64 "$pcm_bytes"
wav blockalign0.wav 1 1 48000 16 "$pcm_bytes" 0
wav blockalign_huge.wav 1 1 48000 16 "$pcm_bytes" 65535
wav tag_unknown.wav 4660 1 48000 16 "$pcm_bytes"   # format tag 0x1234
wav tag_float16.wav 3 1 48000 16 "$pcm_bytes"      # IEEE float with 16 bits
wav tag_extensible_short.wav 65534 1 48000 16 "$pcm_bytes"   # EXTENSIBLE, fmt of 16 bytes
wav fmt_size_huge.wav 1 1 48000 16 "$pcm_bytes" 2 96000 4294967280
wav fmt_size_odd.wav 1 1 48000 16 "$pcm_bytes" 2 96000 17
wav data_size_huge.wav 1 1 48000 16 4294967295     # claims 4 GiB of samples
wav data_size_zero.wav 1 1 48000 16 0
# RIFF size smaller than the header
cp "$a/ok_handmade.wav" "$a/riff_size4.wav"; bytes "$a/riff_size4.wav" 4 04 00 00 00
# EXTENSIBLE with a sub-format GUID that names nothing
{
  printf 'RIFF'; le32 $((60 + pcm_bytes)); printf 'WAVEfmt '; le32 40
  le16 65534; le16 2; le32 48000; le32 192000; le16 4; le16 16; le16 22; le16 16; le32 3
  printf '\xde\xad\xbe\xef\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71'
  printf 'data'; le32 "$pcm_bytes"; cat "$pcm"
} >"$a/extensible_bad_guid.wav"
# RF64 without its ds64 chunk, and with a ds64 claiming 2^62 bytes of data
{ printf 'RF64'; le32 4294967295; printf 'WAVEfmt '; le32 16; le16 1; le16 1; le32 48000
  le32 96000; le16 2; le16 16; printf 'data'; le32 4294967295; cat "$pcm"; } >"$a/rf64_no_ds64.wav"
{ printf 'RF64'; le32 4294967295; printf 'WAVEds64'; le32 28; le64 $((1 << 62)); le64 $((1 << 62))
  le64 $((1 << 61)); le32 0; printf 'fmt '; le32 16; le16 1; le16 1; le32 48000
  le32 96000; le16 2; le16 16; printf 'data'; le32 4294967295; cat "$pcm"; } >"$a/rf64_ds64_huge.wav"
# A chunk whose size runs past the end before the fmt chunk
{ printf 'RIFF'; le32 $((36 + pcm_bytes)); printf 'WAVEJUNK'; le32 4000000000; printf 'xxxx'; } >"$a/junk_overrun.wav"
# Not sound at all
garbage 4096 7 >"$a/garbage.wav"
{ printf 'RIFF'; le32 4100; printf 'WAVE'; garbage 4096 11; } >"$a/riff_garbage.wav"
printf 'this is not a sound file\n' >"$a/text.wav"
mkdir "$a/folder.wav"

# ---- FLAC
flac=$a/ok.flac
head -c 4 "$flac" >"$a/flac_marker_only.flac"
head -c 20 "$flac" >"$a/flac_trunc_streaminfo.flac"
head -c 42 "$flac" >"$a/flac_streaminfo_only.flac"
n=$(wc -c <"$flac")
head -c $((n / 2)) "$flac" >"$a/flac_trunc_half.flac"
head -c $((n - 7)) "$flac" >"$a/flac_trunc_tail.flac"
b20=$(byte_at "$flac" 20)
b21=$(byte_at "$flac" 21)
cp "$flac" "$a/flac_rate0.flac"; bytes "$a/flac_rate0.flac" 18 00 00 "$(hex $((b20 & 15)))"
cp "$flac" "$a/flac_ch8.flac"; bytes "$a/flac_ch8.flac" 20 "$(hex $((b20 | 14)))"
cp "$flac" "$a/flac_bps32.flac"; bytes "$a/flac_bps32.flac" 20 "$(hex $((b20 | 1)))" "$(hex $((b21 | 240)))"
cp "$flac" "$a/flac_bps4.flac"; bytes "$a/flac_bps4.flac" 20 "$(hex $((b20 & 254)))" "$(hex $((b21 & 15 | 48)))"
cp "$flac" "$a/flac_total_huge.flac"; bytes "$a/flac_total_huge.flac" 21 "$(hex $((b21 | 15)))" ff ff ff ff
cp "$flac" "$a/flac_blocksize0.flac"; bytes "$a/flac_blocksize0.flac" 8 00 00 00 00
cp "$flac" "$a/flac_meta_len_huge.flac"; bytes "$a/flac_meta_len_huge.flac" 5 ff ff ff
cp "$flac" "$a/flac_corrupt_frames.flac"
dd if=/dev/zero bs=1 count=64 status=none | tr '\0' 'U' |
  dd of="$a/flac_corrupt_frames.flac" bs=1 seek=$((n / 2)) conv=notrunc status=none
{ printf 'fLaC'; garbage 2048 13; } >"$a/flac_garbage.flac"
rm -f "$pcm"
echo "hostile corpus: $(ls "$a" | wc -l) files under $a"
