//! Slugs: the URL-safe names of products and categories.

/// A URL-safe slug: lower-case letters and digits separated by single dashes.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut dash = false;
    for ch in text.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(ch);
        } else {
            dash = true;
        }
    }
    slug.truncate(crate::limits::MAX_SLUG_CHARS);
    slug.trim_end_matches('-').to_string()
}

/// A slug from a name; a name with no letter or digit gets one from the id.
pub fn slug_for(name: &str, id: &str) -> String {
    let slug = slugify(name);
    if slug.is_empty() {
        format!("item-{}", &id[..id.len().min(8)])
    } else {
        slug
    }
}

/// An auto-made slug that clashed with another: made unique with part of the id.
pub fn unique_slug(slug: &str, id: &str) -> String {
    let mut base = slug.to_string();
    base.truncate(110);
    format!("{}-{}", base.trim_end_matches('-'), &id[..id.len().min(8)])
}

pub(crate) fn valid_slug(slug: &str) -> bool {
    !slug.is_empty() && slug.len() <= crate::limits::MAX_SLUG_CHARS && slugify(slug) == slug
}
