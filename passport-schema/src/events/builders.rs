//! Typed builders for programs. New ids are UUID v7.

use uuid::Uuid;

use super::*;
use crate::bytes::Bytes32;

impl PrimaryLot {
    /// A primary cathode lot with a fresh id.
    pub fn new(mass_g: u64, origin_country: &str, supplier: &str) -> Self {
        Self {
            id: Uuid::now_v7(),
            mass_g,
            origin_country: origin_country.to_owned(),
            supplier: supplier.to_owned(),
            brand: None,
            composition: None,
        }
    }

    /// Sets the assay.
    pub fn with_composition(mut self, c: Composition) -> Self {
        self.composition = Some(c);
        self
    }
}

impl ScrapReceipt {
    /// A receipt with a fresh id; net is computed as gross - tare
    /// (saturating; the rules reject tare > gross via the zero net).
    pub fn new(gross_g: u64, tare_g: u64, supplier: Supplier, origin_class: ScrapOrigin) -> Self {
        Self {
            id: Uuid::now_v7(),
            gross_g,
            tare_g,
            net_g: gross_g.saturating_sub(tare_g),
            supplier,
            source_passports: Vec::new(),
            origin_class,
            contract: None,
            dispatch: None,
            evidence: Vec::new(),
        }
    }

    /// Names the supplier's dispatch this receipt takes in.
    pub fn of_dispatch(mut self, dispatch: Uuid) -> Self {
        self.dispatch = Some(dispatch);
        self
    }

    /// Adds an evidence hash (weighbridge ticket, invoice).
    pub fn evidence(mut self, sha256: Bytes32) -> Self {
        self.evidence.push(sha256);
        self
    }

    /// Adds a source passport.
    pub fn source_passport(mut self, product: Uuid) -> Self {
        self.source_passports.push(product);
        self
    }

    /// Marks it as a take-back under a contract.
    pub fn under_contract(mut self, contract: Uuid) -> Self {
        self.contract = Some(contract);
        self
    }
}

impl DispatchScrap {
    /// A dispatch of `mass_g` to `to` with a fresh id.
    pub fn new(to: impl Into<Bytes32>, mass_g: u64, description: &str) -> Self {
        Self {
            id: Uuid::now_v7(),
            to: to.into(),
            mass_g,
            description: description.to_owned(),
            evidence: Vec::new(),
            contract: None,
        }
    }

    /// Marks it as a take-back dispatch under a contract.
    pub fn under_contract(mut self, contract: Uuid) -> Self {
        self.contract = Some(contract);
        self
    }
}

impl Supplier {
    /// A supplier; `kid` if it is a registered actor.
    pub fn new(name: &str, country: &str, kid: Option<Bytes32>) -> Self {
        Self {
            name: name.to_owned(),
            country: country.to_owned(),
            kid,
        }
    }
}

impl Transfer {
    /// A plain transfer.
    pub fn new(material: Uuid, to: impl Into<Bytes32>) -> Self {
        Self {
            material,
            to: to.into(),
            contract: None,
        }
    }

    /// A delivery under a contract.
    pub fn delivery(material: Uuid, to: impl Into<Bytes32>, contract: Uuid) -> Self {
        Self {
            material,
            to: to.into(),
            contract: Some(contract),
        }
    }
}

/// Builds a [`Transformation`].
#[derive(Debug, Clone)]
pub struct TransformationBuilder {
    t: Transformation,
}

impl TransformationBuilder {
    /// Starts a transformation.
    pub fn new(process: Process) -> Self {
        Self {
            t: Transformation {
                process,
                inputs: Vec::new(),
                outputs: Vec::new(),
                losses_g: 0,
                tolerance_g: 0,
            },
        }
    }

    /// Consumes `mass_g` of `material`.
    pub fn input(mut self, material: Uuid, mass_g: u64) -> Self {
        self.t.inputs.push(InputUse { material, mass_g });
        self
    }

    /// Creates an output with a fresh id.
    pub fn output(self, kind: MaterialKind, mass_g: u64) -> Self {
        self.output_with(Uuid::now_v7(), kind, mass_g, None)
    }

    /// Creates an output with a given id and composition.
    pub fn output_with(
        mut self,
        id: Uuid,
        kind: MaterialKind,
        mass_g: u64,
        composition: Option<Composition>,
    ) -> Self {
        self.t.outputs.push(OutputSpec {
            id,
            kind,
            mass_g,
            composition,
        });
        self
    }

    /// Records losses.
    pub fn losses_g(mut self, g: u64) -> Self {
        self.t.losses_g = g;
        self
    }

    /// Declares the weighing tolerance.
    pub fn tolerance_g(mut self, g: u64) -> Self {
        self.t.tolerance_g = g;
        self
    }

    /// Ids of the outputs so far, in order.
    pub fn output_ids(&self) -> Vec<Uuid> {
        self.t.outputs.iter().map(|o| o.id).collect()
    }

