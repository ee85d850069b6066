//! A verifiable sparse Merkle map from 32-byte key hashes to 32-byte value
//! hashes, with proofs of membership and of absence that anyone can check
//! offline against a 32-byte root.
//!
//! The crate is pure map math: it knows nothing of what the keys and values
//! mean. It is in memory, and it hashes exactly as the Jellyfish Merkle tree
//! of the `jmt` crate (penumbra-zone/jmt, version 0.12) instantiated with
//! SHA-256, so that an independent implementation computes the same roots and
//! the same proofs (the test suite checks this against `jmt` itself).
//!
//! # What the map commits to
//!
//! A map is a set of pairs `(key, value)`, each a 32-byte [`Hash`](type@Hash), with at most
//! one value per key. Its [`root`](StatusMap::root) is a 32-byte hash that
//! commits to the whole set: to which keys are present, and to the value of
//! each. Callers hash their ids and records first, with [`key_hash`] and
//! [`value_hash`] (both plain SHA-256 of the bytes, as `jmt`'s `KeyHash::with`
//! and `ValueHash::with` do with SHA-256).
//!
//! # The hashing (a specification)
//!
//! Everything is SHA-256; `||` is concatenation; no length prefixes.
//!
//! * Think of a complete binary tree of depth 256. The path to a key's slot is
//!   the key's 256 bits, most significant bit of byte 0 first: bit `i` is
//!   `(key[i / 8] >> (7 - i % 8)) & 1`; 0 goes left, 1 goes right. A node at
//!   depth `d` stands for the subtree of keys sharing the node's first `d`
//!   bits.
//! * The hash of a subtree is:
//!   * if it holds **no** key: the 32 ASCII bytes
//!     `SPARSE_MERKLE_PLACEHOLDER_HASH__` (the [`PLACEHOLDER`]; not a hash
//!     of anything);
//!   * if it holds **exactly one** key, at any depth: that key's leaf hash,
//!     `leaf = SHA-256("JMT::LeafNode" || key || value)` (13 + 32 + 32 bytes;
//!     see [`leaf_hash`]). A lone key's leaf therefore sits as high up as it
//!     can: at the depth one below where its path parts from every other key;
//!   * if it holds **two or more** keys: `SHA-256("JMT::IntrnalNode" || left
//!     || right)` (16 + 32 + 32 bytes; the domain string really misses the
//!     `e`, as in `jmt`; see [`internal_hash`]), where `left` and `right` are
//!     the hashes of its two halves by these same rules. A subtree with two or
//!     more keys all in one half is thus hashed with the placeholder for the
//!     other half; it does not collapse.
//! * The root is the hash of the whole tree (depth 0). The empty map's root is
//!   the placeholder; a one-key map's root is that key's leaf hash.
//!
//! This is exactly `jmt`'s binary view of its 16-ary nodes (its `InternalNode`
//! hash and `SparseMerkleProof::verify`): no difference in any detail was
//! found.
//!
//! # Proofs
//!
//! A [`MapProof`] for a key walks from the root down the key's path until it
//! meets a leaf or an empty subtree, at depth `n`. It carries:
//!
//! * the `n` sibling hashes along that walk, **bottom-up** as `jmt` orders them:
//!   `siblings[0]` is the sibling of the node at depth `n`, the last one is
//!   the sibling of the root's child; empty siblings are given as the
//!   placeholder (they are not omitted). `n <= 256`;
//! * the leaf `(key, value)` met at depth `n`, if any.
//!
//! To verify against a root, for a key and an expected value (or none, to
//! prove absence):
//!
//! 1. if a value is expected, the proof's leaf must be present with exactly
//!    that key and value (membership);
//! 2. if absence is claimed, either the proof has no leaf (the key's place is
//!    an empty subtree), or its leaf has a *different* key that shares at least
//!    `n` leading bits with the checked key (the key's place is held by a lone
//!    other key, so the checked key is not in the map);
//! 3. start from the leaf's hash (or the placeholder when there is no leaf);
//!    for `i` in `0..n`, with `d = n - 1 - i` the depth of the parent being
//!    rebuilt: if bit `d` of the checked key is 1, `h = internal(siblings[i],
//!    h)`, else `h = internal(h, siblings[i])`;
//! 4. the result must equal the root.
//!
//! This is `jmt`'s `SparseMerkleProof::verify`, except that it is handed the
//! value *hash* rather than the value.
//!
//! ## Proof bytes
//!
//! [`MapProof::to_bytes`] writes, with no padding:
//!
//! | bytes | field |
//! | --- | --- |
//! | 1 | kind: `0x00` no leaf, `0x01` a leaf follows |
//! | 64 (kind `0x01` only) | the leaf's key, then its value hash |
//! | 2 | `n`, the number of siblings, big-endian, `0..=256` |
//! | 32 × `n` | the siblings, bottom-up |
//!
//! [`MapProof::from_bytes`] accepts exactly this form: any other kind byte, a
//! count over 256, a short input or trailing bytes is an error, so each proof
//! has one encoding. A membership proof in a map of a million random keys
//! has about 20 siblings (about 700 bytes).
//!
//! `jmt`'s own proofs carry each sibling as a typed node (empty, leaf or
//! internal, with its contents) so that they can also drive updates; this
//! crate carries only the sibling's hash, which is all verification uses. A
//! `jmt` proof maps onto a [`MapProof`] by hashing each sibling node.
//!
//! # Example
//!
//! ```
//! use status_map::{key_hash, value_hash, StatusMap};
//!
//! let cert = key_hash(b"certificate 42");
//! let revoked = value_hash(b"revoked 2026-11-30");
//! let lot = key_hash(b"lot 7");
//! let active = value_hash(b"active");
//!
//! let mut map = StatusMap::from_leaves([(cert, value_hash(b"valid"))]);
//! // One batch: replace one value, insert one key.
//! map.update([(cert, Some(revoked)), (lot, Some(active))]);
//! assert_eq!(map.len(), 2);
//! let root = map.root();
//!
//! // Membership: the certificate is revoked.
//! let proof = map.prove(&cert);
//! proof.verify(&root, &cert, Some(&revoked))?;
//! assert!(proof.verify(&root, &cert, Some(&active)).is_err());
//!
//! // Absence: this actor key was never registered. The proof travels as bytes.
//! let actor = key_hash(b"actor 9");
//! let bytes = map.prove(&actor).to_bytes();
//! let proof = status_map::MapProof::from_bytes(&bytes)?;
//! proof.verify(&root, &actor, None)?;
//! assert!(proof.verify(&root, &actor, Some(&active)).is_err());
//!
//! // A delete is a change to None.
//! map.update([(lot, None)]);
//! map.prove(&lot).verify(&map.root(), &lot, None)?;
//! # Ok::<(), status_map::MapError>(())
//! ```
//!
//! # Cost
//!
//! The map keeps, for `n` keys, `n` leaves of 64 bytes and `n - 1` branch nodes
//! of 48 bytes (their subtree hash, two child indices, a representative leaf
//! and the branching bit): about 112 bytes per key, plus spare vector
//! capacity (measured: 116 bytes of resident memory per key at a million
//! keys, `cargo run --release -p status-map --example memory`). A batch
//! [`update`](StatusMap::update) sorts its changes once and visits every node
//! on their paths once, rehashing each once however many changes pass through
//! it (a batch of 1,024 changes into a million keys takes about 6 ms on a
//! shared 2-core machine: `cargo bench -p status-map --bench update`). A
//! change that leaves the map as it was (the same value again, or the delete
//! of an absent key) rehashes nothing. Node indices are 32-bit: a map holds at most
//! 2³² − 1 keys (some 480 GB); past that the process aborts, as it does when
//! memory runs out.

