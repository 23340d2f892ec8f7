//! The README's table of who may do what, walked row by row against the services: each row
//! names an operation, and each role's cell says whether that role's call succeeds. A row
//! with no operation here, an operation with no row, or a cell the services disagree with
//! fails the test, so the table cannot drift from the code.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use commerce::account::Role;
use commerce::audit::AuditQuery;
use commerce::catalog::{NewProduct, ProductChanges, Review, ReviewStatus};
use commerce::memory::MemoryStore;
use commerce::order::OrderStatus;
use commerce::outbox::ChangeRecord;
use commerce::ports::{PageRequest, ReviewStore, UserFilter};
use commerce::promotion::PromotionDraft;
use commerce::service::{DirectOrder, ItemRequest, ProductListing, StoreChanges};
use commerce::{Caller, Commerce, CommerceError, ReviewId, UserId};
use rust_decimal::Decimal;

/// The roles in the table's column order.
const ROLES: [Role; 4] = [Role::Customer, Role::Vendor, Role::Manager, Role::Admin];

struct Shop {
    commerce: Commerce,
    store: Arc<MemoryStore>,
    admin: Caller,
    vendor: Caller,
    customer: Caller,
}

type Outcome<'a> = Pin<Box<dyn Future<Output = Result<(), CommerceError>> + 'a>>;
type Operation = for<'a> fn(&'a Shop, &'a Caller, u32) -> Outcome<'a>;

impl Shop {
    async fn new() -> Shop {
        let store = Arc::new(MemoryStore::new());
        let commerce = Commerce::builder(store.clone()).test_payments().build();
        let mut callers = Vec::new();
        for (email, role) in [
            ("admin@shop.test", Role::Admin),
            ("vendor@shop.test", Role::Vendor),
            ("customer@shop.test", Role::Customer),
        ] {
            let user = commerce
                .accounts()
                .create_user(email, "a-long-password", "Someone", role, true)
                .await
                .unwrap();
            callers.push(Caller::user(user.id, role));
        }
        Shop {
            commerce,
            store,
            admin: callers[0],
            vendor: callers[1],
            customer: callers[2],
        }
    }

