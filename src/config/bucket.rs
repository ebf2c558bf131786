//! The `[publish]` table of `site.toml`: an S3-compatible bucket that every change of a
//! feed file is copied to, for a CDN to serve from. Read when the server starts; a change
//! needs a restart, like `listen`. Credentials are not configuration: they come from the
//! environment, as every S3 tool reads them (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`). The copying is the `bucket` module's.

use serde::{Deserialize, Deserializer};

use crate::link::HttpUrl;

/// The `[publish]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// `s3://BUCKET/PREFIX`: where the files go (`PREFIX/top-news.rss`, ...).
    pub target: S3Target,
    /// An endpoint other than AWS's own (MinIO, Cloudflare R2, a local server), addressed
    /// path-style (`ENDPOINT/BUCKET/KEY`); plain `http://` is allowed for one on the same
    /// host or network.
    #[serde(default)]
    pub endpoint: Option<HttpUrl>,
    /// The bucket's region; S3-compatible stores mostly take any.
    #[serde(default = "default_region")]
    pub region: String,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

/// `s3://BUCKET/PREFIX`, read: the bucket's name and the prefix of every key, without
/// slashes at either end (empty for the bucket's root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Target {
    /// The bucket's name.
    pub bucket: String,
    /// What every key starts with, before a `/`; empty for the bucket's root.
    pub prefix: String,
}

impl<'de> Deserialize<'de> for S3Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<S3Target, D::Error> {
        use serde::de::Error;
        let text = String::deserialize(d)?;
        let Some(rest) = text.strip_prefix("s3://") else {
            return Err(D::Error::custom(format!(
                "{text:?} is not an s3:// URL (s3://BUCKET/PREFIX)"
            )));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // S3's rules for a bucket's name: 3 to 63 of lowercase letters, digits, dots and
        // hyphens (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
        let named = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        if !named {
            return Err(D::Error::custom(format!(
                "{bucket:?} is not a bucket name (3 to 63 lowercase letters, digits, dots, hyphens)"
            )));
        }
        Ok(S3Target {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(text: &str) -> Result<S3Target, String> {
        #[derive(Deserialize)]
        struct T {
            target: S3Target,
        }
        toml::from_str::<T>(&format!("target = {text:?}"))
            .map(|t| t.target)
            .map_err(|e| e.message().to_owned())
    }

    #[test]
    fn a_target_is_a_bucket_and_a_prefix() {
        let read = target("s3://news-feeds/public/feeds/").unwrap();
        assert_eq!(read.bucket, "news-feeds");
        assert_eq!(read.prefix, "public/feeds");
        assert_eq!(target("s3://news-feeds").unwrap().prefix, "");
        assert!(
            target("https://news-feeds/x")
                .unwrap_err()
                .contains("s3://")
        );
        assert!(
            target("s3://News_Feeds/x")
                .unwrap_err()
                .contains("bucket name")
        );
    }
}
