//! The wallet's operations: keys, signing and submitting actions, exports and the pledge hand-over.
//! Commands and the demo both go through here, so the demo plays exactly what users run.

use ebl_core::refusal::{ReadRule, RequestRefusal};
use std::path::{Path, PathBuf};

use ebl_core::api::{HistoryEntry, SubmitOutcome};
use ebl_core::bundle::{Bundle, BundleVerdict, BUNDLE_FORMAT};
use ebl_core::{
    Action, BillId, Document, Hash, Party, PartyId, PartyKey, SignedTransaction, SigningKey,
    Transaction,
};
use serde::{Deserialize, Serialize};

use crate::client::NodeClient;
use crate::error::{Cause, CliError, Kind, Refusal, Remote, Result};
use crate::keystore::Keystore;

/// Format of the file a holder hands a bank to ask for a pledge.
/// Readers check it through [`ebl_core::format::PLEDGE_OFFER`], which names the versions this release
/// reads.
pub const PLEDGE_OFFER_FORMAT: &str = "ebl-pledge-offer/1";
/// The shortest passphrase a new key is stored under.
pub const PASSPHRASE_CHARS_MIN: usize = 8;
/// How long a pledge offer stays valid unless the holder says otherwise; the ledger refuses it after.
pub const PLEDGE_OFFER_VALID_HOURS_DEFAULT: u64 = 72;
/// The longest validity a holder may give an offer (30 days).
pub const PLEDGE_OFFER_VALID_HOURS_MAX: u64 = 30 * 24;

/// Where the passphrase comes from.
#[derive(Debug, Clone)]
pub enum Passphrase {
    /// `EBL_PASSPHRASE`, or given by the caller (the demo).
    Given(String),
    /// Ask on the terminal.
    Prompt,
}

/// The wallet: its keys, and the node it talks to.
#[derive(Debug)]
pub struct Wallet {
    /// Its home directory.
    pub home: PathBuf,
    /// Its keys, encrypted.
    pub keys: Keystore,
    /// The node (or nodes) it talks to.
    pub node: NodeClient,
    passphrase: Passphrase,
}

/// A holder's signed pledge, waiting for the bank's co-signature, with the proof bundle the bank checks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PledgeOffer {
    /// Always the bundle format's name.
    pub format: String,
    /// The holder's pledge, signed by the holder alone.
    pub transaction: SignedTransaction,
    /// The bill's proof bundle, for the bank to verify offline.
    pub bundle: Bundle,
}

/// What the bank sees before it co-signs.
#[derive(Debug, Clone, Serialize)]
pub struct PledgeReview {
    /// The offer's bundle, verified.
    pub verdict: BundleVerdict,
    /// Who pledges the bill.
    pub pledgor: PartyId,
    /// The bank it is pledged to.
    pub pledgee: PartyId,
    /// The loan the pledge secures.
    pub loan: ebl_core::Loan,
    /// The node's current head for the bill is the one the pledge extends: nothing happened since.
    pub fresh: bool,
    /// What the node says moved the bill since the offer, and when it said so.
    pub freshness: ebl_core::api::OfferFreshness,
    /// When the ledger stops accepting the pledge.
    pub valid_until_ms: Option<u64>,
    /// The offer's validity has passed: the ledger will refuse it.
    pub expired: bool,
}

/// The wall clock in Unix milliseconds: the wallet's one reading of it.
pub fn now_ms() -> u64 {
    ebl_core::time::unix_ms(std::time::SystemTime::now())
}

/// The fewest leading hex digits of a bill id accepted as a name for it.
pub const BILL_ID_PREFIX_MIN: usize = 8;
/// How often an export reads the statement again when the registry moved between it and the
/// registry's extract (chain format 8): a registry change is rare, so a few tries are plenty.
const REGISTRY_MOVED_RETRIES: usize = 3;

