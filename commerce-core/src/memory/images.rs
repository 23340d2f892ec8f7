//! Images kept in memory.

use super::*;

/// Images kept in memory, served under `/images/<key>`.
#[derive(Default)]
pub struct MemoryImageStore {
    images: Mutex<HashMap<String, (String, Vec<u8>)>>,
}

#[async_trait]
impl ImageStore for MemoryImageStore {
    async fn put(
        &self,
        key: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, ImageError> {
        self.images
            .lock()
            .map_err(|_| ImageError("image store unavailable".into()))?
            .insert(key.to_string(), (content_type.to_string(), bytes));
        Ok(format!("/images/{key}"))
    }

    async fn get(&self, key: &str) -> Result<Option<(String, Vec<u8>)>, ImageError> {
        Ok(self
            .images
            .lock()
            .map_err(|_| ImageError("image store unavailable".into()))?
            .get(key)
            .cloned())
    }

    async fn delete(&self, key: &str) -> Result<(), ImageError> {
        self.images
            .lock()
            .map_err(|_| ImageError("image store unavailable".into()))?
            .remove(key);
        Ok(())
    }
}
