#!/usr/bin/env bash
# The cost of depending on hautai, measured: a hello program that makes one API call
# through hautai (default features) next to the same call made with ureq alone (the
# features hautai uses), each built in release from scratch in a target folder of its
# own. Prints crates compiled, build seconds and binary size side by side.
# Needs network access to crates.io (or a warm cargo cache). Usage: scripts/build-cost.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/with-hautai/src" "$work/ureq-alone/src"
cat >"$work/with-hautai/Cargo.toml" <<TOML
[package]
name = "with-hautai"
version = "0.1.0"
edition = "2024"
[dependencies]
hautai = { path = "$repo" }
TOML
cat >"$work/with-hautai/src/main.rs" <<'RS'
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = hautai::Session::from_env()?;
    println!("{:?}", session.batch(hautai::Uuid::nil())?.id);
    Ok(())
}
RS
ureq_version=$(grep -E '^ureq = ' "$repo/Cargo.toml" | sed -E 's/.*version = "([^"]+)".*/\1/')
cat >"$work/ureq-alone/Cargo.toml" <<TOML
[package]
name = "ureq-alone"
version = "0.1.0"
edition = "2024"
[dependencies]
ureq = { version = "$ureq_version", default-features = false, features = ["json", "gzip", "rustls"] }
serde_json = "1"
TOML
cat >"$work/ureq-alone/src/main.rs" <<'RS'
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = std::env::var("HAUTAI_TOKEN")?;
    let company = std::env::var("HAUTAI_COMPANY_ID")?;
    let url = format!("https://saas.haut.ai/api/v3/companies/{company}/batches/00000000-0000-0000-0000-000000000000/");
    let batch: serde_json::Value = ureq::get(&url).header("authorization", format!("Bearer {token}")).call()?.body_mut().read_json()?;
    println!("{:?}", batch["id"]);
    Ok(())
}
RS

measure() { # measure DIR BINARY
  local dir=$1 bin=$2 start end crates size
  (cd "$dir" && cargo generate-lockfile -q)
  crates=$(cd "$dir" && cargo tree -e normal --prefix none | sed 's/ (\*)//' | sort -u | wc -l)
  start=$(date +%s.%N)
  (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build -q --release)
  end=$(date +%s.%N)
  size=$(stat -c %s "$dir/target/release/$bin")
  printf '%-14s %7s %9.1f %10.2f\n' "$bin" "$crates" "$(echo "$end - $start" | bc)" "$(echo "$size / 1048576" | bc -l)"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf '%-14s %7s %9s %10s\n' program crates seconds "MiB"
measure "$work/with-hautai" with-hautai
measure "$work/ureq-alone" ureq-alone
