//! INTERIM
use url::Url;
pub fn guess_mime(url: &Url) -> Option<&'static str> {
    let ext = url.path().rsplit('.').next()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        _ => return None,
    })
}
