#!/usr/bin/env bash
# Renders what `hautai folder` writes for a hostile answer in headless Chromium, as people
# see it, and checks that nothing from the answer or the folder names runs:
#   * the emulator answers with hostile parameter names and tags (`--hostile-names`);
#   * visits are named like a `javascript&colon;` link, with markup as entities, `#` and `%`
#     (names a folder can have on Windows too: `<`, `>`, `:`, `?` are refused there);
#   * each page's DOM after its scripts ran must keep its own title, hold no element
#     made from the answer's markup, and the mask switch of a name with `"`, `]` and `\`
#     must work (the report is opened with that mask asked for);
#   * no page is wider than the window at 390 px (a phone) or 1280 px (a desktop), nor
#     needs sideways scrolling in a box of its own, measured in frames of those widths
#     (chromium's --window-size lays a page out at 500 px at least, then crops it);
#   * a patient with a name of the same kind has three dated visits: its timeline (charts
#     in inline SVG) is checked as the reports are;
#   * screenshots at desktop (1280 px) and phone (390 px) widths are left in OUT for a look.
# Needs chromium (`apt-get install -y chromium`) and python3. Usage: scripts/check-pages.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
mkdir -p "$out"
out=$(cd "$out" && pwd) # file:// URLs need an absolute path
cargo build -q --features cli --bin hautai
work=$(mktemp -d)
target/debug/hautai emulator --hostile-names >"$work/env" 2>/dev/null &
emulator=$!
trap 'kill $emulator 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ "$(wc -l <"$work/env")" -ge 4 ] && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/env"
python3 - "$work/in" <<'PY'
import os, struct, sys, zlib
def png(w, h, shade):
    rows = b"".join(b"\0" + bytes([shade, 170, 140] * w) for _ in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
for i, visit in enumerate(["javascript&colon;alert(document.title)", "&lt;img src=x onerror=document.title='pwned'&gt;", "a#b%c", "plain"]):
    os.makedirs(os.path.join(sys.argv[1], visit))
    for side in ["front", "left", "right"]:
        open(os.path.join(sys.argv[1], visit, side + ".png"), "wb").write(png(120, 150, 60 * i))
patient = "javascript&colon;alert(1) &lt;i&gt;Zoë #1 %2F"
for i, visit in enumerate(["2026-01-05", "2026-03-01T10-30", "checkup 20260401"]):
    os.makedirs(os.path.join(sys.argv[1], patient, visit))
    for side in ["front", "left", "right"]:
        open(os.path.join(sys.argv[1], patient, visit, side + ".png"), "wb").write(png(120, 150, 40 + 50 * i))
PY
target/debug/hautai folder "$work/in" "$out" >/dev/null 2>"$work/log" || { cat "$work/log"; exit 1; }
render() { chromium --headless --no-sandbox --disable-gpu --virtual-time-budget=2000 "$@" 2>/dev/null; }
failed=0
check() { # check FILE_URL TITLE_END DOM_FILE: the title ends as the page made it
  render --dump-dom "$1" >"$3"
  if ! grep -q "<title>[^<]*$2</title>" "$3"; then echo "FAIL $1: the title changed"; failed=1; fi
  if grep -q "pwned" "$3" && grep -qi '<script>document.title' "$3"; then echo "FAIL $1: the answer's script is in the page"; failed=1; fi
  if grep -q '<img src="x"' "$3"; then echo "FAIL $1: an element made from the answer's markup"; failed=1; fi
}
check "file://$out/index.html" "Visits" "$work/index.dom"
if grep -q 'href="javascript' "$work/index.dom"; then echo "FAIL index: a javascript: link"; failed=1; fi
render --screenshot="$out/index-desktop.png" --window-size=1280,900 "file://$out/index.html"
phone() { # phone PAGE PNG HEIGHT: PAGE laid out in a frame 390 px wide, as a phone shows it
  printf '<!doctype html><body style="margin:0"><iframe src="%s" scrolling="no" style="display:block;width:390px;height:%spx;border:0"></iframe>' \
    "$1" "$3" >"$out/.phone.html"
  render --allow-file-access-from-files --screenshot="$2" --window-size=390,"$3" "file://$out/.phone.html"
  rm -f "$out/.phone.html"
}
phone "index.html" "$out/index-phone.png" 900
quote_name='a%22%5Db%5Cc%27d'
url() { python3 -c 'import sys, urllib.parse; print("file://" + urllib.parse.quote(sys.argv[1]))' "$1"; }
shopt -s nullglob
for report in "$out"/visits/*/report.html "$out"/visits/*/*/report.html; do
  check "$(url "$report")#masks=$quote_name" ": skin analysis, results saved [0-9-]*" "$work/report.dom"
  if ! grep -q 'class="mask on"' "$work/report.dom"; then echo "FAIL $report: the mask switch of a quoted name does not work"; failed=1; fi
done
timelines=("$out"/patients/*/timeline.html)
[ "${#timelines[@]}" -gt 0 ] || { echo "FAIL: no timeline written"; failed=1; }
for timeline in "${timelines[@]}"; do
  check "$(url "$timeline")" ": timeline" "$work/timeline.dom"
  # A chart is over time: a patient with a dated visit has one; one whose every visit is
  # undated says so instead.
  if ! grep -q '<svg' "$work/timeline.dom" && ! grep -q 'without a date' "$work/timeline.dom"; then
    echo "FAIL $timeline: no chart, and no word of visits without a date"; failed=1
  fi
  if grep -q 'href="javascript' "$work/timeline.dom"; then echo "FAIL $timeline: a javascript: link"; failed=1; fi
done
zoe=$(cd "$out/patients" && ls | grep Zo)
# The hostile patient's three visits are dated: its timeline has its charts.
grep -q '<svg' "$out/patients/$zoe/timeline.html" || { echo "FAIL: no chart on the timeline of dated visits"; failed=1; }
render --screenshot="$out/timeline-desktop.png" --window-size=1280,2400 "$(url "$out/patients/$zoe/timeline.html")"
phone "patients/$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$zoe")/timeline.html" "$out/timeline-phone.png" 2400
plain="$out/visits/plain/report.html"
render --screenshot="$out/report-desktop.png" --window-size=1280,2400 "file://$plain#masks=redness"
phone "visits/plain/report.html#masks=redness" "$out/report-phone.png" 2400
# Nothing overflows the page at either width: wide tables scroll inside their own box.
# (A page beside them measures each in an iframe; file URLs may read each other only with
# --allow-file-access-from-files.)
pages=$(cd "$out" && printf '"%s",' index.html visits/*/report.html visits/*/*/report.html patients/*/timeline.html | sed 's/\\/\\\\/g')
cat >"$out/.measure.html" <<HTML
<!doctype html><html><body><script>
var pages = [${pages%,}], widths = [390, 1280], out = [], left = pages.length * widths.length;
pages.forEach(function (page) { widths.forEach(function (width) {
  var f = document.createElement("iframe"); f.style.width = width + "px"; f.style.height = "900px"; f.src = page.split("/").map(encodeURIComponent).join("/");
  f.onload = function () {
    try {
      var d = f.contentDocument.documentElement;
      if (d.scrollWidth > d.clientWidth) out.push(page + " at " + width + " px: " + d.scrollWidth + " > " + d.clientWidth);
      // Nor does any box in it need sideways scrolling (a table whose columns are out of sight).
      Array.prototype.forEach.call(f.contentDocument.querySelectorAll("body *"), function (e) {
        var x = f.contentWindow.getComputedStyle(e).overflowX;
        if ((x === "auto" || x === "scroll") && e.scrollWidth > e.clientWidth + 1)
          out.push(page + " at " + width + " px: a " + e.tagName.toLowerCase() + " scrolls sideways (" + e.scrollWidth + " > " + e.clientWidth + ")");
      });
    } catch (e) { out.push(page + ": cannot be measured (" + e + ")"); }
    if (--left === 0) document.title = "measured: " + (out.join("; ") || "nothing overflows");
  };
  document.body.appendChild(f);
}); });
</script></body></html>
HTML
measured=$(render --allow-file-access-from-files --dump-dom "file://$out/.measure.html" | grep -o '<title>[^<]*</title>' || true)
rm -f "$out/.measure.html"
case "$measured" in
  *"measured: nothing overflows"*) ;;
  *) echo "FAIL overflow: $measured"; failed=1 ;;
esac
[ "$failed" = 0 ] && echo "ok: $(cd "$out" && ls visits/*/report.html visits/*/*/report.html | wc -l) reports, ${#timelines[@]} timelines and the index render with nothing of the answer running; screenshots in $out"
exit "$failed"