use core::fmt;

use sha2::{Digest, Sha256};

/// A 32-byte SHA-256 output: a key hash, a value hash, a node hash or a root.
pub type Hash = [u8; 32];

/// The hash of an empty subtree: the 32 ASCII bytes
/// `SPARSE_MERKLE_PLACEHOLDER_HASH__` (as `jmt`'s
/// `SPARSE_MERKLE_PLACEHOLDER_HASH`). Also the root of the empty map.
pub const PLACEHOLDER: Hash = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";

/// The domain string hashed before a leaf's key and value (`jmt`'s
/// `LEAF_DOMAIN_SEPARATOR`).
pub const LEAF_DOMAIN: &[u8] = b"JMT::LeafNode";

/// The domain string hashed before an internal node's two children (`jmt`'s
/// `INTERNAL_DOMAIN_SEPARATOR`; 16 bytes, hence the missing `e`).
pub const INTERNAL_DOMAIN: &[u8] = b"JMT::IntrnalNode";

/// The most siblings a proof can have: the tree's depth.
pub const MAX_SIBLINGS: usize = 256;

/// The key hash of an id: SHA-256 of its bytes (`jmt::KeyHash::with::<Sha256>`).
#[must_use]
pub fn key_hash(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// The value hash of a record: SHA-256 of its bytes
/// (`jmt::ValueHash::with::<Sha256>`, which `jmt` applies to every stored value).
#[must_use]
pub fn value_hash(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// A leaf's hash: SHA-256(`"JMT::LeafNode"` || key || value).
#[must_use]
pub fn leaf_hash(key: &Hash, value: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(LEAF_DOMAIN);
    h.update(key);
    h.update(value);
    h.finalize().into()
}

/// An internal node's hash: SHA-256(`"JMT::IntrnalNode"` || left || right).
#[must_use]
pub fn internal_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(INTERNAL_DOMAIN);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Bit `i` of a key, most significant bit of byte 0 first; false past bit 255.
fn bit(key: &Hash, i: usize) -> bool {
    key.get(i / 8).is_some_and(|b| (b >> (7 - i % 8)) & 1 == 1)
}

/// How many leading bits two keys share (256 when equal).
fn common_prefix_bits(a: &Hash, b: &Hash) -> usize {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let d = x ^ y;
        if d != 0 {
            return i * 8 + d.leading_zeros() as usize;
        }
    }
    256
}

/// Lowercase hex, for messages.
fn hex(h: &Hash) -> String {
    use fmt::Write;
    let mut s = String::with_capacity(64);
    for b in h {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// What is wrong with a proof, or with its bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// More siblings than the tree is deep.
    #[error("proof has {count} siblings; a depth-256 tree allows at most 256")]
    TooManySiblings {
        /// The number of siblings given.
        count: usize,
    },
    /// A membership proof whose leaf is another key's.
    #[error("proof's leaf is for key {}, not for the key {} being checked", hex(.found), hex(.expected))]
    KeyMismatch {
        /// The key being checked.
        expected: Hash,
        /// The key in the proof's leaf.
        found: Hash,
    },
    /// A membership proof whose leaf holds another value.
    #[error("proof's leaf holds value hash {}, not the expected {}", hex(.found), hex(.expected))]
    ValueMismatch {
        /// The value hash being checked.
        expected: Hash,
        /// The value hash in the proof's leaf.
        found: Hash,
    },
    /// A value was expected but the proof carries no leaf: it can only show
    /// absence.
    #[error(
        "proof ends in an empty subtree, so it can only prove absence, but a value was expected"
    )]
    NoLeaf,
    /// Absence was claimed but the proof's leaf is the checked key itself.
    #[error("proof's leaf is the checked key itself: it proves membership, not absence")]
    KeyPresent,
    /// Absence was claimed but the proof's leaf does not sit on the checked
    /// key's path.
    #[error(
        "proof's leaf shares only {common_bits} leading bits with the checked key, fewer than \
         its depth {depth}: it does not hold the key's place, so it proves nothing about the key"
    )]
    LeafOffPath {
        /// Leading bits the leaf's key shares with the checked key.
        common_bits: usize,
        /// The leaf's depth (the number of siblings).
        depth: usize,
    },
    /// The proof rebuilds another root.
    #[error("proof rebuilds root {}, not the expected root {}", hex(.computed), hex(.expected))]
    RootMismatch {
        /// The root being checked against.
        expected: Hash,
        /// The root the proof rebuilds.
        computed: Hash,
    },
    /// Proof bytes end early.
    #[error("proof bytes end early: need {needed} bytes, got {got}")]
    Truncated {
        /// Bytes needed so far.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// Proof bytes go on past the proof.
    #[error("proof bytes go on past the proof: it is {expected} bytes long, got {got}")]
    TrailingBytes {
        /// The proof's length.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// Proof bytes start with an unknown kind.
    #[error("proof kind byte is {0:#04x}; expected 0x00 (no leaf) or 0x01 (a leaf follows)")]
    BadKind(u8),
}

/// A proof of membership or of absence for one key: see the [crate docs](crate#proofs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapProof {
    leaf: Option<(Hash, Hash)>,
    siblings: Vec<Hash>,
}

