//! The scenario's first half, from cathode to products in service: actors, rules and scheme, primary lots, rod and foil, passports, service histories and end of life.

use passport_schema::{
    Alloy, Bytes32, CarbonFootprint, EndOfLife, EventBody, FootprintBoundary, FootprintMethod,
    GrantRole, Granularity, MaterialKind, PassportBuilder, PassportIssue, PrimaryLot, Process,
    RegisterActor, Role, RuleSet, SchemeBuilder, SchemeRef, ServiceAuthorisation, ServiceEvent,
    ServiceKind, Transfer, TransformationBuilder,
};
use uuid::Uuid;

use super::{Actor, Cast, Cathode, DAY, Recorder, T, cu};
use crate::demo::Paths;
use crate::error::Result;

/// Actors: a key file each; the operator registers them, then grants their roles.
pub(super) fn register_cast(d: &mut Recorder<'_>, paths: &Paths, operator: Actor) -> Result<Cast> {
    let keys = &paths.keys;
    let cast = Cast {
        operator,
        jinguan: Actor::new(keys, "Jinguan Copper Smelter", "jinguan")?,
        andes: Actor::new(keys, "Andes Cathode Trading", "andes")?,
        refinery: Actor::new(keys, "Tongling Secondary Copper Refinery", "refinery")?,
        rodmill: Actor::new(keys, "Tongling Rod and Wire", "rodmill")?,
        foil: Actor::new(keys, "Tongling Copper Foil", "foil")?,
        electronics: Actor::new(keys, "Tongling Power Electronics", "electronics")?,
        utility: Actor::new(keys, "Anhui Grid Utility", "utility")?,
        maintenance: Actor::new(keys, "Anhui Power Maintenance", "maintenance")?,
        hefei: Actor::new(keys, "Hefei Recycling", "hefei")?,
        wuhu: Actor::new(keys, "Wuhu Scrap Metals", "wuhu")?,
        certifier: Actor::new(keys, "Tongling Certification Centre", "certifier")?,
    };
    let c = &cast;
    let roster: [(&Actor, &str, &[Role]); 11] = [
        (&c.jinguan, "CN", &[Role::Refiner]),
        (&c.andes, "CL", &[Role::Refiner]),
        (&c.refinery, "CN", &[Role::Refiner, Role::Recycler]),
        (&c.rodmill, "CN", &[Role::Manufacturer]),
        (&c.foil, "CN", &[Role::Manufacturer]),
        (&c.electronics, "CN", &[Role::Manufacturer]),
        (&c.utility, "CN", &[Role::Service]),
        (&c.maintenance, "CN", &[Role::Service]),
        (&c.hefei, "CN", &[Role::Recycler]),
        (&c.wuhu, "CN", &[Role::Recycler]),
        (&c.certifier, "CN", &[Role::Certifier]),
    ];
    d.batch_by(
        &c.operator,
        roster.iter().map(|(a, country, _)| {
            EventBody::RegisterActor(RegisterActor {
                name: a.name.into(),
                country: (*country).into(),
                public_key: Bytes32(*a.signer.verifier().key().as_bytes()),
            })
        }),
    )?;
    d.batch_by(
        &c.operator,
        roster.iter().flat_map(|(a, _, roles)| {
            roles.iter().map(|r| {
                EventBody::GrantRole(GrantRole {
                    actor: a.kid,
                    role: *r,
                })
            })
        }),
    )?;
    Ok(cast)
}

/// The certifier publishes the illustrative ISRI rule set and the
/// "Tongling Recycled" scheme (both also written as JSON files).
pub(super) fn publish_rules(
    d: &mut Recorder<'_>,
    c: &Cast,
    paths: &Paths,
) -> Result<(RuleSet, SchemeRef)> {
    let rule_set: RuleSet = passport_schema::isri_illustrative_rule_set()?;
    std::fs::write(
        &paths.rule_set,
        passport_schema::ISRI_ILLUSTRATIVE_RULESET_JSON,
    )?;
    d.one(&c.certifier, EventBody::PublishRuleSet(rule_set.clone()))?;
    let rs_ref = passport_schema::RuleSetRef {
        id: rule_set.id,
        version: rule_set.version,
    };
    let scheme = SchemeBuilder::new("Tongling Recycled", 300_000)
        .limit("Cu", Some(999_500), None)
        .accept(rs_ref)
        .build();
    let sref = SchemeRef {
        id: scheme.id,
        version: scheme.version,
    };
    std::fs::write(
        &paths.scheme,
        serde_json::to_string_pretty(&scheme).unwrap_or_default(),
    )?;
    d.one(&c.certifier, EventBody::PublishScheme(scheme))?;
    Ok((rule_set, sref))
}

