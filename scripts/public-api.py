#!/usr/bin/env python3
"""The public API of a crate, read from rustdoc's HTML (`target/doc/<crate>`), a line each,
sorted: every item with its declaration where it is short (functions, constants, type
aliases), each of its own types' and traits' methods, fields and variants with their
signatures, and the traits each type implements (`From<std::io::Error>` is a decision
too). Auto traits and blanket implementations are left out: no one writes them. Items
marked `#[doc(hidden)]` are not in rustdoc's pages, so not here either.

Usage: scripts/public-api.py target/doc/hautai > api/default.txt
"""
import html
import os
import re
import sys

root = sys.argv[1].rstrip("/")
crate = os.path.basename(root)
MEMBER = r'id="((?:method|tymethod|structfield|variant|associatedconstant|associatedtype)\.[A-Za-z0-9_.]+)"'


def text(fragment):
    """A fragment of rustdoc's HTML as code: links become the full path of what they name."""
    fragment = re.sub(r'<a [^>]*title="(?:[a-z]+ )?([^"]+)"[^>]*>[^<]*</a>', r"\1", fragment)
    fragment = re.sub(r"<[^>]+>", "", fragment)
    return " ".join(html.unescape(fragment).split())


def code_after(page, at):
    """The code rustdoc shows right after position `at`: a member's signature."""
    match = re.compile(r'<(h3|h4) class="code-header">(.*?)</\1>|<code>(.*?)</code>', re.S).search(page, at)
    return text(match.group(2) or match.group(3)) if match else ""


lines = set()
with open(os.path.join(root, "all.html"), encoding="utf-8") as f:
    listing = f.read()
for href, name in re.findall(r'<a href="([^"]+\.html)">([^<]+)</a>', listing):
    if href.startswith("../"):
        continue
    kind = os.path.basename(href).split(".")[0]
    name = f"{crate}::{html.unescape(name)}"
    with open(os.path.join(root, href), encoding="utf-8") as f:
        page = f.read()
    declaration = re.search(r'<pre class="rust item-decl"><code>(.*?)</code></pre>', page, re.S)
    short = kind in ("fn", "constant", "static", "type") and declaration
    lines.add(f"{kind} {name}" + (f": {text(declaration.group(1))}" if short else ""))
    # A type of another crate re-exported here (Uuid, Value) is one decision: its members
    # are that crate's, and change with its version.
    if f"src/{crate}/" not in page:
        continue
    # The item's own part of the page, then its trait implementations.
    ends = {section: page.find(f'id="{section}"') for section in
            ("trait-implementations", "synthetic-implementations", "blanket-implementations", "implementors")}
    own_end = min([end for end in ends.values() if end >= 0] or [len(page)])
    for found in re.finditer(MEMBER, page[:own_end]):
        part, _, member = found.group(1).partition(".")
        lines.add(f"{part} {name}::{member}: {code_after(page, found.end())}")
    start = ends["trait-implementations"]
    if start >= 0:
        stop = min([end for end in ends.values() if end > start] or [len(page)])
        for header in re.findall(r'<section id="impl-[^"]*" class="impl">.*?<h3 class="code-header">(.*?)</h3>',
                                 page[start:stop], re.S):
            lines.add(f"impl {name}: {text(header)}")
print("\n".join(sorted(lines)))
