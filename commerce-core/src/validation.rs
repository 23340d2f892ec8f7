//! Field-level validation errors, named by the JSON field (dotted for nested ones), so the
//! HTTP layer can answer 422 with `errors: [{field, message}]` without knowing any rule.

use std::fmt;

use serde::Serialize;

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field (dotted for nested ones: `shipping_address.country`).
    pub field: String,
    /// What it should be.
    pub message: String,
}

/// One or more fields that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One error.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    /// Adds an error.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields named, in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|e| e.field.as_str())
    }

    /// `Ok(value)` when nothing was added, else the collected errors.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Prefixes every field, for errors of a nested object (`shipping_address.country`).
    pub fn nested(self, prefix: &str) -> Self {
        Self(
            self.0
                .into_iter()
                .map(|e| FieldError {
                    field: format!("{prefix}.{}", e.field),
                    message: e.message,
                })
                .collect(),
        )
    }

    /// Adds another set's errors.
    pub fn merge(&mut self, other: ValidationErrors) {
        self.0.extend(other.0);
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Whether a text field may span lines: only there are tab, line feed and carriage return
/// taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// One line: no line breaks or tabs.
    One,
    /// Several lines: line breaks and tabs allowed.
    Many,
}

/// Whether `text` holds a control character its field must not: NUL (which PostgreSQL
/// cannot store at all) and every other C0 or C1 control and DEL. Such characters are
/// invisible on a page, break CSV exports and mail headers, and are never what a shop meant.
pub fn has_control_characters(text: &str, lines: Lines) -> bool {
    text.chars()
        .any(|c| c.is_control() && !(lines == Lines::Many && matches!(c, '\t' | '\n' | '\r')))
}

/// Adds a field error when `text` holds a control character its field must not (see
/// [`has_control_characters`]).
pub fn check_text(
    errors: &mut ValidationErrors,
    field: impl Into<String>,
    text: &str,
    lines: Lines,
) {
    if has_control_characters(text, lines) {
        let allowed = match lines {
            Lines::One => "must not contain control characters",
            Lines::Many => "must not contain control characters other than tab and line breaks",
        };
        errors.add(field, allowed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_and_line_breaks_taken_where_lines_are() {
        assert!(has_control_characters("a\0b", Lines::Many));
        assert!(has_control_characters("a\u{7f}", Lines::One));
        assert!(has_control_characters("a\u{85}", Lines::Many));
        assert!(has_control_characters("a\nb", Lines::One));
        assert!(has_control_characters("a\tb", Lines::One));
        assert!(!has_control_characters("a\r\n\tb", Lines::Many));
        assert!(!has_control_characters("Zoë's café — 10 €", Lines::One));
        let mut errors = ValidationErrors::new();
        check_text(&mut errors, "name", "x\0", Lines::One);
        check_text(&mut errors, "body", "fine\nline", Lines::Many);
        assert_eq!(errors.fields().collect::<Vec<_>>(), ["name"]);
    }
}
