//! Storing product images.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("image storage failed: {0}")]
pub struct ImageError(pub String);

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ImageStore: Send + Sync {
    /// Stores bytes under `key`; returns the URL that serves them.
    async fn put(
        &self,
        key: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, ImageError>;
    async fn get(&self, key: &str) -> Result<Option<(String, Vec<u8>)>, ImageError>;
    async fn delete(&self, key: &str) -> Result<(), ImageError>;
}
