//! PDF invoices for the engine's `InvoiceRenderer` port, drawn with krilla (pure Rust, the
//! PDF writer of Typst) in DejaVu Sans, which is embedded (subset) so that every reader shows
//! the same text; its licence (Bitstream Vera, with DejaVu's changes in the public domain)
//! allows that, and is in `fonts/`.
//!
//! An A4 page: the seller and the buyer, the order's number and date, then one row per line
//! (item, quantity, unit price, discount, tax, amount, and its SKU below) with the table's
//! header again on each page, and the totals at the end, every amount as the order holds it.
//! Pages are numbered "n of N".
//!
//! ```
//! use std::sync::Arc;
//! use commerce_core::{memory::MemoryStore, Commerce};
//!
//! let shop = Commerce::builder(Arc::new(MemoryStore::new()))
//!     .invoices(Arc::new(commerce_pdf::PdfInvoices::new()))
//!     .build();
//! # drop(shop);
//! ```
//!
//! [`PdfInvoices::new`] shows an order's invoice drawn.

#![warn(missing_docs)]
// docs.rs marks each item with the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::sync::Arc;

use commerce_core::account::Address;
use commerce_core::invoice::{Invoice, InvoiceError, InvoiceRenderer};
use commerce_core::money::Money;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 48.0;
/// The first row's baseline on a page after the first, and the last's lowest.
const TABLE_TOP: f32 = 110.0;
const TABLE_BOTTOM: f32 = HEIGHT - 80.0;
/// A line of the table: its name and figures, and its SKU below.
const ROW: f32 = 26.0;
/// The table's header row.
const HEADER_ROW: f32 = 18.0;
const SMALL: f32 = 8.5;
const TEXT: f32 = 9.5;

/// The table's columns: title, right edge (or left for text), right-aligned. A line's SKU
/// goes under it, across the whole table, so that no SKU is cut.
const COLUMNS: [(&str, f32, bool); 6] = [
    ("Item", MARGIN, false),
    ("Qty", 330.0, true),
    ("Unit price", 395.0, true),
    ("Discount", 450.0, true),
    ("Tax", 500.0, true),
    ("Amount", WIDTH - MARGIN, true),
];

/// Draws invoices as PDF.
pub struct PdfInvoices {
    regular: Font,
    bold: Font,
    /// For measuring text, to right-align amounts and shorten long names.
    metrics: Metrics,
}

impl Default for PdfInvoices {
    fn default() -> Self {
        Self::new()
    }
}

impl PdfInvoices {
    /// The invoice renderer, with its embedded fonts loaded (once: share it).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use commerce_core::service::{DirectOrder, ItemRequest};
    /// use commerce_core::{account::{Address, Role}, catalog::NewProduct, Caller, Commerce};
    /// use commerce_pdf::PdfInvoices;
    /// use rust_decimal::Decimal;
    ///
    /// let shop = Commerce::builder(Arc::new(commerce_core::memory::MemoryStore::new()))
    ///     .invoices(Arc::new(PdfInvoices::new()))
    ///     .build();
    /// let admin = shop.accounts().create_user("admin@shop.test", "a-long-password", "Admin", Role::Admin, true).await?;
    /// let admin = Caller::user(admin.id, admin.role);
    /// let mug = shop.catalog().create_product(&admin, NewProduct {
    ///     name: "Mug".into(), price: Decimal::new(1250, 2), inventory_count: 5, ..Default::default()
    /// }).await?;
    /// let address = Address { line1: Some("1 Main St".into()), city: Some("Springfield".into()),
    ///     postal_code: Some("12345".into()), country: "US".into(), ..Default::default() };
    /// let order = shop.orders().create(&admin, DirectOrder {
    ///     items: vec![ItemRequest { product_id: mug.id, variant_id: None, quantity: 2 }],
    ///     shipping_address: Some(address), ..Default::default()
    /// }).await?;
    ///
    /// let (pdf, file_name) = shop.orders().invoice(&admin, order.id).await?;
    /// assert!(pdf.starts_with(b"%PDF-"));
    /// assert_eq!(file_name, format!("invoice-{}.pdf", order.number));
    /// # Ok::<(), commerce_core::CommerceError>(())
    /// # }).unwrap();
    /// ```
    pub fn new() -> PdfInvoices {
        let font = |bytes: &'static [u8]| {
            Font::new(Arc::new(bytes.to_vec()).into(), 0).expect("the embedded font is a font")
        };
        PdfInvoices {
            regular: font(REGULAR),
            bold: font(BOLD),
            metrics: Metrics::new(),
        }
    }
}

