//! PostgreSQL's errors in the port's terms, in one table: every constraint of the
//! migrations is named, and its name says which unique rule or reference it is (never the
//! message's text); deadlocks and serialization failures are the transient errors a
//! transaction is run again on.

use commerce_core::ports::{Reference, StorageError, UniqueRule};

/// Errors a transaction may be retried on.
pub(crate) trait Retryable {
    fn is_transient(&self) -> bool;
    /// What the caller sees once retries are spent.
    fn exhausted(self) -> Self;
}

/// A deadlock victim or a serialization failure: PostgreSQL rolled the transaction back,
/// and running it again is the documented answer.
const TRANSIENT: &str = "transient";

impl Retryable for StorageError {
    fn is_transient(&self) -> bool {
        matches!(self, StorageError::Unavailable(why) if why.starts_with(TRANSIENT))
    }
    fn exhausted(self) -> Self {
        StorageError::Unavailable(
            "the database stayed too busy to finish the write (lock contention); nothing was written"
                .into(),
        )
    }
}

impl Retryable for commerce_core::ports::PlaceOrderError {
    fn is_transient(&self) -> bool {
        matches!(self, commerce_core::ports::PlaceOrderError::Storage(e) if e.is_transient())
    }
    fn exhausted(self) -> Self {
        match self {
            commerce_core::ports::PlaceOrderError::Storage(e) => e.exhausted().into(),
            other => other,
        }
    }
}

/// The unique rule a named constraint (or unique index) stands for: every one in the
/// migrations is here, which `every_constraint_of_the_schema_is_mapped` checks.
fn unique_rule(constraint: &str) -> Option<UniqueRule> {
    Some(match constraint {
        "products_slug_key" => UniqueRule::ProductSlug,
        "categories_slug_key" => UniqueRule::CategorySlug,
        "product_variants_sku_key" => UniqueRule::VariantSku,
        "reviews_one_per_customer_key" => UniqueRule::OneReviewPerCustomer,
        "users_email_key" => UniqueRule::UserEmail,
        "carts_customer_id_key" => UniqueRule::OneCartPerCustomer,
        "carts_guest_token_hash_key" => UniqueRule::GuestCartToken,
        "orders_number_key" => UniqueRule::OrderNumber,
        "payments_reference_key" => UniqueRule::PaymentReference,
        "promotions_code_key" => UniqueRule::PromotionCode,
        "tax_rates_country_region_key" => UniqueRule::TaxRateRegion,
        "user_identities_issuer_subject_key" => UniqueRule::ProviderIdentity,
        // Ids beside the sequence that orders them.
        "webhook_deliveries_id_key" | "audit_log_id_key" => UniqueRule::RecordId,
        _ if constraint.ends_with("_pkey") => UniqueRule::RecordId,
        _ => return None,
    })
}

/// The reference a named foreign key stands for.
fn reference(constraint: &str) -> Option<Reference> {
    Some(match constraint {
        "products_category_id_fkey" => Reference::Category,
        "categories_parent_id_fkey" => Reference::ParentCategory,
        "reviews_product_id_fkey"
        | "product_variants_product_id_fkey"
        | "stock_alerts_product_id_fkey" => Reference::Product,
        "addresses_user_id_fkey"
        | "one_time_tokens_user_id_fkey"
        | "refresh_tokens_user_id_fkey"
        | "wishlist_items_user_id_fkey"
        | "user_identities_user_id_fkey"
        | "sign_in_flows_user_id_fkey" => Reference::User,
        "payments_order_id_fkey" => Reference::Order,
        _ => return None,
    })
}

