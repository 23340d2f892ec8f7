//! The cases, by subject. Each takes a fresh store; the macro names them all.

use super::fixtures::*;
use super::*;

mod accounts;
mod audit;
mod catalog;
mod checkout;
mod orders;
mod payments;
mod requests;
mod setup;
mod social;
mod webhooks;
mod wishlists;

pub use accounts::*;
pub use audit::*;
pub use catalog::*;
pub use checkout::*;
pub use orders::*;
pub use payments::*;
pub use requests::*;
pub use setup::*;
pub use social::*;
pub use webhooks::*;
pub use wishlists::*;

/// Follows cursors one item at a time to the end, returning every item seen.
pub(super) async fn walk<T, F, Fut>(mut fetch: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, StorageError>>,
{
    let mut all = Vec::new();
    let mut page = PageRequest::first(1);
    loop {
        let got = fetch(page.clone()).await.expect("a page");
        assert!(got.items.len() <= 1);
        all.extend(got.items);
        match got.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return all,
        }
    }
}

pub(super) async fn stock_of<S: Storage>(store: &S, id: ProductId) -> u32 {
    ProductStore::product(store, id)
        .await
        .unwrap()
        .unwrap()
        .inventory_count
}
