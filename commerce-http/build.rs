//! The PostgreSQL tests need a server: they run when `COMMERCE_TEST_DATABASE_URL` is set at
//! build time, and are listed as ignored (saying why) when it is not. (Each package that has
//! such tests has this script of its own, so that it builds from its published `.crate`.)
fn main() {
    println!("cargo::rerun-if-env-changed=COMMERCE_TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    if std::env::var_os("COMMERCE_TEST_DATABASE_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
