//! The PostgreSQL adapter passes the storage conformance kit, each case in its own database
//! cloned from a migrated template, on the server `COMMERCE_TEST_DATABASE_URL` names (for
//! instance `postgres://127.0.0.1/test`). Without it the cases are listed as ignored.
//!
//! The pool allows 50 connections, so that the kit's 50 buyers each get their own.

use std::sync::Arc;

use commerce_sqlx::{PgOptions, PgStore};

commerce_core::storage_conformance_tests!(
    #[cfg_attr(
        not(postgres_tests),
        ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
    )]
    || async {
        let url = std::env::var("COMMERCE_TEST_DATABASE_URL")
            .expect("COMMERCE_TEST_DATABASE_URL names a PostgreSQL server");
        let options = PgOptions {
            max_connections: 50,
            ..PgOptions::default()
        };
        Arc::new(
            PgStore::open_temporary(&url, options)
                .await
                .expect("a temporary database"),
        )
    }
);
