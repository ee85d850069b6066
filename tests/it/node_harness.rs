//! A real node on 127.0.0.1:0, with helpers to sign and submit events over HTTP.

use std::path::PathBuf;
use std::sync::Arc;

use client::{DataDir, keyfile::Permissions};
use ed25519_dalek::SigningKey;
use ledger::{NoteSigner, NoteVerifier};
use node::Config;
use passport_schema::{Bytes32, Event, EventBody, GrantRole, Kid, RegisterActor, Role, kid_of};
use reqwest::StatusCode;
use tokio::sync::oneshot;

/// An organisation with its key.
#[derive(Clone)]
pub struct Org {
    pub key: NoteSigner,
    pub kid: Kid,
}

impl Org {
    pub fn new(seed: u8, name: &str) -> Org {
        let key =
            NoteSigner::new(&name.replace(' ', "_"), SigningKey::from_bytes(&[seed; 32])).unwrap();
        let kid = kid_of(key.verifier().key().as_bytes());
        Org { key, kid }
    }

    pub fn b32(&self) -> Bytes32 {
        Bytes32(self.kid)
    }

    pub fn public(&self) -> Bytes32 {
        Bytes32(*self.key.verifier().key().as_bytes())
    }
}

pub struct TestNode {
    pub dir: tempfile::TempDir,
    pub url: String,
    /// The log's origin: what its checkpoints and every entry signed for it name.
    pub origin: String,
    pub operator: Org,
    pub log_key: NoteVerifier,
    pub http: reqwest::Client,
    config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<node::Result<()>>>,
}

pub fn now_ms() -> i64 {
    client::pipeline::now_ms()
}

impl TestNode {
    pub async fn start() -> TestNode {
        TestNode::start_with(Config::default()).await
    }

    /// A node serving with `config` (the store is opened with the defaults).
    pub async fn start_with(config: Config) -> TestNode {
        TestNode::start_log("test.cupass.example/log", config).await
    }

    /// A node for the log named `origin`, serving with `config`.
    pub async fn start_log(origin: &str, config: Config) -> TestNode {
        let dir = tempfile::tempdir().unwrap();
        client::init(
            dir.path(),
            origin,
            "Ledger Operator",
            "CN",
            &config.ledger_options(),
        )
        .unwrap();
        let data = DataDir(dir.path().to_path_buf());
        let op_key =
            client::keyfile::read_key_file(&data.operator_key(), Permissions::Strict).unwrap();
        let operator = Org {
            kid: kid_of(op_key.verifier().key().as_bytes()),
            key: op_key,
        };
        let log_key =
            NoteVerifier::parse(std::fs::read_to_string(data.log_pub()).unwrap().trim()).unwrap();
        let mut n = TestNode {
            dir,
            url: String::new(),
            origin: origin.to_string(),
            operator,
            log_key,
            http: reqwest::Client::new(),
            config,
            stop: None,
            task: None,
        };
        n.serve().await;
        n
    }

    /// Opens the (stopped) node's ledger in-process, with the full check.
    pub async fn open_ledger(&self) -> node::Result<client::PassportLedger<ledger::SledStore>> {
        let path = self.path();
        tokio::task::spawn_blocking(move || {
            client::open(&path, &client::Options::default(), Permissions::Strict)
        })
        .await
        .unwrap()
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    async fn serve(&mut self) {
        let ledger = self.open_ledger().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = rx.await;
        };
        self.task = Some(tokio::spawn(node::serve(
            Arc::new(ledger),
            self.config.clone(),
            listener,
            shutdown,
        )));
        self.stop = Some(tx);
    }

    /// Graceful shutdown, then start again from the same directory.
    pub async fn restart(&mut self) {
        self.shutdown().await;
        self.serve().await;
    }

    pub async fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }

    /// Posts raw bytes; returns status and JSON body.
    pub async fn post(
        &self,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> (StatusCode, serde_json::Value) {
        let r = self
            .http
            .post(format!("{}/v1/entries", self.url))
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    pub fn sign(&self, by: &Org, body: impl Into<EventBody>) -> Vec<u8> {
        client::sign_event(&by.key, &self.origin, &Event::new(now_ms(), body)).unwrap()
    }

    /// Signs and submits; returns status and body.
    pub async fn submit(
        &self,
        by: &Org,
        body: impl Into<EventBody>,
    ) -> (StatusCode, serde_json::Value) {
        self.post(self.sign(by, body), "application/cose").await
    }

    /// Submits and insists on 201; checks the receipt's proof against its checkpoint.
    pub async fn ok(&self, by: &Org, body: impl Into<EventBody>) -> u64 {
        let bytes = self.sign(by, body);
        let (status, receipt) = self.post(bytes.clone(), "application/cose").await;
        assert_eq!(status, StatusCode::CREATED, "{receipt}");
        let proof: ledger::InclusionProof =
            serde_json::from_value(receipt["inclusion_proof"].clone()).unwrap();
        assert_eq!(receipt["checkpoint"].as_str(), proof.checkpoint.as_deref());
        proof.verify_entry(&bytes, &self.log_key).unwrap();
        receipt["index"].as_u64().unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn get_bytes(&self, path: &str) -> (StatusCode, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.bytes().await.unwrap().to_vec())
    }

    pub async fn tree_size(&self) -> u64 {
        let (_, note) = self.get_bytes("/checkpoint").await;
        ledger::Checkpoint::open(std::str::from_utf8(&note).unwrap(), &self.log_key)
            .unwrap()
            .size
    }

    /// Registers an organisation and grants it roles.
    pub async fn register(&self, seed: u8, name: &str, roles: &[Role]) -> Org {
        let org = Org::new(seed, name);
        let op = self.operator.clone();
        self.ok(
            &op,
            RegisterActor {
                name: name.into(),
                country: "CN".into(),
                public_key: org.public(),
            },
        )
        .await;
        for role in roles {
            self.ok(
                &op,
                GrantRole {
                    actor: org.b32(),
                    role: *role,
                },
            )
            .await;
        }
        org
    }
}
