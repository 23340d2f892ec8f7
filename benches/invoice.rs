//! Time to draw one order's invoice as a PDF (3, 30 and 300 lines), the font subset and
//! embedded each time, as `GET /api/orders/{id}/invoice` does.
//!
//! Run: `cargo bench --bench invoice --features pdf,testkit`

use std::hint::black_box;

use commerce::invoice::InvoiceRenderer;
use commerce::pdf::PdfInvoices;
use commerce::testkit::fixtures;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn drawing(c: &mut Criterion) {
    let renderer = PdfInvoices::new();
    let mut group = c.benchmark_group("invoice");
    for lines in [3usize, 30, 300] {
        let invoice = fixtures::invoice(lines);
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("lines", lines), &invoice, |b, invoice| {
            b.iter(|| black_box(renderer.render(black_box(invoice)).expect("drawn")))
        });
    }
    group.finish();
}

criterion_group!(benches, drawing);
criterion_main!(benches);
