//! Dividing a request by items, shared by the three signals.
//!
//! Every OTLP request is a list of resources, each a list of scopes, each a list of leaves
//! (spans, log records, or metrics). A leaf weighs one item, except a metric, which weighs
//! its number of data points and can itself be divided. Three operations walk that shape:
//!
//! * [`chunk`] cuts a whole request into pieces of at most N items in one pass (splitting
//!   for a maximum batch size);
//! * [`take_front`] moves the first N items out and leaves the rest (cutting a batch at an
//!   exact size while the rest waits for the next one);
//! * [`partition`] deals the leaves out among keys (one backend per trace, say).
//!
//! All copy a resource's or scope's description into every piece that holds some of its
//! items, and keep items in order.

use std::collections::BTreeMap;

/// A part of the request tree: a resource, a scope, or a leaf.
pub(crate) trait Part: Sized {
    /// Items inside.
    fn weight(&self) -> usize;
    /// Moves the first `count` items out into a part of their own (`0 < count < weight`),
    /// with this part's description.
    fn split_front(&mut self, count: usize) -> Self;
}

/// A part that owns a list of children (a resource or a scope).
pub(crate) trait Branch: Part {
    type Child: Part;
    /// Takes the children out, leaving the description.
    fn take_children(&mut self) -> Vec<Self::Child>;
    /// A copy of the description with no children.
    fn empty_copy(&self) -> Self;
    /// Appends a child.
    fn push_child(&mut self, child: Self::Child);
}

