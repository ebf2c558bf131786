//! The media of an article, in one list: the lead image, the media the CMS listed, and the
//! media embedded in its HTML body (`embed`), de-duplicated. The builders render this list
//! as Media RSS, Atom enclosures and JSON Feed attachments; nothing here is format-specific.

pub mod embed;

use url::Url;

use crate::article::{Article, Medium};
pub use embed::guess_mime;
use embed::{EmbedKind, player_for};

/// One medium of an article. URLs are kept as the strings they were made into: they are
/// only ever written out, and stored items decode faster without parsing them again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MediaItem {
    pub(crate) medium: Medium,
    /// The media file itself; `None` for a player (a YouTube or Vimeo video).
    pub file: Option<String>,
    /// What identifies the medium: its file, or the player's page.
    pub page: String,
    pub(crate) player: Option<String>,
    pub(crate) thumbnail: Option<String>,
    pub(crate) mime: Option<String>,
    pub(crate) width: Option<u32>,
    pub(crate) height: Option<u32>,
    /// Seconds.
    pub duration: Option<u32>,
    /// Bytes.
    pub length: Option<u64>,
    pub(crate) title: Option<String>,
    /// The caption.
    pub description: Option<String>,
    pub(crate) credit: Option<String>,
}

impl MediaItem {
    fn new(medium: Medium, url: Url) -> MediaItem {
        MediaItem {
            medium,
            mime: guess_mime(&url).map(str::to_owned),
            file: Some(url.to_string()),
            page: url.into(),
            player: None,
            thumbnail: None,
            width: None,
            height: None,
            duration: None,
            length: None,
            title: None,
            description: None,
            credit: None,
        }
    }

    /// A video player: no file, its page identifies it.
    fn player(player: embed::Player) -> MediaItem {
        MediaItem {
            file: None,
            mime: None,
            player: Some(player.player_url.into()),
            thumbnail: player.thumbnail.map(Into::into),
            ..MediaItem::new(Medium::Video, player.page_url)
        }
    }

    /// Whether this is an image (not a video's thumbnail).
    pub fn is_image(&self) -> bool {
        self.medium == Medium::Image
    }

    /// Width and height in pixels, when the article or its source gave both.
    pub fn size(&self) -> Option<(u32, u32)> {
        self.width.zip(self.height)
    }

    /// The image a reader shows for this medium, if any.
    pub fn preview(&self) -> Option<&str> {
        match self.medium {
            Medium::Image => self.file.as_deref(),
            _ => self.thumbnail.as_deref(),
        }
    }
}