/// How long a pledge offer may be valid: 1 to `PLEDGE_OFFER_VALID_HOURS_MAX` hours.
pub fn check_validity(hours: u64) -> Result<()> {
    if hours == 0 || hours > PLEDGE_OFFER_VALID_HOURS_MAX {
        return Err(crate::error::WalletRule::BadValidity {
            hours,
            max: PLEDGE_OFFER_VALID_HOURS_MAX,
        }
        .into());
    }
    Ok(())
}

/// "1234.56" in a currency with two minor digits, as minor units (123456).
pub fn parse_amount(text: &str) -> Result<u64> {
    let bad = || {
        CliError::from(Refusal::MalformedAmount {
            text: text.to_owned(),
        })
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let fraction: u64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(bad)
}

impl Wallet {
    /// A wallet at `home` talking to `node`, asking passphrases as `passphrase` says.
    pub fn new(home: &Path, node: &str, passphrase: Passphrase) -> Wallet {
        Wallet {
            home: home.to_owned(),
            keys: Keystore::new(home),
            node: NodeClient::pinned(node, home),
            passphrase,
        }
    }

    /// The passphrase of `what`, given or asked on the terminal.
    pub fn passphrase(&self, what: &str) -> Result<String> {
        match &self.passphrase {
            Passphrase::Given(p) => Ok(p.clone()),
            Passphrase::Prompt => rpassword::prompt_password(format!("passphrase for {what}: "))
                .map_err(|e| {
                    CliError::from(Refusal::NoPassphrase {
                        source: crate::error::source(e),
                    })
                    .with_hint("set EBL_PASSPHRASE when running without a terminal")
                }),
        }
    }

    /// Makes a key named `name`, stored encrypted.
    pub fn new_key(&self, name: &str) -> Result<PartyKey> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| CliError::io("no randomness from the OS", e.to_string()))?;
        self.import_key(name, &SigningKey::from_bytes(&seed))
    }

    /// Keeps `key` under `name`, encrypted.
    pub fn import_key(&self, name: &str, key: &SigningKey) -> Result<PartyKey> {
        // Refused before a passphrase is asked for (the keystore refuses it again as it saves).
        self.keys.check_free(name)?;
        let passphrase = self.passphrase(&format!("new key {name:?}"))?;
        if passphrase.chars().count() < PASSPHRASE_CHARS_MIN {
            return Err(crate::error::WalletRule::WeakPassphrase {
                min: PASSPHRASE_CHARS_MIN,
            }
            .into());
        }
        self.keys.save(name, key, &passphrase)
    }

    /// The key `name` as an encrypted backup (`ebl key export`); its passphrase is asked to prove the
    /// backup opens.
    pub fn export_key(&self, name: &str) -> Result<Vec<u8>> {
        self.keys.public(name)?;
        let passphrase = self.passphrase(&format!("key {name:?}"))?;
        self.keys.backup(name, &passphrase)
    }

    /// Imports a backup written by [`Wallet::export_key`] under `name`, kept under the passphrase it
    /// was backed up with.
    pub fn import_backup(&self, name: &str, backup: &[u8]) -> Result<PartyKey> {
        // Refused before a passphrase is asked for (the keystore refuses it again as it saves).
        self.keys.check_free(name)?;
        let passphrase = self.passphrase("the key backup")?;
        let (_, key) = crate::keystore::restore(backup, &passphrase)?;
        self.keys.save(name, &key, &passphrase)
    }

    /// The private key named `name`, unlocked. The first key unlocked also signs listing reads.
    pub fn signer(&self, name: &str) -> Result<SigningKey> {
        self.keys.public(name)?;
        let passphrase = self.passphrase(&format!("key {name:?}"))?;
        let key = self.keys.unlock(name, &passphrase)?;
        self.node.set_reader(&key);
        Ok(key)
    }

    /// Makes sure a key signs listing reads: `name` if given, else the wallet's only key.
    pub fn reader(&self, name: Option<&str>) -> Result<()> {
        if let Some(name) = name {
            return self.signer(name).map(|_| ());
        }
        if self.node.has_reader() {
            return Ok(());
        }
        match self.keys.names()?.as_slice() {
            [only] => self.signer(only).map(|_| ()),
            _ => Err(crate::error::WalletRule::NoReader.into()),
        }
    }

    /// A party by registered name, party id, public key, or the name of a key in this wallet.
    pub fn party(&self, who: &str) -> Result<Party> {
        match self.node.party(who) {
            Err(e)
                if matches!(e.request_refusal(), Some(RequestRefusal::UnknownParty(_)))
                    && self.keys.exists(who) =>
            {
                let key = self.keys.public(who)?;
                self.node.party(&key.to_hex())
            }
            other => other,
        }
    }

    /// A bill named as a user names it: its id (64 hex digits), a unique prefix of it (at least
    /// `BILL_ID_PREFIX_MIN` digits), or its transport document reference (with the carrier code,
    /// `SMDG:MSC/REF`, where two carriers used the same one), among the bills the reader has a part in.
    pub fn bill_id(&self, text: &str) -> Result<BillId> {
        if let Ok(id) = text.parse::<Hash>() {
            return Ok(id);
        }
        let bills = self.node.visible_bills()?;
        let hex = text.len() >= BILL_ID_PREFIX_MIN && text.bytes().all(|b| b.is_ascii_hexdigit());
        let lower = text.to_ascii_lowercase();
        let (code, reference) = match text.rsplit_once('/') {
            Some((code, reference)) => (Some(code.to_ascii_uppercase()), reference),
            None => (None, text),
        };
        let matches: Vec<&ebl_core::Bill> = bills
            .iter()
            .filter(|b| {
                (hex && b.id.to_hex().starts_with(&lower))
                    || (b.reference == reference
                        && code
                            .as_ref()
                            .is_none_or(|c| b.carrier_code.eq_ignore_ascii_case(c)))
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.id),
            [] => Err(crate::error::WalletRule::UnknownBill {
                name: text.to_owned(),
            }
            .into()),
            several => Err(crate::error::WalletRule::AmbiguousBill {
                name: text.to_owned(),
                candidates: several
                    .iter()
                    .map(|b| format!("{}/{} ({})", b.carrier_code, b.reference, b.id.short()))
                    .collect(),
            }
            .into()),
        }
    }

    fn chain(&self) -> Result<Hash> {
        Ok(self.node.genesis()?.chain)
    }

    /// An auditor's grant for its node (`node`, served at `peer_address`) to follow the consortium, on
    /// the chain this wallet pinned. Refused here already unless `auditor` signs for an active party
    /// with the auditor role (the member nodes check it again, and for as long as the node follows).
    pub fn grant_follow(
        &self,
        auditor: &SigningKey,
        node: PartyKey,
        peer_address: &str,
    ) -> Result<ebl_core::FollowGrant> {
        let party = self.party(&PartyKey::of(auditor).to_hex())?;
        if !party.has_role(ebl_core::Role::Auditor) {
            let e = ebl_core::Error::MissingRole {
                party: party.id,
                role: ebl_core::Role::Auditor,
            };
            return Err(
                crate::error::CliError::core(crate::error::Kind::Usage, e).with_hint(
                    "sign with the key of a party governance admitted with --role auditor",
                ),
            );
        }
        Ok(ebl_core::FollowGrant::sign(
            self.chain()?,
            auditor,
            node,
            peer_address,
            now_ms(),
        )?)
    }

    /// Signs `action` as `signer` against the bill's current head (read as `signer`) and submits it.
    pub fn act(&self, signer: &SigningKey, action: Action) -> Result<SubmitOutcome> {
        let tx = self.prepare(signer, action)?;
        self.node.submit(&tx).map_err(|e| self.named(e))
    }

    /// A ledger refusal names parties by their 64-hex ids; people know them by name (issue 14: a
    /// missing_role named the bank by its key). Each id of a registered party becomes `"Name" (id…)`.
    pub fn named(&self, mut e: CliError) -> CliError {
        let Cause::Remote(Remote::Rejected { message, .. }) = &mut *e.cause else {
            return e;
        };
        if let Ok(parties) = self.node.parties() {
            for p in &parties {
                let id = p.id.to_hex();
                if message.contains(&id) {
                    *message = message.replace(&id, &format!("{:?} ({}…)", p.name(), &id[..12]));
                }
            }
        }
        e
    }

    /// A transaction signed by `signer` against the current head of its bill or of the registry.
    pub fn prepare(&self, signer: &SigningKey, action: Action) -> Result<SignedTransaction> {
        self.prepare_until(signer, action, None)
    }

    /// [`Wallet::prepare`] for a transaction the ledger must refuse after `valid_until_ms` (an offer).
    pub fn prepare_until(
        &self,
        signer: &SigningKey,
        action: Action,
        valid_until_ms: Option<u64>,
    ) -> Result<SignedTransaction> {
        let chain = self.chain()?;
        let prev = match (&action, action.bill()) {
            (Action::Issue { .. }, _) => Hash::ZERO,
            (_, Some(bill)) => match self.node.bill(&bill, signer) {
                Ok(view) => view.bill.head,
                // Whoever may not even read the bill has no part in it to act on: say that, about the
                // action, rather than a refusal to read (issue 14).
                Err(e) if e.read_rule() == Some(ReadRule::Forbidden) => {
                    return Err(crate::error::WalletRule::NoPartInBill {
                        bill: bill.to_hex(),
                        action: action.code(),
                    }
                    .into())
                }
                Err(e) => return Err(e),
            },
            (_, None) => self.registry_head()?,
        };
        Ok(Transaction {
            chain,
            prev,
            time_ms: now_ms(),
            valid_until_ms,
            action,
        }
        .signed_by(&[signer]))
    }

    fn registry_head(&self) -> Result<Hash> {
        let history = self.node.registry_history()?;
        Ok(history.last().map_or(self.chain()?, |e| e.receipt.tx))
    }

    /// The names of the member nodes that vouched for `statement`, checked against the registry at
    /// its height. From chain format 8 that is the node's extract: the consortium's changes, replayed
    /// from the pinned genesis with every admin signature checked, and proven under the root the
    /// signatures cover, so a statement is checked without reading every party; before it, or from a
    /// node of a release before it, the whole registry history.
    pub fn statement_signers(
        &self,
        statement: &ebl_core::CertifiedStatement,
    ) -> Result<Vec<String>> {
        let height = statement.statement.height;
        let invalid = |e: ebl_core::Error| {
            CliError::core_in(
                Kind::Verification,
                e,
                "the node's statement does not verify",
            )
        };
        let none = std::collections::BTreeSet::new();
        let extract = match self.node.registry_extract(
            height,
            &none,
            &Default::default(),
            &Default::default(),
        ) {
            Ok(extract) if extract.format >= ebl_core::format::FORMAT_REGISTRY_COMMITTED => extract,
            _ => return statement.check(&self.registry_at(height)?).map_err(invalid),
        };
        let genesis = self.node.genesis()?.genesis.clone();
        let registry = crate::gov::replayed(
            ebl_core::Ledger::for_registry_extract(genesis),
            extract.history,
            height,
        )?;
        let proofs = &extract.proofs;
        proofs.consortium.verify(&proofs.root).map_err(invalid)?;
        if proofs.consortium.consortium != registry.consortium() {
            return Err(invalid(ebl_core::Error::ConsortiumHistoryMismatch));
        }
        let binding =
            ebl_core::StatementBinding::of(registry.formats().at(height), proofs.head, || {
                proofs.root
            });
        statement.check_bound(&registry, binding).map_err(invalid)
    }

    /// A self-contained proof bundle of `bill`, read as `reader`.
    pub fn export(&self, bill: &BillId, reader: &SigningKey) -> Result<Bundle> {
        self.export_naming(bill, reader, &[])
    }

    /// [`Wallet::export`], with the registry entries of `also` too (from chain format 8 a bundle
    /// carries only the parties its bill relies on): a pledge offer's bundle carries the bank's, which
    /// the bank's review checks the pledge against.
    pub fn export_naming(
        &self,
        bill: &BillId,
        reader: &SigningKey,
        also: &[PartyId],
    ) -> Result<Bundle> {
        self.node.set_reader(reader);
        let genesis = self.node.genesis()?.genesis.clone();
        let view = self.node.bill(bill, reader)?;
        // The bill's lineage both ways: the void bills it replaces (a combine names several, each of
        // which may replace others), and every replacement of a void bill among them (siblings of a
        // split included: they changed the void bill's state too).
        let mut lineage = vec![*bill];
        let mut views = vec![view.bill.clone()];
        let mut next = 0;
        while let Some(current) = views.get(next).cloned() {
            next += 1;
            for old in &current.replaces {
                if !lineage.contains(old) {
                    lineage.push(*old);
                    views.push(self.node.bill(old, reader)?.bill);
                }
            }
        }
        let mut transactions: Vec<HistoryEntry> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for id in &lineage {
            for entry in self.node.history(id, reader)? {
                if seen.insert(entry.receipt.tx) {
                    transactions.push(entry);
                }
            }
        }
        for state in &views {
            if let ebl_core::Status::Void { replaced_by, .. } = &state.status {
                for new in replaced_by {
                    if seen.contains(new) {
                        continue;
                    }
                    // A sibling of a split is another party's bill: without it the void bill's
                    // history still verifies, only its list of replacements is shorter.
                    match self.node.transaction(new, reader) {
                        Ok(issue) => {
                            seen.insert(issue.receipt.tx);
                            transactions.push(issue);
                        }
                        Err(e)
                            if e.read_rule() == Some(ReadRule::Forbidden)
                                || matches!(
                                    e.request_refusal(),
                                    Some(RequestRefusal::UnknownTransaction(_))
                                ) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        // Ledger order: a bundle lists its entries as the ledger ordered them.
        transactions.sort_by_key(|e| (e.receipt.height, e.receipt.index));
        // The registry as of the statement, read after it: from chain format 7 the statement's
        // signatures are bound to the registry at its height, which the bundle must replay exactly;
        // from format 8 to its root, so the bundle carries only the entries the bill relies on. A
        // registry that moved between the two reads is read again with a new statement.
        let mut attempts = 0;
        let (statement, registry, registry_proofs) = loop {
            let statement = self.node.status(bill, reader)?;
            match self.registry_for(statement.statement.height, &transactions, also) {
                Ok((registry, proofs)) => break (statement, registry, proofs),
                Err(e)
                    if matches!(e.request_refusal(), Some(RequestRefusal::RegistryMoved(_)))
                        && attempts < REGISTRY_MOVED_RETRIES =>
                {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        };
        let mut heights: Vec<u64> = registry
            .iter()
            .chain(&transactions)
            .map(|e| e.receipt.height)
            .collect();
        heights.sort_unstable();
        heights.dedup();
        let blocks = heights
            .into_iter()
            .map(|h| self.node.block(h).map(|b| b.certificate))
            .collect::<Result<Vec<_>>>()?;
        let document = Document::from_value(&view.document)?;
        Ok(Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            genesis,
            bill: *bill,
            document,
            registry,
            transactions,
            blocks,
            statement,
            registry_proofs,
        })
    }

    /// The registry entries a bundle at `height` carries for `transactions`: from chain format 8 the
    /// node's extract (the parties they name and whose keys signed them, and the consortium, proven);
    /// before it, or from a node of a release before it, the whole registry.
    fn registry_for(
        &self,
        height: u64,
        transactions: &[HistoryEntry],
        also: &[PartyId],
    ) -> Result<(Vec<HistoryEntry>, Option<ebl_core::bundle::RegistryProofs>)> {
        let mut parties: std::collections::BTreeSet<PartyId> = also.iter().copied().collect();
        let mut keys = std::collections::BTreeSet::new();
        let mut blocks = std::collections::BTreeSet::new();
        for entry in transactions {
            parties.extend(entry.transaction.body.action.parties_named());
            keys.extend(entry.transaction.signatures.iter().map(|s| s.signer));
            blocks.insert(entry.receipt.height);
        }
        match self.node.registry_extract(height, &parties, &keys, &blocks) {
            Ok(extract) if extract.format >= ebl_core::format::FORMAT_REGISTRY_COMMITTED => {
                return Ok((extract.history, Some(extract.proofs)))
            }
            Ok(_) => {}
            Err(e) if matches!(e.request_refusal(), Some(RequestRefusal::RegistryMoved(_))) => {
                return Err(e)
            }
            // A node of a release before format 8 has no extract: the whole registry verifies too.
            Err(_) => {}
        }
        Ok((
            self.node
                .registry_history()?
                .into_iter()
                .filter(|e| e.receipt.height <= height)
                .collect(),
            None,
        ))
    }

    /// The holder's half of a pledge: signed by the holder, with the bundle the bank will check.
    /// Refuses at once, with the ledger's own rule, an offer the ledger would refuse even with the
    /// bank's signature (not the possessor, no title, already pledged, ...).
    pub fn offer_pledge(
        &self,
        holder: &SigningKey,
        bill: BillId,
        bank: &str,
        loan: ebl_core::Loan,
        valid_hours: u64,
    ) -> Result<PledgeOffer> {
        check_validity(valid_hours)?;
        if !crate::currency::is_iso_4217(&loan.currency) {
            return Err(crate::error::WalletRule::UnknownCurrency {
                code: loan.currency,
            }
            .into());
        }
        let pledgee = self.party(bank)?.id;
        let action = Action::Pledge {
            bill,
            pledgee,
            loan,
        };
        let valid_until = now_ms().saturating_add(valid_hours.saturating_mul(3_600_000));
        let transaction = self.prepare_until(holder, action.clone(), Some(valid_until))?;
        let bundle = self.export_naming(&bill, holder, &[pledgee])?;
        let verdict = bundle.verify().map_err(|f| {
            CliError::core_in(
                Kind::Verification,
                f.error,
                format!("the bill's own proof fails at {}", f.place),
            )
        })?;
        let registry = bundle.registry();
        let holder_id = registry.signer(&PartyKey::of(holder))?;
        ebl_core::bill::transition(&verdict.bill, &action, &[holder_id, pledgee], &registry)
            .map_err(|e| self.named(CliError::rejected(&ebl_core::api::ErrorBody::from(&e))))?;
        Ok(PledgeOffer {
            format: PLEDGE_OFFER_FORMAT.to_owned(),
            transaction,
            bundle,
        })
    }

    /// The bank's review: the whole chain verified offline from the offer's bundle, the pledge checked
    /// against it, and the node asked whether the bill moved since.
    pub fn review_pledge(&self, offer: &PledgeOffer, bank: &SigningKey) -> Result<PledgeReview> {
        check_file_format(&ebl_core::format::PLEDGE_OFFER, &offer.format, || {
            CliError::from(Refusal::OfferFormat {
                format: offer.format.clone(),
            })
        })?;
        // The offer must come from a chain this wallet trusts, and the one its node serves.
        let chain = offer.bundle.genesis.chain_id();
        crate::pins::Pins::load(&self.home)?.check(&chain, Some(&self.node.genesis()?.chain))?;
        let verdict = offer.bundle.verify().map_err(|f| {
            CliError::core_in(
                Kind::Verification,
                f.error,
                format!("the offer's proof bundle fails at {}", f.place),
            )
        })?;
        let tx = &offer.transaction;
        let Action::Pledge {
            bill,
            pledgee,
            loan,
        } = &tx.body.action
        else {
            return Err(Refusal::OfferNotAPledge {
                action: tx.body.action.code().to_string(),
            }
            .into());
        };
        if *bill != offer.bundle.bill
            || tx.body.chain != verdict.chain
            || tx.body.prev != verdict.bill.head
        {
            return Err(Refusal::OfferMismatch.into());
        }
        tx.verify_signatures()
            .map_err(|e| CliError::core_in(Kind::Verification, e, "the holder's signature"))?;
        let me = PartyId::from(PartyKey::of(bank));
        // The offer checks out but the ledger's rules refuse it: exit 3 as the node would, not a
        // verification failure (issue 14).
        let refused = |e: ebl_core::Error, why: &str| CliError::core_in(Kind::Rejected, e, why);
        if *pledgee != me {
            return Err(refused(
                ebl_core::Error::NotPledgee,
                "the pledge names another bank as pledgee",
            )
            .with_hint("only the bank the holder named can accept this offer"));
        }
        // The ledger's own rules, as the node will apply them once the bank has co-signed.
        let pledgor = verdict.bill.possessor;
        ebl_core::bill::transition(
            &verdict.bill,
            &tx.body.action,
            &[pledgor, me],
            &offer.bundle.registry(),
        )
        .map_err(|e| refused(e, "the ledger would refuse this pledge"))?;
        // The bank is no party of the bill yet and may not read it; the holder's signed pledge naming
        // it lets the node tell it what moved since.
        let freshness = self.node.offer_freshness(tx, bank)?;
        let valid_until_ms = tx.body.valid_until_ms;
        Ok(PledgeReview {
            verdict,
            pledgor,
            pledgee: *pledgee,
            loan: loan.clone(),
            fresh: freshness.fresh,
            expired: valid_until_ms.is_some_and(|t| t < freshness.checked_at_ms),
            freshness,
            valid_until_ms,
        })
    }

    /// The bank co-signs a reviewed offer and submits it.
    pub fn accept_pledge(
        &self,
        offer: &PledgeOffer,
        bank: &SigningKey,
    ) -> Result<(PledgeReview, SubmitOutcome)> {
        let review = self.review_pledge(offer, bank)?;
        if review.expired {
            let e = ebl_core::Error::Expired {
                valid_until_ms: review.valid_until_ms.unwrap_or(0),
                block_time_ms: review.freshness.checked_at_ms,
            };
            return Err(
                CliError::core(Kind::Rejected, e).with_hint("ask the holder for a new offer")
            );
        }
        if !review.fresh {
            return Err(
                CliError::from(Refusal::StaleOffer).with_hint("ask the holder for a new offer")
            );
        }
        let mut tx = offer.transaction.clone();
        tx.cosign(bank);
        let outcome = self.node.submit(&tx)?;
        Ok((review, outcome))
    }

    /// A bill's history, read with `reader`.
    pub fn history(&self, bill: &BillId, reader: &SigningKey) -> Result<Vec<HistoryEntry>> {
        self.node.history(bill, reader)
    }
}

/// Reads a JSON file, with a clear error naming it.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str, max: usize) -> Result<T> {
    let bytes = read_file(path, what, max)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        CliError::from(Refusal::MalformedJson {
            file: path.display().to_string(),
            what: what.to_owned(),
            source: crate::error::source(e),
        })
    })
}

/// Checks the format a file names: one this release reads passes; an older or newer one is refused as
/// such (`format_too_old`, `format_too_new`: another release reads it, nothing is wrong with it); a
/// name of another kind of file altogether is `otherwise`, the reader's own refusal.
pub fn check_file_format(
    format: &ebl_core::format::FileFormat,
    name: &str,
    otherwise: impl FnOnce() -> CliError,
) -> Result<()> {
    match format.check(name) {
        Ok(_) => Ok(()),
        Err(ebl_core::Error::MalformedEncoding { .. }) => Err(otherwise()),
        Err(e) => Err(e.into()),
    }
}

/// Reads `path`, refusing a file larger than `max` bytes (`what` names it in errors).
pub fn read_file(path: &Path, what: &str, max: usize) -> Result<Vec<u8>> {
    let unreadable = |e: std::io::Error| {
        CliError::from(Refusal::UnreadableFile {
            what: what.to_owned(),
            file: path.display().to_string(),
            source: crate::error::source(e),
        })
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.len() > max as u64 {
        return Err(CliError::from(Refusal::FileTooLarge {
            file: format!("{} ({} bytes)", path.display(), meta.len()),
            what: what.to_owned(),
            max,
        }));
    }
    std::fs::read(path).map_err(unreadable)
}

/// Reads standard input (`-` for a file name), at most `max` bytes.
pub fn read_stdin(what: &str, max: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            CliError::from(Refusal::UnreadableFile {
                what: what.to_owned(),
                file: "from standard input".into(),
                source: crate::error::source(e),
            })
        })?;
    if bytes.len() > max {
        return Err(CliError::from(Refusal::FileTooLarge {
            file: "standard input".into(),
            what: what.to_owned(),
            max,
        }));
    }
    Ok(bytes)
}

