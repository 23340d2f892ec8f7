//! The SQLite adapter passes the storage conformance kit, each case on a fresh database file.

use std::sync::Arc;

use commerce_sqlite::SqliteStore;

commerce_core::storage_conformance_tests!(|| async {
    Arc::new(
        SqliteStore::open_temporary()
            .await
            .expect("a temporary database"),
    )
});
