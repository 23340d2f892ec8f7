//! The in-memory storage adapter passes the storage conformance kit.

use std::sync::Arc;

use commerce_core::memory::MemoryStore;

commerce_core::storage_conformance_tests!(|| async { Arc::new(MemoryStore::new()) });
