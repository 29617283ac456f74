//! The `axes` command: reset and list lockouts, migrate the store, check the
//! settings, run the demo site. Sessions of both the service's admin and the
//! demo site live in [`session`]. The binary (`src/main.rs`) only parses the
//! command line and calls [`cli::run`].

pub mod cli;
pub mod demo;
pub mod password;
pub mod serve;
pub mod server;
pub mod session;