    async fn product(&self, by: &Caller, name: &str) -> commerce::catalog::Product {
        self.commerce
            .catalog()
            .create_product(
                by,
                NewProduct {
                    name: name.into(),
                    price: Decimal::new(1000, 2),
                    inventory_count: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }
}

fn done<T>(result: Result<T, CommerceError>) -> Result<(), CommerceError> {
    result.map(|_| ())
}

fn browse<'a>(shop: &'a Shop, caller: &'a Caller, _: u32) -> Outcome<'a> {
    Box::pin(async move {
        let lamp = shop.product(&shop.admin, "Browsed lamp").await;
        done(shop.commerce.catalog().product(caller, lamp.id).await)
    })
}

fn create_product<'a>(shop: &'a Shop, caller: &'a Caller, n: u32) -> Outcome<'a> {
    Box::pin(async move {
        let draft = NewProduct {
            name: format!("Made {n}"),
            price: Decimal::ONE,
            ..Default::default()
        };
        done(shop.commerce.catalog().create_product(caller, draft).await)
    })
}

fn change_any_product<'a>(shop: &'a Shop, caller: &'a Caller, n: u32) -> Outcome<'a> {
    Box::pin(async move {
        // Someone else's product: the vendor's for staff, the admin's for the vendor.
        let owner = if *caller == shop.vendor {
            shop.admin
        } else {
            shop.vendor
        };
        let lamp = shop.product(&owner, &format!("Owned {n}")).await;
        let changes = ProductChanges {
            inventory_count: Some(7),
            ..Default::default()
        };
        let catalog = shop.commerce.catalog();
        done(catalog.update_product(caller, lamp.id, changes, None).await)?;
        catalog.delete_product(caller, lamp.id).await
    })
}

fn every_product<'a>(shop: &'a Shop, caller: &'a Caller, n: u32) -> Outcome<'a> {
    Box::pin(async move {
        // Someone else's product, not for sale yet: listed to those who keep the whole catalog.
        let owner = if *caller == shop.vendor {
            shop.admin
        } else {
            shop.vendor
        };
        let hidden = shop.product(&owner, &format!("Listed {n}")).await;
        let listing = ProductListing {
            page: PageRequest::first(100),
            ..Default::default()
        };
        let page = shop
            .commerce
            .catalog()
            .products_for_staff(caller, listing, None)
            .await?;
        if page.items.iter().any(|p| p.id == hidden.id) {
            Ok(())
        } else {
            Err(CommerceError::Forbidden(
                "not someone else's products".into(),
            ))
        }
    })
}

fn approve<'a>(shop: &'a Shop, caller: &'a Caller, n: u32) -> Outcome<'a> {
    Box::pin(async move {
        let pending = shop.product(&shop.vendor, &format!("Pending {n}")).await;
        done(
            shop.commerce
                .catalog()
                .approve_product(caller, pending.id)
                .await,
        )
    })
}

fn categories<'a>(shop: &'a Shop, caller: &'a Caller, n: u32) -> Outcome<'a> {
    Box::pin(async move {
        let catalog = shop.commerce.catalog();
        let made = catalog
            .create_category(caller, &format!("Shelf {n}"), None, None)
            .await?;
        done(
            catalog
                .update_category(caller, made.id, Some("Renamed"), None, None)
                .await,
        )?;
        catalog.delete_category(caller, made.id).await
    })
}

fn moderate<'a>(shop: &'a Shop, caller: &'a Caller, n: u32) -> Outcome<'a> {
    Box::pin(async move {
        let lamp = shop.product(&shop.admin, &format!("Reviewed {n}")).await;
        let review = Review {
            id: ReviewId::random(),
            product_id: lamp.id,
            user_id: UserId::random(),
            rating: 4,
            title: "Bright".into(),
            body: String::new(),
            status: ReviewStatus::Pending,
            created_at: shop.commerce.now(),
        };
        shop.store
            .insert_review(&review, &ChangeRecord::none())
            .await
            .unwrap();
        done(
            shop.commerce
                .catalog()
                .moderate_review(caller, review.id, ReviewStatus::Approved)
                .await,
        )
    })
}

fn orders<'a>(shop: &'a Shop, caller: &'a Caller, n: u32) -> Outcome<'a> {
    Box::pin(async move {
        let lamp = shop.product(&shop.admin, &format!("Ordered {n}")).await;
        let order = shop
            .commerce
            .orders()
            .create(
                &shop.customer,
                DirectOrder {
                    items: vec![ItemRequest {
                        product_id: lamp.id,
                        variant_id: None,
                        quantity: 1,
                    }],
                    shipping_address: Some(commerce_core::testkit::fixtures::address()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let orders = shop.commerce.orders();
        done(
            orders
                .all_orders(caller, None, PageRequest::first(10))
                .await,
        )?;
        done(
            orders
                .set_status(caller, order.id, OrderStatus::Cancelled)
                .await,
        )
    })
}

fn discounts<'a>(shop: &'a Shop, caller: &'a Caller, n: u32) -> Outcome<'a> {
    Box::pin(async move {
        let draft = PromotionDraft {
            code: Some(format!("SAVE{n}")),
            kind: "percent".into(),
            value: Some(Decimal::TEN),
            ..Default::default()
        };
        let admin = shop.commerce.admin();
        let made = admin.create_promotion(caller, draft).await?;
        admin.delete_promotion(caller, made.id).await
    })
}

fn dashboard<'a>(shop: &'a Shop, caller: &'a Caller, _: u32) -> Outcome<'a> {
    Box::pin(async move {
        let admin = shop.commerce.admin();
        done(admin.dashboard(caller).await)?;
        let today = shop.commerce.now().date_naive();
        done(admin.sales_report_csv(caller, today, today).await)
    })
}

fn users<'a>(shop: &'a Shop, caller: &'a Caller, n: u32) -> Outcome<'a> {
    Box::pin(async move {
        let accounts = shop.commerce.accounts();
        let filter = UserFilter {
            role: None,
            text: None,
            page: PageRequest::first(10),
        };
        done(accounts.list_users(caller, filter).await)?;
        let someone = accounts
            .register(&format!("new{n}@shop.test"), "a-long-password", "New")
            .await
            .unwrap();
        done(
            accounts
                .admin_update_user(caller, someone.id, Some(Role::Manager), None)
                .await,
        )
    })
}

fn setup<'a>(shop: &'a Shop, caller: &'a Caller, n: u32) -> Outcome<'a> {
    Box::pin(async move {
        let admin = shop.commerce.admin();
        let changes = StoreChanges {
            name: Some(format!("Shop {n}")),
            ..Default::default()
        };
        done(admin.update_store(caller, changes).await)?;
        done(
            admin
                .save_tax_rate(
                    caller,
                    None,
                    "US",
                    Some(&format!("R{n}")),
                    Decimal::new(5, 2),
                )
                .await,
        )?;
        done(
            admin
                .save_shipping_method(caller, None, "Post", Decimal::new(400, 2), None, true)
                .await,
        )
    })
}

fn webhooks<'a>(shop: &'a Shop, caller: &'a Caller, _: u32) -> Outcome<'a> {
    Box::pin(async move {
        done(
            shop.commerce
                .webhooks()
                .endpoints(caller, PageRequest::first(10))
                .await,
        )
    })
}

fn audit_log<'a>(shop: &'a Shop, caller: &'a Caller, _: u32) -> Outcome<'a> {
    Box::pin(async move {
        done(
            shop.commerce
                .audit_log()
                .entries(caller, AuditQuery::default())
                .await,
        )
    })
}

/// Each row of the table, by its first cell, and what does it.
fn operations() -> BTreeMap<&'static str, Operation> {
    BTreeMap::from([
        ("browse the catalog", browse as Operation),
        ("create products", create_product),
        (
            "change or delete any product, and its stock",
            change_any_product,
        ),
        ("list every product, of any status", every_product),
        ("approve a vendor's product", approve),
        ("categories", categories),
        ("moderate reviews", moderate),
        ("every order: list, move, cancel, refund", orders),
        ("discounts", discounts),
        ("dashboard and sales report", dashboard),
        ("users and their roles", users),
        ("store settings, tax rates, shipping methods", setup),
        ("webhooks", webhooks),
        ("the audit log", audit_log),
    ])
}

/// The table's rows: first cell and one yes/no per role.
fn table() -> Vec<(String, Vec<bool>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("the README");
    let start = readme
        .find("| who may | customer | vendor | manager | admin |")
        .expect("the README has the roles table");
    readme[start..]
        .lines()
        .skip(2)
        .map(str::trim)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let allowed = cells[1..]
                .iter()
                .map(|c| match *c {
                    "yes" => true,
                    "no" => false,
                    other => panic!("a cell says `{other}`, not yes or no: {line}"),
                })
                .collect();
            (cells[0].to_string(), allowed)
        })
        .collect()
}

#[tokio::test]
async fn every_role_may_do_what_the_readme_table_says_and_nothing_more() {
    let shop = Shop::new().await;
    let mut staff = Vec::new();
    for (email, role) in [("manager@shop.test", Role::Manager)] {
        let user = shop
            .commerce
            .accounts()
            .create_user(email, "a-long-password", "Staff", role, true)
            .await
            .unwrap();
        staff.push(Caller::user(user.id, role));
    }
    let caller_of = |role: Role| match role {
        Role::Customer => shop.customer,
        Role::Vendor => shop.vendor,
        Role::Manager => staff[0],
        Role::Admin => shop.admin,
    };
    let operations = operations();
    let rows = table();
    let named: Vec<&str> = rows.iter().map(|(name, _)| name.as_str()).collect();
    for name in operations.keys() {
        assert!(named.contains(name), "no README row for `{name}`");
    }
    let mut n = 0;
    let mut wrong = Vec::new();
    for (name, allowed) in &rows {
        let operation = operations
            .get(name.as_str())
            .unwrap_or_else(|| panic!("the README's row `{name}` has no operation in this test"));
        assert_eq!(allowed.len(), ROLES.len(), "row `{name}`");
        for (role, may) in ROLES.iter().zip(allowed) {
            n += 1;
            let outcome = operation(&shop, &caller_of(*role), n).await;
            match (may, &outcome) {
                (true, Ok(())) => {}
                (false, Err(CommerceError::Forbidden(_) | CommerceError::NotFound(_))) => {}
                _ => wrong.push(format!(
                    "{} / `{name}`: the table says {}, the services answered {outcome:?}",
                    role.as_str(),
                    if *may { "yes" } else { "no" },
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