/// Writes a file whole or not at all (a temporary file renamed into place).
pub fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    // A temporary file of its own beside the target, renamed over it: two writers of one file (the
    // carrier connector's request handler and its worker both pin the node's chain on first contact)
    // each replace it whole. With one fixed temporary name they tore each other's writes, and a rename
    // found its temporary gone (a 500 to the carrier's system, seen once in CI).
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let failed = |e: std::io::Error| CliError::io(&format!("writing {}", path.display()), e);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
    std::io::Write::write_all(&mut tmp, contents).map_err(failed)?;
    tmp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two writers of one wallet file (the carrier connector's handler and worker pinning a chain at
    /// once) shared one temporary name: one's rename found the other's temporary gone, or moved a
    /// half-written one into place. Every write now succeeds and every read sees a whole file.
    #[test]
    fn regression_concurrent_writes_of_one_wallet_file_never_tear() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("pins.json");
        let contents: Vec<Vec<u8>> = (0..4u8).map(|i| vec![b'a' + i; 64 * 1024]).collect();
        write_file(&path, &contents[0]).expect("first write");
        std::thread::scope(|scope| {
            for content in &contents {
                let path = &path;
                scope.spawn(move || {
                    for _ in 0..50 {
                        write_file(path, content).expect("a write never fails for another's");
                    }
                });
            }
            for _ in 0..200 {
                let read = std::fs::read(&path).expect("the file is always there");
                assert!(
                    contents.contains(&read),
                    "a torn file of {} bytes",
                    read.len()
                );
            }
        });
    }

    /// Every file the wallet writes names the version its reader checks through `ebl_core::format`.
    #[test]
    fn the_files_the_wallet_writes_name_the_formats_it_reads() {
        use ebl_core::format;
        assert_eq!(PLEDGE_OFFER_FORMAT, format::PLEDGE_OFFER.current());
        assert_eq!(crate::gov::PROPOSAL_FORMAT, format::PROPOSAL.current());
        assert_eq!(crate::keystore::FORMAT, format::KEYSTORE.current());
        let newer = format!(
            "{}/{}",
            format::PLEDGE_OFFER.prefix,
            format::PLEDGE_OFFER.newest + 1
        );
        let refused = check_file_format(&format::PLEDGE_OFFER, &newer, || unreachable!());
        assert_eq!(
            refused.map_err(|e| e.code().into_owned()),
            Err("format_too_new".to_owned())
        );
        let other = check_file_format(&format::PLEDGE_OFFER, "ebl-bundle/2", || {
            CliError::from(Refusal::OfferFormat {
                format: "ebl-offer/0".into(),
            })
        });
        assert_eq!(
            other.map_err(|e| e.code().into_owned()),
            Err("bad_offer".to_owned())
        );
    }

    #[test]
    fn an_offers_validity_is_bounded() {
        assert!(check_validity(1).is_ok());
        assert!(check_validity(PLEDGE_OFFER_VALID_HOURS_MAX).is_ok());
        for bad in [0, PLEDGE_OFFER_VALID_HOURS_MAX + 1] {
            assert_eq!(
                check_validity(bad).map_err(|e| e.code().into_owned()),
                Err("bad_validity".to_owned())
            );
        }
    }
}