/// Advance widths of the embedded fonts.
struct Metrics {
    regular: ttf_parser::Face<'static>,
    bold: ttf_parser::Face<'static>,
}

impl Metrics {
    fn new() -> Metrics {
        Metrics {
            regular: ttf_parser::Face::parse(REGULAR, 0).expect("the embedded font parses"),
            bold: ttf_parser::Face::parse(BOLD, 0).expect("the embedded font parses"),
        }
    }

    /// A character's advance in font units.
    fn advance(face: &ttf_parser::Face<'_>, c: char) -> f32 {
        face.glyph_index(c)
            .and_then(|g| face.glyph_hor_advance(g))
            .map_or(f32::from(face.units_per_em()) / 2.0, f32::from)
    }

    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let face = if bold { &self.bold } else { &self.regular };
        let units = f32::from(face.units_per_em());
        text.chars().map(|c| Self::advance(face, c)).sum::<f32>() * size / units
    }

    /// `text` shortened with an ellipsis to fit `room`: one pass over the characters.
    fn fit(&self, text: &str, size: f32, room: f32) -> String {
        if self.width(text, size, false) <= room {
            return text.to_string();
        }
        let face = &self.regular;
        let room = room * f32::from(face.units_per_em()) / size - Self::advance(face, '…');
        let mut used = 0.0;
        let end = text
            .char_indices()
            .find(|&(_, c)| {
                used += Self::advance(face, c);
                used > room
            })
            .map_or(text.len(), |(i, _)| i);
        format!("{}…", text[..end].trim_end())
    }
}

/// One row of the lines table.
struct Row {
    cells: [String; 6],
    sku: String,
}

/// What goes on the pages, so that the page count is known before drawing.
fn rows(invoice: &Invoice) -> Vec<Row> {
    invoice
        .order
        .lines
        .iter()
        .map(|l| {
            let amount = l.subtotal.checked_sub(&l.discount).unwrap_or(l.subtotal);
            Row {
                sku: format!("SKU {}", l.sku),
                cells: [
                    l.name.clone(),
                    l.quantity.to_string(),
                    amount_text(&l.unit_price),
                    amount_text(&l.discount),
                    amount_text(&l.tax),
                    amount_text(&amount),
                ],
            }
        })
        .collect()
}

/// An amount without its currency (the table says it once).
fn amount_text(m: &Money) -> String {
    m.amount().to_string()
}

/// Rows on the first page (below the addresses) and on each next one.
const FIRST_PAGE_ROWS: usize = ((TABLE_BOTTOM - 318.0 - HEADER_ROW) / ROW) as usize;
const NEXT_PAGE_ROWS: usize = ((TABLE_BOTTOM - TABLE_TOP - HEADER_ROW) / ROW) as usize;
/// Rows' worth of room the totals need below the last row.
const TOTALS_ROWS: usize = 4;

/// The rows of each page: the totals go on the last page, on a page of their own if the last
/// rows leave no room.
fn paginate(count: usize) -> Vec<std::ops::Range<usize>> {
    let mut pages = Vec::new();
    let mut start = 0;
    let mut room = FIRST_PAGE_ROWS;
    loop {
        let end = (start + room).min(count);
        pages.push(start..end);
        if end == count {
            if room - (end - start) < TOTALS_ROWS {
                pages.push(end..end);
            }
            return pages;
        }
        start = end;
        room = NEXT_PAGE_ROWS;
    }
}

