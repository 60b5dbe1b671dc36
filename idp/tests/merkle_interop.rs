//! The access log's Merkle tree against an independent RFC 6962 implementation
//! (`ct-merkle`): the same roots, our proofs accepted by its verifier and its proofs by ours,
//! for every tree size and position up to a few hundred leaves and random larger ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::audit::merkle::{self, Hash};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use proptest::prelude::*;
use sha2::Sha256;

fn entry(i: u64) -> Vec<u8> {
    format!("access event {i}").into_bytes()
}

fn digest(hash: &Hash) -> ct_merkle::digest::Output<Sha256> {
    ct_merkle::digest::Output::<Sha256>::try_from(&hash[..]).unwrap()
}

fn ours(size: u64) -> Vec<Hash> {
    (0..size).map(|i| merkle::leaf_hash(&entry(i))).collect()
}

fn theirs(size: u64) -> MemoryBackedTree<Sha256, Vec<u8>> {
    let mut tree = MemoryBackedTree::new();
    for i in 0..size {
        tree.push(entry(i));
    }
    tree
}

/// Check one tree size both ways: roots, every inclusion proof (or those of `positions`),
/// and the consistency proofs from every older size given.
fn check(size: u64, positions: &[u64], olds: &[u64]) {
    let leaves = ours(size);
    let tree = theirs(size);
    let root = merkle::root(&leaves[..], size).unwrap();
    assert_eq!(&root[..], &tree.root().as_bytes()[..], "root of {size}");
    let their_root = RootHash::<Sha256>::new(digest(&root), size);
    for &index in positions {
        let proof = merkle::inclusion_proof(&leaves[..], index, size).unwrap();
        let converted = InclusionProof::<Sha256>::from_digests(
            proof.iter().map(digest).collect::<Vec<_>>().iter(),
        );
        their_root
            .verify_inclusion(&entry(index), index, &converted)
            .unwrap_or_else(|e| panic!("ct-merkle refused our proof of {index} in {size}: {e:?}"));
        let theirs = tree.prove_inclusion(index as usize);
        let back: Vec<Hash> = theirs
            .as_bytes()
            .chunks(32)
            .map(|c| c.try_into().unwrap())
            .collect();
        assert!(merkle::verify_inclusion(
            &leaves[index as usize],
            index,
            size,
            &back,
            &root
        ));
    }
    for &old in olds {
        let old_root = merkle::root(&leaves[..], old).unwrap();
        let proof = merkle::consistency_proof(&leaves[..], old, size).unwrap();
        let converted = ConsistencyProof::<Sha256>::from_digests(
            proof.iter().map(digest).collect::<Vec<_>>().iter(),
        );
        their_root
            .verify_consistency(&RootHash::new(digest(&old_root), old), &converted)
            .unwrap_or_else(|e| panic!("ct-merkle refused our proof {old} -> {size}: {e:?}"));
        let older = theirs(old);
        let mut grown = older.clone();
        for i in old..size {
            grown.push(entry(i));
        }
        let theirs = grown.prove_consistency((size - old) as usize);
        let back: Vec<Hash> = theirs
            .as_bytes()
            .chunks(32)
            .map(|c| c.try_into().unwrap())
            .collect();
        assert!(
            merkle::verify_consistency(old, size, &back, &old_root, &root),
            "their proof {old} -> {size}"
        );
    }
}

#[test]
fn every_small_tree_agrees_with_an_independent_implementation() {
    for size in 1..=64u64 {
        let positions: Vec<u64> = (0..size).collect();
        let olds: Vec<u64> = (1..=size).collect();
        check(size, &positions, &olds);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn larger_trees_agree_with_an_independent_implementation(
        size in 65u64..1500,
        position in any::<prop::sample::Index>(),
        old in any::<prop::sample::Index>(),
    ) {
        let index = position.index(size as usize) as u64;
        let old = old.index(size as usize) as u64 + 1;
        check(size, &[index], &[old]);
    }
}
