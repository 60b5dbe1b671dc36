//! The Merkle tree of the access log, as RFC 9162 §2.1 defines it (the tree of Certificate
//! Transparency 2.0, same hashing as RFC 6962): leaves and interior nodes hashed with
//! SHA-256 and distinct prefixes, any tree size, inclusion and consistency proofs.
//!
//! Pure: the tree's perfect subtrees are read through [`Nodes`], so a proof can be built
//! over the store or over memory alike, and appending keeps only the [`Frontier`] (the
//! roots of the perfect subtrees that cover the log, at most 64 hashes).

use crate::crypto;

/// A node hash.
pub type Hash = [u8; 32];

/// RFC 9162 §2.1.1: `HASH(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    digest(&[&[0x00], entry])
}

/// RFC 9162 §2.1.1: `HASH(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    digest(&[&[0x01], left, right])
}

fn digest(parts: &[&[u8]]) -> Hash {
    let mut all = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        all.extend_from_slice(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(&crypto::sha256(&all));
    out
}

/// RFC 9162 §2.1.1: the hash of an empty tree.
pub fn empty_root() -> Hash {
    digest(&[])
}

/// The largest power of two smaller than `n` (`n` > 1): where RFC 9162 splits a tree.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// Why a tree could not be read or a proof not built.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TreeError {
    #[error("the tree has no node at level {level}, index {index}")]
    Missing { level: u32, index: u64 },
    #[error("leaf {index} is not in a tree of {size}")]
    OutOfRange { index: u64, size: u64 },
    #[error("a tree of {old} is not a prefix of a tree of {new}")]
    NotAPrefix { old: u64, new: u64 },
    #[error("storage: {0}")]
    Storage(String),
}

/// The hashes of perfect subtrees: the node at `level` (0: leaves) and `index` covers
/// leaves `index·2^level .. (index+1)·2^level`.
pub trait Nodes {
    fn node(&self, level: u32, index: u64) -> Result<Hash, TreeError>;
}

/// Leaf hashes in memory (tests, and small ranges read from the store).
impl Nodes for [Hash] {
    fn node(&self, level: u32, index: u64) -> Result<Hash, TreeError> {
        let missing = || TreeError::Missing { level, index };
        let width = 1usize.checked_shl(level).ok_or_else(missing)?;
        let start = usize::try_from(index)
            .ok()
            .and_then(|i| i.checked_mul(width))
            .ok_or_else(missing)?;
        let leaves = start
            .checked_add(width)
            .and_then(|end| self.get(start..end))
            .ok_or_else(missing)?;
        Ok(perfect_root(leaves))
    }
}

/// The root of a perfect subtree over `leaves` (a power of two of them).
fn perfect_root(leaves: &[Hash]) -> Hash {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let (left, right) = leaves.split_at(leaves.len() / 2);
    node_hash(&perfect_root(left), &perfect_root(right))
}

/// RFC 9162 §2.1.1 `MTH(D[start:end])`, from the perfect subtrees that make it up.
pub fn range_hash(nodes: &(impl Nodes + ?Sized), start: u64, end: u64) -> Result<Hash, TreeError> {
    let len = end - start;
    if len == 0 {
        return Ok(empty_root());
    }
    if len.is_power_of_two() && start.is_multiple_of(len) {
        return nodes.node(len.trailing_zeros(), start / len);
    }
    let k = split(len);
    Ok(node_hash(
        &range_hash(nodes, start, start + k)?,
        &range_hash(nodes, start + k, end)?,
    ))
}

/// The root of a tree of `size` leaves.
pub fn root(nodes: &(impl Nodes + ?Sized), size: u64) -> Result<Hash, TreeError> {
    range_hash(nodes, 0, size)
}