    /// The transformation.
    pub fn build(self) -> Transformation {
        self.t
    }
}

/// Builds a [`PassportIssue`].
#[derive(Debug, Clone)]
pub struct PassportBuilder {
    p: PassportIssue,
}

impl PassportBuilder {
    /// Starts a passport for `product` (item granularity, no GS1 link).
    pub fn new(
        product: Uuid,
        name: &str,
        model: &str,
        serial_or_batch: &str,
        alloy: Alloy,
        composition: Composition,
    ) -> Self {
        Self {
            p: PassportIssue {
                product,
                name: name.to_owned(),
                model: model.to_owned(),
                serial_or_batch: serial_or_batch.to_owned(),
                gs1_digital_link: None,
                granularity: Granularity::Item,
                alloy,
                composition,
                carbon_footprint: CarbonFootprint::cradle_to_gate(0),
                conductivity_centi_iacs: None,
                process_summary: Vec::new(),
            },
        }
    }

    /// Sets the GS1 Digital Link URI.
    pub fn gs1_digital_link(mut self, uri: &str) -> Self {
        self.p.gs1_digital_link = Some(uri.to_owned());
        self
    }

    /// Sets item or batch granularity.
    pub fn granularity(mut self, g: Granularity) -> Self {
        self.p.granularity = g;
        self
    }

    /// Sets the carbon footprint value, g CO2e per kg (method, boundary and
    /// verification unchanged: ISO 14067, cradle-to-gate, unverified by
    /// default).
    pub fn carbon_footprint(mut self, g_co2e_per_kg: u32) -> Self {
        self.p.carbon_footprint.g_co2e_per_kg = g_co2e_per_kg;
        self
    }

    /// Sets the whole carbon footprint declaration.
    pub fn footprint(mut self, footprint: CarbonFootprint) -> Self {
        self.p.carbon_footprint = footprint;
        self
    }

    /// Declares conductivity in hundredths of %IACS.
    pub fn conductivity(mut self, centi_iacs: u32) -> Self {
        self.p.conductivity_centi_iacs = Some(centi_iacs);
        self
    }

    /// Adds a process step.
    pub fn step(mut self, process: Process, facility: &str, country: &str) -> Self {
        self.p.process_summary.push(ProcessStep {
            process,
            facility: facility.to_owned(),
            country: country.to_owned(),
        });
        self
    }

    /// The passport.
    pub fn build(self) -> PassportIssue {
        self.p
    }
}

/// Builds a [`RuleSet`].
#[derive(Debug, Clone)]
pub struct RuleSetBuilder {
    r: RuleSet,
}

impl RuleSetBuilder {
    /// A new rule set id, version 1, 3 spots minimum, 12-month calibration.
    pub fn new(name: &str) -> Self {
        Self {
            r: RuleSet {
                id: Uuid::now_v7(),
                version: 1,
                name: name.to_owned(),
                note: String::new(),
                min_spots: 3,
                max_calibration_age_days: None,
                grades: Vec::new(),
            },
        }
    }

    /// Publishes a new version of an existing id.
    pub fn id_version(mut self, id: Uuid, version: u32) -> Self {
        self.r.id = id;
        self.r.version = version;
        self
    }

    /// Sets the note.
    pub fn note(mut self, note: &str) -> Self {
        self.r.note = note.to_owned();
        self
    }

    /// Sets the minimum spots per reading.
    pub fn min_spots(mut self, n: u16) -> Self {
        self.r.min_spots = n;
        self
    }

    /// Sets the maximum calibration age in days.
    pub fn max_calibration_age_days(mut self, days: u32) -> Self {
        self.r.max_calibration_age_days = Some(days);
        self
    }

    /// Adds a grade; precedence is its position.
    pub fn grade(mut self, code: &str, min_cu_ppm: u32, max_ppm: &[(&str, u32)]) -> Self {
        let precedence = u16::try_from(self.r.grades.len()).unwrap_or(u16::MAX);
        self.r.grades.push(GradeSpec {
            code: code.to_owned(),
            precedence,
            description: String::new(),
            nominal_cu_ppm: min_cu_ppm,
            min_cu_ppm,
            max_ppm: max_ppm.iter().map(|(e, v)| ((*e).to_owned(), *v)).collect(),
            visual_max_ppm: Default::default(),
        });
        self
    }

    /// Adds a fully specified grade.
    pub fn grade_spec(mut self, g: GradeSpec) -> Self {
        self.r.grades.push(g);
        self
    }

    /// The rule set.
    pub fn build(self) -> RuleSet {
        self.r
    }
}

/// Builds a [`Grading`].
#[derive(Debug, Clone)]
pub struct GradingBuilder {
    g: Grading,
}

