#!/usr/bin/env python3
"""The public API of a crate, read from rustdoc's HTML (`target/doc/<crate>`): every item,
and each of its own types' and traits' methods, fields and variants, a line each, sorted.
Trait implementations (Clone, Debug, ...) are left out: they are not items a user names.

Usage: scripts/public-api.py target/doc/hautai > api/default.txt
"""
import html
import os
import re
import sys

root = sys.argv[1].rstrip("/")
crate = os.path.basename(root)
lines = set()
with open(os.path.join(root, "all.html"), encoding="utf-8") as f:
    listing = f.read()
for href, text in re.findall(r'<a href="([^"]+\.html)">([^<]+)</a>', listing):
    if href.startswith("../"):
        continue
    kind = os.path.basename(href).split(".")[0]
    name = f"{crate}::{html.unescape(text)}"
    lines.add(f"{kind} {name}")
    with open(os.path.join(root, href), encoding="utf-8") as f:
        page = f.read()
    # A type of another crate re-exported here (Uuid, Value) is one decision: its members
    # are that crate's, and change with its version.
    if f"src/{crate}/" not in page:
        continue
    # Only the item's own part of the page: what comes before its trait implementations.
    ends = [page.find(f'id="{section}"') for section in
            ("trait-implementations", "synthetic-implementations", "blanket-implementations", "implementors")]
    own = page[: min([end for end in ends if end >= 0] or [len(page)])]
    members = r'id="((?:method|tymethod|structfield|variant|associatedconstant|associatedtype)\.[A-Za-z0-9_.]+)"'
    for anchor in re.findall(members, own):
        part, _, member = anchor.partition(".")
        lines.add(f"{part} {name}::{member}")
print("\n".join(sorted(lines)))
