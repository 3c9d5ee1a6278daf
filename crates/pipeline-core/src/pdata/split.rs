//! Splitting a request into pieces of at most N items, shared by the three signals.
//!
//! Every OTLP request is a list of resources, each a list of scopes, each a list of leaves
//! (spans, log records, or metrics). A leaf weighs one item, except a metric, which weighs
//! its number of data points and can itself be split. The chunker below walks that shape
//! once, copying a resource's or scope's description into every piece that holds some of
//! its items.

/// A node of the request tree that owns a list of children (a resource or a scope).
pub(crate) trait Branch: Sized {
    type Child;
    /// Takes the children out, leaving the node otherwise intact.
    fn take_children(&mut self) -> Vec<Self::Child>;
    /// A copy of this node's description with no children.
    fn empty_copy(&self) -> Self;
    /// Appends a child.
    fn push_child(&mut self, child: Self::Child);
}

/// A leaf of the request tree: a span, a log record, or a metric.
pub(crate) trait Leaf: Sized {
    /// Items in this leaf.
    fn weight(&self) -> usize;
    /// Removes and returns the first `count` items as a leaf of their own
    /// (`0 < count < weight`).
    fn split_front(&mut self, count: usize) -> Self;
}

/// The chunk being filled: finished resources plus the open pieces of the current resource
/// and scope.
struct Chunk<R, S> {
    resources: Vec<R>,
    resource: Option<R>,
    scope: Option<S>,
    items: usize,
}

impl<R, S> Chunk<R, S>
where
    R: Branch<Child = S>,
    S: Branch,
{
    fn new() -> Self {
        Chunk {
            resources: Vec::new(),
            resource: None,
            scope: None,
            items: 0,
        }
    }

    fn close_scope(&mut self, resource: &R) {
        if let Some(scope) = self.scope.take() {
            self.resource
                .get_or_insert_with(|| resource.empty_copy())
                .push_child(scope);
        }
    }

    fn close_resource(&mut self, resource: &R) {
        self.close_scope(resource);
        if let Some(piece) = self.resource.take() {
            self.resources.push(piece);
        }
    }

    fn push_leaf(&mut self, scope: &S, leaf: S::Child, weight: usize) {
        self.scope
            .get_or_insert_with(|| scope.empty_copy())
            .push_child(leaf);
        self.items += weight;
    }
}

/// Splits `resources` into chunks of at most `max_items` items, in order.
pub(crate) fn chunk<R, S, L>(resources: Vec<R>, max_items: usize) -> Vec<Vec<R>>
where
    R: Branch<Child = S>,
    S: Branch<Child = L>,
    L: Leaf,
{
    let max_items = max_items.max(1);
    let mut done: Vec<Vec<R>> = Vec::new();
    let mut chunk: Chunk<R, S> = Chunk::new();
    for mut resource in resources {
        let scopes = resource.take_children();
        if scopes.is_empty() {
            chunk.resources.push(resource);
            continue;
        }
        for mut scope in scopes {
            let leaves = scope.take_children();
            if leaves.is_empty() {
                chunk.close_scope(&resource);
                chunk
                    .resource
                    .get_or_insert_with(|| resource.empty_copy())
                    .push_child(scope);
                continue;
            }
            for mut leaf in leaves {
                loop {
                    let weight = leaf.weight();
                    if weight == 0 || chunk.items + weight <= max_items {
                        chunk.push_leaf(&scope, leaf, weight);
                        break;
                    }
                    if chunk.items == max_items {
                        chunk.close_resource(&resource);
                        done.push(std::mem::take(&mut chunk.resources));
                        chunk.items = 0;
                        continue;
                    }
                    let room = max_items - chunk.items;
                    let front = leaf.split_front(room);
                    chunk.push_leaf(&scope, front, room);
                }
            }
            chunk.close_scope(&resource);
        }
        chunk.close_resource(&resource);
    }
    if !chunk.resources.is_empty() {
        done.push(chunk.resources);
    }
    done
}

/// Implements [`Branch`] for a resource or scope type: `$children` is the field holding the
/// child list; the listed description fields are cloned into copies.
macro_rules! impl_branch {
    ($ty:ty { $($field:ident),* } => $children:ident: $child:ty) => {
        impl $crate::pdata::split::Branch for $ty {
            type Child = $child;
            fn take_children(&mut self) -> Vec<$child> {
                std::mem::take(&mut self.$children)
            }
            fn empty_copy(&self) -> Self {
                Self {
                    $($field: self.$field.clone(),)*
                    $children: Vec::new(),
                }
            }
            fn push_child(&mut self, child: $child) {
                self.$children.push(child);
            }
        }
    };
}
pub(crate) use impl_branch;
