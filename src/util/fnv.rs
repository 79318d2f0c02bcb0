//! 64-bit FNV-1a: small, fixed across versions and platforms, and spread well enough for
//! what it is used for here (shard keys, a fingerprint of a visit's photos, the emulator's
//! invented values). Not a defence against anyone choosing inputs to collide.

/// The FNV-1a 64 offset basis: the hash of nothing.
pub(crate) const START: u64 = 0xcbf2_9ce4_8422_2325;

/// Continues an FNV-1a 64 hash with `bytes` (start from [`START`]).
pub(crate) fn update(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// FNV-1a 64 of `bytes`.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    update(START, bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_the_published_test_vectors_and_streams() {
        assert_eq!(super::fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(super::update(super::fnv1a(b"foo"), b"bar"), super::fnv1a(b"foobar"));
    }
}
