"""Evidence files on disk: under the instance folder, each under the random name the engine gave it.

The engine decides what is accepted and who may see it (``workflow.evidence``);
this module only moves bytes. Files are written before the transaction that
records them commits and removed again if it does not, so a refused move
leaves no file behind.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Response, current_app, send_file
from werkzeug.datastructures import FileStorage

from webapp.security import EVIDENCE_POLICY
from workflow.evidence import AcceptedUpload, Upload, accept_uploads
from workflow.models import EvidenceFile

INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def accept(files: list[FileStorage] | None) -> list[tuple[AcceptedUpload, FileStorage]]:
    """The uploaded files the engine accepts (InvalidInput naming the first it refuses)."""
    present = [f for f in (files or []) if isinstance(f, FileStorage) and f.filename]
    uploads = []
    for storage in present:
        stream = storage.stream
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        head = stream.read(16)
        stream.seek(0)
        uploads.append(Upload(storage.filename or "", head, size))
    return list(zip(accept_uploads(uploads), present))


@contextmanager
def kept(files: list[tuple[AcceptedUpload, FileStorage]]) -> Iterator[list[AcceptedUpload]]:
    """Write the files; remove them again if the block (the transaction recording them) fails."""
    folder = _folder()
    written: list[Path] = []
    try:
        for accepted, storage in files:
            path = folder / accepted.stored_name
            storage.save(path)
            written.append(path)
        yield [accepted for accepted, _ in files]
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def send(evidence: EvidenceFile) -> Response:
    """The file of an evidence row (the caller has checked the viewer may see it)."""
    path = _folder() / Path(evidence.stored_name).name
    inline = evidence.content_type in INLINE_TYPES
    response = send_file(path, mimetype=evidence.content_type, as_attachment=not inline,
                         download_name=evidence.file_name, max_age=0, conditional=True)
    response.headers["Content-Security-Policy"] = EVIDENCE_POLICY
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _folder() -> Path:
    folder = Path(current_app.config["EVIDENCE_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder
