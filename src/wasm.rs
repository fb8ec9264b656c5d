//! The WebAssembly binding (compiled only for wasm32). Filled in by the
//! package work; the core never depends on it.