impl MapProof {
    /// A proof from its parts: the leaf `(key, value hash)` met on the key's
    /// path, if any, and the sibling hashes bottom-up.
    ///
    /// # Errors
    ///
    /// [`MapError::TooManySiblings`] for more than 256 siblings.
    pub fn from_parts(leaf: Option<(Hash, Hash)>, siblings: Vec<Hash>) -> Result<Self, MapError> {
        if siblings.len() > MAX_SIBLINGS {
            return Err(MapError::TooManySiblings {
                count: siblings.len(),
            });
        }
        Ok(Self { leaf, siblings })
    }

    /// The leaf `(key, value hash)` the proof ends at, if it ends at one.
    #[must_use]
    pub fn leaf(&self) -> Option<(Hash, Hash)> {
        self.leaf
    }

    /// The sibling hashes, bottom-up (the first is the deepest).
    #[must_use]
    pub fn siblings(&self) -> &[Hash] {
        &self.siblings
    }

    /// Checks that, in the map whose root is `root`, `key` maps to `value`
    /// (`Some`), or is absent (`None`). See the [crate docs](crate#proofs).
    ///
    /// # Errors
    ///
    /// * [`MapError::NoLeaf`], [`MapError::KeyMismatch`] or
    ///   [`MapError::ValueMismatch`] when a value is expected and the proof
    ///   shows another (or none);
    /// * [`MapError::KeyPresent`] or [`MapError::LeafOffPath`] when absence
    ///   is claimed and the proof's leaf does not show it;
    /// * [`MapError::TooManySiblings`] for over 256 siblings;
    /// * [`MapError::RootMismatch`] when the proof rebuilds another root.
    pub fn verify(&self, root: &Hash, key: &Hash, value: Option<&Hash>) -> Result<(), MapError> {
        let depth = self.siblings.len();
        if depth > MAX_SIBLINGS {
            return Err(MapError::TooManySiblings { count: depth });
        }
        match (value, &self.leaf) {
            (Some(value), Some((leaf_key, leaf_value))) => {
                if leaf_key != key {
                    return Err(MapError::KeyMismatch {
                        expected: *key,
                        found: *leaf_key,
                    });
                }
                if leaf_value != value {
                    return Err(MapError::ValueMismatch {
                        expected: *value,
                        found: *leaf_value,
                    });
                }
            }
            (Some(_), None) => return Err(MapError::NoLeaf),
            (None, Some((leaf_key, _))) => {
                if leaf_key == key {
                    return Err(MapError::KeyPresent);
                }
                let common_bits = common_prefix_bits(key, leaf_key);
                if common_bits < depth {
                    return Err(MapError::LeafOffPath { common_bits, depth });
                }
            }
            (None, None) => {}
        }
        let computed = self.compute_root(key);
        if computed != *root {
            return Err(MapError::RootMismatch {
                expected: *root,
                computed,
            });
        }
        Ok(())
    }

