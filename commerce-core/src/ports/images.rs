//! Storing product images.

use super::*;

/// The image store failed (a full disk, an unreachable bucket).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("image storage failed: {0}")]
pub struct ImageError(pub String);

/// Where product images' bytes live (`commerce-images`' directory store, or your bucket).
/// Keys are the engine's (the image's id and an extension) and never reused, so a URL may be
/// cached for ever.
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
    /// The content type and bytes stored under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<(String, Vec<u8>)>, ImageError>;
    /// Removes what `key` holds; a key holding nothing is not an error.
    async fn delete(&self, key: &str) -> Result<(), ImageError>;
}
