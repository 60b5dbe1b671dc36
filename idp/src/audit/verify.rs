//! `anyid audit verify`: recompute the access record's Merkle tree from the stored events
//! and say whether anything was altered, removed or slipped in, and where first.
//!
//! Each stored event's leaf is recomputed from its columns and compared with the leaf hash
//! stored beside it (an edit of the columns alone shows there); the tree of the recomputed
//! leaves is compared with the stored tree: its root and its stored nodes, which locate an
//! edit that rewrote the stored leaf hash too to a block of 256 events. What an attacker who
//! rewrites everything consistently cannot forge is a root published earlier: the signed
//! checkpoints (next), against which the same recomputation is compared.

use serde::Serialize;

use super::merkle::{self, Frontier, Hash};
use crate::store::{AuditStore, STORED_LEVEL, StoreError, StoredRecord};

/// Events read per page.
const PAGE: u32 = 10_000;

/// Something found wrong, in log order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Finding {
    /// The event at `seq` is not what was appended: its columns no longer give the stored
    /// leaf hash.
    Altered { seq: u64 },
    /// No event is stored at `seq`, inside the tree.
    Missing { seq: u64 },
    /// An event is stored at `seq`, beyond the tree's size: it was never appended.
    Inserted { seq: u64 },
    /// The events `from..to` do not give the tree's stored node over them (their stored leaf
    /// hashes were rewritten too).
    Rewritten { from: u64, to: u64 },
    /// The recomputed root is not the stored tree's root.
    RootMismatch { size: u64 },
    /// The tree rebuilt to `size` events is not the one a signed checkpoint of that size
    /// recorded.
    CheckpointMismatch { size: u64 },
    /// A signed checkpoint covers `size` events, more than are stored: the record was cut.
    Truncated { size: u64, stored: u64 },
    /// The stored node over the pruned events `from..to` is gone: the tree cannot be rebuilt
    /// past the pruned start.
    PrunedNodeMissing { from: u64, to: u64 },
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The stored tree's size.
    pub size: u64,
    /// Events before this position were pruned after their retention period: the tree is
    /// rebuilt from the stored nodes over them, and checkpoints of fewer events are not
    /// checked.
    pub pruned: u64,
    /// The root recomputed from the events (base64url).
    pub root: String,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Verify the store's record against its own tree and the signed `checkpoints` (size, root)
/// given; `progress` hears (events read, tree size) as pages arrive.
pub async fn verify(
    store: &impl AuditStore,
    checkpoints: &[(u64, Hash)],
    mut progress: impl FnMut(u64, u64),
) -> Result<Report, StoreError> {
    let stored = store.audit_frontier().await?;
    let size = stored.size();
    let pruned = store.audit_pruned().await?;
    let mut findings = Vec::new();
    // The pruned events' tree, from the stored nodes over them (a whole number of blocks).
    let mut covering = Vec::new();
    for (level, index) in merkle::covering(pruned) {
        match store.audit_node(level, index).await? {
            Some(hash) => covering.push(hash),
            None => findings.push(Finding::PrunedNodeMissing {
                from: index << level,
                to: (index + 1) << level,
            }),
        }
    }
    let mut rebuilt = Frontier::from_subtrees(pruned, &covering).unwrap_or_default();
    for (_, root) in checkpoints
        .iter()
        .filter(|(s, _)| *s == pruned && pruned > 0)
    {
        if rebuilt.root() != *root {
            findings.push(Finding::CheckpointMismatch { size: pruned });
        }
    }
    let mut block: Vec<Hash> = Vec::new();
    let mut altered_in_block = false;
    // The next position the tree expects, and where the next page starts.
    let mut next: u64 = pruned;
    let mut cursor: u64 = pruned;
    let mut read: u64 = 0;
    // Each page after the first starts again at the previous page's last position, so that a
    // second row at that position (PostgreSQL's partitioned table cannot refuse one) is seen;
    // `seen` rows there were read already.
    let mut seen = 0usize;
    loop {
        let page = store.audit_records(cursor, PAGE).await?;
        let full = page.len() == PAGE as usize;
        let last = page.last().map(|r| r.seq);
        let at_last = last.map_or(0, |l| page.iter().filter(|r| r.seq == l).count());
        let mut skip = seen;
        for StoredRecord {
            seq,
            record,
            leaf_hash,
        } in page
        {
            if skip > 0 && seq == cursor {
                skip -= 1;
                continue;
            }
            read += 1;
            if seq >= size {
                findings.push(Finding::Inserted { seq });
                continue;
            }
            // A second row at a position already read was never appended.
            if seq < next {
                findings.push(Finding::Inserted { seq });
                continue;
            }
            // Positions skipped: events removed. Their leaves are unknown, so the tree cannot
            // be rebuilt past them; each event is still checked against its own leaf hash.
            while next < seq {
                findings.push(Finding::Missing { seq: next });
                next += 1;
            }
            next = seq + 1;
            let leaf = merkle::leaf_hash(&record.leaf_input());
            if leaf[..] != leaf_hash[..] {
                findings.push(Finding::Altered { seq });
                altered_in_block = true;
            }
            if rebuilt.size() != seq {
                continue;
            }
            rebuilt.append(leaf);
            for (_, root) in checkpoints.iter().filter(|(s, _)| *s == rebuilt.size()) {
                if rebuilt.root() != *root {
                    findings.push(Finding::CheckpointMismatch {
                        size: rebuilt.size(),
                    });
                }
            }
            block.push(leaf);
            if block.len() == 1 << STORED_LEVEL {
                let index = seq >> STORED_LEVEL;
                let ours = merkle::range_hash(&block[..], 0, block.len() as u64)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                // A block with an altered event is explained already.
                if !std::mem::take(&mut altered_in_block)
                    && store.audit_node(STORED_LEVEL, index).await? != Some(ours)
                {
                    findings.push(Finding::Rewritten {
                        from: index << STORED_LEVEL,
                        to: (index + 1) << STORED_LEVEL,
                    });
                }
                block.clear();
            }
        }
        progress(read, size);
        match last {
            Some(last) if full => {
                if last == cursor {
                    // A whole page at one position: nothing further to learn there.
                    findings.push(Finding::Inserted { seq: last });
                    (cursor, seen) = (last + 1, 0);
                } else {
                    (cursor, seen) = (last, at_last);
                }
            }
            _ => break,
        }
    }
    while next < size {
        findings.push(Finding::Missing { seq: next });
        next += 1;
    }
    if rebuilt.size() == size && rebuilt.root() != stored.root() {
        findings.push(Finding::RootMismatch { size });
    }
    if let Some(&(largest, _)) = checkpoints.iter().max_by_key(|(s, _)| *s)
        && largest > size
    {
        findings.push(Finding::Truncated {
            size: largest,
            stored: size,
        });
    }
    findings.sort_by_key(|f| match f {
        Finding::Altered { seq } | Finding::Missing { seq } | Finding::Inserted { seq } => *seq,
        Finding::Rewritten { from, .. } | Finding::PrunedNodeMissing { from, .. } => *from,
        Finding::CheckpointMismatch { size } => size.saturating_sub(1),
        Finding::RootMismatch { .. } | Finding::Truncated { .. } => u64::MAX,
    });
    Ok(Report {
        size,
        pruned,
        root: crate::crypto::b64(&rebuilt.root()),
        findings,
    })
}
