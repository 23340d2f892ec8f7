//! Public catalog replies kept as encoded JSON while the catalog is unchanged.
//!
//! A public catalog read (a listing, a search, a product, the category tree) answers the
//! same bytes to everyone for the same URL until something in the catalog changes, and the
//! storage says when that is: the core's catalog generation moves with every change of a
//! product, its stock or rating, or a category (this process's at once, another's sharing
//! the database within the adapter's stated delay: 1 ms on SQLite). So each reply is
//! encoded once per generation and served from memory until the generation moves. Reading
//! the generation is one row by key; building a 20-product page and writing its 14 KB of
//! JSON was nearly all the cost of a listing.
//!
//! Only what every caller may see is kept (a product that is not `active` is shown to its
//! vendor and admins only, so it is built afresh each time), and only successes: an error
//! is built afresh, so it is always the current one.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use bytes::Bytes;
use commerce_core::Commerce;
use poem::http::StatusCode;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::Serialize;

use crate::body::json_response_meta;
use crate::problem::ApiError;

/// How much the cache may hold; past either bound it starts again empty (a shop's hot set
/// is a few hundred replies: 4,096 of them, or 16 MiB, about a thousand 14 KB pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogCacheLimits {
    /// Replies kept at most; 0 keeps none.
    pub replies: usize,
    /// Bytes of encoded replies kept at most.
    pub bytes: usize,
}

impl Default for CatalogCacheLimits {
    fn default() -> Self {
        Self {
            replies: 4096,
            bytes: 16 * 1024 * 1024,
        }
    }
}

/// An encoded reply and its `ETag`, if it has one.
#[derive(Debug, Clone)]
pub struct EncodedReply {
    /// The encoded JSON.
    pub body: Bytes,
    /// Its `ETag`, quoted, when the resource has a version.
    pub etag: Option<String>,
}

/// What an operation built on a miss.
pub struct Built<T> {
    /// What the operation answers.
    pub value: T,
    /// Its `ETag`, quoted, when the resource has a version.
    pub etag: Option<String>,
    /// Whether every caller may be given it: only those are kept.
    pub public: bool,
}

impl<T> Built<T> {
    /// A reply every caller may see, without an `ETag`.
    pub fn public(value: T) -> Self {
        Self {
            value,
            etag: None,
            public: true,
        }
    }
}

#[derive(Default)]
struct Kept {
    generation: u64,
    replies: HashMap<String, EncodedReply>,
    bytes: usize,
}

/// The kept replies of one API.
pub struct CatalogCache {
    limits: CatalogCacheLimits,
    /// Read by every hit at once; written on misses only.
    kept: RwLock<Kept>,
    /// Reads answered from `kept`, and reads built afresh: shown on `/metrics`.
    hits: AtomicU64,
    misses: AtomicU64,
}

