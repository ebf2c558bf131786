//! `/admin/api/articles`: the CMS pushes, replaces and retracts articles. A request is all
//! or nothing: every article is validated before any is stored, in one transaction. The
//! scheduler is told at once, so the affected feeds change within a second.

use std::sync::Arc;

use http::{Response, StatusCode};
use serde::Serialize;
use serde_json::Value;

use super::error::{ApiError, json_response};
use super::{Admin, Audit, MAX_BATCH};
use crate::article::{Accepted, Article, ArticleError, ArticleId, Warning};
use crate::http::Body;
use crate::item::PreparedArticle;

/// `POST /admin/api/articles`: one article object or an array of at most `MAX_BATCH`,
/// upserted by id. A bad article rejects the request, naming it: `[3].published_at`;
/// optional fields left out for junk are named in the answer's `warnings`, the same way.
pub async fn upsert(
    admin: &Arc<Admin>,
    value: Value,
    audit: &mut Audit,
) -> Result<Response<Body>, ApiError> {
    let accepted = match value {
        Value::Array(values) => {
            if values.len() > MAX_BATCH {
                return Err(ApiError::BatchTooLarge {
                    count: values.len(),
                    max: MAX_BATCH,
                });
            }
            values
                .into_iter()
                .enumerate()
                .map(|(i, value)| {
                    let prefix = format!("[{i}]");
                    Article::from_value(value)
                        .map(|accepted| (accepted, prefix.clone()))
                        .map_err(|e| invalid(e, &prefix))
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        value @ Value::Object(_) => {
            vec![(
                Article::from_value(value).map_err(|e| invalid(e, ""))?,
                String::new(),
            )]
        }
        _ => {
            return Err(ApiError::Invalid {
                field: None,
                message: "the body is an article object or an array of them".into(),
            });
        }
    };
    let mut warnings = Vec::new();
    let mut articles = Vec::with_capacity(accepted.len());
    for (
        Accepted {
            article,
            warnings: left_out,
        },
        prefix,
    ) in accepted
    {
        warnings.extend(left_out.into_iter().map(|w| Warning {
            field: batch_field(&prefix, &w.field),
            ..w
        }));
        articles.push(article);
    }
    audit.ids = articles.iter().map(|a| a.id.to_string()).collect();
    audit.count = Some(articles.len());

    #[derive(Serialize)]
    struct Stored {
        stored: usize,
        ids: Vec<String>,
        warnings: Vec<Warning>,
    }
    let reply = Stored {
        stored: articles.len(),
        ids: audit.ids.clone(),
        warnings,
    };
    if !articles.is_empty() {
        store(admin, articles).await?;
    }
    Ok(json_response(StatusCode::OK, &reply))
}

/// `GET /admin/api/articles/{id}`: the article as stored (its canonical JSON).
pub async fn get(admin: &Arc<Admin>, id: &str) -> Result<Response<Body>, ApiError> {
    let id = path_id(id)?;
    let store = admin.store.clone();
    let lookup = id.clone();
    let article = tokio::task::spawn_blocking(move || store.get(&lookup))
        .await??
        .ok_or_else(|| not_found(&id))?;
    Ok(json_response(StatusCode::OK, &article))
}

/// `PUT /admin/api/articles/{id}`: stores the article under `id` and answers it as stored,
/// with `warnings` when optional fields were left out. The body's `id` may be left out; if
/// given it must be the same (changing an id would duplicate the article in every reader).
pub async fn replace(
    admin: &Arc<Admin>,
    mut value: Value,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let id = path_id(id)?;
    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::Invalid {
            field: None,
            message: "the body is one article object".into(),
        });
    };
    match object.get("id") {
        None => {
            object.insert("id".into(), Value::String(id.to_string()));
        }
        Some(Value::String(given)) if given == id.as_str() => {}
        Some(given) => {
            return Err(ApiError::invalid(
                "id",
                format!(
                    "{given} does not match the id in the URL, {:?}",
                    id.as_str()
                ),
            ));
        }
    }
    let Accepted { article, warnings } = Article::from_value(value).map_err(|e| invalid(e, ""))?;
    store(admin, vec![article.clone()]).await?;

    /// The article as stored, and the fields left out of it when there were any.
    #[derive(Serialize)]
    struct Replaced {
        #[serde(flatten)]
        article: Article,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<Warning>,
    }
    Ok(json_response(
        StatusCode::OK,
        &Replaced { article, warnings },
    ))
}

/// `DELETE /admin/api/articles/{id}`: retracts the article from every feed.
pub async fn delete(admin: &Arc<Admin>, id: &str) -> Result<Response<Body>, ApiError> {
    let id = path_id(id)?;
    let store = admin.store.clone();
    let notifier = admin.notifier.clone();
    let target = id.clone();
    let removed = admin
        .live
        .edit(move |_| {
            let removed = store.retract(&target)?;
            if removed {
                notifier.articles_changed();
            }
            Ok::<_, ApiError>(removed)
        })
        .await??;
    if !removed {
        return Err(not_found(&id));
    }
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

/// Prepares `articles` and stores them in one transaction, under the admin write lock, and
/// wakes the scheduler. All happens on the blocking thread, so a client hanging up cannot
/// stop the write half-way or leave the scheduler unwoken.
async fn store(admin: &Arc<Admin>, articles: Vec<Article>) -> Result<(), ApiError> {
    let store = admin.store.clone();
    let notifier = admin.notifier.clone();
    admin
        .live
        .edit(move |_| {
            let prepared: Vec<PreparedArticle> =
                articles.into_iter().map(PreparedArticle::new).collect();
            store.upsert(&prepared)?;
            notifier.articles_changed();
            Ok::<_, ApiError>(())
        })
        .await??;
    Ok(())
}

/// An id from the URL; one that is not valid cannot name an article.
fn path_id(id: &str) -> Result<ArticleId, ApiError> {
    ArticleId::parse(id).map_err(|_| ApiError::NotFound(format!("no article {id:?}")))
}

fn not_found(id: &ArticleId) -> ApiError {
    ApiError::NotFound(format!("no article {:?}", id.as_str()))
}

/// An article error as a 422 naming the field, under `prefix` (`[3]`) in a batch.
/// `field` of the article at `prefix`: `[3]` in a batch, empty for a lone article.
fn batch_field(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

fn invalid(e: ArticleError, prefix: &str) -> ApiError {
    let field = match e.field_name() {
        Some(field) => Some(batch_field(prefix, field)),
        None => (!prefix.is_empty()).then(|| prefix.to_owned()),
    };
    let message = match &e {
        ArticleError::Field { reason, .. } => reason.clone(),
        ArticleError::Syntax(message) => message.clone(),
    };
    ApiError::Invalid { field, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_errors_name_the_article_and_field() {
        let field = |e: ApiError| match e {
            ApiError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        };
        let e = ArticleError::Field {
            field: "published_at".into(),
            reason: "required".into(),
        };
        assert_eq!(
            field(invalid(e.clone(), "[3]")).as_deref(),
            Some("[3].published_at")
        );
        assert_eq!(field(invalid(e, "")).as_deref(), Some("published_at"));
        let e = ArticleError::Syntax("an article is a JSON object".into());
        assert_eq!(field(invalid(e.clone(), "[0]")).as_deref(), Some("[0]"));
        assert_eq!(field(invalid(e, "")), None);
    }
}
