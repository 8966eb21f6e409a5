#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;

use super::*;
use crate::pseudonym::hex;

/// Leaves held in memory; subtree hashes computed recursively.
struct Leaves(Vec<Hash>);

impl HashSource for Leaves {
    type Error = Infallible;
    fn subtree(&self, level: u32, index: u64) -> Result<Hash, Infallible> {
        let start = (index << level) as usize;
        Ok(naive_root(&self.0[start..start + (1usize << level)]))
    }
}

fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

fn vector_leaves() -> Vec<Hash> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|h| leaf_hash(&unhex(h)))
    .collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn leaves(n: u64) -> Leaves {
    Leaves((0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect())
}

const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn published_roots_match_for_sizes_zero_to_eight() {
    let all = vector_leaves();
    for (n, expected) in ROOTS.iter().enumerate() {
        let src = Leaves(all[..n].to_vec());
        assert_eq!(hex(&range_hash(&src, 0, n as u64).unwrap()), *expected);
        let mut range = CompactRange::default();
        all[..n].iter().for_each(|l| range.push(*l, |_, _, _| {}));
        assert_eq!(hex(&range.root()), *expected, "compact range size {n}");
    }
}

/// `NodeHashes()` of transparency-dev/merkle `testonly/constants.go`: every
/// complete subtree of the 8-leaf vector tree, by level and index.
const NODES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

#[test]
fn published_subtree_hashes_match_the_emitted_nodes() {
    let src = Leaves(vector_leaves());
    let mut emitted = Vec::new();
    let mut range = CompactRange::default();
    for leaf in &src.0 {
        emitted.push((0, range.size(), *leaf));
        range.push(*leaf, |level, index, hash| {
            emitted.push((level, index, *hash))
        });
    }
    assert_eq!(emitted.len(), 15);
    for (level, index, hash) in emitted {
        assert_eq!(
            hex(&hash),
            NODES[level as usize][index as usize],
            "({level}, {index})"
        );
    }
}

#[test]
fn published_proof_lengths_hold_for_size_eight() {
    let src = Leaves(vector_leaves());
    assert_eq!(inclusion_proof(&src, 5, 8).unwrap().unwrap().len(), 3);
    assert_eq!(consistency_proof(&src, 3, 8).unwrap().unwrap().len(), 4);
}

#[test]
fn every_inclusion_proof_verifies_and_a_changed_hash_fails() {
    for n in 1..=40u64 {
        let src = leaves(n);
        let root = range_hash(&src, 0, n).unwrap();
        for m in 0..n {
            let mut proof = inclusion_proof(&src, m, n).unwrap().unwrap();
            let leaf = src.0[m as usize];
            verify_inclusion(m, n, &leaf, &proof, &root).unwrap();
            assert!(verify_inclusion(m, n, &leaf, &proof, &[0; 32]).is_err());
            if let Some(first) = proof.first_mut() {
                first[0] ^= 1;
                assert!(verify_inclusion(m, n, &leaf, &proof, &root).is_err());
            }
        }
    }
}

#[test]
fn every_consistency_proof_verifies_and_a_wrong_old_root_fails() {
    let big = leaves(40);
    for n in 1..=40u64 {
        let new_root = range_hash(&big, 0, n).unwrap();
        for m in 0..=n {
            let old_root = range_hash(&big, 0, m).unwrap();
            let mut proof = consistency_proof(&big, m, n).unwrap().unwrap();
            verify_consistency(m, n, &old_root, &new_root, &proof).unwrap();
            if m > 0 && m < n {
                assert!(verify_consistency(m, n, &[7; 32], &new_root, &proof).is_err());
                proof[0][5] ^= 0x40;
                assert!(verify_consistency(m, n, &old_root, &new_root, &proof).is_err());
                assert!(verify_consistency(m, n, &old_root, &new_root, &[]).is_err());
            }
        }
    }
}

#[test]
fn compact_range_emits_every_complete_subtree_once() {
    let src = leaves(37);
    let mut range = CompactRange::default();
    let mut seen = Vec::new();
    for l in &src.0 {
        range.push(*l, |level, index, hash| seen.push((level, index, *hash)));
    }
    assert_eq!(seen.len(), 37 - 37u64.count_ones() as usize);
    for (level, index, hash) in seen {
        assert_eq!(hash, src.subtree(level, index).unwrap());
    }
    let rebuilt = CompactRange::from_source(&src, 37).unwrap();
    assert_eq!(rebuilt.root(), range.root());
}
