"""Evidence files on disk: under the instance folder, each under the random name the engine gave it.

The engine decides what is accepted and who may see it (``workflow.hazards.evidence``);
this module only moves bytes. Files are written before the transaction that
records them commits and removed again if it does not, so a refused move
leaves no file behind. A disk (or quota) that fills up while a file is being
written is the same: the partial file is removed, nothing is recorded, and the
person is told the files could not be stored (:class:`StorageFull`). A photo
is two files, the re-encoded photo and its thumbnail: both are written, and
both removed, together.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Response, current_app, send_file
from werkzeug.datastructures import FileStorage

from webapp.security import EVIDENCE_POLICY
from workflow.clock import DEFAULT_TIMEZONE
from workflow.definitions.reader import PhotoRules
from workflow.errors import Conflict
from workflow.hazards.evidence import PHOTO_TYPES, AcceptedUpload, Upload, accept_uploads
from workflow.limits import MAX_FILE_BYTES
from workflow.models import EvidenceFile

# the write failed for want of room, not because of the file: try again when an operator has made
# some
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class StorageFull(Conflict):
    """The evidence could not be written for want of disk space; nothing was recorded.

    A Conflict, so the pages show it beside the form like any move that is not
    possible now; the API's shape says 507 Insufficient Storage.
    """

    code = "insufficient_storage"
    status = 507


def accept(
    files: list[FileStorage] | None,
    *,
    photos: list[FileStorage] | None = None,
    rules: tuple[PhotoRules, str] | None = None,
) -> list[tuple[AcceptedUpload, FileStorage]]:
    """The uploaded files the engine accepts (InvalidInput naming the first it refuses): ``files``
    photos or documents, ``photos`` images only; photos re-encoded under ``rules`` (the
    campaign's, with its zone: evidence.photo_rules)."""
    present = [
        (f, photo_only)
        for photo_only, given in ((True, photos), (False, files))
        for f in (given or [])
        if isinstance(f, FileStorage) and f.filename
    ]
    uploads = []
    for storage, photo_only in present:
        stream = storage.stream
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        head = stream.read(16)
        stream.seek(0)
        # a file over the limit is refused by its size: never read into memory
        data = stream.read() if size <= MAX_FILE_BYTES else None
        stream.seek(0)
        uploads.append(Upload(storage.filename or "", head, size, data, photo_only))
    photo_rules, zone = rules or (PhotoRules(), DEFAULT_TIMEZONE)
    accepted = accept_uploads(uploads, rules=photo_rules, zone=zone)
    return list(zip(accepted, [storage for storage, _ in present]))


@contextmanager
def kept(files: list[tuple[AcceptedUpload, FileStorage]]) -> Iterator[list[AcceptedUpload]]:
    """Write the files; remove them again if the block (the transaction recording them) fails."""
    written: list[Path] = []
    try:
        folder = _folder()
        for accepted, storage in files:
            path = folder / accepted.stored_name
            # before the write: one that fails half-way leaves a partial file to remove
            written.append(path)
            _save(storage if accepted.data is None else io.BytesIO(accepted.data), path)
            if accepted.thumb_name and accepted.thumbnail is not None:
                thumb = folder / accepted.thumb_name
                written.append(thumb)
                _save(io.BytesIO(accepted.thumbnail), thumb)
        yield [accepted for accepted, _ in files]
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def send(evidence: EvidenceFile) -> Response:
    """The file of an evidence row (the caller has checked the viewer may see it)."""
    path = _folder() / Path(evidence.stored_name).name
    inline = evidence.content_type in PHOTO_TYPES
    response = send_file(
        path,
        mimetype=evidence.content_type,
        as_attachment=not inline,
        download_name=evidence.file_name,
        max_age=0,
        conditional=True,
    )
    response.headers["Content-Security-Policy"] = EVIDENCE_POLICY
    response.headers["Cache-Control"] = "private, no-store"
    return response


def send_thumbnail(evidence: EvidenceFile) -> Response:
    """The thumbnail of a photo (the caller has checked the viewer may see it); the photo itself
    where there is none (a file handed in before photos were re-encoded)."""
    if not evidence.thumb_name:
        return send(evidence)
    response = send_file(
        _folder() / Path(evidence.thumb_name).name,
        mimetype="image/jpeg",
        max_age=0,
        conditional=True,
    )
    response.headers["Content-Security-Policy"] = EVIDENCE_POLICY
    response.headers["Cache-Control"] = "private, no-store"
    return response


def read_thumbnail(evidence: EvidenceFile) -> bytes | None:
    """A photo's thumbnail bytes for the ledger's workbook; None when it has none or it is gone."""
    if not evidence.thumb_name:
        return None
    try:
        return (_folder() / Path(evidence.thumb_name).name).read_bytes()
    except OSError:
        return None


def _save(storage: FileStorage | io.BytesIO, path: Path) -> None:
    try:
        if isinstance(storage, FileStorage):
            storage.save(path)
        else:
            with path.open("wb") as target:
                shutil.copyfileobj(storage, target)
    except OSError as error:
        if error.errno in NO_ROOM:
            raise StorageFull(
                "the evidence files could not be stored: the server has no disk space left. "
                "Nothing was changed; try again later or tell the administrator"
            ) from error
        raise


def _folder() -> Path:
    folder = Path(current_app.config["EVIDENCE_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder
