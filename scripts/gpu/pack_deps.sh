#!/usr/bin/env bash
# Packs what a CUDA build of gemma-eval needs from this Debian machine for a GPU machine that has a
# CUDA LibTorch (PyTorch's wheel) but none of Debian's packages and no package registry:
#   .devsys/usr/...   headers, CMake configs and shared libraries (fmt, re2, sqlite3, nlohmann-json,
#                     CLI11, xxhash), in Debian's own layout so their CMake configs resolve relative paths;
#   .devref/          the tiny-vision reference checkpoint, its real tokenizer.json (xz-compressed,
#                     unpacked there by check.sh) and tiny-text's token sequences.
# Both folders are git-ignored through .git/info/exclude. Usage: bash scripts/gpu/pack_deps.sh [SHARED_DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
shared=${1:-../shared}
for entry in /.devsys/ /.devref/; do
  grep -qxF "$entry" .git/info/exclude 2>/dev/null || echo "$entry" >>.git/info/exclude
done

rm -rf .devsys .devref
copy() { mkdir -p ".devsys$(dirname "$1")" && cp -a "$1" ".devsys$1"; }
arch=/usr/lib/x86_64-linux-gnu
for path in /usr/include/fmt /usr/include/nlohmann /usr/include/CLI /usr/include/re2 \
            /usr/include/sqlite3.h /usr/include/sqlite3ext.h /usr/include/zlib.h /usr/include/zconf.h \
            /usr/include/xxhash.h /usr/include/xxh3.h $arch/libxxhash.so* \
            $arch/cmake/fmt /usr/share/cmake/nlohmann_json /usr/share/cmake/CLI11 \
            $arch/libfmt.so* $arch/libre2.so* $arch/libsqlite3.so* $arch/libz.so*; do
  copy "$path"
done
# nlohmann_json's package files may also sit under share/pkgconfig etc.; only the CMake config matters.

# tiny-vision: a whole Gemma 3 (7-layer decoder with sliding and global layers, linear RoPE scaling, SigLIP
# tower, projector); its decoder also serves the text-only checks (tiny-text as well would pass the
# 64 MiB a device call carries). Its tokenizer.json is a link to the real one: packed compressed instead.
mkdir -p .devref/tiny-vision
src="$shared"/reference/tiny-vision
cp -aL "$src"/{config.json,generation_config.json,inputs.json,preprocessor_config.json} .devref/tiny-vision/
cp -aL "$src"/{processor_config.json,model.safetensors,image0.png,expected} .devref/tiny-vision/
cp -a "$shared"/data/tokenizer/gemma3/tokenizer_config.json .devref/tiny-vision/  # the fixture holds a link
cp -a "$shared"/reference/tiny-text/expected/manifest.json .devref/tiny-text-manifest.json
xz -T2 -6 -c "$shared"/data/tokenizer/gemma3/tokenizer.json >.devref/tokenizer.json.xz
du -sh .devsys .devref
