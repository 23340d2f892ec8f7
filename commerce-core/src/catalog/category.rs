//! The category tree: its nodes, and the checks that keep it a tree.

use super::*;

/// A node of the category tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Its id.
    pub id: CategoryId,
    /// Its name.
    pub name: String,
    /// Its name in URLs, unique.
    pub slug: String,
    /// The category it sits in; `None` at the root.
    pub parent_id: Option<CategoryId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A category with its children, for the nested listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryNode {
    /// The category.
    pub category: Category,
    /// Its children, each with theirs.
    pub children: Vec<CategoryNode>,
}

/// Why a change to the tree was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryTreeError {
    /// The parent named does not exist.
    #[error("parent category {0} does not exist")]
    UnknownParent(CategoryId),
    /// The move would put a category under itself.
    #[error("a category cannot be moved under itself or one of its descendants")]
    Cycle,
    /// Another category has the slug.
    #[error("the slug `{0}` is used by another category")]
    SlugTaken(String),
    /// Its fields break their rules.
    #[error("{0}")]
    Invalid(ValidationErrors),
}

/// The whole tree, loaded at once (shops have hundreds of categories, not millions).
#[derive(Debug, Clone, Default)]
pub struct CategoryTree {
    by_id: HashMap<CategoryId, Category>,
}

impl CategoryTree {
    /// The tree of these categories.
    pub fn new(categories: impl IntoIterator<Item = Category>) -> Self {
        Self {
            by_id: categories.into_iter().map(|c| (c.id, c)).collect(),
        }
    }

    /// The category of that id.
    pub fn get(&self, id: CategoryId) -> Option<&Category> {
        self.by_id.get(&id)
    }

    /// How many categories.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The category and its ancestors up to the root, nearest first.
    pub fn ancestry(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut out = Vec::new();
        let mut current = Some(id);
        while let Some(c) = current {
            if out.contains(&c) || out.len() > self.by_id.len() {
                break; // a cycle in stored data must not hang a request
            }
            out.push(c);
            current = self.by_id.get(&c).and_then(|cat| cat.parent_id);
        }
        out
    }

    /// The category and all its descendants.
    pub fn with_descendants(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut children: HashMap<CategoryId, Vec<CategoryId>> = HashMap::new();
        for c in self.by_id.values() {
            if let Some(p) = c.parent_id {
                children.entry(p).or_default().push(c.id);
            }
        }
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            if let Some(kids) = children.get(&out[i]) {
                for k in kids {
                    if !out.contains(k) {
                        out.push(*k);
                    }
                }
            }
            i += 1;
        }
        out
    }

    /// Checks a new or moved category: the parent exists, no cycle, slug unique.
    pub fn check(&self, category: &Category) -> Result<(), CategoryTreeError> {
        let mut errors = ValidationErrors::new();
        let len = category.name.trim().chars().count();
        if len == 0 || len > MAX_NAME_CHARS {
            errors.add("name", format!("must be 1 to {MAX_NAME_CHARS} characters"));
        }
        check_text(&mut errors, "name", &category.name, Lines::One);
        if !valid_slug(&category.slug) {
            errors.add("slug", "lower-case letters, digits and single dashes");
        }
        if !errors.is_empty() {
            return Err(CategoryTreeError::Invalid(errors));
        }
        if let Some(parent) = category.parent_id {
            if !self.by_id.contains_key(&parent) && parent != category.id {
                return Err(CategoryTreeError::UnknownParent(parent));
            }
            if parent == category.id || self.ancestry(parent).contains(&category.id) {
                return Err(CategoryTreeError::Cycle);
            }
        }
        if self
            .by_id
            .values()
            .any(|c| c.id != category.id && c.slug == category.slug)
        {
            return Err(CategoryTreeError::SlugTaken(category.slug.clone()));
        }
        Ok(())
    }

    /// One category with its children nested to any depth.
    pub fn node(&self, id: CategoryId) -> Option<CategoryNode> {
        fn find(nodes: Vec<CategoryNode>, id: CategoryId) -> Option<CategoryNode> {
            nodes.into_iter().find_map(|n| {
                if n.category.id == id {
                    Some(n)
                } else {
                    find(n.children, id)
                }
            })
        }
        self.get(id)?;
        find(self.nested(), id)
    }

    /// Root categories with their children nested to any depth, each level by name.
    pub fn nested(&self) -> Vec<CategoryNode> {
        let mut children: HashMap<Option<CategoryId>, Vec<&Category>> = HashMap::new();
        for c in self.by_id.values() {
            // A parent that no longer exists makes its child a root rather than hiding it.
            let parent = c.parent_id.filter(|p| self.by_id.contains_key(p));
            children.entry(parent).or_default().push(c);
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        }
        fn build(
            parent: Option<CategoryId>,
            children: &HashMap<Option<CategoryId>, Vec<&Category>>,
            depth: usize,
        ) -> Vec<CategoryNode> {
            if depth > 64 {
                return Vec::new();
            }
            children
                .get(&parent)
                .map(|list| {
                    list.iter()
                        .map(|c| CategoryNode {
                            category: (*c).clone(),
                            children: build(Some(c.id), children, depth + 1),
                        })
                        .collect()
                })
                .unwrap_or_default()
        }
        build(None, &children, 0)
    }
}