    /// The root this proof rebuilds along `key`'s path (step 3 of the
    /// [crate docs](crate#proofs)), with none of verify's other checks.
    #[must_use]
    pub fn compute_root(&self, key: &Hash) -> Hash {
        let start = self
            .leaf
            .as_ref()
            .map_or(PLACEHOLDER, |(k, v)| leaf_hash(k, v));
        let n = self.siblings.len();
        self.siblings
            .iter()
            .enumerate()
            .fold(start, |h, (i, sibling)| {
                if bit(key, n.saturating_sub(1 + i)) {
                    internal_hash(sibling, &h)
                } else {
                    internal_hash(&h, sibling)
                }
            })
    }

    /// The proof's canonical bytes: see the [crate docs](crate#proof-bytes).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 64 + 2 + 32 * self.siblings.len());
        match &self.leaf {
            None => out.push(0),
            Some((k, v)) => {
                out.push(1);
                out.extend_from_slice(k);
                out.extend_from_slice(v);
            }
        }
        // At most 256 siblings (every constructor checks), so this fits.
        let n = u16::try_from(self.siblings.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&n.to_be_bytes());
        for s in &self.siblings {
            out.extend_from_slice(s);
        }
        out
    }

    /// Reads the canonical bytes of [`to_bytes`](Self::to_bytes).
    ///
    /// # Errors
    ///
    /// [`MapError::BadKind`] for a first byte other than 0 or 1,
    /// [`MapError::TooManySiblings`] for a count over 256,
    /// [`MapError::Truncated`] when the input ends early and
    /// [`MapError::TrailingBytes`] when it goes on past the proof.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MapError> {
        let got = bytes.len();
        let mut r = Reader { bytes, pos: 0 };
        let [kind] = r.take::<1>()?;
        let leaf = match kind {
            0 => None,
            1 => Some((r.take::<32>()?, r.take::<32>()?)),
            other => return Err(MapError::BadKind(other)),
        };
        let count = usize::from(u16::from_be_bytes(r.take::<2>()?));
        if count > MAX_SIBLINGS {
            return Err(MapError::TooManySiblings { count });
        }
        let expected = r.pos + 32 * count;
        if got < expected {
            return Err(MapError::Truncated {
                needed: expected,
                got,
            });
        }
        if got > expected {
            return Err(MapError::TrailingBytes { expected, got });
        }
        let mut siblings = Vec::with_capacity(count);
        for _ in 0..count {
            siblings.push(r.take::<32>()?);
        }
        Ok(Self { leaf, siblings })
    }
}

