"""Images in rendered posts (forum/markup, render version 3): this site's uploads are images,
other hosts' images are links unless REMOTE_IMAGES, so no reader's browser calls another host."""
from __future__ import annotations

from forum.markup import RENDER_VERSION, render_inline, render_markdown

UPLOAD = "/uploads/AbCdEfGhIjKlMnOpQrStUv.png"


def test_an_uploaded_image_renders_as_a_lazy_image():
    out = render_markdown(f"See ![the hub light]({UPLOAD})")
    assert out == f'<p>See <img alt="the hub light" src="{UPLOAD}" loading="lazy"></p>'


def test_a_remote_image_renders_as_a_link_to_it():
    out = render_markdown("Here ![tracker pixel](https://tracker.example/p.png?case=12)")
    assert "<img" not in out
    assert out == ('<p>Here <a href="https://tracker.example/p.png?case=12" class="remote-image" '
                   'rel="nofollow ugc noopener">tracker pixel</a></p>')


def test_a_remote_image_without_alt_text_links_with_its_address():
    out = render_markdown("![](https://e.example/x.png)")
    assert out == ('<p><a href="https://e.example/x.png" class="remote-image" rel="nofollow ugc noopener">'
                   "https://e.example/x.png</a></p>")


def test_a_remote_image_inside_a_link_leaves_just_its_text():
    out = render_markdown("[![badge](https://ci.example/badge.svg)](https://ci.example/)")
    assert out == '<p><a href="https://ci.example/" rel="nofollow ugc noopener">badge</a></p>'


def test_an_uploaded_image_inside_a_link_stays_an_image():
    out = render_markdown(f"[![full size]({UPLOAD})]({UPLOAD})")
    assert f'<a href="{UPLOAD}"><img alt="full size" src="{UPLOAD}" loading="lazy"></a>' in out


def test_remote_images_show_when_the_site_allows_them():
    out = render_markdown("![chart](https://e.example/c.png)", remote_images=True)
    assert out == '<p><img alt="chart" src="https://e.example/c.png" loading="lazy"></p>'
    # The option lasts one render only.
    assert "<img" not in render_markdown("![chart](https://e.example/c.png)")


def test_other_paths_on_this_site_are_not_images():
    for src in ("/uploads/../admin.png", "/uploads/short.png", "/settings/delete", f"{UPLOAD}?x=1",
                "/uploads/AbCdEfGhIjKlMnOpQrStUv.svg", "//evil.example/a.png"):
        assert "<img" not in render_markdown(f"![x]({src})"), src


def test_comments_show_no_images():
    assert "<img" not in render_inline(f"look ![x]({UPLOAD})")


def test_the_render_version_moved_so_stored_html_is_rendered_again():
    assert RENDER_VERSION >= 3