/// Moves the first `count` items of `parts` out, dividing the part that crosses the cut.
/// Parts holding no items right after the cut go with the front.
pub(crate) fn take_front<P: Part>(parts: &mut Vec<P>, count: usize) -> Vec<P> {
    let mut whole = 0;
    let mut taken = 0;
    for part in parts.iter() {
        let weight = part.weight();
        if taken + weight > count {
            break;
        }
        taken += weight;
        whole += 1;
    }
    let mut front: Vec<P> = parts.drain(..whole).collect();
    if taken < count
        && let Some(crossing) = parts.first_mut()
    {
        front.push(crossing.split_front(count - taken));
    }
    front
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

/// Divides `resources` among keys, one per leaf in order (leaves beyond the keys go to
/// `K::default()`); each key's resources keep their leaves in order under copies of the
/// resource and scope descriptions.
pub(crate) fn partition<R, S, K>(
    resources: Vec<R>,
    keys: impl IntoIterator<Item = K>,
) -> BTreeMap<K, Vec<R>>
where
    R: Branch<Child = S>,
    S: Branch,
    K: Ord + Default,
{
    let mut keys = keys.into_iter();
    let mut out: BTreeMap<K, Vec<R>> = BTreeMap::new();
    for mut resource in resources {
        let mut pieces: BTreeMap<K, R> = BTreeMap::new();
        for mut scope in resource.take_children() {
            let mut scopes: BTreeMap<K, S> = BTreeMap::new();
            for leaf in scope.take_children() {
                scopes
                    .entry(keys.next().unwrap_or_default())
                    .or_insert_with(|| scope.empty_copy())
                    .push_child(leaf);
            }
            for (key, piece) in scopes {
                pieces
                    .entry(key)
                    .or_insert_with(|| resource.empty_copy())
                    .push_child(piece);
            }
        }
        for (key, piece) in pieces {
            out.entry(key).or_default().push(piece);
        }
    }
    out
}

/// Splits `resources` into chunks of at most `max_items` items, in order, in one pass.
pub(crate) fn chunk<R, S, L>(resources: Vec<R>, max_items: usize) -> Vec<Vec<R>>
where
    R: Branch<Child = S>,
    S: Branch<Child = L>,
    L: Part,
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

/// Implements [`Part`] and [`Branch`] for a resource or scope type: `$children` is the
/// field holding the child list; the listed description fields are cloned into copies.
macro_rules! impl_branch {
    ($ty:ty { $($field:ident),* } => $children:ident: $child:ty) => {
        impl $crate::pdata::split::Part for $ty {
            fn weight(&self) -> usize {
                self.$children.iter().map($crate::pdata::split::Part::weight).sum()
            }
            fn split_front(&mut self, count: usize) -> Self {
                Self {
                    $($field: self.$field.clone(),)*
                    $children: $crate::pdata::split::take_front(&mut self.$children, count),
                }
            }
        }

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

/// Implements [`Part`] for a leaf that is exactly one item and so is never divided.
macro_rules! impl_single_item {
    ($ty:ty) => {
        impl $crate::pdata::split::Part for $ty {
            fn weight(&self) -> usize {
                1
            }
            /// Never called: `0 < count < 1` has no solution.
            fn split_front(&mut self, _count: usize) -> Self {
                std::mem::take(self)
            }
        }
    };
}
pub(crate) use impl_single_item;

/// Decodes one resource message (`body`, without its key and length), divides it and
/// encodes the pieces again as top-level fields of an export request (field 1), each with
/// its item count: the first `first` items, then pieces of at most `then` items
/// (`usize::MAX`: all the rest in one). `first` must be above 0 and below the resource's
/// items.
///
/// This is how a payload of metrics kept as bytes is cut inside a resource: only the
/// crossing resource is decoded (spans and log records: [`cut_encoded_leaves`]).
pub(crate) fn cut_encoded<R, S, L>(
    body: &[u8],
    first: usize,
    then: usize,
) -> Result<Vec<(bytes::Bytes, usize)>, prost::DecodeError>
where
    R: prost::Message + Default + Branch<Child = S>,
    S: Branch<Child = L>,
    L: Part,
{
    let mut resource = R::decode(body)?;
    let front = resource.split_front(first);
    let mut pieces = vec![(encode_resources(std::slice::from_ref(&front)), first)];
    let rest = resource.weight();
    if rest <= then {
        pieces.push((encode_resources(std::slice::from_ref(&resource)), rest));
    } else {
        for chunk in chunk(vec![resource], then) {
            let items = chunk.iter().map(Part::weight).sum();
            pieces.push((encode_resources(&chunk), items));
        }
    }
    Ok(pieces)
}

/// Resources encoded as the repeated field 1 of an export request.
fn encode_resources<R: prost::Message>(resources: &[R]) -> bytes::Bytes {
    let len = prost::encoding::message::encoded_len_repeated(1, resources);
    let mut buf = Vec::with_capacity(len);
    prost::encoding::message::encode_repeated(1, resources, &mut buf);
    bytes::Bytes::from(buf)
}

/// [`cut_encoded`] for resources whose leaves are one item each (spans, log records),
/// on the bytes: no leaf is decoded. Each piece holds the resource's own fields and,
/// for each scope it has leaves of, the scope's own fields, copied as they were (a
/// scope without leaves goes with the piece being filled). `None` if the bytes are
/// malformed (never for a checked payload): the caller then decodes.
pub(crate) fn cut_encoded_leaves(
    body: &[u8],
    first: usize,
    then: usize,
) -> Option<Vec<(bytes::Bytes, usize)>> {
    use super::encoded::fields;
    const OWN_FIELDS_END: u32 = 2;
    // The resource's own fields, and each scope as (own fields, encoded leaf fields).
    let mut resource_own = Vec::new();
    let mut scopes: Vec<(Vec<u8>, Vec<&[u8]>)> = Vec::new();
    for field in fields(body) {
        let field = field.ok()?;
        if field.tag != OWN_FIELDS_END || field.wire_type != 2 {
            resource_own.extend_from_slice(field.encoded);
            continue;
        }
        let mut scope_own = Vec::new();
        let mut leaves = Vec::new();
        for leaf in fields(field.value) {
            let leaf = leaf.ok()?;
            if leaf.tag == OWN_FIELDS_END && leaf.wire_type == 2 {
                leaves.push(leaf.encoded);
            } else {
                scope_own.extend_from_slice(leaf.encoded);
            }
        }
        scopes.push((scope_own, leaves));
    }
    let mut pieces = Vec::new();
    let mut piece = EncodedPiece::default();
    let mut limit = first;
    for (scope_own, leaves) in &scopes {
        let mut scope = scope_own.clone();
        let mut scope_items = 0;
        for leaf in leaves {
            if piece.items + scope_items == limit {
                if scope_items > 0 {
                    piece.push_scope(&scope, scope_items);
                    scope.clone_from(scope_own);
                    scope_items = 0;
                }
                pieces.push(piece.finish(&resource_own));
                limit = then;
            }
            scope.extend_from_slice(leaf);
            scope_items += 1;
        }
        piece.push_scope(&scope, scope_items);
    }
    pieces.push(piece.finish(&resource_own));
    Some(pieces)
}

/// One piece of a resource being cut on its bytes: its scopes, encoded.
#[derive(Default)]
struct EncodedPiece {
    scopes: Vec<u8>,
    items: usize,
}

impl EncodedPiece {
    fn push_scope(&mut self, content: &[u8], items: usize) {
        super::encode::header(2, content.len(), &mut self.scopes);
        self.scopes.extend_from_slice(content);
        self.items += items;
    }

    /// The piece as a top-level field of an export request; empties `self`.
    fn finish(&mut self, resource_own: &[u8]) -> (bytes::Bytes, usize) {
        let content = resource_own.len() + self.scopes.len();
        let mut out = Vec::with_capacity(super::encode::delimited_len(1, content));
        super::encode::header(1, content, &mut out);
        out.extend_from_slice(resource_own);
        out.append(&mut self.scopes);
        (bytes::Bytes::from(out), std::mem::take(&mut self.items))
    }
}