impl CatalogCache {
    /// A cache with these limits, empty.
    pub fn new(limits: CatalogCacheLimits) -> Self {
        Self {
            limits,
            kept: RwLock::new(Kept::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Reads answered from the cache, and reads built afresh, so far.
    pub fn hits_and_misses(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    fn get(&self, generation: u64, key: &str) -> Option<EncodedReply> {
        let kept = self.kept.read().ok()?;
        if kept.generation != generation {
            return None;
        }
        kept.replies.get(key).cloned()
    }

    fn keep(&self, generation: u64, key: String, reply: EncodedReply) {
        let Ok(mut kept) = self.kept.write() else {
            return;
        };
        // A reply built at an older generation than the cache's is not kept; a newer one
        // starts the cache again.
        if generation < kept.generation {
            return;
        }
        let size = key.len() + reply.body.len();
        if size > self.limits.bytes {
            return;
        }
        if generation > kept.generation
            || kept.replies.len() >= self.limits.replies
            || kept.bytes + size > self.limits.bytes
        {
            kept.replies.clear();
            kept.bytes = 0;
            kept.generation = generation;
        }
        let key_len = key.len();
        kept.bytes += size;
        if let Some(old) = kept.replies.insert(key, reply) {
            kept.bytes -= key_len + old.body.len();
        }
    }

    /// The reply for `key`: the kept one while the catalog is unchanged, else `build`'s,
    /// encoded (and kept when it is public). The key names the read by what was parsed from
    /// the request, not by its URL, so that a parameter the API ignores (a tracking tag, a
    /// cache-buster) or another order of the same parameters is the same reply, and a stream
    /// of such URLs cannot keep emptying the cache.
    pub async fn reply<T, F, Fut>(
        &self,
        shop: &Commerce,
        key: &str,
        build: F,
    ) -> Result<EncodedReply, ApiError>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Built<T>, ApiError>>,
    {
        // Read before building, so that what is kept is at least as new as its generation.
        let generation = match self.limits.replies {
            0 => None,
            _ => shop.catalog().generation().await?,
        };
        if let Some(kept) = generation.and_then(|g| self.get(g, key)) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(kept);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let built = build().await?;
        let reply = EncodedReply {
            body: Bytes::from(encode(&built.value)?),
            etag: built.etag,
        };
        if let (Some(generation), true) = (generation, built.public) {
            self.keep(generation, key.to_string(), reply.clone());
        }
        Ok(reply)
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| {
        tracing::error!(error = %e, "a response could not be encoded");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the response could not be encoded",
        )
    })
}

/// A JSON response body already encoded, documented as `T`.
pub struct Encoded<T> {
    body: Bytes,
    shape: PhantomData<fn() -> T>,
}

impl<T: Serialize> Encoded<T> {
    /// A reply of these bytes, with no `ETag`.
    pub fn new(body: Bytes) -> Self {
        Self {
            body,
            shape: PhantomData,
        }
    }

    /// Encodes `value` now.
    pub fn of(value: &T) -> Result<Self, ApiError> {
        Ok(Self::new(Bytes::from(encode(value)?)))
    }
}

impl<T: Type> Payload for Encoded<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type> poem::IntoResponse for Encoded<T> {
    fn into_response(self) -> poem::Response {
        poem::Response::builder()
            .content_type(<Self as Payload>::CONTENT_TYPE)
            .body(self.body)
    }
}

impl<T: Type> poem_openapi::ApiResponse for Encoded<T> {
    fn meta() -> poem_openapi::registry::MetaResponses {
        json_response_meta(<Self as Payload>::CONTENT_TYPE, T::schema_ref())
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(bytes: &'static [u8]) -> EncodedReply {
        EncodedReply {
            body: Bytes::from_static(bytes),
            etag: None,
        }
    }

    #[test]
    fn a_new_generation_empties_it_and_an_older_reading_is_not_kept() {
        let cache = CatalogCache::new(CatalogCacheLimits::default());
        cache.keep(5, "/a".into(), reply(b"one"));
        assert_eq!(cache.get(5, "/a").unwrap().body, &b"one"[..]);
        assert!(cache.get(6, "/a").is_none(), "another generation misses");
        cache.keep(6, "/b".into(), reply(b"two"));
        assert!(cache.get(5, "/a").is_none(), "the old generation is gone");
        // Built from a reading older than what the cache holds: dropped.
        cache.keep(5, "/c".into(), reply(b"old"));
        assert!(cache.get(5, "/c").is_none() && cache.get(6, "/c").is_none());
        assert_eq!(cache.get(6, "/b").unwrap().body, &b"two"[..]);
    }

    #[test]
    fn it_holds_no_more_replies_or_bytes_than_its_limits() {
        let cache = CatalogCache::new(CatalogCacheLimits {
            replies: 2,
            bytes: 16,
        });
        cache.keep(1, "/a".into(), reply(b"aaaa"));
        cache.keep(1, "/b".into(), reply(b"bbbb"));
        cache.keep(1, "/c".into(), reply(b"cccc"));
        let held = ["/a", "/b", "/c"]
            .iter()
            .filter(|k| cache.get(1, k).is_some())
            .count();
        assert!(held <= 2 && cache.get(1, "/c").is_some(), "{held}");
        // Too big to keep at all, and it leaves the rest alone.
        cache.keep(1, "/huge".into(), reply(b"0123456789abcdefXYZ"));
        assert!(cache.get(1, "/huge").is_none());
        assert!(cache.get(1, "/c").is_some());
        let kept = cache.kept.read().unwrap();
        assert!(kept.bytes <= 16, "{}", kept.bytes);
        assert_eq!(
            kept.bytes,
            kept.replies
                .iter()
                .map(|(k, r)| k.len() + r.body.len())
                .sum::<usize>()
        );
    }

    #[test]
    fn replacing_a_reply_counts_its_bytes_once() {
        let cache = CatalogCache::new(CatalogCacheLimits::default());
        cache.keep(1, "/a".into(), reply(b"aaaa"));
        cache.keep(1, "/a".into(), reply(b"aa"));
        assert_eq!(cache.kept.read().unwrap().bytes, 4);
    }
}
