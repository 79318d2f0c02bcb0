#!/usr/bin/env bash
# The public API of each feature set, compared with its snapshot in api/: a new public item
# (or one gone) is a decision, made by updating the snapshot in the same commit.
# Builds the docs (warnings are errors) once per feature set.
# Usage: scripts/public-api.sh            compare (CI)
#        scripts/public-api.sh --update   write the snapshots after a deliberate change
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
docs="${CARGO_TARGET_DIR:-target}/doc"
for set in default all-features; do
    flags=()
    [ "$set" = all-features ] && flags=(--all-features)
    # Cargo keeps one doc folder for every feature set and skips a build it thinks fresh:
    # without this, the pages of the last feature set documented would be read.
    rm -rf "$docs/hautai"
    RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet "${flags[@]}"
    listed=$(python3 scripts/public-api.py "$docs/hautai")
    if [ "${1:-}" = --update ]; then
        printf '%s\n' "$listed" >"api/$set.txt"
    elif ! diff -u "api/$set.txt" <(printf '%s\n' "$listed"); then
        echo "the public API ($set) is not the snapshot api/$set.txt: if the change is deliberate, run scripts/public-api.sh --update and commit it" >&2
        status=1
    fi
done
exit $status
