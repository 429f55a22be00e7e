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
mod horizon_rest;
mod horizon_rest_audit;
mod hostile_input;
mod oauth2;
mod oauth2_tokens;
mod races;
mod retention;
mod sweeper;
mod token_attacks;
mod ui;
mod vcenter;
mod vlsi;
mod vlsi_query;
