//! Cross-crate integration tests: one test binary, one module per theme.

mod deep_chain;
mod examples;
mod no_panics;
mod random_graphs;
mod readme;
mod second_order;
