#!/usr/bin/env python3
"""Makes the image-preprocessing parity vectors in this folder with Pillow (the library Hugging Face's
Gemma3ImageProcessor resizes with), for tests/unit/test_image_preprocess.cpp.

Generated with Debian 12's python3-pil 9.4.0 and python3-numpy 1.24.2 (the versions the tiny-vision
fixtures were made with): /usr/bin/python3 tests/data/images/make_vectors.py
The output is deterministic; rerunning it rewrites the same files.

decode/   small image files in every supported container and pixel layout, each with <name>.rgb.npy =
          np.asarray(Image.open(f).convert("RGB")) (uint8 [H, W, 3]) and, where the file has an EXIF
          orientation, <name>.exif.npy = np.asarray(ImageOps.exif_transpose(Image.open(f)).convert("RGB"))
          (what transformers' load_image gives).
resize/   manifest.json: Image.resize((w, h), resample=filter) of a synthetic RGB image (pattern() below,
          recomputed by the C++ test) -> the uint8 result as <case>.npy, or its sha256 when large.
"""
import hashlib
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent


def pattern(w, h):
    """Synthetic RGB uint8 [h, w, 3]: 16x16 checker of hash-like noise and wrapping gradients."""
    x = np.arange(w, dtype=np.int64)[None, :, None]
    y = np.arange(h, dtype=np.int64)[:, None, None]
    c = np.arange(3, dtype=np.int64)[None, None, :]
    noise = ((x * 37 + y * 91 + c * 53) ^ (x * y * 7 + (x >> 2) * 29 + (y >> 3) * 13)) & 255
    smooth = (x * 255 // max(w - 1, 1) + y * 3 + c * 40) & 255
    v = np.where(((x >> 4) + (y >> 4)) % 2 == 0, noise, smooth)
    return np.ascontiguousarray(np.broadcast_to(v, (h, w, 3)).astype(np.uint8))


# ---------------------------------------------------------------- hand-made PNG / BMP containers
def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(rows, w, h, color_type, bit_depth, extra=b""):
    raw = b"".join(b"\x00" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra + png_chunk(b"IDAT", zlib.compress(raw))
            + png_chunk(b"IEND", b""))


def pack_bits(values, bits):
    """Packs small ints MSB first into bytes, one PNG row."""
    out, acc, n = bytearray(), 0, 0
    for v in values:
        acc = (acc << bits) | int(v)
        n += bits
        if n == 8:
            out.append(acc)
            acc, n = 0, 0
    if n:
        out.append(acc << (8 - n))
    return bytes(out)


def bmp_bytes(w, h, bpp, rows_bottom_up, compression=0, masks=b"", palette=b""):
    header_size = 40
    offset = 14 + header_size + len(masks) + len(palette)
    data = b"".join(rows_bottom_up)
    info = struct.pack("<IiiHHIIiiII", header_size, w, h, 1, bpp, compression, len(data), 2835, 2835,
                       len(palette) // 4, 0)
    file_header = b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset)
    return file_header + info + masks + palette + data


def exif_bytes(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


# ---------------------------------------------------------------- decode vectors
def make_decode():
    out = HERE / "decode"
    out.mkdir(exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    w, h = 23, 17
    rgb = pattern(w, h)
    files = {}

    def save_pil(name, image, fmt, **kw):
        buf = io.BytesIO()
        image.save(buf, fmt, **kw)
        files[name] = buf.getvalue()

    # PNG through Pillow's encoder
    save_pil("rgb8.png", Image.fromarray(rgb), "PNG")
    alpha = ((np.arange(w)[None, :] * 11 + np.arange(h)[:, None] * 5) % 256).astype(np.uint8)
    alpha[::3, ::2] = 0  # fully transparent pixels keep their RGB (no compositing)
    save_pil("rgba8.png", Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), "PNG")
    save_pil("gray8.png", Image.fromarray(rgb[..., 1]), "PNG")
    save_pil("la8.png", Image.fromarray(np.dstack([rgb[..., 0], alpha]), "LA"), "PNG")
    save_pil("p8.png", Image.fromarray(rgb).quantize(37), "PNG")
    # PNG layouts Pillow does not write, by hand
    gray = rgb[..., 2]
    files["gray1.png"] = png_bytes([pack_bits(r >> 7, 1) for r in gray], w, h, 0, 1)
    files["gray2.png"] = png_bytes([pack_bits(r >> 6, 2) for r in gray], w, h, 0, 2)
    files["gray4.png"] = png_bytes([pack_bits(r >> 4, 4) for r in gray], w, h, 0, 4)
    palette = bytes(pattern(16, 1).reshape(-1)) + bytes([255, 255, 255, 0, 0, 0])  # 18 entries
    files["pal2.png"] = png_bytes([pack_bits(r >> 6, 2) for r in gray], w, h, 3, 2, png_chunk(b"PLTE", palette[:12]))
    files["pal4_trns.png"] = png_bytes([pack_bits(r >> 4, 4) for r in gray], w, h, 3, 4,
                                       png_chunk(b"PLTE", palette[:48]) + png_chunk(b"tRNS", bytes([0, 128, 255, 7])))
    files["gray8_trns.png"] = png_bytes([r.tobytes() for r in gray], w, h, 0, 8,
                                        png_chunk(b"tRNS", struct.pack(">H", int(gray[0, 0]))))
    files["rgb8_trns.png"] = png_bytes([r.tobytes() for r in rgb], w, h, 2, 8,
                                       png_chunk(b"tRNS", struct.pack(">HHH", *[int(v) for v in rgb[0, 0]])))
    wide = (pattern(w, h).astype(np.uint16) * 257 + np.arange(w, dtype=np.uint16)[None, :, None] * 3)
    files["rgb16.png"] = png_bytes([r.astype(">u2").tobytes() for r in wide], w, h, 2, 16)
    a16 = (alpha.astype(np.uint16) * 256 + 17)
    files["rgba16.png"] = png_bytes([r.astype(">u2").tobytes() for r in np.dstack([wide, a16])], w, h, 6, 16)
    files["la16.png"] = png_bytes([r.astype(">u2").tobytes() for r in np.dstack([wide[..., 0], a16])], w, h, 4, 16)
    # 16-bit gray: Pillow opens it as mode "I" and convert("RGB") clips each value to 0..255
    g16 = (np.arange(w * h, dtype=np.int64).reshape(h, w) * 97 % 700).astype(np.uint16)
    g16[0, :4] = [0, 255, 256, 65535]
    files["gray16.png"] = png_bytes([r.astype(">u2").tobytes() for r in g16], w, h, 0, 16)
    files["gray16_trns.png"] = png_bytes([r.astype(">u2").tobytes() for r in g16], w, h, 0, 16,
                                         png_chunk(b"tRNS", struct.pack(">H", 256)))
    # JPEG (libjpeg-turbo through Pillow)
    save_pil("q90_420.jpg", Image.fromarray(rgb), "JPEG", quality=90)
    save_pil("q95_444.jpg", Image.fromarray(rgb), "JPEG", quality=95, subsampling=0)
    save_pil("q75_422.jpg", Image.fromarray(rgb), "JPEG", quality=75, subsampling=1)
    save_pil("progressive.jpg", Image.fromarray(rgb), "JPEG", quality=85, progressive=True)
    save_pil("gray.jpg", Image.fromarray(gray), "JPEG", quality=90)
    cmyk = np.dstack([rgb, gray])
    save_pil("cmyk.jpg", Image.frombytes("CMYK", (w, h), cmyk.tobytes()), "JPEG", quality=90)
    for orientation in (3, 5, 6, 8):
        save_pil(f"exif{orientation}.jpg", Image.fromarray(rgb), "JPEG", quality=90, exif=exif_bytes(orientation))
    for orientation in (2, 4, 7):
        save_pil(f"exif{orientation}.png", Image.fromarray(rgb), "PNG", exif=exif_bytes(orientation))
    # WebP (libwebp through Pillow)
    save_pil("lossy.webp", Image.fromarray(rgb), "WEBP", quality=80)
    save_pil("lossless.webp", Image.fromarray(rgb), "WEBP", lossless=True)
    save_pil("lossy_alpha.webp", Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), "WEBP", quality=80)
    save_pil("lossless_alpha.webp", Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), "WEBP", lossless=True,
             exact=True)
    save_pil("exif6.webp", Image.fromarray(rgb), "WEBP", lossless=True, exif=exif_bytes(6))
    # BMP: Pillow's writer (24-bit, 8-bit palette, 1-bit) and hand-made 32- and 16-bit ones
    save_pil("rgb24.bmp", Image.fromarray(rgb), "BMP")
    save_pil("p8.bmp", Image.fromarray(rgb).quantize(37), "BMP")
    save_pil("gray8.bmp", Image.fromarray(gray), "BMP")
    save_pil("bw1.bmp", Image.fromarray(gray).convert("1"), "BMP")

    def pad4(b):
        return b + b"\x00" * ((-len(b)) % 4)
    bgra = np.dstack([rgb[..., ::-1], alpha])
    files["bgrx32.bmp"] = bmp_bytes(w, h, 32, [pad4(r.tobytes()) for r in bgra[::-1]])
    r5, g6, b5 = rgb[..., 0] >> 3, rgb[..., 1] >> 2, rgb[..., 2] >> 3
    p565 = ((r5.astype(np.uint16) << 11) | (g6.astype(np.uint16) << 5) | b5).astype("<u2")
    files["rgb565.bmp"] = bmp_bytes(w, h, 16, [pad4(r.tobytes()) for r in p565[::-1]], compression=3,
                                    masks=struct.pack("<III", 0xF800, 0x07E0, 0x001F))
    p555 = ((r5.astype(np.uint16) << 10) | ((g6 >> 1).astype(np.uint16) << 5) | b5).astype("<u2")
    files["rgb555.bmp"] = bmp_bytes(w, h, 16, [pad4(r.tobytes()) for r in p555[::-1]])

    manifest = []
    for name, data in sorted(files.items()):
        (out / name).write_bytes(data)
        image = Image.open(out / name)
        entry = {"file": name, "pil_mode": image.mode, "size_wh": list(image.size)}
        np.save(out / f"{name}.rgb.npy", np.asarray(image.convert("RGB")))
        orientation = image.getexif().get(0x0112)
        if orientation is not None:
            entry["exif_orientation"] = orientation
            np.save(out / f"{name}.exif.npy", np.asarray(ImageOps.exif_transpose(Image.open(out / name)).convert("RGB")))
        manifest.append(entry)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