/// Two suppliers register four cathode lots and ship them to the rod
/// mill, the foil maker and (as top-up) the refinery.
pub(super) fn primary_cathode(d: &mut Recorder<'_>, c: &Cast) -> Result<Cathode> {
    let lot = |mass, country: &str, supplier: &str, brand: &str| {
        let mut l =
            PrimaryLot::new(mass, country, supplier).with_composition(cu(999_950).with("O", 30));
        l.brand = Some(brand.into());
        l
    };
    let cn_rod = lot(20 * T, "CN", "Jinguan Copper Smelter", "JINGUAN A");
    let cn_top = lot(10 * T, "CN", "Jinguan Copper Smelter", "JINGUAN A");
    let cl_foil = lot(10 * T, "CL", "Andes Cathode Trading", "CODELCO ENAMI");
    let cl_top = lot(10 * T, "CL", "Andes Cathode Trading", "CODELCO ENAMI");
    let cathode = Cathode {
        for_rod: cn_rod.id,
        for_foil: cl_foil.id,
        top_cn: cn_top.id,
        top_cl: cl_top.id,
    };
    d.batch(vec![
        (&c.jinguan, EventBody::RegisterPrimaryLot(cn_rod)),
        (&c.jinguan, EventBody::RegisterPrimaryLot(cn_top)),
        (&c.andes, EventBody::RegisterPrimaryLot(cl_foil)),
        (&c.andes, EventBody::RegisterPrimaryLot(cl_top)),
    ])?;
    let ship = |lot, to: &Actor| EventBody::Transfer(Transfer::new(lot, to.kid));
    d.batch(vec![
        (&c.jinguan, ship(cathode.for_rod, &c.rodmill)),
        (&c.jinguan, ship(cathode.top_cn, &c.refinery)),
        (&c.andes, ship(cathode.for_foil, &c.foil)),
        (&c.andes, ship(cathode.top_cl, &c.refinery)),
    ])?;
    Ok(cathode)
}

/// Rod is drawn and foil rolled from the cathode, then both go to the
/// electronics maker. Returns (rod, foil).
pub(super) fn semi_finished(
    d: &mut Recorder<'_>,
    c: &Cast,
    cathode: &Cathode,
) -> Result<(Uuid, Uuid)> {
    let draw = TransformationBuilder::new(Process::Draw)
        .input(cathode.for_rod, 20 * T)
        .output_with(
            Uuid::now_v7(),
            MaterialKind::Rod,
            19_800_000,
            Some(cu(999_930).with("O", 40)),
        )
        .output(MaterialKind::Scrap, 150_000)
        .losses_g(50_000)
        .build();
    let rod = draw.outputs.first().map(|o| o.id).unwrap_or_default();
    let roll = TransformationBuilder::new(Process::Roll)
        .input(cathode.for_foil, 10 * T)
        .output_with(
            Uuid::now_v7(),
            MaterialKind::Foil,
            9_850_000,
            Some(cu(999_900)),
        )
        .losses_g(150_000)
        .build();
    let foil = roll.outputs.first().map(|o| o.id).unwrap_or_default();
    d.batch(vec![
        (&c.rodmill, EventBody::Transform(draw)),
        (&c.foil, EventBody::Transform(roll)),
    ])?;
    d.batch(vec![
        (
            &c.rodmill,
            EventBody::Transfer(Transfer::new(rod, c.electronics.kid)),
        ),
        (
            &c.foil,
            EventBody::Transfer(Transfer::new(foil, c.electronics.kid)),
        ),
    ])?;
    Ok((rod, foil))
}

/// The passport of the `i`th (from 1) power distribution unit.
fn passport(product: Uuid, i: usize) -> PassportIssue {
    PassportBuilder::new(
        product,
        "Copper busbar power distribution unit",
        "TPE-PDU-400A",
        &format!("TPE-2025-{i:05}"),
        Alloy::Gb("T2".into()),
        cu(999_900).with("O", 50),
    )
    .gs1_digital_link(&format!(
        "https://id.gs1.org/01/09506000134352/21/TPE-2025-{i:05}"
    ))
    .granularity(Granularity::Item)
    .footprint(CarbonFootprint {
        g_co2e_per_kg: 3_100,
        method: FootprintMethod::Iso14067,
        boundary: FootprintBoundary::CradleToGate,
        third_party_verified: true,
    })
    .conductivity(10_100)
    .step(Process::Draw, "Tongling Rod and Wire", "CN")
    .step(Process::Roll, "Tongling Copper Foil", "CN")
    .step(Process::Assemble, "Tongling Power Electronics", "CN")
    .build()
}