/// A cursor over proof bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], MapError> {
        let needed = self.pos + N;
        let chunk = self
            .bytes
            .get(self.pos..needed)
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .ok_or(MapError::Truncated {
                needed,
                got: self.bytes.len(),
            })?;
        self.pos = needed;
        Ok(chunk)
    }
}

/// A stored key and value hash.
#[derive(Clone, Copy, Default)]
struct Leaf {
    key: Hash,
    value: Hash,
}

/// A branch: a subtree with keys on both sides of bit `bit`.
#[derive(Clone, Copy)]
struct Internal {
    /// The subtree's hash at its own depth (`bit`): internal(left, right),
    /// each child lifted to depth `bit + 1`.
    hash: Hash,
    /// Child indices, into `leaves` or `internals` as `kinds` says.
    children: [u32; 2],
    /// A leaf of this subtree (the leftmost): its key gives the subtree's
    /// common prefix, bits `0..bit`.
    rep: u32,
    /// The bit the children split on; also the node's depth.
    bit: u8,
    /// Bit 0: the left child is a leaf; bit 1: the right child is.
    kinds: u8,
}

/// A node: an index into one of the two arenas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeRef {
    Leaf(u32),
    Internal(u32),
}

impl Internal {
    fn child(&self, right: bool) -> NodeRef {
        let (i, mask) = if right {
            (self.children[1], 2)
        } else {
            (self.children[0], 1)
        };
        if self.kinds & mask != 0 {
            NodeRef::Leaf(i)
        } else {
            NodeRef::Internal(i)
        }
    }
}

/// Arena slots freed during a batch, reused from the next batch on.
#[derive(Default)]
struct Freed {
    leaves: Vec<u32>,
    internals: Vec<u32>,
}

/// A 32-bit arena index; aborts beyond 2³² − 1 nodes (see the crate docs).
fn index_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or_else(|_| std::process::abort())
}

/// The map: see the [crate docs](crate).
#[derive(Clone)]
pub struct StatusMap {
    leaves: Vec<Leaf>,
    internals: Vec<Internal>,
    free_leaves: Vec<u32>,
    free_internals: Vec<u32>,
    root: Option<NodeRef>,
    root_hash: Hash,
    len: usize,
}

impl Default for StatusMap {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for StatusMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusMap")
            .field("len", &self.len)
            .field("root", &hex(&self.root_hash))
            .finish_non_exhaustive()
    }
}

impl StatusMap {
    /// The empty map (root: the [`PLACEHOLDER`]).
    #[must_use]
    pub fn new() -> Self {
        Self {
            leaves: Vec::new(),
            internals: Vec::new(),
            free_leaves: Vec::new(),
            free_internals: Vec::new(),
            root: None,
            root_hash: PLACEHOLDER,
            len: 0,
        }
    }

    /// Builds a map from `(key, value hash)` pairs in any order, with one
    /// sort and one hash per node. Where a key comes more than once, its last
    /// value wins.
    #[must_use]
    pub fn from_leaves(leaves: impl IntoIterator<Item = (Hash, Hash)>) -> Self {
        let mut leaves: Vec<Leaf> = leaves
            .into_iter()
            .map(|(key, value)| Leaf { key, value })
            .collect();
        // Stable, so equal keys keep their input order and the last one wins.
        leaves.sort_by_key(|a| a.key);
        leaves.dedup_by(|later, earlier| {
            let same = later.key == earlier.key;
            if same {
                earlier.value = later.value;
            }
            same
        });
        leaves.shrink_to_fit();
        let n = leaves.len();
        let ids: Vec<u32> = (0..index_u32(n)).collect();
        let mut map = Self {
            leaves,
            internals: Vec::with_capacity(n.saturating_sub(1)),
            len: n,
            ..Self::new()
        };
        map.root = map.build(&ids, 0);
        map.root_hash = map.hash_at(map.root, 0);
        map
    }

