"""Screenshots in posts, in a real browser: paste one from the clipboard into the ask composer,
add another with the "Add image" button, post the question and see both images on the page."""
from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.support import IN_CI

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the conftest's browser fixture explains; CI must have Playwright
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

from tests.e2e.test_browser_flows import register
from tests.e2e.test_curation_flows import screenshot_at_widths

UPLOADED = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<url>/uploads/[A-Za-z0-9_-]{22}\.(?:png|jpg))\)")

# Dispatches a paste of a PNG, built from bytes inside the page, into the focused textarea, as
# a browser does for a screenshot on the clipboard (Playwright cannot write the real clipboard
# headless).
PASTE_PNG = """([selector, b64]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const file = new File([bytes], "image.png", { type: "image/png" });
  const transfer = new DataTransfer();
  transfer.items.add(file);
  const target = document.querySelector(selector);
  target.focus();
  const event = new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true });
  target.dispatchEvent(event);
  return event.defaultPrevented;
}"""


def png(colour: tuple[int, int, int], size: tuple[int, int] = (120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def test_a_pasted_screenshot_and_a_chosen_image_appear_in_the_posted_question(
        page: Page, artifacts_dir: Path) -> None:
    register(page, "paster")
    page.goto("/questions/ask")
    details = page.get_by_label("Details")
    details.fill("The hub light is orange after the update. Here is the app:\n\n")

    # 1. Paste a screenshot from the clipboard: the composer takes the image, not text.
    assert page.evaluate(PASTE_PNG, ["#body", base64.b64encode(png((230, 120, 20))).decode()]) is True
    status = page.locator("[data-upload-status]")
    expect(status).to_have_text("screenshot.png added.")
    expect(status).to_have_attribute("aria-live", "polite")
    pasted = UPLOADED.search(details.input_value())
    assert pasted and pasted.group("alt") == "screenshot", details.input_value()

    # 2. The "Add image" button opens the file picker; the chosen file goes in at the cursor.
    details.press("End")
    details.press_sequentially("\n\nAnd the router: ")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Add image").click()
    chooser.value.set_files(files=[{"name": "router lights.png", "mimeType": "image/png",
                                    "buffer": png((20, 90, 200), (80, 80))}])
    expect(status).to_have_text("router lights.png added.")
    text = details.input_value()
    found = [m.group("alt") for m in UPLOADED.finditer(text)]
    assert found == ["screenshot", "router lights"], text
    assert "Uploading" not in text
    assert text.index("And the router: ![router lights](") > text.index("![screenshot](")

    # 3. A file that is not an image is refused, with the reason read out; the text is untouched.
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Add image").click()
    chooser.value.set_files(files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture"}])
    expect(status).to_contain_text("notes.png was not added: That file is not an image we accept")
    expect(status).to_have_class(re.compile(r"\bis-error\b"))
    assert details.input_value() == text
    screenshot_at_widths(page, artifacts_dir, "uploads-ask")

    # 4. Post it: both images are on the question page, served by this site.
    page.get_by_label("Title").fill("Hub light orange after the firmware update")
    page.get_by_label("Tags").fill("setup")
    page.get_by_role("button", name="Post your question").click()
    expect(page).to_have_url(re.compile(r"/questions/\d+"))
    images = page.locator(".post-body img")
    expect(images).to_have_count(2)
    expect(images.first).to_have_attribute("alt", "screenshot")
    expect(images.first).to_have_attribute("loading", "lazy")
    images.last.scroll_into_view_if_needed()
    page.wait_for_function("""() => [...document.querySelectorAll('.post-body img')]
                                      .every(img => img.complete && img.naturalWidth > 0)""")
    widths = page.eval_on_selector_all(".post-body img", "els => els.map(e => e.naturalWidth)")
    assert widths == [120, 80]
    screenshot_at_widths(page, artifacts_dir, "uploads-question")


# Drags a PNG file, built in the page, over the textarea and drops it there.
DROP_PNG = """([selector, b64]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], "wiring.png", { type: "image/png" }));
  const target = document.querySelector(selector);
  const over = new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true });
  target.dispatchEvent(over);
  const outlined = target.closest(".editor").classList.contains("is-dropping");
  const drop = new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true });
  target.dispatchEvent(drop);
  return [over.defaultPrevented, outlined, drop.defaultPrevented];
}"""


def test_an_image_dropped_on_the_answer_composer_is_posted_with_the_answer(page: Page, seed_question) -> None:
    thread = seed_question("Hub light orange after the firmware update",
                           "The hub light is orange since the update and the app says offline.")
    register(page, "dropper")
    page.goto(thread)
    answer = page.locator("#body")
    answer.fill("Check the cable like this: ")
    accepted = page.evaluate(DROP_PNG, ["#body", base64.b64encode(png((40, 160, 60), (64, 32))).decode()])
    assert accepted == [True, True, True]
    expect(page.locator("[data-upload-status]")).to_have_text("wiring.png added.")
    assert UPLOADED.search(answer.input_value())
    page.get_by_role("button", name="Post your answer").click()
    image = page.locator(".post-answer .post-body img")
    expect(image).to_have_attribute("alt", "wiring")
    page.wait_for_function("() => { const i = document.querySelector('.post-answer .post-body img');"
                           " return i && i.complete && i.naturalWidth === 64; }")
