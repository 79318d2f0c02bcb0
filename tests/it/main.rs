//! The integration tests, one binary (one link on a 2-core machine instead of eighteen),
//! a module per subject. `tests/logs.rs` stays apart: it installs the process's one
//! logger. Run one subject with `cargo test --test it bulk::`.

mod common;

mod account;
mod backpressure;
mod bulk;
mod cli;
mod concurrency;
mod emulator;
mod endpoints;
mod errors;
mod faults;
mod folder_runs;
mod folder_safety;
mod hostile_input;
mod hostile_server;
mod layout;
mod models;
mod new_user;
mod pagination;
mod paid_once;
mod patients;
mod pipeline;
mod regressions;
mod reports;
mod retries;
mod safe_outputs;
mod saved_results;
mod simulation;
