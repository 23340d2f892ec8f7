pub use commerce_core::*;