struct Pen<'a, 'b> {
    surface: &'a mut Surface<'b>,
    fonts: &'a PdfInvoices,
}

impl Pen<'_, '_> {
    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let font = if bold {
            self.fonts.bold.clone()
        } else {
            self.fonts.regular.clone()
        };
        self.surface.draw_text(
            Point::from_xy(x, y),
            font,
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    /// Text ending at `right`.
    fn right(&mut self, right: f32, y: f32, size: f32, bold: bool, text: &str) {
        let width = self.fonts.metrics.width(text, size, bold);
        self.text(right - width, y, size, bold, text);
    }

    fn rule(&mut self, y: f32) {
        let mut path = PathBuilder::new();
        if let Some(rect) = Rect::from_xywh(MARGIN, y, WIDTH - 2.0 * MARGIN, 0.6) {
            path.push_rect(rect);
        }
        if let Some(path) = path.finish() {
            self.surface.draw_path(&path);
        }
    }

    fn table_header(&mut self, y: f32) {
        for (title, x, right) in COLUMNS {
            if right {
                self.right(x, y, SMALL, true, title);
            } else {
                self.text(x, y, SMALL, true, title);
            }
        }
        self.rule(y + 5.0);
    }

    fn row(&mut self, y: f32, row: &Row) {
        let item_room = COLUMNS[1].1 - 40.0 - COLUMNS[0].1;
        for (i, (_, x, right)) in COLUMNS.iter().enumerate() {
            let cell = &row.cells[i];
            if i == 0 {
                let fitted = self.fonts.metrics.fit(cell, TEXT, item_room);
                self.text(*x, y, TEXT, false, &fitted);
            } else if *right {
                self.right(*x, y, TEXT, false, cell);
            } else {
                self.text(*x, y, TEXT, false, cell);
            }
        }
        // The SKU whole: smaller type for a long one rather than a cut.
        let room = WIDTH - 2.0 * MARGIN;
        let width = self.fonts.metrics.width(&row.sku, SMALL, false);
        let size = if width > room {
            (SMALL * room / width).max(5.0)
        } else {
            SMALL
        };
        let sku = self.fonts.metrics.fit(&row.sku, size, room);
        self.text(MARGIN, y + 11.0, size, false, &sku);
    }
}

impl InvoiceRenderer for PdfInvoices {
    fn render(&self, invoice: &Invoice) -> Result<Vec<u8>, InvoiceError> {
        let order = &invoice.order;
        let rows = rows(invoice);
        let pages = paginate(rows.len());
        let count = pages.len();
        let currency = order.currency.code().to_string();
        let mut document = Document::new();
        for (n, range) in pages.iter().enumerate() {
            let size = PageSettings::from_wh(WIDTH, HEIGHT)
                .ok_or_else(|| InvoiceError("an A4 page".into()))?;
            let mut page = document.start_page_with(size);
            let mut surface = page.surface();
            let mut pen = Pen {
                surface: &mut surface,
                fonts: self,
            };
            let mut y;
            if n == 0 {
                pen.text(MARGIN, 70.0, 18.0, true, &invoice.shop_name);
                y = 88.0;
                for line in invoice
                    .shop_address
                    .as_ref()
                    .map(Address::lines)
                    .unwrap_or_default()
                {
                    pen.text(MARGIN, y, TEXT, false, &line);
                    y += 12.0;
                }
                pen.right(WIDTH - MARGIN, 70.0, 18.0, true, "Invoice");
                let facts = [
                    format!("Invoice for order {}", order.number),
                    format!("Order date {}", order.created_at.format("%Y-%m-%d")),
                    format!("Issued {}", invoice.issued_at.format("%Y-%m-%d")),
                ];
                for (i, fact) in facts.iter().enumerate() {
                    pen.right(WIDTH - MARGIN, 90.0 + 13.0 * i as f32, TEXT, false, fact);
                }
                pen.text(MARGIN, 190.0, SMALL, true, "BILL TO");
                let mut buyer = order.shipping_address.lines();
                if let Some(email) = &order.email {
                    buyer.push(email.clone());
                }
                for (i, line) in buyer.iter().enumerate() {
                    pen.text(MARGIN, 204.0 + 12.0 * i as f32, TEXT, false, line);
                }
                if let Some(method) = &order.shipping_method {
                    pen.text(330.0, 190.0, SMALL, true, "SHIPPING");
                    pen.text(330.0, 204.0, TEXT, false, &method.name);
                }
                pen.text(
                    MARGIN,
                    300.0,
                    SMALL,
                    false,
                    &format!("Amounts in {currency}"),
                );
                y = 318.0;
            } else {
                pen.text(
                    MARGIN,
                    70.0,
                    TEXT,
                    true,
                    &format!("{} · invoice for order {}", invoice.shop_name, order.number),
                );
                y = TABLE_TOP;
            }
            pen.table_header(y);
            y += HEADER_ROW;
            for row in &rows[range.clone()] {
                pen.row(y, row);
                y += ROW;
            }
            if n + 1 == count {
                pen.rule(y - 10.0);
                y += 4.0;
                let t = &order.totals;
                let discount = if t.discount.is_zero() {
                    amount_text(&t.discount)
                } else {
                    format!("-{}", amount_text(&t.discount))
                };
                let shipping = match &order.shipping_method {
                    Some(m) => format!("Shipping ({})", m.name),
                    None => "Shipping".to_string(),
                };
                let lines = [
                    ("Subtotal".to_string(), amount_text(&t.subtotal), false),
                    ("Discount".to_string(), discount, false),
                    (shipping, amount_text(&t.shipping), false),
                    ("Tax".to_string(), amount_text(&t.tax), false),
                    (format!("Total {currency}"), amount_text(&t.total), true),
                ];
                for (label, amount, bold) in lines {
                    pen.right(COLUMNS[3].1, y, TEXT, bold, &label);
                    pen.right(WIDTH - MARGIN, y, TEXT, bold, &amount);
                    y += 15.0;
                }
            }
            pen.right(
                WIDTH - MARGIN,
                HEIGHT - 40.0,
                SMALL,
                false,
                &format!("Page {} of {count}", n + 1),
            );
            surface.finish();
            page.finish();
        }
        document
            .finish()
            .map_err(|e| InvoiceError(format!("{e:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_orders_take_pages_and_the_totals_always_fit() {
        assert_eq!(paginate(3), vec![0..3]);
        let many = paginate(200);
        assert!(many.len() > 3);
        assert_eq!(many.first().unwrap().start, 0);
        assert_eq!(many.last().unwrap().end, 200);
        for pair in many.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "no row lost or repeated");
        }
        // A first page filled to the last row: the totals go on a page of their own.
        let full = paginate(FIRST_PAGE_ROWS);
        assert_eq!(
            full,
            vec![0..FIRST_PAGE_ROWS, FIRST_PAGE_ROWS..FIRST_PAGE_ROWS]
        );
    }

    #[test]
    fn names_too_long_for_their_column_are_shortened() {
        let m = Metrics::new();
        let fitted = m.fit(&"Linen ".repeat(30), TEXT, 150.0);
        assert!(fitted.ends_with('…'));
        assert!(m.width(&fitted, TEXT, false) <= 150.0);
        assert_eq!(m.fit("Mug", TEXT, 150.0), "Mug");
        // As much as fits is kept: one character more would not.
        let fitted = m.fit(&"x".repeat(200), TEXT, 150.0);
        assert!(m.width(&fitted, TEXT, false) <= 150.0);
        assert!(m.width(&format!("x{fitted}"), TEXT, false) > 150.0);
    }
}