/// Every medium of `article`, lead image first, then the listed media, then those found in
/// the body in document order; the first mention of a medium wins.
pub fn collect(article: &Article) -> Vec<MediaItem> {
    let mut items: Vec<MediaItem> = Vec::new();
    if let Some(image) = &article.image {
        items.push(MediaItem {
            mime: image
                .mime
                .clone()
                .or_else(|| guess_mime(image.url.as_url()).map(str::to_owned)),
            width: image.width,
            height: image.height,
            length: image.length,
            description: image.caption.clone(),
            credit: image.credit.clone(),
            ..MediaItem::new(Medium::Image, image.url.as_url().clone())
        });
    }
    for listed in &article.media {
        let url = listed.url.as_url();
        let base = match player_for(url) {
            Some(player) => MediaItem::player(player),
            None => {
                let mime = listed
                    .mime
                    .clone()
                    .or_else(|| guess_mime(url).map(str::to_owned));
                let medium = listed.medium.unwrap_or_else(|| medium_of(mime.as_deref()));
                MediaItem {
                    mime,
                    ..MediaItem::new(medium, url.clone())
                }
            }
        };
        items.push(MediaItem {
            width: listed.width,
            height: listed.height,
            duration: listed.duration,
            length: listed.length,
            title: listed.title.clone(),
            description: listed.description.clone(),
            thumbnail: listed
                .thumbnail
                .as_ref()
                .map(|t| t.to_string())
                .or(base.thumbnail.clone()),
            ..base
        });
    }
    if let Some(body) = &article.body_html {
        for found in embed::embeds_in_html(body, article.url.as_url()) {
            let base = match found.player {
                Some(player) => MediaItem::player(player),
                None => {
                    let medium = match found.kind {
                        EmbedKind::Image => Medium::Image,
                        EmbedKind::Video => Medium::Video,
                        EmbedKind::Audio => Medium::Audio,
                    };
                    MediaItem {
                        mime: found.mime,
                        ..MediaItem::new(medium, found.url)
                    }
                }
            };
            items.push(MediaItem {
                width: found.width,
                height: found.height,
                title: found.title,
                ..base
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    items.retain(|item| seen.insert(item.page.clone()));
    items
}

fn medium_of(mime: Option<&str>) -> Medium {
    match mime.and_then(|m| m.split('/').next()) {
        Some("image") => Medium::Image,
        Some("audio") => Medium::Audio,
        Some("video") => Medium::Video,
        _ => Medium::Document,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(extra: serde_json::Value) -> Article {
        let mut doc = serde_json::json!({
            "id": "a", "url": "https://news.example/2022/05/14/story/", "title": "T",
            "sections": ["world"], "published_at": "2022-05-14T09:30:00Z",
        });
        for (k, v) in extra.as_object().unwrap() {
            doc[k] = v.clone();
        }
        Article::from_value(doc).unwrap().article
    }

    #[test]
    fn the_seed_story_has_its_image_and_one_youtube_video() {
        let a = article(serde_json::json!({
            "image": {"url": "https://cdn.example/austin.jpg", "caption": "Lloyd Austin", "credit": "Pentagon"},
            "media": [{"url": "https://www.youtube.com/watch?v=SJ6vaRpQ0fc", "medium": "video",
                       "title": "Briefing", "duration": 95}],
            "body_html": "<p>Text</p><p>https://www.youtube.com/watch?v=SJ6vaRpQ0fc</p>",
        }));
        let media = collect(&a);
        assert_eq!(media.len(), 2, "{media:#?}");
        assert_eq!(media[0].medium, Medium::Image);
        assert_eq!(media[0].mime.as_deref(), Some("image/jpeg"));
        assert_eq!(media[0].credit.as_deref(), Some("Pentagon"));
        let video = &media[1];
        assert_eq!(video.medium, Medium::Video);
        assert_eq!(video.file, None);
        assert_eq!(
            video.player.as_ref().unwrap().as_str(),
            "https://www.youtube.com/embed/SJ6vaRpQ0fc"
        );
        assert_eq!(
            video.thumbnail.as_ref().unwrap().as_str(),
            "https://i.ytimg.com/vi/SJ6vaRpQ0fc/hqdefault.jpg"
        );
        assert_eq!(
            video.title.as_deref(),
            Some("Briefing"),
            "the listed entry wins"
        );
        assert_eq!(video.duration, Some(95));
    }

    #[test]
    fn body_media_resolve_against_the_article_url() {
        let a = article(serde_json::json!({
            "body_html": "<img src=\"/uploads/a.png\" width=\"640\" alt=\"A\"><video><source src=\"clip.mp4\" type=\"video/mp4\"></video>",
        }));
        let media = collect(&a);
        assert_eq!(
            media[0].file.as_ref().unwrap().as_str(),
            "https://news.example/uploads/a.png"
        );
        assert_eq!(media[0].width, Some(640));
        assert_eq!(
            media[1].file.as_ref().unwrap().as_str(),
            "https://news.example/2022/05/14/story/clip.mp4"
        );
        assert_eq!(media[1].medium, Medium::Video);
    }

    #[test]
    fn an_article_without_media_has_none() {
        assert!(collect(&article(serde_json::json!({"body_html": "<p>words</p>"}))).is_empty());
    }
}