/// Maps sqlx's errors to the port's: constraints become `Duplicate`/`MissingReference`
/// naming the field (by the constraint's name), a lost or refused connection, an exhausted
/// pool or a database shutting down becomes `Unavailable`, and what cannot be decoded is
/// `Corrupt`.
pub(crate) fn storage_error(e: sqlx::Error) -> StorageError {
    match &e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let constraint = db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|pg| pg.constraint())
                .unwrap_or_default();
            match code.as_str() {
                "23505" => match unique_rule(constraint) {
                    Some(rule) => StorageError::Duplicate(rule),
                    None => StorageError::Corrupt(format!("a unique rule this build does not know: {db}")),
                },
                "23503" => match reference(constraint) {
                    Some(reference) => StorageError::MissingReference(reference),
                    None => StorageError::Corrupt(format!("a reference this build does not know: {db}")),
                },
                "23514" | "23502" => StorageError::Corrupt(format!("a check failed: {db}")),
                "40001" | "40P01" => StorageError::Unavailable(format!("{TRANSIENT}: {db}")),
                // Data exceptions and undefined things are bugs or a foreign schema.
                c if c.starts_with("22") || c.starts_with("42") => {
                    StorageError::Corrupt(db.to_string())
                }
                // Connection exceptions, too many connections, shutdown, a cancelled or timed
                // out statement, a read-only server (a replica promoted away), disk full...
                _ => StorageError::Unavailable(db.to_string()),
            }
        }
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::RowNotFound => StorageError::Corrupt(e.to_string()),
        sqlx::Error::PoolTimedOut => StorageError::Unavailable(
            "no database connection became free in time (the database is unreachable or overloaded)"
                .into(),
        ),
        _ => StorageError::Unavailable(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_name_their_rule() {
        assert_eq!(
            unique_rule("products_slug_key"),
            Some(UniqueRule::ProductSlug)
        );
        assert_eq!(unique_rule("orders_pkey"), Some(UniqueRule::RecordId));
        assert_eq!(unique_rule("something_else"), None);
        assert_eq!(
            reference("products_category_id_fkey"),
            Some(Reference::Category)
        );
    }

    /// Every unique constraint, unique index and foreign key the migrations create maps to a
    /// rule or reference, and every rule has its constraint.
    #[cfg_attr(
        not(postgres_tests),
        ignore = "set COMMERCE_TEST_DATABASE_URL to run the PostgreSQL tests"
    )]
    #[tokio::test]
    async fn every_constraint_of_the_schema_is_mapped() {
        let url = std::env::var("COMMERCE_TEST_DATABASE_URL").unwrap();
        let db = crate::temporary::TemporaryDatabase::create(&url, 2)
            .await
            .unwrap();
        let store = crate::PgStore::open(db.url(), crate::PgOptions::default())
            .await
            .unwrap();
        let unique: Vec<(String,)> = sqlx::query_as(
            "SELECT c.relname::text FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE i.indisunique AND n.nspname = current_schema()",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert!(unique.len() > 10, "the schema's unique indexes: {unique:?}");
        let mut seen = Vec::new();
        for (name,) in unique {
            let rule = unique_rule(&name).unwrap_or_else(|| panic!("{name} maps to no rule"));
            seen.push(rule);
        }
        for rule in UniqueRule::ALL {
            assert!(
                seen.contains(&rule),
                "{rule:?} has no constraint in the schema"
            );
        }
        let foreign: Vec<(String, String)> = sqlx::query_as(
            "SELECT con.conname::text, a.attname::text FROM pg_constraint con
               JOIN pg_namespace n ON n.oid = con.connamespace
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
              WHERE con.contype = 'f' AND n.nspname = current_schema()",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert!(!foreign.is_empty());
        // Keys no write can break: a delivery is made from the endpoint and the event the
        // dispatch just read, in its transaction (kept for integrity and ON DELETE CASCADE).
        let no_write_breaks = [
            "webhook_deliveries_endpoint_id_fkey",
            "webhook_deliveries_event_seq_fkey",
        ];
        for (name, column) in foreign {
            if no_write_breaks.contains(&name.as_str()) {
                continue;
            }
            let found = reference(&name).unwrap_or_else(|| panic!("{name} maps to no reference"));
            assert_eq!(found.field(), column, "{name}");
        }
    }
}
