"""A photo handed in from a phone: decoded to prove it is an image, refused when it is a
decompression bomb or not whole, re-encoded as JPEG without its metadata (its location kept only
where the campaign allows it), scaled to at most PHOTO_LONG_SIDE pixels, thumbnailed, and its
capture time kept.

Nothing here trusts the name or the type the browser sent: Pillow reads the header, the pixel count
is checked before a single pixel is decoded, and the whole image is then decoded so that a truncated
file fails here rather than on a coordinator's screen. A JPEG is decoded at a reduced scale
(``Image.draft``: the decoder skips the DCT coefficients it does not need), which keeps a
12-megapixel photo well under a second and a hundred megabytes (benchmarks/photos.py).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from PIL import Image, ImageOps, UnidentifiedImageError

from workflow.errors import InvalidInput
from workflow.limits import MAX_PHOTO_PIXELS, PHOTO_LONG_SIDE, THUMBNAIL_LONG_SIDE

# what phones and cameras write; Pillow reads many more (TIFF, PSD, ICO …) that nobody hands in
# from a phone and whose decoders are a larger surface. MPO is how several phones store a JPEG.
PHOTO_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "WEBP"})
# 85 is where a 1,600 px photo stops losing visible detail (some 300 KB); a thumbnail is looked at
# small, 75 keeps it near 15 KB
PHOTO_QUALITY = 85
THUMBNAIL_QUALITY = 75

# EXIF tags (Pillow's ExifTags): the sub-IFDs, and the capture time inside the Exif IFD
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
DATE_TIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011


@dataclass(frozen=True)
class ProcessedPhoto:
    """A photo as it is stored: re-encoded JPEG bytes, a thumbnail, its size and capture time."""

    data: bytes
    thumbnail: bytes
    width: int
    height: int
    captured_at: datetime | None  # aware, UTC; None when the camera did not say


def process_photo(
    data: bytes, *, keep_location: bool, zone: str | ZoneInfo, name: str = "photo"
) -> ProcessedPhoto:
    """``data`` decoded, checked and re-encoded (InvalidInput naming ``name`` if it is no image,
    a bomb, or damaged); the capture time read in ``zone`` when the camera gave no offset."""
    with warnings.catch_warnings():
        # our own pixel limit is lower than Pillow's warning threshold and checked first
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:  # past Pillow's own limit, twice ours
            raise InvalidInput(
                f"{name} has too many pixels: at most {MAX_PHOTO_PIXELS // 1_000_000} megapixels"
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise InvalidInput(
                f"{name} is not a photo: only JPEG, PNG, GIF and WebP images are accepted"
            ) from None
        if image.format not in PHOTO_FORMATS:
            raise InvalidInput(
                f"{name} is not a photo: only JPEG, PNG, GIF and WebP images are accepted"
            )
        width, height = image.size
        if width * height > MAX_PHOTO_PIXELS:
            raise InvalidInput(
                f"{name} has too many pixels ({width} × {height}): at most "
                f"{MAX_PHOTO_PIXELS // 1_000_000} megapixels"
            )
        exif = _exif(image)
        if image.format in ("JPEG", "MPO"):
            # decode at the smallest scale (1/2, 1/4, 1/8) that still has PHOTO_LONG_SIDE pixels
            # on the long side: a 12 MP photo is decoded as 3 MP
            scale = PHOTO_LONG_SIDE / max(width, height)
            if scale < 1:
                image.draft("RGB", (round(width * scale), round(height * scale)))
        try:
            image.load()  # the whole file: a truncated one fails here
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise InvalidInput(f"{name} is damaged or incomplete: take or send it again") from None
    image = _upright_rgb(image, exif)
    image.thumbnail((PHOTO_LONG_SIDE, PHOTO_LONG_SIDE), Image.Resampling.LANCZOS)
    captured_at = _captured_at(exif, zone)
    photo = io.BytesIO()
    image.save(
        photo,
        "JPEG",
        quality=PHOTO_QUALITY,
        exif=_kept_exif(exif, keep_location).tobytes(),
    )
    thumb = image.copy()
    # the photo is already small: bilinear is as sharp at 320 px and several times faster
    thumb.thumbnail((THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE), Image.Resampling.BILINEAR)
    thumbnail = io.BytesIO()
    thumb.save(thumbnail, "JPEG", quality=THUMBNAIL_QUALITY)
    return ProcessedPhoto(
        photo.getvalue(), thumbnail.getvalue(), image.width, image.height, captured_at
    )


# --- helpers ------------------------------------------------------------------------------------


def _exif(image: Image.Image) -> Image.Exif:
    # a camera's EXIF block may be malformed; a photo without a readable one is still a photo
    try:
        return image.getexif()
    except Exception:  # noqa: BLE001 - Pillow's TIFF parser raises many kinds on bad data
        return Image.Exif()


def _upright_rgb(image: Image.Image, exif: Image.Exif) -> Image.Image:
    try:
        image = ImageOps.exif_transpose(image) or image
    except Exception:  # noqa: BLE001 - a bad orientation tag: keep the photo as it was taken
        pass
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        # JPEG has no transparency: what was transparent is shown on white, as a browser does
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB") if image.mode != "RGB" else image


def _captured_at(exif: Image.Exif, zone: str | ZoneInfo) -> datetime | None:
    try:
        details = exif.get_ifd(EXIF_IFD)
    except Exception:  # noqa: BLE001 - see _exif
        return None
    taken = details.get(DATE_TIME_ORIGINAL)
    if not isinstance(taken, str):
        return None
    try:
        moment = datetime.strptime(taken.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "0000:00:00 00:00:00" is what some cameras write when they do not know
    offset = _offset(details.get(OFFSET_TIME_ORIGINAL))
    if offset is not None:
        local = moment.replace(tzinfo=offset)
    else:  # a camera without an offset writes its own local time: the campaign's zone, most likely
        local = moment.replace(tzinfo=zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone))
    return local.astimezone(timezone.utc)


def _offset(text: object) -> timezone | None:
    if not isinstance(text, str):
        return None
    text = text.strip("\x00 ")
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _kept_exif(exif: Image.Exif, keep_location: bool) -> Image.Exif:
    """Only the capture time (and the location, if kept): the camera's serial number, the owner's
    name, the thumbnail of the unedited photo and the orientation (already applied) go."""
    kept = Image.Exif()
    try:
        details = exif.get_ifd(EXIF_IFD)
        location = exif.get_ifd(GPS_IFD) if keep_location else {}
    except Exception:  # noqa: BLE001 - see _exif
        return kept
    time_tags = {
        tag: details[tag] for tag in (DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL) if tag in details
    }
    if time_tags:
        kept[EXIF_IFD] = time_tags
    if location:
        kept[GPS_IFD] = dict(location)
    return kept