/// RFC 9162 §2.1.3.1 `PATH(m, D[n])`: the inclusion proof of leaf `index` in a tree of
/// `size`, from the leaf's sibling up.
pub fn inclusion_proof(
    nodes: &(impl Nodes + ?Sized),
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TreeError> {
    if index >= size {
        return Err(TreeError::OutOfRange { index, size });
    }
    let mut proof = Vec::new();
    path(nodes, index, 0, size, &mut proof)?;
    Ok(proof)
}

fn path(
    nodes: &(impl Nodes + ?Sized),
    m: u64,
    start: u64,
    end: u64,
    proof: &mut Vec<Hash>,
) -> Result<(), TreeError> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(nodes, m, start, start + k, proof)?;
        proof.push(range_hash(nodes, start + k, end)?);
    } else {
        path(nodes, m - k, start + k, end, proof)?;
        proof.push(range_hash(nodes, start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.1 `PROOF(m, D[n])`: the consistency proof between a tree of `old` leaves
/// and one of `new` leaves.
pub fn consistency_proof(
    nodes: &(impl Nodes + ?Sized),
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, TreeError> {
    if old > new {
        return Err(TreeError::NotAPrefix { old, new });
    }
    let mut proof = Vec::new();
    if old > 0 && old < new {
        subproof(nodes, old, 0, new, true, &mut proof)?;
    }
    Ok(proof)
}

fn subproof(
    nodes: &(impl Nodes + ?Sized),
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    proof: &mut Vec<Hash>,
) -> Result<(), TreeError> {
    let n = end - start;
    if m == n {
        if !whole {
            proof.push(range_hash(nodes, start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(nodes, m, start, start + k, whole, proof)?;
        proof.push(range_hash(nodes, start + k, end)?);
    } else {
        subproof(nodes, m - k, start + k, end, false, proof)?;
        proof.push(range_hash(nodes, start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.3.2: whether `proof` shows `leaf` at `index` in the tree of `size` whose
/// root is `root`.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let mut r = *leaf;
    let end = walk(index, size - 1, proof, |p, left| {
        r = if left {
            node_hash(p, &r)
        } else {
            node_hash(&r, p)
        };
    });
    end == Some(0) && r == *root
}

/// The walk up the tree that RFC 9162 §2.1.3.2 and §2.1.4.2 share, from node `f_n` of a
/// level whose last node is `s_n`: `step` gets each proof hash and whether it is the left
/// sibling. Returns the last node index reached, or `None` when the proof is too long.
fn walk(
    mut f_n: u64,
    mut s_n: u64,
    proof: &[Hash],
    mut step: impl FnMut(&Hash, bool),
) -> Option<u64> {
    for p in proof {
        if s_n == 0 {
            return None;
        }
        if f_n & 1 == 1 || f_n == s_n {
            step(p, true);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            step(p, false);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    Some(s_n)
}

/// RFC 9162 §2.1.4.2: whether `proof` shows that the tree of `old` leaves with root
/// `old_root` is a prefix of the tree of `new` leaves with root `new_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        return proof.is_empty();
    }
    // Step 1: a proof between two different non-empty trees is never empty.
    if proof.is_empty() {
        return false;
    }
    // Step 2: when the old tree is a perfect subtree on the left, its root starts the path.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f_n, mut s_n) = (old - 1, new - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (*first, *first);
    let end = walk(f_n, s_n, rest, |c, left| {
        if left {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
        } else {
            s_r = node_hash(&s_r, c);
        }
    });
    f_r == *old_root && s_r == *new_root && end == Some(0)
}

/// The perfect subtrees that cover the first `size` leaves, largest first, as (level,
/// index): the nodes a frontier of that size holds.
pub fn covering(size: u64) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    let mut start = 0u64;
    for level in (0..64u32).rev() {
        if size >> level & 1 == 1 {
            out.push((level, start >> level));
            start += 1 << level;
        }
    }
    out
}

/// The roots of the perfect subtrees that cover a log from its start, largest first: all
/// that appending needs to keep. Appending a leaf merges equal subtrees and reports each
/// node it completes, so a store can keep the nodes proofs need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (level, hash), levels strictly decreasing.
    subtrees: Vec<(u32, Hash)>,
}

/// A perfect subtree completed by an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completed {
    pub level: u32,
    pub index: u64,
    pub hash: Hash,
}

impl Frontier {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append the leaf whose hash is `leaf`; returns the subtrees (level ≥ 1) it completed.
    pub fn append(&mut self, leaf: Hash) -> Vec<Completed> {
        let mut completed = Vec::new();
        let mut node = (0u32, leaf);
        let end = self.size + 1;
        while let Some(&(level, left)) = self.subtrees.last()
            && level == node.0
        {
            self.subtrees.pop();
            let merged = (level + 1, node_hash(&left, &node.1));
            completed.push(Completed {
                level: merged.0,
                index: (end >> merged.0) - 1,
                hash: merged.1,
            });
            node = merged;
        }
        self.subtrees.push(node);
        self.size += 1;
        completed
    }

    /// The root of the tree appended so far (RFC 9162 §2.1.1).
    pub fn root(&self) -> Hash {
        let mut iter = self.subtrees.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return empty_root();
        };
        for (_, left) in iter {
            acc = node_hash(left, &acc);
        }
        acc
    }

    /// The frontier of a tree of `size` leaves from the hashes of the subtrees that cover
    /// it, in the order [`covering`] lists them.
    pub fn from_subtrees(size: u64, hashes: &[Hash]) -> Option<Self> {
        let levels = covering(size);
        (levels.len() == hashes.len()).then(|| Self {
            size,
            subtrees: levels
                .iter()
                .zip(hashes)
                .map(|((level, _), hash)| (*level, *hash))
                .collect(),
        })
    }

    /// The frontier as stored: 8 bytes of size, then per subtree 1 byte of level and 32 of
    /// hash.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.size.to_be_bytes().to_vec();
        for (level, hash) in &self.subtrees {
            out.push(u8::try_from(*level).unwrap_or(u8::MAX));
            out.extend_from_slice(hash);
        }
        out
    }

    /// A stored frontier, checked: the levels must be those of the size's set bits.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (size, rest) = bytes.split_first_chunk::<8>()?;
        let size = u64::from_be_bytes(*size);
        let subtrees: Vec<(u32, Hash)> = rest
            .chunks(33)
            .map(|c| {
                let (level, hash) = c.split_first()?;
                Some((u32::from(*level), Hash::try_from(hash).ok()?))
            })
            .collect::<Option<_>>()?;
        let expected: Vec<u32> = (0..64).rev().filter(|b| size >> b & 1 == 1).collect();
        let levels: Vec<u32> = subtrees.iter().map(|(l, _)| *l).collect();
        (levels == expected).then_some(Self { size, subtrees })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frontier_rebuilt_from_its_covering_subtrees_is_the_appended_one() {
        for n in [0u64, 1, 256, 512, 768, 1000, 4096 + 256] {
            let all = leaves(n);
            let mut appended = Frontier::default();
            for leaf in &all {
                appended.append(*leaf);
            }
            let hashes: Vec<Hash> = covering(n)
                .iter()
                .map(|(level, index)| {
                    let width = 1u64 << level;
                    range_hash(&all[..], index * width, (index + 1) * width).unwrap()
                })
                .collect();
            let rebuilt = Frontier::from_subtrees(n, &hashes).unwrap();
            assert_eq!(rebuilt, appended, "{n}");
            assert_eq!(rebuilt.root(), mth(&all));
        }
        assert_eq!(covering(768), [(9, 0), (8, 2)]);
        assert!(Frontier::from_subtrees(768, &[[0; 32]]).is_none());
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// RFC 9162 §2.1.1 written out directly: MTH over a list.
    fn mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => d[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    #[test]
    fn the_empty_tree_and_the_hash_prefixes_are_those_of_rfc_9162() {
        // SHA-256 of the empty string.
        assert_eq!(
            crypto::b64(&empty_root()),
            "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
        assert_ne!(leaf_hash(b""), empty_root());
        assert_ne!(node_hash(&empty_root(), &empty_root()), leaf_hash(&[0; 64]));
    }

    #[test]
    fn the_frontier_root_is_the_tree_root_at_every_size_and_survives_storage() {
        let all = leaves(300);
        let mut frontier = Frontier::default();
        let mut stored: Vec<Completed> = Vec::new();
        for (i, leaf) in all.iter().enumerate() {
            stored.extend(frontier.append(*leaf));
            let n = i + 1;
            assert_eq!(frontier.root(), mth(&all[..n]), "size {n}");
            assert_eq!(root(&all[..n], n as u64).unwrap(), mth(&all[..n]));
            assert_eq!(
                Frontier::from_bytes(&frontier.to_bytes()),
                Some(frontier.clone())
            );
        }
        // Every completed node is the perfect subtree it names.
        for c in stored {
            assert_eq!(all[..].node(c.level, c.index).unwrap(), c.hash, "{c:?}");
        }
        assert_eq!(Frontier::from_bytes(&[0; 7]), None);
        let mut wrong = frontier.to_bytes();
        wrong[8] = 0;
        assert_eq!(
            Frontier::from_bytes(&wrong),
            None,
            "levels that do not fit the size"
        );
    }

    #[test]
    fn proofs_verify_and_tampered_proofs_do_not() {
        let all = leaves(70);
        for size in 1..=70u64 {
            let root = mth(&all[..size as usize]);
            for index in 0..size {
                let proof = inclusion_proof(&all[..], index, size).unwrap();
                assert!(verify_inclusion(
                    &all[index as usize],
                    index,
                    size,
                    &proof,
                    &root
                ));
                let stranger = leaf_hash(b"not in the log");
                assert!(!verify_inclusion(&stranger, index, size, &proof, &root));
                if let Some(first) = proof.first() {
                    let mut bad = proof.clone();
                    bad[0] = node_hash(first, first);
                    assert!(!verify_inclusion(
                        &all[index as usize],
                        index,
                        size,
                        &bad,
                        &root
                    ));
                }
            }
            for old in 0..=size {
                let old_root = mth(&all[..old as usize]);
                let proof = consistency_proof(&all[..], old, size).unwrap();
                assert!(
                    verify_consistency(old, size, &proof, &old_root, &root),
                    "{old} -> {size}"
                );
                if old > 0 && old < size {
                    let other = leaf_hash(b"not the old tree");
                    assert!(!verify_consistency(old, size, &proof, &other, &root));
                }
            }
        }
        assert_eq!(
            inclusion_proof(&all[..], 5, 5),
            Err(TreeError::OutOfRange { index: 5, size: 5 })
        );
    }
}
