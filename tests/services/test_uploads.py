"""Images in posts (forum/services/uploads.py): what is accepted, what is kept, where, for how long."""
from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image, PngImagePlugin
from sqlalchemy import select, update

from forum.extensions import db
from forum.models import CaseEvent, Upload, UploadRef
from forum.models.base import utcnow
from forum.services import answers, cases, questions, uploads
from forum.services.errors import NotFound, PermissionDenied, ServiceError

MB = 1024 * 1024


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 20), mode: str = "RGB", **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else 1).save(out, fmt, **save)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming ``width`` x ``height``, and a tiny IDAT: a bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def reencode(data: bytes, max_bytes: int = 5 * MB, max_pixels: int = 40_000_000) -> uploads.Encoded:
    return uploads.reencode(data, max_bytes=max_bytes, max_pixels=max_pixels)


# ----------------------------------------------------------------------------- sniffing and limits


@pytest.mark.parametrize(("fmt", "ext", "content_type"), [
    ("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg"), ("WEBP", "webp", "image/webp"),
    ("GIF", "png", "image/png"),  # a GIF keeps its first frame, as a PNG
])
def test_each_accepted_format_is_recognised_from_its_bytes(fmt: str, ext: str, content_type: str) -> None:
    encoded = reencode(image_bytes(fmt))
    assert (encoded.ext, encoded.content_type, encoded.width, encoded.height) == (ext, content_type, 40, 20)
    assert Image.open(io.BytesIO(encoded.data)).format == {"jpg": "JPEG"}.get(ext, ext.upper())


@pytest.mark.parametrize("data", [
    b"just some text that claims to be a picture",
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b"%PDF-1.4 not an image",
    image_bytes("BMP"),  # an image, but not one we accept
    image_bytes("PNG")[:60],  # the start of a PNG: damaged
])
def test_anything_but_png_jpeg_gif_webp_is_refused_with_415(data: bytes) -> None:
    with pytest.raises(uploads.NotAnImage) as refused:
        reencode(data)
    assert refused.value.status == 415


def test_an_empty_file_is_bad_input() -> None:
    with pytest.raises(ServiceError) as refused:
        reencode(b"")
    assert refused.value.status == 400 and "empty" in refused.value.message


def test_a_file_over_the_byte_limit_is_refused_with_413_saying_the_limit() -> None:
    data = image_bytes("PNG")
    with pytest.raises(uploads.UploadTooLarge) as refused:
        reencode(data, max_bytes=len(data) - 1)
    assert refused.value.status == 413 and "are accepted" in refused.value.message


def test_an_image_over_the_pixel_limit_is_refused_before_decoding() -> None:
    with pytest.raises(uploads.UploadTooLarge, match="megapixels"):
        reencode(image_bytes("PNG", size=(100, 100)), max_pixels=9_999)


@pytest.mark.parametrize("max_pixels", [40_000_000, 10**12])
def test_a_decompression_bomb_is_refused_cheaply(max_pixels: int) -> None:
    # 100,000 x 100,000 pixels claimed in a file of a few dozen bytes: refused by our limit,
    # or (when that is set absurdly high) by Pillow's own bomb guard, never decoded.
    bomb = png_header_only(100_000, 100_000)
    assert len(bomb) < 200
    with pytest.raises(uploads.UploadTooLarge):
        reencode(bomb, max_pixels=max_pixels)


# ----------------------------------------------------------------------------- re-encoding


def test_reencoding_drops_exif_and_applies_the_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS info: latitude
    original = image_bytes("JPEG", size=(40, 20), exif=exif.tobytes())
    assert Image.open(io.BytesIO(original)).getexif()[0x010F] == "SecretCam"

    encoded = reencode(original)
    kept = Image.open(io.BytesIO(encoded.data))
    assert dict(kept.getexif()) == {}
    assert b"SecretCam" not in encoded.data and b"Exif" not in encoded.data
    assert kept.size == (20, 40) and (encoded.width, encoded.height) == (20, 40)  # upright now


def test_reencoding_drops_png_text_chunks() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at 12 Secret Street")
    encoded = reencode(image_bytes("PNG", pnginfo=info))
    assert b"Secret Street" not in encoded.data
    assert Image.open(io.BytesIO(encoded.data)).info.get("Comment") is None


