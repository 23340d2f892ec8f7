//! Typed ids: a `ProductId` cannot be passed where an `OrderId` is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[doc = concat!("A `", stringify!($name), "`: a UUID, serialised as its string.")]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(#[doc = "The UUID inside."] pub Uuid);

        impl $name {
            /// A new random (v4) id. Services take ids from the `IdGenerator` port instead,
            /// so that tests can make them deterministic.
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }
            /// The UUID inside.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    )+};
}

id_type!(
    AddressId,
    CartId,
    CartItemId,
    CategoryId,
    ImageId,
    LoginAttemptId,
    OrderId,
    PaymentId,
    ProductId,
    PromotionId,
    RefundId,
    ReviewId,
    ShippingMethodId,
    TaxRateId,
    TokenFamilyId,
    UserId,
    VariantId,
    StockAlertId,
    WebhookDeliveryId,
    WebhookEndpointId,
    EventId,
    AuditEntryId,
);
