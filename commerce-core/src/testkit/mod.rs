//! The storage conformance kit: one suite of behaviour tests that every storage adapter runs
//! against itself. An adapter's test file needs one line:
//!
//! ```
//! // tests/conformance.rs of an adapter: here the in-memory store's (yours opens a fresh
//! // store of its own, such as `MyStore::open_temporary().await`).
//! commerce_core::storage_conformance_tests!(|| async {
//!     std::sync::Arc::new(commerce_core::memory::MemoryStore::new())
//! });
//! ```
//!
//! An attribute before the factory goes on every generated test (e.g. a `cfg_attr(..., ignore)`
//! for a store that needs a server).
//!
//! Each case gets a fresh store from the factory, on its own multi-threaded runtime, so the
//! concurrency cases really run in parallel.

use std::future::Future;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::account::{Address, OneTimeToken, RefreshToken, Role, SavedAddress, TokenPurpose, User};
use crate::cart::Cart;
use crate::catalog::{
    slugify, Category, NewProduct, NewReview, Product, ProductStatus, Review, ReviewStatus,
};
use crate::ids::*;
use crate::inventory::Stock;
use crate::money::{Currency, Money};
use crate::order::{Order, OrderDetails, OrderStatus};
use crate::outbox::{ChangeRecord, OutboxEvent};
use crate::payment::{Payment, PaymentStatus};
use crate::ports::*;
use crate::pricing::{price, PricingContext, PricingLine, PricingRequest};
use crate::promotion::{Promotion, PromotionDraft};
use crate::service::Storage;
use crate::shipping::ShippingMethod;
use crate::tax::{TaxPolicy, TaxRate};

/// The time now, to the microsecond: what every store keeps (PostgreSQL's precision).
pub fn now() -> chrono::DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// Runs one case on a fresh store from `factory`, on a new multi-threaded runtime.
pub fn run<S, F, Fut, C, CFut>(factory: F, case: C)
where
    S: Storage,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<S>>,
    C: FnOnce(Arc<S>) -> CFut,
    CFut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a test runtime");
    runtime.block_on(async move {
        let store = factory().await;
        case(store).await;
    });
}

/// Generates one `#[test]` per conformance case for the store the factory makes.
#[macro_export]
macro_rules! storage_conformance_tests {
    (#[$attr:meta] $factory:expr) => {
        $crate::storage_conformance_tests!(@all [#[$attr]] $factory);
    };
    ($factory:expr) => {
        $crate::storage_conformance_tests!(@all [] $factory);
    };
    (@all $attrs:tt $factory:expr) => {
        $crate::storage_conformance_tests!(@cases $attrs $factory;
            products_round_trip_with_versions,
            each_unique_rule_and_reference_is_reported_exactly,
            product_listings_filter_sort_and_page,
            deleting_a_category_moves_its_children_up,
            carts_round_trip_with_versions,
            concurrent_updates_of_one_cart_save_one_and_refuse_the_rest,
            a_cart_comes_with_its_products,
            placing_an_order_reserves_stock_counts_usage_and_empties_the_cart,
            placing_an_order_is_all_or_nothing,
            variants_sell_only_by_name_and_from_their_own_stock,
            an_order_of_many_lines_keeps_every_line,
            concurrent_checkouts_of_the_last_units_never_oversell,
            fifty_buyers_of_the_last_ten_units_leave_exactly_ten_orders,
            checkouts_taking_two_products_in_opposite_orders_never_fail,
            cancelling_gives_stock_back_and_versions_are_enforced,
            a_sale_moves_the_product_version_so_stale_writes_fail,
            low_stock_lists_active_products_at_or_below_their_threshold,
            orders_list_newest_first_and_report_sales,
            provider_events_are_recorded_once,
            payments_written_at_once_each_get_their_own_answer,
            emails_are_unique_and_one_address_is_default,
            one_time_tokens_work_once_and_expire,
            refresh_tokens_revoke_once_and_by_family,
            promotion_codes_are_unique_and_pricing_gets_the_right_ones,
            settings_tax_rates_and_shipping_round_trip,
            reviews_keep_the_rating_current,
            the_catalog_generation_moves_with_every_catalog_change,
            idempotency_keys_claim_once_replay_and_expire,
            concurrent_claims_of_one_idempotency_key_let_one_through,
            login_failures_are_counted_per_key_within_the_window,
            client_request_times_add_up_from_now,
            unpaid_orders_expire_giving_back_stock_and_discount_uses,
            a_promotion_s_uses_add_up_whatever_its_limits_were,
            an_expired_order_paid_late_comes_back_only_while_its_stock_is_there,
            guest_carts_untouched_for_long_are_purged,
            writes_tell_the_outbox_with_their_change_and_never_without,
            deliveries_are_leased_to_one_relay_and_keep_their_attempts,
            webhook_endpoints_round_trip_rotate_and_take_test_events,
            stock_crossings_tell_inventory_events_once,
            webhook_history_done_long_ago_is_forgotten,
            stock_alerts_wait_for_stock_and_are_sent_once,
            audit_entries_are_written_with_their_change_and_listed_newest_first,
            wishlists_keep_one_entry_each_newest_first_and_outlive_their_product,
            sign_in_flows_work_once_and_identities_link_one_account,
        );
    };
    (@cases $attrs:tt $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            $crate::storage_conformance_tests!(@case $attrs $factory; $case);
        )+
    };
    (@case [$($attr:tt)*] $factory:expr; $case:ident) => {
        #[test]
        $($attr)*
        fn $case() {
            $crate::testkit::run($factory, |store| $crate::testkit::cases::$case(store));
        }
    };
}

/// Data builders shared by the cases.
pub mod fixtures;

/// The cases. Each takes a fresh store.
pub mod cases;

pub mod upgrades;
