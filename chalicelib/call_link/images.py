"""Call Link images (`/call-link/1/images`): logos and backgrounds, judged by their content alone.

An upload is a PNG or a JPEG, whatever its name or part content type says: SVG (scriptable) and everything else is
refused. The structure is checked, not just the magic bytes: a PNG's IHDR chunk (with its CRC) and its IEND; a
JPEG's markers up to a frame header, and its end-of-image marker. Limits: `MAX_IMAGE_BYTES`, and at most
`MAX_DIMENSION` pixels on a side. The image is stored first, then the item (a failed item write removes it).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from chalicelib.call_link import repository
from chalicelib.call_link.errors import CallLinkResourceNotFound, ImageTooLarge, InvalidImage
from chalicelib.call_link.schemas import ImagePage, ImageResponse
from chalicelib.core import clock, ids
from chalicelib.core.paging import PageInfo, page_of
from chalicelib.db.models import CallLinkImage
from chalicelib.files.service import display_name

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_REQUEST_BYTES = MAX_IMAGE_BYTES + 64 * 1024
MAX_DIMENSION = 4096
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_FRAME_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
NOT_AN_IMAGE = "its content is neither a PNG nor a JPEG image; only PNG and JPEG are accepted (no SVG)"


@dataclass(frozen=True)
class ImageInfo:
    format: str  # PNG | JPEG
    width: int
    height: int


def _png(data: bytes) -> ImageInfo:
    if len(data) < 33 or data[12:16] != b"IHDR" or int.from_bytes(data[8:12], "big") != 13:
        raise InvalidImage("its PNG header chunk (IHDR) is missing or malformed")
    if zlib.crc32(data[12:29]) != int.from_bytes(data[29:33], "big"):
        raise InvalidImage("its PNG header chunk fails its CRC check")
    if data[-12:-4] != b"\x00\x00\x00\x00IEND":
        raise InvalidImage("it is truncated: the PNG does not end with an IEND chunk")
    width, height = struct.unpack(">II", data[16:24])
    return ImageInfo("PNG", width, height)


def _jpeg(data: bytes) -> ImageInfo:
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise InvalidImage("it is truncated: the JPEG does not end with an end-of-image marker")
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            raise InvalidImage("its JPEG marker structure is broken")
        marker = data[offset + 1]
        if marker == 0xFF:
            offset += 1  # fill byte
            continue
        length = int.from_bytes(data[offset + 2 : offset + 4], "big")
        if length < 2 or offset + 2 + length > len(data):
            raise InvalidImage("a JPEG segment runs past the end of the file")
        if marker in JPEG_FRAME_MARKERS:
            if length < 7:
                raise InvalidImage("its JPEG frame header is malformed")
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return ImageInfo("JPEG", width, height)
        if marker == 0xDA:
            break  # image data before any frame header
        offset += 2 + length
    raise InvalidImage("it has no JPEG frame header")


def inspect(data: bytes) -> ImageInfo:
    if data.startswith(PNG_SIGNATURE):
        info = _png(data)
    elif data.startswith(b"\xff\xd8\xff"):
        info = _jpeg(data)
    else:
        raise InvalidImage(NOT_AN_IMAGE)
    if not (0 < info.width <= MAX_DIMENSION and 0 < info.height <= MAX_DIMENSION):
        raise InvalidImage(
            f"it is {info.width}x{info.height} pixels; each side must be between 1 and {MAX_DIMENSION} pixels"
        )
    return info


def to_infobip(item: CallLinkImage) -> ImageResponse:
    return ImageResponse(
        id=item.image_id, name=item.name, type="LOGO" if item.type == "LOGO" else "BACKGROUND", size=int(item.size)
    )


def upload_image(account_id: str, image_type: str, filename: str | None, data: bytes) -> ImageResponse:
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(MAX_IMAGE_BYTES)
    if not data:
        raise InvalidImage("it is empty")
    info = inspect(data)
    image_id = ids.uuid_id()
    item = CallLinkImage(
        account_id,
        image_id,
        name=display_name(filename, image_id, "png" if info.format == "PNG" else "jpg"),  # type: ignore[arg-type]
        type=image_type,
        image_format=info.format,
        size=len(data),
        width=info.width,
        height=info.height,
        object_key=repository.image_key(account_id, image_id, info.format),
        created_at=clock.now(),
    )
    repository.put_image_object(item.object_key, data, info.format)
    try:
        repository.create_image(item)
    except Exception:
        repository.delete_image_object(item.object_key)
        raise
    return to_infobip(item)


def _existing(account_id: str, image_id: str) -> CallLinkImage:
    item = repository.get_image(account_id, image_id) if 0 < len(image_id) <= 128 else None
    if item is None:
        raise CallLinkResourceNotFound("Image", image_id)
    return item


def get_image(account_id: str, image_id: str) -> ImageResponse:
    return to_infobip(_existing(account_id, image_id))


def list_images(account_id: str, page: int, size: int) -> ImagePage:
    items = sorted(repository.list_images(account_id), key=lambda item: (item.created_at, item.image_id))
    chosen, paging = page_of(items, page, size)
    return ImagePage(results=[to_infobip(item) for item in chosen], paging=PageInfo(**paging))


def delete_image(account_id: str, image_id: str) -> ImageResponse:
    item = _existing(account_id, image_id)
    if not repository.delete_image(item):
        raise CallLinkResourceNotFound("Image", image_id)
    repository.delete_image_object(item.object_key)
    return to_infobip(item)


def open_image(account_id: str, image_id: str) -> tuple[bytes, str] | None:
    """An image's bytes and content type for a page; None when the account no longer has it."""
    item = repository.get_image(account_id, image_id)
    if item is None:
        return None
    return repository.read_image_object(item.object_key), repository.CONTENT_TYPES[item.image_format]
