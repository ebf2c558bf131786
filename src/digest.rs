//! The hash that names bytes: the ETag of a feed's representation and of a section file.
//! Nothing else; what the hash is stored or sent with is its callers' business.

/// 128 bits of BLAKE3, hex. Collisions would make a cache keep stale bytes, so it must be a
/// real hash, not a checksum.
pub fn content_hash(bytes: &[u8]) -> String {
    let hash = blake3::hash(bytes);
    hash.to_hex()[..32].to_owned()
}
