//! The real server on 127.0.0.1 (over a temporary SQLite database), driven with a real HTTP
//! client, flow by flow. One test binary: one link, shared support. `it_postgres` runs the
//! same tests on PostgreSQL.

mod accounts;
mod admin_app;
mod audit;
mod cache;
mod catalog;
mod cross_origin;
mod events;
mod idempotency;
mod images;
mod invoices;
mod malformed;
mod openapi;
mod order_mail;
mod paypal;
mod rules;
mod seed_paths;
mod serving;
mod shopping;
mod social;
mod stripe;
mod support;
mod webhooks;
mod wishlist;

const BACKEND: support::Backend = support::Backend::Sqlite;