def test_an_animated_gif_keeps_its_first_frame() -> None:
    frames = [Image.new("RGB", (10, 10), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    kept = Image.open(io.BytesIO(reencode(out.getvalue()).data)).convert("RGB")
    assert kept.getpixel((5, 5))[0] > 200 and getattr(kept, "n_frames", 1) == 1


def test_the_filename_is_made_safe_and_gets_the_real_extension() -> None:
    assert uploads.safe_filename('..\\evil "name"; x=.exe', "png") == "evil-name-x.png"
    assert uploads.safe_filename("Screen Shot 2026.png", "jpg") == "Screen-Shot-2026.jpg"
    assert uploads.safe_filename("", "webp") == "image.webp"


# ----------------------------------------------------------------------------- storing and serving


@pytest.mark.parametrize("store", ["db", "fs"])
def test_both_stores_keep_and_serve_the_image(app: Flask, make_user: Any, tmp_path: Path, store: str) -> None:
    app.config.update(UPLOAD_STORE=store, UPLOAD_DIR=str(tmp_path / "shared"))
    upload_id = uploads.upload_image(make_user(), image_bytes("PNG"), "shot.png").id
    db.session.commit()
    db.session.expunge_all()

    found, data = uploads.read_upload(upload_id, "png")
    assert Image.open(io.BytesIO(data)).size == (40, 20)
    assert found.filename == "shot.png" and found.size == len(data)
    files = list((tmp_path / "shared").rglob("*.png"))
    stored_in_row = db.session.scalar(select(Upload.data).where(Upload.id == upload_id))
    if store == "fs":
        assert [f.name for f in files] == [f"{upload_id}.png"] and stored_in_row is None
    else:
        assert files == [] and stored_in_row == data
    with pytest.raises(NotFound):
        uploads.read_upload(upload_id, "jpg")
    with pytest.raises(NotFound):
        uploads.read_upload("x" * 22, "png")


def test_ids_are_unguessable(app: Flask, make_user: Any) -> None:
    user = make_user()
    ids = {uploads.upload_image(user, image_bytes("PNG"), "a.png").id for _ in range(3)}
    assert len(ids) == 3 and all(len(i) == 22 for i in ids)


def test_a_member_who_may_not_post_may_not_upload(app: Flask, make_user: Any) -> None:
    from forum.services import moderation

    member = make_user()
    moderation.silence_user(make_user(role="moderator"), member, 3, "Cooling off")
    db.session.commit()
    with pytest.raises(PermissionDenied):
        uploads.upload_image(member, image_bytes("PNG"), "a.png")


# ----------------------------------------------------------------------------- references and clean-up


def _age(upload: Upload, hours: float) -> None:
    upload.created_at = utcnow() - timedelta(hours=hours)
    db.session.commit()


def _refs() -> set[tuple[str, str, int]]:
    return {(r.upload_id, r.source_type, r.source_id) for r in db.session.scalars(select(UploadRef))}


def test_posts_record_the_uploads_they_show_and_edits_update_them(app: Flask, make_user: Any) -> None:
    author = make_user()
    first = uploads.upload_image(author, image_bytes("PNG"), "one.png")
    second = uploads.upload_image(author, image_bytes("PNG"), "two.png")
    q = questions.ask_question(author, questions.QuestionInput(
        "Hub light shows orange after pairing", f"Here: ![one]({first.path}) and /uploads/{'z' * 22}.png", "setup"))
    a = answers.post_answer(make_user(), q, f"Compare [this]({second.path}).")
    db.session.commit()
    assert _refs() == {(first.id, "question", q.id), (second.id, "answer", a.id)}

    questions.apply_question_edit(author, q, questions.QuestionInput(q.title, "No picture any more.", "setup"),
                                  "removed the screenshot")
    db.session.commit()
    assert _refs() == {(second.id, "answer", a.id)}


def test_case_messages_record_their_uploads(app: Flask, make_user: Any, make_question: Any) -> None:
    agent, asker = make_user(role="agent"), make_user()
    case = cases.open_case(agent, make_question(author=asker))
    shot = uploads.upload_image(asker, image_bytes("PNG"), "private.png")
    message = cases.add_message(asker, case, f"My screen: ![private]({shot.path})")
    db.session.commit()
    assert _refs() == {(shot.id, "case_event", message.id)}


@pytest.mark.parametrize("store", ["db", "fs"])
def test_cleanup_deletes_only_old_unreferenced_uploads(app: Flask, make_user: Any, runner: Any,
                                                       tmp_path: Path, store: str) -> None:
    app.config.update(UPLOAD_STORE=store, UPLOAD_DIR=str(tmp_path))
    author = make_user()
    old_orphan = uploads.upload_image(author, image_bytes("PNG"), "old.png")
    new_orphan = uploads.upload_image(author, image_bytes("PNG"), "new.png")
    used = uploads.upload_image(author, image_bytes("PNG"), "used.png")
    questions.ask_question(author, questions.QuestionInput("Hub light shows orange after pairing",
                                                           f"![used]({used.path})", "setup"))
    db.session.commit()
    ids = (old_orphan.id, new_orphan.id, used.id)
    _age(old_orphan, 25)
    _age(used, 100)
    _age(new_orphan, 23)

    result = runner.invoke(args=["uploads", "cleanup"])
    assert result.exit_code == 0 and "Deleted 1 unused upload." in result.output
    db.session.expire_all()
    assert set(db.session.scalars(select(Upload.id))) == {ids[1], ids[2]}
    assert {p.stem for p in tmp_path.rglob("*.png")} == ({ids[1], ids[2]} if store == "fs" else set())


def test_rerender_turns_remote_images_in_stored_case_messages_into_links(app: Flask, make_user: Any,
                                                                         make_question: Any, runner: Any) -> None:
    agent, asker = make_user(role="agent"), make_user()
    case = cases.open_case(agent, make_question(author=asker))
    message_id = cases.add_message(asker, case, "![pixel](https://tracker.example/p.png)").id
    db.session.commit()
    # As the previous renderer stored it: an image every reader's browser would fetch.
    db.session.execute(update(CaseEvent).where(CaseEvent.id == message_id).values(
        body_html='<p><img alt="pixel" src="https://tracker.example/p.png"></p>', render_version=2))
    db.session.commit()

    result = runner.invoke(args=["forum", "rerender"])
    assert result.exit_code == 0 and "1 case messages" in result.output
    db.session.expire_all()
    html = db.session.get(CaseEvent, message_id).body_html
    assert "<img" not in html and 'href="https://tracker.example/p.png"' in html
