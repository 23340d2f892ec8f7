//! What the store keeps between queries: the catalog generation as last read, the category list and product listings under it.

use super::*;

/// A reading of the catalog generation from the file.
#[derive(Clone, Copy)]
pub(crate) struct GenerationSeen {
    generation: u64,
    /// `Inner::writes` just before it was read.
    writes: u64,
    /// Just before it was read.
    at: Instant,
}

/// Listings kept at most; past it the cache starts again (queries are mostly the same few
/// pages, so a simple bound serves).
const MAX_CACHED_LISTINGS: usize = 512;

#[derive(Default)]
pub(crate) struct ListingCache {
    generation: i64,
    pages: std::collections::HashMap<
        String,
        Arc<commerce_core::ports::Page<commerce_core::catalog::Product>>,
    >,
}

impl SqliteStore {
    /// What a reading of the catalog generation taken now is compared against: the writes
    /// run here so far, and the time.
    pub(crate) fn generation_moment(&self) -> (u64, Instant) {
        (self.inner.writes.load(Ordering::Acquire), Instant::now())
    }

    /// The generation as last read from the file, if it still holds at `moment`: no write
    /// ran here since, and it is younger than `other_writers_seen_within`.
    pub(crate) fn generation_still_seen(&self, (writes, now): (u64, Instant)) -> Option<u64> {
        let seen = (*self.inner.generation_seen.read().ok()?)?;
        (seen.writes == writes
            && now.duration_since(seen.at) < self.inner.other_writers_seen_within)
            .then_some(seen.generation)
    }

    /// Remembers a reading of the file taken at `moment` (just before it was read).
    pub(crate) fn saw_generation(&self, generation: u64, (writes, at): (u64, Instant)) {
        if let Ok(mut seen) = self.inner.generation_seen.write() {
            *seen = Some(GenerationSeen {
                generation,
                writes,
                at,
            });
        }
    }

    pub(crate) fn cached_categories(
        &self,
        generation: i64,
    ) -> Option<Arc<Vec<commerce_core::catalog::Category>>> {
        lock(&self.inner.categories)
            .as_ref()
            .filter(|(g, _)| *g == generation)
            .map(|(_, c)| c.clone())
    }

    pub(crate) fn cache_categories(
        &self,
        generation: i64,
        categories: Arc<Vec<commerce_core::catalog::Category>>,
    ) {
        *lock(&self.inner.categories) = Some((generation, categories));
    }

    pub(crate) fn cached_listing(
        &self,
        generation: i64,
        key: &str,
    ) -> Option<Arc<commerce_core::ports::Page<commerce_core::catalog::Product>>> {
        let cache = lock(&self.inner.listings);
        (cache.generation == generation)
            .then(|| cache.pages.get(key).cloned())
            .flatten()
    }

    pub(crate) fn cache_listing(
        &self,
        generation: i64,
        key: String,
        page: Arc<commerce_core::ports::Page<commerce_core::catalog::Product>>,
    ) {
        let mut cache = lock(&self.inner.listings);
        // A page read at an older generation than the cache's is not kept; a newer one
        // starts a new cache.
        if generation < cache.generation {
            return;
        }
        if generation > cache.generation || cache.pages.len() >= MAX_CACHED_LISTINGS {
            cache.pages.clear();
            cache.generation = generation;
        }
        cache.pages.insert(key, page);
    }
}
