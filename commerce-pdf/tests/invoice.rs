//! Invoices drawn and read back: the text a reader extracts has the order's number, every
//! line and the total to the cent; a long order takes several pages.

use commerce_core::invoice::InvoiceRenderer;
use commerce_core::testkit::fixtures;
use commerce_pdf::PdfInvoices;
use rust_decimal::Decimal;

fn text_of(pdf: &[u8]) -> String {
    pdf_extract::extract_text_from_mem(pdf).expect("a PDF a reader can read")
}

#[test]
fn the_text_of_an_invoice_has_its_number_lines_and_total() {
    let invoice = fixtures::invoice(3);
    let pdf = PdfInvoices::new().render(&invoice).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = text_of(&pdf);
    let order = &invoice.order;
    assert!(text.contains(&order.number), "{text}");
    assert!(
        text.contains(&order.totals.total.amount().to_string()),
        "{text}"
    );
    assert!(text.contains("Linen & Co"), "the seller");
    assert!(text.contains("1 Main St"), "the buyer's address: {text}");
    for line in &order.lines {
        assert!(text.contains(&line.sku), "{}: {text}", line.sku);
        assert!(text.contains(&line.unit_price.amount().to_string()));
    }
    assert!(text.contains("Page 1 of 1"));
    // The font travels with the document.
    let raw = String::from_utf8_lossy(&pdf);
    assert!(raw.contains("FontFile2"), "an embedded TrueType font");
}

#[test]
fn a_long_order_takes_several_pages_and_ends_with_the_total() {
    let invoice = fixtures::invoice(120);
    let pdf = PdfInvoices::new().render(&invoice).unwrap();
    let text = text_of(&pdf);
    let pages = text.matches("Page ").count();
    assert!(pages >= 4, "{pages} pages");
    assert!(text.contains(&format!("Page 1 of {pages}")), "{text}");
    for line in &invoice.order.lines {
        assert!(
            text.contains(&line.sku),
            "every line is there: {}",
            line.sku
        );
    }
    let total = invoice.order.totals.total.amount().to_string();
    let last = text.rfind("Page ").unwrap();
    assert!(
        text[..last].rfind(&total).is_some(),
        "the total, on the last page"
    );
    // To look at it: COMMERCE_INVOICE_SAMPLE=DIR cargo test -p commerce-pdf, then pdftoppm.
    if let Some(dir) = std::env::var_os("COMMERCE_INVOICE_SAMPLE") {
        std::fs::write(std::path::Path::new(&dir).join("invoice.pdf"), &pdf).unwrap();
    }
}

#[test]
fn names_in_any_script_or_with_emoji_still_draw() {
    // DejaVu Sans has Cyrillic, Greek and Arabic; it has no CJK and few emoji. Those still
    // draw (as the font's missing-glyph box), and the rest of the invoice is intact.
    let names = [
        "Чайник «Аврора»",
        "Κούπα",
        "إبريق شاي",
        "急須 🍵",
        "Mug ☕ \u{200d}\u{fe0f}",
    ];
    let products: Vec<_> = names
        .iter()
        .map(|n| fixtures::product(n, Decimal::new(1250, 2), 10))
        .collect();
    let units: Vec<_> = products.iter().map(|p| (p, None, 1)).collect();
    let mut invoice = fixtures::invoice(0);
    invoice.order = fixtures::order(None, &units);
    invoice.shop_name = "Лавка 🛍".into();
    let pdf = PdfInvoices::new().render(&invoice).unwrap();
    let text = text_of(&pdf);
    assert!(text.contains("Чайник"), "{text}");
    assert!(text.contains("Κούπα"), "{text}");
    assert!(
        text.contains(&invoice.order.totals.total.amount().to_string()),
        "{text}"
    );
}
