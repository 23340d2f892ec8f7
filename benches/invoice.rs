//! Time to draw one order's invoice as a PDF (3, 30 and 300 lines), the font subset and
//! embedded each time, as `GET /api/orders/{id}/invoice` does.
//!
//! Run: `cargo bench --bench invoice --features pdf,testkit`

use std::hint::black_box;

use commerce::account::Address;
use commerce::invoice::{Invoice, InvoiceRenderer};
use commerce::pdf::PdfInvoices;
use commerce::testkit::{fixtures, now};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rust_decimal::Decimal;

fn invoice(lines: usize) -> Invoice {
    let products: Vec<_> = (0..lines)
        .map(|i| {
            fixtures::product(
                &format!("Walnut serving board no. {i}"),
                Decimal::new(1999 + i as i64, 2),
                100,
            )
        })
        .collect();
    let units: Vec<_> = products.iter().map(|p| (p, None, 2)).collect();
    Invoice {
        shop_name: "Linen & Co".into(),
        shop_address: Some(Address {
            full_name: Some("Linen & Co Ltd".into()),
            line1: Some("12 Market Street".into()),
            city: Some("Leeds".into()),
            postal_code: Some("LS1 6DT".into()),
            country: "GB".into(),
            ..Default::default()
        }),
        order: fixtures::order(None, &units),
        issued_at: now(),
    }
}

fn drawing(c: &mut Criterion) {
    let renderer = PdfInvoices::new();
    let mut group = c.benchmark_group("invoice");
    for lines in [3usize, 30, 300] {
        let invoice = invoice(lines);
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("lines", lines), &invoice, |b, invoice| {
            b.iter(|| black_box(renderer.render(black_box(invoice)).expect("drawn")))
        });
    }
    group.finish();
}

criterion_group!(benches, drawing);
criterion_main!(benches);
