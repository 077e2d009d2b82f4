"""Documents over HTTP: the library (staff), a pushed document for its customer (signed link + visitor
token), a conversation's pushes and receipts, and pdf.js's files for the widget's viewer."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile as StarletteUpload

from contactcenter.auth import deps
from contactcenter.auth.service import StaffPrincipal, VisitorPrincipal
from contactcenter.conversations import service as conversations
from contactcenter.db import utcnow
from contactcenter.documents import files, service
from contactcenter.documents.models import Document
from contactcenter.documents.schemas import MAX_TAGS, DocumentEdit, DocumentFrame, DocumentOut, PushOut, Table, Tag
from contactcenter.http import ApiError, get_session, get_settings_dep
from contactcenter.settings import Settings

router = APIRouter()
UPLOAD_PATH = "/api/documents"
Session = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
# pdf.js from the npm registry (package.json), served by the app: the library, its worker, the character
# maps, standard fonts and decoders it fetches. Nothing from a CDN.
PDFJS_DIRS = ("cmaps", "standard_fonts", "wasm", "iccs")
PDFJS_FILES = {"pdf.min.mjs": "build/pdf.min.mjs", "pdf.worker.min.mjs": "build/pdf.worker.min.mjs"}
PDFJS_TYPES = {".mjs": "text/javascript", ".bcmap": "application/octet-stream", ".pfb": "application/octet-stream",
               ".ttf": "font/ttf", ".wasm": "application/wasm", ".icc": "application/octet-stream"}  # fmt: skip


def _file_response(doc: Document, *, private: bool) -> Response:
    ascii_name = doc.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = "attachment" if doc.content_type in (files.CSV, files.XLSX) else "inline"
    return Response(
        doc.data,
        media_type=doc.content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(doc.filename)}",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store" if private else "private, max-age=300",
        },
    )


def _tags_field(raw: object) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, str):
        raise ApiError(422, "invalid_request", "tags is comma-separated text")
    tags = [t.strip() for t in raw.split(",") if t.strip()]
    if len(tags) > MAX_TAGS:
        raise ApiError(422, "invalid_request", f"at most {MAX_TAGS} tags")
    return tags  # each checked as a Tag by DocumentEdit


@router.post(UPLOAD_PATH, response_model=DocumentOut, status_code=201)
async def upload(
    request: Request, session: Session, settings: SettingsDep, who: Annotated[StaffPrincipal, Depends(deps.agents)]
) -> DocumentOut:
    """multipart/form-data: `file`, `title`, `tags` (comma-separated)."""
    form = await request.form(max_files=1, max_fields=3)
    file, title = form.get("file"), form.get("title")
    if not isinstance(file, StarletteUpload):
        raise ApiError(422, "invalid_request", "send the field file")
    name = file.filename or "document"
    title = title.strip() if isinstance(title, str) and title.strip() else name.rsplit(".", 1)[0]
    try:
        tags = _tags_field(form.get("tags"))
        edit = DocumentEdit(title=title[:200], tags=tags)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc).splitlines()[0]) from None
    data = await file.read(settings.document_max_bytes + 1)
    return await service.add(
        session, title=edit.title or name, tags=edit.tags or [], filename=name, data=data, uploaded_by=who.user_id,
        max_bytes=settings.document_max_bytes,
    )  # fmt: skip


@router.get(UPLOAD_PATH, response_model=list[DocumentOut])
async def listing(
    session: Session,
    _: Annotated[StaffPrincipal, Depends(deps.agents)],
    q: Annotated[str | None, Query(max_length=200)] = None,
    tag: Annotated[Tag | None, Query()] = None,
) -> list[DocumentOut]:
    return await service.listing(session, q=q, tag=tag)


@router.get("/api/documents/{document_id}", response_model=DocumentOut)
async def one(document_id: str, session: Session, _: Annotated[StaffPrincipal, Depends(deps.agents)]) -> DocumentOut:
    return DocumentOut.model_validate(await service.get(session, document_id=document_id))


@router.get("/api/documents/{document_id}/file")
async def staff_file(
    document_id: str, session: Session, _: Annotated[StaffPrincipal, Depends(deps.agents)]
) -> Response:
    return _file_response(await service.get(session, document_id=document_id), private=False)


@router.patch("/api/documents/{document_id}", response_model=DocumentOut)
async def edit(
    document_id: str, body: DocumentEdit, session: Session, _: Annotated[StaffPrincipal, Depends(deps.supervisors)]
) -> DocumentOut:
    return await service.edit(session, document_id=document_id, title=body.title, tags=body.tags)


@router.delete("/api/documents/{document_id}", status_code=204)
async def remove(
    document_id: str, session: Session, _: Annotated[StaffPrincipal, Depends(deps.supervisors)]
) -> Response:
    await service.remove(session, document_id=document_id)
    return Response(status_code=204)


async def _pushed(session: AsyncSession, settings: Settings, token: str, who: VisitorPrincipal) -> Document:
    secret = settings.secret_key.get_secret_value()
    return await service.fetch(session, secret=secret, token=token, customer_id=who.customer_id, now=utcnow())


@router.get("/api/documents/pushed/{token}")
async def pushed_file(
    token: str, session: Session, settings: SettingsDep, who: Annotated[VisitorPrincipal, Depends(deps.visitor)]
) -> Response:
    return _file_response(await _pushed(session, settings, token, who), private=True)


@router.get("/api/documents/pushed/{token}/table", response_model=Table)
async def pushed_table(
    token: str, session: Session, settings: SettingsDep, who: Annotated[VisitorPrincipal, Depends(deps.visitor)]
) -> Table:
    doc = await _pushed(session, settings, token, who)
    if doc.content_type not in (files.CSV, files.XLSX):
        raise ApiError(409, "not_a_sheet", "this document is not a sheet")
    rows = files.table(doc.content_type, doc.data)
    return Table(rows=rows, truncated=len(rows) >= files.MAX_ROWS)


@router.get("/api/documents/shown/{conversation_id}", response_model=list[DocumentFrame])
async def shown(
    conversation_id: str,
    session: Session,
    settings: SettingsDep,
    who: Annotated[VisitorPrincipal, Depends(deps.visitor)],
) -> list[DocumentFrame]:
    """The customer's own: what was shown in their conversation and still opens (the widget's shelf)."""
    conv = await conversations.find(session, conversation_id=conversation_id)
    if conv is None:
        raise ApiError(404, "conversation_not_found", "no such conversation for you")
    secret = settings.secret_key.get_secret_value()
    return await service.shown_to(session, conv=conv, customer_id=who.customer_id, secret=secret, now=utcnow())


@router.get("/api/documents/conversations/{conversation_id}", response_model=list[PushOut])
async def conversation_pushes(
    conversation_id: str, session: Session, who: Annotated[StaffPrincipal, Depends(deps.agents)]
) -> list[PushOut]:
    conv = await conversations.find(session, conversation_id=conversation_id)
    mine = conv is not None and (conv.agent_id == who.user_id or who.role.value in ("supervisor", "admin"))
    if conv is None or not mine:
        raise ApiError(404, "conversation_not_found", "no such conversation for you")
    return await service.pushes(session, conversation_id=conversation_id)


@router.get("/documents/pdfjs/{path:path}", include_in_schema=False)
async def pdfjs_file(path: str, settings: SettingsDep, _: Annotated[None, Depends(deps.widget_public)]) -> Response:
    """pdf.js's files; the widget imports them from the company's site (CORS for CC_WIDGET_ORIGINS)."""
    parts = PurePosixPath(path).parts
    ok = path in PDFJS_FILES or (
        len(parts) == 2 and parts[0] in PDFJS_DIRS and not parts[1].startswith(".") and "\\" not in path
    )
    suffix = PurePosixPath(path).suffix
    if not ok or (path not in PDFJS_FILES and suffix not in PDFJS_TYPES):
        raise ApiError(404, "not_found", "no such file")
    root = settings.web_dir.parent / "node_modules" / "pdfjs-dist"
    try:
        body = (root / PDFJS_FILES.get(path, path)).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise ApiError(404, "not_found", "no such file (is pdfjs-dist installed? npm install)") from None
    return Response(body, media_type=PDFJS_TYPES[suffix], headers={"Cache-Control": "public, max-age=3600"})
