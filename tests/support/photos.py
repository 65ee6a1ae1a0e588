"""Photos and files that pose as photos, made on the spot for the evidence tests: a phone's JPEG
with its EXIF (capture time, GPS, orientation), a PDF, a truncated JPEG, a PNG decompression bomb."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

# EXIF tags: the sub-IFDs, the capture time and its offset, the orientation
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL, ORIENTATION = 0x9003, 0x9011, 0x0112
# 31°14′N 121°28′E: the Bund, where a photo of someone's home must not say it was taken
GPS = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}


def jpeg(
    width: int = 2400,
    height: int = 1800,
    *,
    taken: str | None = "2026:05:12 09:30:00",
    offset: str | None = None,
    gps: bool = False,
    orientation: int | None = None,
    colour: tuple[int, int, int] = (170, 90, 40),
) -> bytes:
    """A camera's JPEG: a gradient (so it does not compress to nothing), with the EXIF asked for."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image = Image.blend(image, Image.new("RGB", (width, height), colour), 0.6)
    exif = Image.Exif()
    details = {}
    if taken:
        details[DATE_TIME_ORIGINAL] = taken
    if offset:
        details[OFFSET_TIME_ORIGINAL] = offset
    if details:
        exif[EXIF_IFD] = details
    if gps:
        exif[GPS_IFD] = dict(GPS)
    if orientation:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def pdf() -> bytes:
    """A one-page PDF (what a scanned acceptance form is)."""
    out = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(out, "PDF")
    return out.getvalue()


def truncated_jpeg() -> bytes:
    """A photo whose upload stopped half-way: its header is whole, its pixels are not."""
    whole = jpeg(1200, 900)
    return whole[: len(whole) // 2]


def png_bomb(side: int = 20_000) -> bytes:
    """A real decompression bomb: a side × side black PNG (1-bit, so a small file), 400 megapixels
    for 20,000 — 1.2 GB once decoded as RGB."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)  # filter byte, then the row's bits
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row * 1000) for _ in range(side // 1000))
    body += packer.compress(row * (side % 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def huge_file(megabytes: int = 30) -> bytes:
    """A file of ``megabytes`` MB that starts like a JPEG: refused by its size, never decoded."""
    return jpeg(64, 48) + b"\x00" * (megabytes * 1024 * 1024)


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