impl GradingBuilder {
    /// Starts a grading of `lot` under `rule_set`.
    pub fn new(
        lot: Uuid,
        rule_set: RuleSetRef,
        instrument: Instrument,
        serial: &str,
        calibrated_ms: i64,
    ) -> Self {
        Self {
            g: Grading {
                lot,
                instrument,
                instrument_serial: serial.to_owned(),
                calibrated_ms,
                readings: Default::default(),
                visual_ppm: Default::default(),
                rule_set,
                claimed_grade: None,
            },
        }
    }

    /// Adds a reading.
    pub fn reading(mut self, element: &str, ppm: u32, spots: u16) -> Self {
        self.g
            .readings
            .insert(element.to_owned(), Reading { ppm, spots });
        self
    }

    /// Adds a visual estimate.
    pub fn visual(mut self, class: VisualContaminant, ppm: u32) -> Self {
        self.g.visual_ppm.insert(class, ppm);
        self
    }

    /// Claims a grade (`None`: off-grade).
    pub fn claim(mut self, grade: Option<&str>) -> Self {
        self.g.claimed_grade = grade.map(str::to_owned);
        self
    }

    /// The grading.
    pub fn build(self) -> Grading {
        self.g
    }
}

/// Builds a [`Scheme`].
#[derive(Debug, Clone)]
pub struct SchemeBuilder {
    s: Scheme,
}

impl SchemeBuilder {
    /// A new scheme id, version 1.
    pub fn new(name: &str, min_recycled_share_ppm: u32) -> Self {
        Self {
            s: Scheme {
                id: Uuid::now_v7(),
                version: 1,
                name: name.to_owned(),
                min_recycled_share_ppm,
                composition_limits: Vec::new(),
                accepted_rule_sets: Vec::new(),
                require_measured_composition: false,
                transition_days: 0,
            },
        }
    }

    /// Requires the subject's composition to be measured, not declared.
    pub fn require_measured(mut self) -> Self {
        self.s.require_measured_composition = true;
        self
    }

    /// A new version of an existing id.
    pub fn id_version(mut self, id: Uuid, version: u32) -> Self {
        self.s.id = id;
        self.s.version = version;
        self
    }

    /// Adds a composition limit.
    pub fn limit(mut self, element: &str, min_ppm: Option<u32>, max_ppm: Option<u32>) -> Self {
        self.s.composition_limits.push(CompositionLimit {
            element: element.to_owned(),
            min_ppm,
            max_ppm,
        });
        self
    }

    /// Sets the transition window (days) during which certificates may
    /// still cite the previous version.
    pub fn transition_days(mut self, days: u32) -> Self {
        self.s.transition_days = days;
        self
    }

    /// Accepts a rule set version.
    pub fn accept(mut self, r: RuleSetRef) -> Self {
        self.s.accepted_rule_sets.push(r);
        self
    }

    /// The scheme.
    pub fn build(self) -> Scheme {
        self.s
    }
}

/// Builds a [`ContractProposal`].
#[derive(Debug, Clone)]
pub struct ContractBuilder {
    c: ContractProposal,
}

impl ContractBuilder {
    /// A new contract id with `customer`, a specification and a period.
    pub fn new(
        customer: impl Into<Bytes32>,
        spec: MaterialSpec,
        start_ms: i64,
        end_ms: i64,
        currency: &str,
    ) -> Self {
        Self {
            c: ContractProposal {
                id: Uuid::now_v7(),
                customer: customer.into(),
                spec,
                start_ms,
                end_ms,
                take_back: TakeBackTerms {
                    min_share_ppm: 0,
                    grades: Vec::new(),
                    currency: currency.to_owned(),
                },
                min_recycled_share_ppm: 0,
            },
        }
    }

    /// Minimum eligible take-back share of delivered mass.
    pub fn take_back_share(mut self, ppm: u32) -> Self {
        self.c.take_back.min_share_ppm = ppm;
        self
    }

    /// Adds an eligible grade of a rule set version and its differential
    /// per tonne.
    pub fn grade(
        mut self,
        rule_set: RuleSetRef,
        code: &str,
        differential_per_tonne_minor: i64,
    ) -> Self {
        self.c.take_back.grades.push(GradeTerm {
            rule_set,
            code: code.to_owned(),
            differential_per_tonne_minor,
        });
        self
    }

    /// Guaranteed minimum recycled share of deliveries.
    pub fn min_recycled_share(mut self, ppm: u32) -> Self {
        self.c.min_recycled_share_ppm = ppm;
        self
    }

    /// The proposal.
    pub fn build(self) -> ContractProposal {
        self.c
    }
}

impl ContractAcceptance {
    /// The customer's acceptance of `contract` as proposed by the entry
    /// whose RFC 9162 leaf hash is `proposal` (SHA-256(0x00 || entry bytes)).
    pub fn new(contract: Uuid, proposal: impl Into<Bytes32>) -> Self {
        ContractAcceptance {
            contract,
            proposal: proposal.into(),
        }
    }
}
