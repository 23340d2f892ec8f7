//! The HTTP tests of `it`, each against its own PostgreSQL database cloned from a migrated
//! template, on the server `COMMERCE_TEST_DATABASE_URL` names. Without it, one ignored test
//! says how to run them.

#[cfg(postgres_tests)]
#[path = "../it/accounts.rs"]
mod accounts;
#[cfg(postgres_tests)]
#[path = "../it/admin_app.rs"]
mod admin_app;
#[cfg(postgres_tests)]
#[path = "../it/audit.rs"]
mod audit;
#[cfg(postgres_tests)]
#[path = "../it/cache.rs"]
mod cache;
#[cfg(postgres_tests)]
#[path = "../it/catalog.rs"]
mod catalog;
#[cfg(postgres_tests)]
#[path = "../it/cross_origin.rs"]
mod cross_origin;
#[cfg(postgres_tests)]
#[path = "../it/events.rs"]
mod events;
#[cfg(postgres_tests)]
#[path = "../it/idempotency.rs"]
mod idempotency;
#[cfg(postgres_tests)]
#[path = "../it/images.rs"]
mod images;
#[cfg(postgres_tests)]
#[path = "../it/invoices.rs"]
mod invoices;
#[cfg(postgres_tests)]
#[path = "../it/malformed.rs"]
mod malformed;
#[cfg(postgres_tests)]
#[path = "../it/openapi.rs"]
mod openapi;
#[cfg(postgres_tests)]
#[path = "../it/order_mail.rs"]
mod order_mail;
#[cfg(postgres_tests)]
#[path = "../it/paypal.rs"]
mod paypal;
#[cfg(postgres_tests)]
#[path = "../it/rules.rs"]
mod rules;
#[cfg(postgres_tests)]
#[path = "../it/seed_paths.rs"]
mod seed_paths;
#[cfg(postgres_tests)]
#[path = "../it/shopping.rs"]
mod shopping;
#[cfg(postgres_tests)]
#[path = "../it/social.rs"]
mod social;
#[cfg(postgres_tests)]
#[path = "../it/stripe.rs"]
mod stripe;
#[cfg(postgres_tests)]
#[path = "../it/support.rs"]
mod support;
#[cfg(postgres_tests)]
#[path = "../it/webhooks.rs"]
mod webhooks;
#[cfg(postgres_tests)]
#[path = "../it/wishlist.rs"]
mod wishlist;

#[cfg(postgres_tests)]
const BACKEND: support::Backend = support::Backend::Postgres;

#[cfg(not(postgres_tests))]
#[test]
#[ignore = "set COMMERCE_TEST_DATABASE_URL to run the HTTP tests on PostgreSQL"]
fn http_tests_on_postgres() {}