/// The electronics maker assembles `n` products (20 per assembly), issues
/// each a passport (the first also written as an example file) and ships
/// them all to the utility.
pub(super) fn issue_passports(
    d: &mut Recorder<'_>,
    c: &Cast,
    paths: &Paths,
    rod: Uuid,
    foil: Uuid,
    n: usize,
) -> Result<Vec<Uuid>> {
    let mut assembles = Vec::new();
    let mut products: Vec<Uuid> = Vec::with_capacity(n);
    for _ in 0..n / 20 {
        let mut b = TransformationBuilder::new(Process::Assemble)
            .input(rod, 20 * 40_000)
            .input(foil, 20 * 10_000)
            .losses_g(20 * 500);
        for _ in 0..20 {
            b = b.output(MaterialKind::Product, 49_500);
        }
        products.extend(b.output_ids());
        assembles.push(EventBody::Transform(b.build()));
    }
    d.batch_by(&c.electronics, assembles)?;
    if let Some(p0) = products.first() {
        std::fs::write(
            &paths.passport_example,
            serde_json::to_string_pretty(&passport(*p0, 1)).unwrap_or_default(),
        )?;
    }
    d.batch_by(
        &c.electronics,
        products
            .iter()
            .enumerate()
            .map(|(i, p)| EventBody::IssuePassport(passport(*p, i + 1))),
    )?;
    d.batch_by(
        &c.electronics,
        products
            .iter()
            .map(|p| EventBody::Transfer(Transfer::new(*p, c.utility.kid))),
    )?;
    Ok(products)
}

/// A service entry on `product`, with the hash of its note as evidence.
fn service(product: Uuid, kind: ServiceKind, note: &str) -> EventBody {
    EventBody::Service(ServiceEvent {
        product,
        kind,
        note: note.into(),
        evidence: vec![passport_schema::sha256(
            format!("{product}:{note}").as_bytes(),
        )],
    })
}

/// The utility installs every product and authorises its maintenance
/// contractor for a year, which inspects every product; the utility repairs
/// every sixth.
pub(super) fn service_history(d: &mut Recorder<'_>, c: &Cast, products: &[Uuid]) -> Result<()> {
    d.batch_by(
        &c.utility,
        products.iter().map(|p| {
            service(
                *p,
                ServiceKind::Install,
                "installed at Tongling 110 kV substation",
            )
        }),
    )?;
    let until_ms = d.clock + 365 * DAY;
    d.batch_by(
        &c.utility,
        products.iter().map(|p| {
            EventBody::AuthoriseService(ServiceAuthorisation {
                product: *p,
                actor: c.maintenance.kid,
                until_ms: Some(until_ms),
            })
        }),
    )?;
    d.batch_by(
        &c.maintenance,
        products.iter().map(|p| {
            service(
                *p,
                ServiceKind::Inspect,
                "annual thermal scan: no hot spots",
            )
        }),
    )?;
    d.batch_by(
        &c.utility,
        products.iter().step_by(6).map(|p| {
            service(
                *p,
                ServiceKind::Repair,
                "joint re-torqued, contact replaced",
            )
        }),
    )?;
    Ok(())
}

/// The utility decommissions the first half of the products, records their
/// end of life and hands half of them to each recycler. Returns (to Hefei,
/// to Wuhu).
pub(super) fn end_of_life(
    d: &mut Recorder<'_>,
    c: &Cast,
    products: &[Uuid],
) -> Result<(Vec<Uuid>, Vec<Uuid>)> {
    let retired: Vec<Uuid> = products.iter().take(products.len() / 2).copied().collect();
    d.batch_by(
        &c.utility,
        retired
            .iter()
            .map(|p| service(*p, ServiceKind::Decommission, "substation upgrade")),
    )?;
    d.batch_by(
        &c.utility,
        retired.iter().map(|p| {
            EventBody::EndOfLife(EndOfLife {
                product: *p,
                reason: "replaced by 630 A units".into(),
                evidence: vec![],
            })
        }),
    )?;
    let (to_hefei, to_wuhu) = retired.split_at(retired.len() / 2);
    d.batch_by(
        &c.utility,
        to_hefei
            .iter()
            .map(|p| EventBody::Transfer(Transfer::new(*p, c.hefei.kid)))
            .chain(
                to_wuhu
                    .iter()
                    .map(|p| EventBody::Transfer(Transfer::new(*p, c.wuhu.kid))),
            ),
    )?;
    Ok((to_hefei.to_vec(), to_wuhu.to_vec()))
}
