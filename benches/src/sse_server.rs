//! An in-process HTTP server that answers every request with the same recorded SSE body,
//! written at memory speed.

use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

#[path = "../../graph-openai/tests/support/request.rs"]
mod request;
use request::read_request;

/// Starts the server on 127.0.0.1 and returns its base URL (`http://127.0.0.1:PORT/v1`).
pub async fn serve(body: Arc<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let base_url = format!(
        "http://{}/v1",
        listener.local_addr().expect("local address")
    );
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = Arc::clone(&body);
            tokio::spawn(async move {
                if read_request(&mut socket).await.is_none() {
                    return;
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if socket.write_all(head.as_bytes()).await.is_ok() {
                    let _ = socket.write_all(&body).await;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    base_url
}
