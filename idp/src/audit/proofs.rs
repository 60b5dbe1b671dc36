//! Inclusion and consistency proofs of the access record (RFC 9162 §2.1.3, §2.1.4) over the
//! store: the proof is first computed against a recorder to learn which perfect subtrees it
//! needs, those are read (stored nodes of height 8 and more; lower ones from at most 255 leaf
//! hashes), and the proof is computed again over them.

use std::cell::RefCell;
use std::collections::HashMap;

use serde::Serialize;

use super::merkle::{self, Hash, Nodes, TreeError};
use crate::crypto;
use crate::store::{AuditStore, STORED_LEVEL, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("{0}")]
    Tree(#[from] TreeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The events before `pruned` were removed after their retention period.
    #[error("events before {pruned} were pruned after their retention period")]
    Pruned { pruned: u64 },
}

/// A leaf's inclusion in the tree of `size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inclusion {
    pub seq: u64,
    pub size: u64,
    /// base64url, like every hash here.
    pub leaf_hash: String,
    pub root: String,
    /// From the leaf's sibling up.
    pub proof: Vec<String>,
}

/// The tree of `old` leaves as a prefix of the tree of `new`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consistency {
    pub old: u64,
    pub new: u64,
    pub old_root: String,
    pub new_root: String,
    pub proof: Vec<String>,
}

/// Notes which nodes a computation asks for; answers a placeholder.
#[derive(Default)]
struct Recorder(RefCell<Vec<(u32, u64)>>);

impl Nodes for Recorder {
    fn node(&self, level: u32, index: u64) -> Result<Hash, TreeError> {
        self.0.borrow_mut().push((level, index));
        Ok([0; 32])
    }
}

/// Nodes read from the store.
struct Fetched(HashMap<(u32, u64), Hash>);

impl Nodes for Fetched {
    fn node(&self, level: u32, index: u64) -> Result<Hash, TreeError> {
        self.0
            .get(&(level, index))
            .copied()
            .ok_or(TreeError::Missing { level, index })
    }
}

/// Read the nodes `compute` asks for, then run it over them.
async fn over_store<T>(
    store: &impl AuditStore,
    compute: impl Fn(&dyn NodesDyn) -> Result<T, TreeError>,
) -> Result<T, ProofError> {
    let wanted = {
        let recorder = Recorder::default();
        compute(&recorder)?;
        recorder.0.take()
    };
    let mut fetched = HashMap::new();
    for (level, index) in wanted {
        if fetched.contains_key(&(level, index)) {
            continue;
        }
        let hash = if level >= STORED_LEVEL {
            store
                .audit_node(level, index)
                .await?
                .ok_or(TreeError::Missing { level, index })?
        } else {
            let width = 1u64 << level;
            let leaves = store
                .audit_leaves(index * width, (index + 1) * width)
                .await?;
            merkle::range_hash(&leaves[..], 0, width)?
        };
        fetched.insert((level, index), hash);
    }
    Ok(compute(&Fetched(fetched))?)
}

/// Object-safe view of [`Nodes`] for [`over_store`].
trait NodesDyn {
    fn node(&self, level: u32, index: u64) -> Result<Hash, TreeError>;
}

impl<N: Nodes> NodesDyn for N {
    fn node(&self, level: u32, index: u64) -> Result<Hash, TreeError> {
        Nodes::node(self, level, index)
    }
}

impl Nodes for dyn NodesDyn + '_ {
    fn node(&self, level: u32, index: u64) -> Result<Hash, TreeError> {
        NodesDyn::node(self, level, index)
    }
}

fn b64(hash: &Hash) -> String {
    crypto::b64(hash)
}

/// A tree of `size` events is one the record has had.
async fn within_record(store: &impl AuditStore, size: u64) -> Result<(), ProofError> {
    let current = store.audit_frontier().await?.size();
    if size > current {
        return Err(TreeError::OutOfRange {
            index: size,
            size: current,
        }
        .into());
    }
    Ok(())
}

/// Position `seq` (an event, or a tree's size) is at or after the pruned start.
async fn not_pruned(store: &impl AuditStore, seq: u64) -> Result<(), ProofError> {
    let pruned = store.audit_pruned().await?;
    if seq < pruned {
        return Err(ProofError::Pruned { pruned });
    }
    Ok(())
}

/// The inclusion proof of event `seq` in the tree of `size` (at most the record's size).
pub async fn inclusion(
    store: &impl AuditStore,
    seq: u64,
    size: u64,
) -> Result<Inclusion, ProofError> {
    within_record(store, size).await?;
    not_pruned(store, seq).await?;
    let (proof, root) = over_store(store, |nodes| {
        Ok((
            merkle::inclusion_proof(nodes, seq, size)?,
            merkle::root(nodes, size)?,
        ))
    })
    .await?;
    let leaf = store.audit_leaves(seq, seq + 1).await?[0];
    Ok(Inclusion {
        seq,
        size,
        leaf_hash: b64(&leaf),
        root: b64(&root),
        proof: proof.iter().map(b64).collect(),
    })
}

/// The consistency proof between the trees of `old` and `new` events.
pub async fn consistency(
    store: &impl AuditStore,
    old: u64,
    new: u64,
) -> Result<Consistency, ProofError> {
    within_record(store, new).await?;
    not_pruned(store, old).await?;
    let (proof, old_root, new_root) = over_store(store, |nodes| {
        Ok((
            merkle::consistency_proof(nodes, old, new)?,
            merkle::root(nodes, old)?,
            merkle::root(nodes, new)?,
        ))
    })
    .await?;
    Ok(Consistency {
        old,
        new,
        old_root: b64(&old_root),
        new_root: b64(&new_root),
        proof: proof.iter().map(b64).collect(),
    })
}
