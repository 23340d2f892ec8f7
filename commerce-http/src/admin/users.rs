//! Changes to a user, and the roles a client may name.

use super::*;

#[derive(Debug, Object, Deserialize)]
pub struct UserChangesBody {
    #[serde(default)]
    pub role: MaybeWord<Role>,
    #[serde(default)]
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

impl Choices for Role {
    const NAME: &'static str = "role";
    fn all() -> Vec<(&'static str, Self)> {
        Role::ALL.iter().map(|r| (r.as_str(), *r)).collect()
    }
}
