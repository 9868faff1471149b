//! Cross-crate integration tests: one test binary, one module per theme.

mod bad_input;
mod deep_chain;
mod determinism;
mod examples;
mod no_panics;
mod random_graphs;
mod readme;
mod second_order;
mod stability;
