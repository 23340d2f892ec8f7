//! The `ImageStore` port on a local directory: each image is one file named by its key,
//! which the engine makes from the image's own id (never from an upload's name). Keys are
//! checked here too, since the HTTP layer reads them from URLs: a key is letters, digits,
//! `-`, `_` and one `.` before a known extension, so no key can leave the directory.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use commerce_core::{memory::MemoryStore, ports::ImageStore, Commerce};
//! use commerce_images::DirImageStore;
//!
//! # let dir = std::env::temp_dir().join(format!("commerce-doc-{}", uuid::Uuid::new_v4().simple()));
//! // `dir` is where the files go, such as "data/images"; the server serves them at /images.
//! let images = Arc::new(DirImageStore::new(&dir, "/images")?);
//! let shop = Commerce::builder(Arc::new(MemoryStore::new())).images(images.clone()).build();
//!
//! let url = images.put("0193a1b2.png", "image/png", b"\x89PNG...".to_vec()).await?;
//! assert_eq!(url, "/images/0193a1b2.png");
//! let (content_type, bytes) = shop.images().get("0193a1b2.png").await?.unwrap();
//! assert_eq!((content_type.as_str(), &bytes[..4]), ("image/png", &b"\x89PNG"[..]));
//! // A key that could leave the directory holds nothing, and nothing is stored under it.
//! assert!(images.get("../secrets.png").await?.is_none());
//! assert!(images.put("../secrets.png", "image/png", vec![1]).await.is_err());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

#![warn(missing_docs)]
// docs.rs marks each item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use commerce_core::ports::{ImageError, ImageStore};
use tokio::io::AsyncWriteExt;

/// Extensions this store keeps, with the content type each is served with.
const TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("png", "image/png"),
    ("webp", "image/webp"),
];

/// Images as files in one directory, served under a URL prefix.
pub struct DirImageStore {
    dir: PathBuf,
    url_prefix: String,
}

impl DirImageStore {
    /// Creates the directory if needed. URLs are `{url_prefix}/{key}`.
    pub fn new(dir: impl Into<PathBuf>, url_prefix: impl Into<String>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            url_prefix: url_prefix.into().trim_end_matches('/').to_string(),
        })
    }

    /// The directory the images are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a key, and its content type; `None` for anything that is not a key.
    fn file(&self, key: &str) -> Option<(PathBuf, &'static str)> {
        let (stem, ext) = key.rsplit_once('.')?;
        let content_type = TYPES.iter().find(|(e, _)| *e == ext)?.1;
        let stem_ok = !stem.is_empty()
            && stem.len() <= 64
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        stem_ok.then(|| (self.dir.join(key), content_type))
    }
}

fn failed(what: &str, key: &str, e: std::io::Error) -> ImageError {
    ImageError(format!("{what} {key}: {e}"))
}

#[async_trait]
impl ImageStore for DirImageStore {
    async fn put(
        &self,
        key: &str,
        _content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, ImageError> {
        let (path, _) = self
            .file(key)
            .ok_or_else(|| ImageError(format!("{key} is not an image key")))?;
        // Written under a temporary name and renamed: a reader never sees half an image.
        let partial = self
            .dir
            .join(format!(".{}.part", uuid::Uuid::new_v4().simple()));
        let write = async {
            let mut file = tokio::fs::File::create(&partial).await?;
            file.write_all(&bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&partial, &path).await
        };
        if let Err(e) = write.await {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(failed("cannot store", key, e));
        }
        Ok(format!("{}/{key}", self.url_prefix))
    }

    async fn get(&self, key: &str) -> Result<Option<(String, Vec<u8>)>, ImageError> {
        let Some((path, content_type)) = self.file(key) else {
            return Ok(None);
        };
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some((content_type.to_string(), bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(failed("cannot read", key, e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), ImageError> {
        let Some((path, _)) = self.file(key) else {
            return Ok(());
        };
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(failed("cannot delete", key, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> DirImageStore {
        let dir = std::env::temp_dir().join(format!("commerce-images-{}", uuid::Uuid::new_v4()));
        DirImageStore::new(dir, "/images/").unwrap()
    }

    #[tokio::test]
    async fn an_image_is_stored_served_and_deleted_as_one_file() {
        let s = store();
        let url = s
            .put("abc-123.png", "image/png", vec![1, 2, 3])
            .await
            .unwrap();
        assert_eq!(url, "/images/abc-123.png");
        assert_eq!(
            s.get("abc-123.png").await.unwrap(),
            Some(("image/png".to_string(), vec![1, 2, 3]))
        );
        let files: Vec<_> = std::fs::read_dir(s.dir()).unwrap().collect();
        assert_eq!(files.len(), 1, "no temporary file is left");
        s.delete("abc-123.png").await.unwrap();
        assert_eq!(s.get("abc-123.png").await.unwrap(), None);
        s.delete("abc-123.png").await.unwrap();
        std::fs::remove_dir_all(s.dir()).unwrap();
    }

    #[tokio::test]
    async fn no_key_leaves_the_directory() {
        let s = store();
        for key in [
            "../secret.png",
            "a/b.png",
            ".png",
            "x.txt",
            "x",
            "..",
            "a.png/..",
            "%2e%2e.png",
        ] {
            assert_eq!(s.get(key).await.unwrap(), None, "{key}");
            assert!(s.put(key, "image/png", vec![1]).await.is_err(), "{key}");
        }
        std::fs::remove_dir_all(s.dir()).unwrap();
    }
}