# ---------------------------------------------------------------- resize vectors
FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS, "box": Image.BOX,
           "hamming": Image.HAMMING}


def make_resize():
    out = HERE / "resize"
    out.mkdir(exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    cases = []
    small = [(13, 11), (20, 7), (50, 41), (64, 64), (37, 10), (5, 29), (1, 1), (74, 58), (111, 15), (3, 2),
             (36, 28), (38, 30), (37, 29)]
    for size in small:
        cases.append(((37, 29), size, "bilinear"))
    for name in ("bicubic", "lanczos", "box", "hamming"):
        for size in ((13, 11), (50, 41), (111, 15)):
            cases.append(((37, 29), size, name))
    large = [((1000, 750), (896, 896)), ((640, 480), (896, 896)), ((896, 896), (896, 896)),
             ((3000, 200), (896, 896)), ((1000, 750), (56, 56)), ((333, 1201), (896, 896)), ((80, 60), (56, 56))]
    for src, size in large:
        cases.append((src, size, "bilinear"))
    cases.append(((1000, 750), (896, 896), "bicubic"))
    manifest = []
    for src, size, name in cases:
        image = Image.fromarray(pattern(*src))
        result = np.asarray(image.resize(size, resample=FILTERS[name]))
        assert result.shape == (size[1], size[0], 3)
        entry = {"source_wh": list(src), "size_wh": list(size), "filter": name}
        stem = f"{name}_{src[0]}x{src[1]}_to_{size[0]}x{size[1]}"
        if result.size <= 12000:
            np.save(out / f"{stem}.npy", result)
            entry["npy"] = f"{stem}.npy"
        else:
            entry["sha256"] = hashlib.sha256(result.tobytes()).hexdigest()
        manifest.append(entry)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def make_pan_and_scan():
    """Pan-and-scan of a 1000x300 synthetic image (min crop 256, max 4, ratio 1.2): the crops as
    transformers slices them (numpy, clipped at the border), each resized to 56x56 like the original."""
    out = HERE / "resize"
    source = pattern(1000, 300)
    crops = [source[0:300, x:x + 334] for x in (0, 334, 668)]  # 3 crops of width ceil(1000/3) = 334
    results = [np.asarray(Image.fromarray(a).resize((56, 56), resample=Image.BILINEAR)) for a in [source] + crops]
    np.save(out / "pan_and_scan_1000x300_to_56x56.npy", np.stack(results))


if __name__ == "__main__":
    make_decode()
    make_resize()
    make_pan_and_scan()
