//! vlsim's wire tests: one test binary (linked once), a module per surface. Each test starts
//! vlsim in-process on `127.0.0.1:0` and speaks HTTP, SOAP or JSON-RPC to it.

mod helpers;

mod admin;
mod architecture;
mod control_surfaces;
mod damaged_store;
mod full_disk;
mod fusionauth;
mod hardening;
mod hostile_input;
mod races;
mod retention;
mod sweeper;
mod token_attacks;
mod vcenter;
mod vlsi;
mod vlsi_query;
