//! A stand-in WebSub hub for the tests that count pings.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// A ping as the hub got it: its content type and form fields in order.
type Received = (String, Vec<(String, String)>);

/// A stand-in hub on 127.0.0.1:0: records every ping's content type and form fields and
/// answers with the queued statuses, then 204.
#[derive(Clone, Default)]
pub struct Hub {
    pub pings: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Hub {
    pub async fn start(answers: &[u16]) -> (Hub, String) {
        let hub = Hub::default();
        hub.answers.lock().unwrap().extend(answers);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hub", listener.local_addr().unwrap());
        let state = hub.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let state = state.clone();
                let service = service_fn(move |req: Request<Incoming>| {
                    let state = state.clone();
                    async move {
                        let content_type = req
                            .headers()
                            .get("content-type")
                            .map(|v| v.to_str().unwrap().to_owned())
                            .unwrap_or_default();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let fields = url::form_urlencoded::parse(&body).into_owned().collect();
                        state.pings.lock().unwrap().push((content_type, fields));
                        let status = state.answers.lock().unwrap().pop_front().unwrap_or(204);
                        let mut res = Response::new(Full::new(Bytes::new()));
                        *res.status_mut() = StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(res)
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        (hub, url)
    }

    pub fn topics(&self) -> Vec<String> {
        let pings = self.pings.lock().unwrap();
        pings
            .iter()
            .map(|(content_type, fields)| {
                assert_eq!(content_type, "application/x-www-form-urlencoded");
                assert_eq!(fields[0], ("hub.mode".into(), "publish".into()));
                assert_eq!(fields[1].0, "hub.url");
                fields[1].1.clone()
            })
            .collect()
    }

    pub async fn wait_for(&self, count: usize) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while self.pings.lock().unwrap().len() < count {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {count} pings, got {:?}",
                self.pings.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
