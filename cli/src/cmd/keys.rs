//! `key`, `init` and `actor`.

use ledger::NoteSigner;
use passport_schema::{Bytes32, EventBody, GrantRole, RegisterActor, Role};
use serde_json::json;

use crate::args::{ActorCmd, InitArgs, KeyCmd};
use crate::error::{CliError, Result};
use crate::keys::{parse_kid, parse_public_key};
use crate::output::{Report, fields};
use crate::parse::parse_enum;
use crate::{Ctx, submitted};

pub(crate) fn key(ctx: &mut Ctx, cmd: KeyCmd) -> Result<Report> {
    match cmd {
        KeyCmd::New { name, out } => {
            let name = name.trim().replace(char::is_whitespace, "_");
            let key = ledger::keys::generate_signing_key()?;
            let signer = NoteSigner::new(&name, key)
                .map_err(|e| CliError::usage(format!("--name {name:?}: {e}")))?;
            let pub_path = {
                let mut p = out.clone().into_os_string();
                p.push(".pub");
                std::path::PathBuf::from(p)
            };
            if pub_path.exists() {
                return Err(CliError::usage(format!(
                    "{} already exists; refusing to overwrite it",
                    pub_path.display()
                )));
            }
            client::keyfile::write_key_file(&out, &signer)
                .map_err(|e| CliError::usage(e.to_string()))?;
            std::fs::write(&pub_path, format!("{}\n", signer.verifier()))?;
            let _ = ctx;
            Ok(key_report(
                &signer.verifier().clone(),
                Some((&out, &pub_path)),
            ))
        }
        KeyCmd::Show { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?;
            let line = text.trim();
            let verifier = if line.starts_with("PRIVATE+KEY+") {
                NoteSigner::parse(line)
                    .map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?
                    .verifier()
                    .clone()
            } else {
                ledger::NoteVerifier::parse(line).map_err(|e| {
                    CliError::usage(format!("{}: not a key file: {e}", file.display()))
                })?
            };
            Ok(key_report(&verifier, None))
        }
    }
}

fn key_report(
    v: &ledger::NoteVerifier,
    files: Option<(&std::path::Path, &std::path::Path)>,
) -> Report {
    let pk = hex::encode(v.key().as_bytes());
    let kid = hex::encode(ledger::keys::kid(v.key()));
    let mut pairs = vec![
        ("name", v.name().to_string()),
        ("public key", pk.clone()),
        ("key id (kid)", kid.clone()),
        ("key string", v.to_string()),
    ];
    let mut j = json!({
        "name": v.name(), "public_key": pk, "kid": kid, "key_string": v.to_string(),
    });
    if let Some((secret, public)) = files {
        pairs.push(("secret key", format!("{} (mode 0600)", secret.display())));
        pairs.push(("public file", public.display().to_string()));
        crate::output::set(&mut j, "secret_file", json!(secret.display().to_string()));
        crate::output::set(&mut j, "public_file", json!(public.display().to_string()));
    }
    Report::new(j, fields(&pairs))
}

pub(crate) fn init(ctx: &mut Ctx, a: InitArgs) -> Result<Report> {
    if ctx.node.is_some() {
        return Err(CliError::usage(
            "init creates a local ledger; a node is created with `cupass-node init`",
        ));
    }
    let done = client::init(
        &ctx.dir,
        &a.origin,
        &a.operator_name,
        &a.operator_country,
        &client::Options {
            max_backdating_ms: a.max_backdating_hours.saturating_mul(3_600_000),
            ..client::Options::default()
        },
    )
    .map_err(|e| match e {
        client::Error::Config(m) => CliError::usage(m),
        other => CliError::from(other),
    })?;
    let d = client::DataDir(ctx.dir.clone());
    let text = format!(
        "{} ledger {} created in {}\n{}",
        ctx.style.mark(true),
        a.origin,
        ctx.dir.display(),
        fields(&[
            ("log verifier key", done.verifier_key.clone()),
            ("operator kid", done.operator_kid.clone()),
            ("log key (secret)", d.log_key().display().to_string()),
            (
                "operator key (secret)",
                d.operator_key().display().to_string()
            ),
            ("verifier key file", d.log_pub().display().to_string()),
        ])
    );
    Ok(Report::new(
        json!({
            "origin": a.origin,
            "dir": ctx.dir.display().to_string(),
            "verifier_key": done.verifier_key,
            "operator_kid": done.operator_kid,
            "log_pub": d.log_pub().display().to_string(),
            "operator_key": d.operator_key().display().to_string(),
        }),
        text,
    ))
}

pub(crate) fn actor(ctx: &mut Ctx, cmd: ActorCmd) -> Result<Report> {
    match cmd {
        ActorCmd::Register {
            key,
            name,
            country,
            public_key,
            key_file,
        } => {
            let pk = match (public_key, key_file) {
                (Some(p), _) => parse_public_key(&p)?,
                (None, Some(f)) => parse_public_key(&f.display().to_string())?,
                (None, None) => return Err(CliError::usage("give --public-key or --key-file")),
            };
            let kid = hex::encode(passport_schema::kid_of(&pk));
            let body = EventBody::RegisterActor(RegisterActor {
                name: name.clone(),
                country: country.clone(),
                public_key: Bytes32(pk),
            });
            let backend = ctx.backend()?;
            let r = ctx.sign_submit(backend.as_ref(), &key, body)?;
            Ok(submitted(
                ctx,
                "register_actor",
                &r,
                &[("actor", name.clone()), ("kid", kid.clone())],
                json!({"name": name, "country": country, "kid": kid}),
            ))
        }
        ActorCmd::Grant { key, actor, role } => {
            let kid = parse_kid(&actor)?;
            let role: Role = parse_enum(
                &role,
                "role",
                "operator, manufacturer, refiner, recycler, certifier, service, auditor",
            )?;
            let backend = ctx.backend()?;
            let r = ctx.sign_submit(
                backend.as_ref(),
                &key,
                EventBody::GrantRole(GrantRole { actor: kid, role }),
            )?;
            Ok(submitted(
                ctx,
                "grant_role",
                &r,
                &[("actor", kid.to_hex()), ("role", role.to_string())],
                json!({"kid": kid.to_hex(), "role": role}),
            ))
        }
    }
}
