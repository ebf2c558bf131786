//! The HTTP side: accept loop and shutdown (`server`), routing (`routes`), conditional
//! requests (`cache`). It only picks prebuilt bytes and headers; it never builds a feed.

pub mod cache;
mod routes;
mod server;

pub use server::run;