    /// Applies one batch of changes: `Some(value hash)` inserts the key or
    /// replaces its value, `None` deletes it (deleting an absent key does
    /// nothing). Where a key comes more than once, its last change wins. The
    /// changes are sorted once and every node on their paths is visited and
    /// rehashed once, however many of them pass through it.
    pub fn update(&mut self, changes: impl IntoIterator<Item = (Hash, Option<Hash>)>) {
        let mut changes: Vec<(Hash, Option<Hash>)> = changes.into_iter().collect();
        if changes.is_empty() {
            return;
        }
        changes.sort_by_key(|a| a.0);
        changes.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1 = later.1;
            }
            same
        });
        let mut freed = Freed::default();
        let (root, changed) = self.apply(self.root, 0, &changes, &mut freed);
        self.root = root;
        self.free_leaves.append(&mut freed.leaves);
        self.free_internals.append(&mut freed.internals);
        if changed {
            self.root_hash = self.hash_at(self.root, 0);
        }
    }

    /// The root hash: see the [crate docs](crate#the-hashing-a-specification).
    #[must_use]
    pub fn root(&self) -> Hash {
        self.root_hash
    }

    /// The value hash of `key`, if the key is present.
    #[must_use]
    pub fn get(&self, key: &Hash) -> Option<Hash> {
        let mut cur = self.root?;
        // Bits strictly increase downwards, so a path has at most 257 nodes.
        for _ in 0..=MAX_SIBLINGS {
            match cur {
                NodeRef::Leaf(i) => {
                    let leaf = self.leaves.get(i as usize)?;
                    return (leaf.key == *key).then_some(leaf.value);
                }
                NodeRef::Internal(i) => {
                    let node = self.internals.get(i as usize)?;
                    cur = node.child(bit(key, usize::from(node.bit)));
                }
            }
        }
        None
    }

    /// The number of keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the map has no keys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every `(key, value hash)`, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (Hash, Hash)> + '_ {
        let mut stack: Vec<NodeRef> = self.root.into_iter().collect();
        core::iter::from_fn(move || {
            while let Some(node) = stack.pop() {
                match node {
                    NodeRef::Leaf(i) => {
                        if let Some(l) = self.leaves.get(i as usize) {
                            return Some((l.key, l.value));
                        }
                    }
                    NodeRef::Internal(i) => {
                        if let Some(n) = self.internals.get(i as usize) {
                            stack.push(n.child(true));
                            stack.push(n.child(false));
                        }
                    }
                }
            }
            None
        })
    }

    /// A proof for `key`: of membership (with its value hash) if it is
    /// present, else of absence. Check it with [`MapProof::verify`].
    #[must_use]
    pub fn prove(&self, key: &Hash) -> MapProof {
        let mut top_down: Vec<Hash> = Vec::new();
        let mut depth = 0usize;
        let mut cur = self.root;
        let mut leaf = None;
        for _ in 0..=MAX_SIBLINGS {
            match cur {
                None => break,
                Some(NodeRef::Leaf(i)) => {
                    leaf = self.leaves.get(i as usize).map(|l| (l.key, l.value));
                    break;
                }
                Some(NodeRef::Internal(i)) => {
                    let Some(node) = self.internals.get(i as usize) else {
                        break;
                    };
                    let b = usize::from(node.bit);
                    let prefix = self.leaf_key(node.rep);
                    let c = common_prefix_bits(key, &prefix).min(b);
                    // Down the node's single-path stretch the siblings are empty.
                    top_down.extend(core::iter::repeat_n(PLACEHOLDER, c.saturating_sub(depth)));
                    if c < b {
                        // The key leaves the node's path at bit c: its side is
                        // empty and the node is the sibling.
                        top_down.push(self.hash_at(cur, c + 1));
                        break;
                    }
                    let right = bit(key, b);
                    top_down.push(self.hash_at(Some(node.child(!right)), b + 1));
                    cur = Some(node.child(right));
                    depth = b + 1;
                }
            }
        }
        top_down.reverse();
        MapProof {
            leaf,
            siblings: top_down,
        }
    }

    // ---- internals ----

    fn leaf_at(&self, i: u32) -> Leaf {
        // Indices come from the arena itself; a miss cannot happen.
        self.leaves.get(i as usize).copied().unwrap_or_default()
    }

    fn leaf_key(&self, i: u32) -> Hash {
        self.leaf_at(i).key
    }

    fn internal_at(&self, i: u32) -> Option<Internal> {
        self.internals.get(i as usize).copied()
    }

    /// The hash of `node`'s subtree seen from depth `at` (at most the node's
    /// own depth): a leaf is its leaf hash at any depth; a branch below `at`
    /// is lifted through the empty levels between.
    fn hash_at(&self, node: Option<NodeRef>, at: usize) -> Hash {
        match node {
            None => PLACEHOLDER,
            Some(NodeRef::Leaf(i)) => {
                let l = self.leaf_at(i);
                leaf_hash(&l.key, &l.value)
            }
            Some(NodeRef::Internal(i)) => {
                let Some(n) = self.internal_at(i) else {
                    return PLACEHOLDER;
                };
                let prefix = self.leaf_key(n.rep);
                (at..usize::from(n.bit)).rev().fold(n.hash, |h, d| {
                    if bit(&prefix, d) {
                        internal_hash(&PLACEHOLDER, &h)
                    } else {
                        internal_hash(&h, &PLACEHOLDER)
                    }
                })
            }
        }
    }

    fn rep(&self, node: NodeRef) -> u32 {
        match node {
            NodeRef::Leaf(i) => i,
            NodeRef::Internal(i) => self.internal_at(i).map_or(0, |n| n.rep),
        }
    }

    fn alloc_leaf(&mut self, leaf: Leaf) -> u32 {
        if let Some(i) = self.free_leaves.pop()
            && let Some(slot) = self.leaves.get_mut(i as usize)
        {
            *slot = leaf;
            return i;
        }
        let i = index_u32(self.leaves.len());
        self.leaves.push(leaf);
        i
    }

    /// The branch node at `bit` over two non-empty children.
    fn make_internal(&self, bit: usize, left: NodeRef, right: NodeRef) -> Internal {
        let hash = internal_hash(
            &self.hash_at(Some(left), bit + 1),
            &self.hash_at(Some(right), bit + 1),
        );
        let index = |r: NodeRef| match r {
            NodeRef::Leaf(i) | NodeRef::Internal(i) => i,
        };
        let is_leaf = |r: NodeRef| matches!(r, NodeRef::Leaf(_));
        Internal {
            hash,
            children: [index(left), index(right)],
            rep: self.rep(left),
            // Two distinct keys part at a bit below 256.
            bit: u8::try_from(bit).unwrap_or(u8::MAX),
            kinds: u8::from(is_leaf(left)) | (u8::from(is_leaf(right)) << 1),
        }
    }

    fn new_internal(&mut self, bit: usize, left: NodeRef, right: NodeRef) -> NodeRef {
        let node = self.make_internal(bit, left, right);
        if let Some(i) = self.free_internals.pop()
            && let Some(slot) = self.internals.get_mut(i as usize)
        {
            *slot = node;
            return NodeRef::Internal(i);
        }
        let i = index_u32(self.internals.len());
        self.internals.push(node);
        NodeRef::Internal(i)
    }

    /// Joins two subtrees at `bit`: a branch if both are non-empty, else the
    /// non-empty one as it is (a lone leaf or branch needs no node above it).
    fn join(
        &mut self,
        bit: usize,
        left: Option<NodeRef>,
        right: Option<NodeRef>,
    ) -> Option<NodeRef> {
        match (left, right) {
            (Some(l), Some(r)) => Some(self.new_internal(bit, l, r)),
            (one, None) | (None, one) => one,
        }
    }

    /// Builds the subtree over leaves `ids`, sorted by strictly increasing key
    /// and all sharing their first `depth` bits.
    fn build(&mut self, ids: &[u32], depth: usize) -> Option<NodeRef> {
        match ids {
            [] => None,
            [one] => Some(NodeRef::Leaf(*one)),
            [first, .., last] => {
                let b = common_prefix_bits(&self.leaf_key(*first), &self.leaf_key(*last));
                let split = ids.partition_point(|&i| !bit(&self.leaf_key(i), b));
                let (l, r) = ids.split_at_checked(split)?;
                let left = self.build(l, b + 1);
                let right = self.build(r, b + 1);
                debug_assert!(b >= depth && left.is_some() && right.is_some());
                self.join(b, left, right)
            }
        }
    }

    /// Applies `changes` (sorted, distinct keys, maybe none) to the subtree
    /// `node` at `depth`; all keys involved share their first `depth` bits.
    /// Returns the new subtree, and whether it changed at all (an unchanged
    /// subtree comes back as it was, and its ancestors need no rehash).
    fn apply(
        &mut self,
        node: Option<NodeRef>,
        depth: usize,
        changes: &[(Hash, Option<Hash>)],
        freed: &mut Freed,
    ) -> (Option<NodeRef>, bool) {
        let (Some(first), Some(last)) = (changes.first(), changes.last()) else {
            return (node, false);
        };
        match node {
            None => {
                let mut ids = Vec::with_capacity(changes.len());
                for (key, value) in changes {
                    if let Some(value) = value {
                        ids.push(self.alloc_leaf(Leaf {
                            key: *key,
                            value: *value,
                        }));
                    }
                }
                self.len += ids.len();
                (self.build(&ids, depth), !ids.is_empty())
            }
            Some(NodeRef::Leaf(li)) => {
                let old = self.leaf_at(li);
                let mut ids = Vec::with_capacity(changes.len() + 1);
                let mut placed = false;
                let mut changed = false;
                for (key, value) in changes {
                    if !placed && old.key < *key {
                        ids.push(li);
                        placed = true;
                    }
                    if *key == old.key {
                        placed = true;
                        match value {
                            Some(value) => {
                                if let Some(slot) = self.leaves.get_mut(li as usize)
                                    && slot.value != *value
                                {
                                    slot.value = *value;
                                    changed = true;
                                }
                                ids.push(li);
                            }
                            None => {
                                freed.leaves.push(li);
                                self.len = self.len.saturating_sub(1);
                                changed = true;
                            }
                        }
                    } else if let Some(value) = value {
                        ids.push(self.alloc_leaf(Leaf {
                            key: *key,
                            value: *value,
                        }));
                        self.len += 1;
                        changed = true;
                    }
                }
                if !placed {
                    ids.push(li);
                }
                if !changed {
                    return (node, false);
                }
                (self.build(&ids, depth), true)
            }
            Some(NodeRef::Internal(ni)) => {
                let Some(n) = self.internal_at(ni) else {
                    return (node, false);
                };
                let b = usize::from(n.bit);
                let prefix = self.leaf_key(n.rep);
                let c = common_prefix_bits(&first.0, &last.0)
                    .min(common_prefix_bits(&first.0, &prefix))
                    .min(b);
                if c >= b {
                    // Every change lies inside this branch: split them at its bit.
                    let split = changes.partition_point(|(k, _)| !bit(k, b));
                    let Some((lc, rc)) = changes.split_at_checked(split) else {
                        return (node, false);
                    };
                    let (left, left_changed) = self.apply(Some(n.child(false)), b + 1, lc, freed);
                    let (right, right_changed) = self.apply(Some(n.child(true)), b + 1, rc, freed);
                    if !left_changed && !right_changed {
                        return (node, false);
                    }
                    let joined = match (left, right) {
                        (Some(l), Some(r)) => {
                            let updated = self.make_internal(b, l, r);
                            if let Some(slot) = self.internals.get_mut(ni as usize) {
                                *slot = updated;
                            }
                            node
                        }
                        (one, None) | (None, one) => {
                            freed.internals.push(ni);
                            one
                        }
                    };
                    (joined, true)
                } else {
                    // Some changes part from the branch's path at bit c (depth <= c < b).
                    let node_right = bit(&prefix, c);
                    let split = changes.partition_point(|(k, _)| !bit(k, c));
                    let Some((zeros, ones)) = changes.split_at_checked(split) else {
                        return (node, false);
                    };
                    let (with_node, beside) = if node_right {
                        (ones, zeros)
                    } else {
                        (zeros, ones)
                    };
                    let (kept, kept_changed) = self.apply(node, c + 1, with_node, freed);
                    let (fresh, fresh_changed) = self.apply(None, c + 1, beside, freed);
                    if !kept_changed && !fresh_changed {
                        return (node, false);
                    }
                    let joined = if node_right {
                        self.join(c, fresh, kept)
                    } else {
                        self.join(c, kept, fresh)
                    };
                    (joined, true)
                }
            }
        }
    }
}
