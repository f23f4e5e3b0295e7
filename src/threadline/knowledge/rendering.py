"""Article Markdown → sanitised HTML and plain text.

Markdown is rendered with markdown-it (CommonMark plus tables). A paragraph that is only a YouTube or
Vimeo link becomes an embedded player. Everything then passes nh3: iframes survive only with a
``src`` on the allow-list (YouTube's privacy-enhanced host and Vimeo's player), scripts and event
handlers never.
"""

from __future__ import annotations

import functools
import html
import re

import nh3

VIDEO_LINE = re.compile(
    r"^[ \t]*(?:https?://(?:www\.)?youtube\.com/watch\?v=(?P<yt>[\w-]{6,20})\S*"
    r"|https?://youtu\.be/(?P<ytshort>[\w-]{6,20})\S*"
    r"|https?://(?:www\.)?vimeo\.com/(?P<vimeo>\d{3,12})\S*)[ \t]*$",
    re.MULTILINE,
)
ALLOWED_IFRAME_SRC = re.compile(
    r"^https://(?:www\.youtube-nocookie\.com/embed/[\w-]{6,20}|player\.vimeo\.com/video/\d{3,12})(?:\?[\w=&-]*)?$"
)
TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "iframe", "img", "kbd", "li", "ol", "p", "pre", "s", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "iframe": {"src", "title", "allow", "allowfullscreen", "loading"},
    "div": {"class"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
}


@functools.lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table")


def _embed(match: re.Match) -> str:
    if match.group("vimeo"):
        src = f"https://player.vimeo.com/video/{match.group('vimeo')}"
    else:
        src = f"https://www.youtube-nocookie.com/embed/{match.group('yt') or match.group('ytshort')}"
    return (
        f'\n<div class="video"><iframe src="{src}" title="Video" loading="lazy" '
        'allow="fullscreen; picture-in-picture" allowfullscreen></iframe></div>\n'
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "iframe" and attribute == "src":
        return value if ALLOWED_IFRAME_SRC.match(value) else None
    if tag == "div" and attribute == "class":
        return value if value == "video" else None
    return value


def sanitise(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def render_markdown(source: str) -> str:
    """Safe HTML for an article body."""
    return sanitise(_markdown().render(VIDEO_LINE.sub(_embed, source)))


_BLOCK_END = re.compile(r"</(p|h[1-6]|li|tr|div|pre|blockquote|figure|table)>|<br\s*/?>", re.IGNORECASE)


def html_to_text(body_html: str) -> str:
    """Readable plain text of rendered HTML (blocks on their own lines), for search and the bot."""
    text = nh3.clean(_BLOCK_END.sub(lambda m: m.group(0) + "\n", body_html), tags=set())
    lines = (" ".join(line.split()) for line in html.unescape(text).splitlines())
    return "\n".join(line for line in lines if line)


_SLUG_DROP = re.compile(r"[^\w\u0E00-\u0E7F\s-]")


def slug_for(title: str) -> str:
    """A URL slug that keeps Thai (vowel and tone marks included) and other letters as they are."""
    slug = _SLUG_DROP.sub("", title.lower()).strip()
    slug = re.sub(r"[\s_-]+", "-", slug).strip("-")
    return slug[:100] or "article"
