//! Every stable error code the ledger, the node and the wallet show, with what it means and what to do,
//! in English and Simplified Chinese side by side: one catalogue, so that a Chinese reader gets Chinese
//! for every refusal and none can lack it (`tests/flows/docs.rs` fails on a code of the code base that is
//! missing here; `docs/guide/errors.md` is written from it). The error's own message, with its figures
//! and names, still follows in the ledger's words.

use crate::lang::Lang;

macro_rules! codes {
    ($($code:literal => $en:literal, $zh:literal;)*) => {
        /// Every code: (code, English, Chinese), in the catalogue's order.
        pub const ALL: &[(&str, &str, &str)] = &[$(($code, $en, $zh),)*];

        /// What `code` means and what to do, in `lang`; `None` for a code this catalogue lacks.
        pub fn explain(code: &str, lang: Lang) -> Option<&'static str> {
            match (code, lang) {
                $(($code, Lang::En) => Some($en), ($code, Lang::Zh) => Some($zh),)*
                _ => None,
            }
        }
    };
}

codes! {
    // Bytes and formats.
    "encoding_too_large" => "The data is larger than the ledger reads. Check the file; a genuine one is never this large.", "数据超出账本可读取的大小。请检查文件；真实文件不会这么大。";
    "trailing_bytes" => "Extra bytes follow the data, so it has more than one reading. The file was altered; get it again from its source.", "数据之后还有多余字节，可作多种解读。文件已被改动，请从来源重新获取。";
    "malformed_encoding" => "The bytes do not decode as what they claim to be. The file is damaged or altered; get it again.", "字节无法按其声称的格式解码。文件已损坏或被改动，请重新获取。";
    "format_too_old" => "Written in a format from before this release's promise (format 4). Not corrupt and not forged: read it with the release the message names.", "以本版本承诺之前的格式（格式 4 以前）写成。并非损坏或伪造：请用提示中所列的版本读取。";
    "format_too_new" => "Written by a later release in a format this one does not know. Not corrupt and not forged: upgrade, nothing is rewritten.", "由更新版本以本版本不认识的格式写成。并非损坏或伪造：请升级，数据不会被改写。";
    "format_not_next" => "A format change must name the next chain format, neither skipping one nor going back. Propose the next format.", "格式变更必须指定下一个链格式，不能跳过也不能倒退。请提议下一个格式。";
    "format_height_past" => "A format change must start at a block after the one it is in. Choose a later height.", "格式变更必须从其所在区块之后的区块开始生效。请选择更晚的高度。";
    "format_unknown" => "A format change to a chain format this release cannot write or read. Upgrade every node first.", "变更到本版本无法读写的链格式。请先升级所有节点。";
    "proposal_too_large" => "A block proposal with more transactions than a block may hold. A node sent it; report it to its operator.", "区块提议包含的交易超过一个区块的上限。这是某个节点发出的，请告知其运营方。";
    "malformed_hex" => "An id or key is not the right number of hexadecimal digits. Copy it again in full.", "标识或密钥的十六进制位数不对。请完整重新复制。";
    "invalid_key" => "The bytes are not an Ed25519 public key. Copy the key again as `ebl key show` prints it.", "这些字节不是 Ed25519 公钥。请按 ebl key show 的输出重新复制密钥。";
    "weak_key" => "A weak (small-order) Ed25519 key, which would accept forged signatures; refused. Make a new key.", "弱（小阶）Ed25519 密钥，会接受伪造签名，已拒绝。请生成新密钥。";
    "bad_signature" => "A signature does not match what was signed: the data was changed after signing, or someone else signed it. Do not rely on it; get it again from its source.", "签名与所签内容不符：数据在签名后被改动，或由他人签名。请勿采信，并从来源重新获取。";
    "too_many_signatures" => "A transaction with more signatures than allowed. It was not made by this wallet; do not submit it.", "交易所带签名超过上限。它并非由本钱包生成，请勿提交。";
    "duplicate_json_key" => "A JSON object names one field twice, which readers would read differently. Remove the duplicate.", "JSON 对象中同一字段出现两次，不同读取方会有不同解读。请删除重复字段。";
    "inexact_number" => "A number in the document cannot be kept exactly. Write it with fewer digits.", "单据中的某个数字无法精确保存。请减少其位数。";
    // Transport documents.
    "document_too_large" => "The transport document is larger than the ledger takes. Remove attachments from the JSON.", "运输单据超出账本可接收的大小。请从 JSON 中移除附件内容。";
    "document_too_deep" => "The transport document is nested deeper than allowed. Check its structure against DCSA's schema.", "运输单据嵌套层级超过上限。请按 DCSA 规范检查其结构。";
    "document_not_object" => "The transport document is not a JSON object. Give DCSA's TransportDocument JSON.", "运输单据不是 JSON 对象。请提供 DCSA 的 TransportDocument JSON。";
    "non_canonical_document" => "The document is not in the canonical form (RFC 8785) its checksum is taken over. Let the wallet read it from the file.", "单据不是计算校验和所用的规范形式（RFC 8785）。请让钱包从文件读取。";
    "wrong_field_type" => "A DCSA field has the wrong JSON type. Correct it as DCSA's schema says.", "某个 DCSA 字段的 JSON 类型错误。请按 DCSA 规范更正。";
    "field_too_long" => "A field is longer than its limit. Shorten it.", "某个字段超过长度上限。请缩短。";
    "empty_field" => "A field that must have a value is empty. Fill it in.", "某个必填字段为空。请填写。";
    "unknown_document_type" => "The document type is neither BOL (bill of lading) nor SWB (sea waybill). Use one of them.", "单据类型既不是 BOL（提单）也不是 SWB（海运单）。请使用其中之一。";
    "sea_waybill_to_order" => "A sea waybill cannot be to order. Issue a bill of lading, or make it straight.", "海运单不能为指示式。请签发提单，或改为记名。";
    "straight_without_consignee" => "A straight bill must name its consignee. Add the consignee party.", "记名提单必须写明收货人。请添加收货人。";
    "invalid_currency" => "A currency is three capital letters (ISO 4217). Correct it.", "币种应为三个大写字母（ISO 4217）。请更正。";
    "zero_amount" => "A pledge must secure an amount above zero. Give the loan's amount.", "质押担保的金额必须大于零。请填写贷款金额。";
    // The registry.
    "no_roles" => "A party needs at least one role (carrier, trader, bank). Give it one.", "参与方至少需要一个角色（承运人、贸易商、银行）。请指定。";
    "unknown_role" => "A role the ledger does not know. Use carrier, trader or bank.", "账本不认识该角色。请使用 carrier、trader 或 bank。";
    "too_many_identifiers" => "A party with more identifiers than allowed. Keep the ones it trades under.", "参与方的标识超过上限。请保留其交易所用的标识。";
    "wrong_chain" => "The transaction was signed for another ledger. Sign it again against this one.", "该交易是为另一个账本签名的。请针对本账本重新签名。";
    "stale_head" => "The bill moved since this was signed (someone acted first). Look at the bill again and act on what it is now.", "签名之后提单已有变动（他人先行操作）。请重新查看提单，按其当前状态操作。";
    "missing_signature" => "A party whose signature the action needs has not signed. Have it sign (for a pledge, the bank co-signs the offer).", "该操作所需的一方尚未签名。请让其签名（质押须由银行会签要约）。";
    "unexpected_signer" => "Someone with no part in the action signed it. Sign with the key of the party that acts.", "与该操作无关的一方签了名。请用实际操作方的密钥签名。";
    "duplicate_signer" => "One party signed twice. One signature each is enough.", "同一方签名两次。每方签一次即可。";
    "rotated_key" => "This key was rotated out by its party. Sign with its current key.", "该密钥已被其所属方轮换停用。请用当前密钥签名。";
    "revoked_key" => "The key belongs to a party that governance revoked. Ask the consortium's admins.", "该密钥所属方已被治理撤销。请联系联盟管理员。";
    "revoked_party" => "That party was revoked by governance and can take no part. Ask the consortium's admins.", "该参与方已被治理撤销，不能参与任何操作。请联系联盟管理员。";
    "missing_role" => "The party lacks the role this action needs (only a carrier issues, a bank takes pledges). Ask the admins for the role.", "该参与方缺少此操作所需的角色（只有承运人可签发、银行可接受质押）。请向管理员申请。";
    "governance_quorum" => "A governance change needs more admins' signatures (the threshold). Collect them with `ebl gov sign`.", "治理变更所需的管理员签名不足（未达门限）。请用 ebl gov sign 收集签名。";
    "member_keys_shared" => "Two members share a key; every member's keys must be its own. Make new keys.", "两个成员共用同一密钥；每个成员的密钥必须各自独有。请生成新密钥。";
    "member_count" => "A consortium has at least one member and at most the limit. Change the member list.", "联盟至少一个成员且不超过上限。请修改成员名单。";
    "invalid_threshold" => "The governance threshold must be between 1 and the number of members. Choose another.", "治理门限必须在 1 与成员数之间。请重新选择。";
    "invalid_platform_code" => "A PINT platform code is 1 to 4 characters without spaces. Use the code DCSA gave you.", "PINT 平台代码为 1 至 4 个字符且不含空格。请使用 DCSA 分配的代码。";
    "unknown_member" => "An admin key no member holds. Sign with a member's admin key.", "该管理员密钥不属于任何成员。请用成员的管理员密钥签名。";
    "member_key_in_use" => "A member's admin or node key cannot be a party's key: members govern, parties act. Make the party its own key.", "成员的管理员或节点密钥不能用作参与方密钥：成员负责治理，参与方负责操作。请为参与方生成自己的密钥。";
    "identifier_taken" => "Another active party already holds this identifier (carrier code, LEI). Check who holds it.", "该标识（承运人代码、LEI）已被另一活跃参与方持有。请核实持有人。";
    "document_party_mismatch" => "The party named does not match the document's party for that role. Issue to the party the document names.", "所指参与方与单据中该角色的当事方不符。请签发给单据所列的当事方。";
    "expired" => "The signed transaction's validity ended before it was recorded (a pledge offer's hours ran out). Make a new one.", "已签名交易在记录前已过期（质押要约的有效时间已过）。请重新生成。";
    "malformed_replacement" => "A replacement must name the void bills it replaces, each once, within the limits. Correct the list.", "替换提单必须列明其所替换的作废提单，每张一次且不超上限。请更正清单。";
    "nothing_to_refuse" => "Only a transfer or endorsement just made can be refused. Nothing was just sent to you.", "只能拒收刚刚发生的转让或背书。目前没有刚发给您的提单。";
    "not_recipient" => "Only the party the bill was just sent to can refuse it.", "只有刚收到提单的一方可以拒收。";
    "paper_note_missing" => "A switch to paper is accepted with the paper bill's number and date. Give them.", "接受转为纸质提单时须提供纸质提单的编号和日期。请提供。";
    "not_switch_to_paper" => "A paper bill's note belongs only to a surrender to switch to paper. Leave it out.", "纸质提单信息只用于转为纸质提单的交单。请删除。";
    "party_exists" => "This party is registered already. Look it up with `ebl party list`.", "该参与方已登记。请用 ebl party list 查看。";
    "key_in_use" => "Another party already holds this key. Each party has its own key.", "该密钥已被另一参与方持有。每个参与方应有自己的密钥。";
    "name_taken" => "Another party already has this name. Choose a distinct name.", "该名称已被另一参与方使用。请另选名称。";
    // Bills.
    "not_carrier" => "Only the bill's issuing carrier may do this. Sign as the carrier.", "只有签发该提单的承运人可以执行此操作。请以承运人身份签名。";
    "not_node" => "Not signed by a member node's key. Do not rely on it.", "并非由成员节点的密钥签署。请勿采信。";
    "not_final" => "A block lacks the member nodes' signatures that make it final. Do not rely on the file; export it again once the block is final.", "某个区块缺少使其最终确认的成员节点签名。请勿采信该文件；待区块最终确认后重新导出。";
    "statement_uncertified" => "The statement of the bill now is vouched for by fewer member nodes than required. Ask again, from another node if one is down.", "提单当前状态声明的成员节点担保数不足。请重新请求；如有节点宕机，请改向其他节点请求。";
    "invalid_faults" => "A genesis that allows more lying nodes than its members can outvote. Lower the faults or add members.", "创世配置允许的作恶节点数超过成员可以压制的数量。请降低容错数或增加成员。";
    "envelope_too_large" => "A PINT envelope larger than an import may carry. The sending platform must send less.", "PINT 信封超出导入上限。请发送方平台减少内容。";
    "malformed_envelope" => "A PINT envelope that cannot be read. Ask the sending platform for a valid one.", "无法读取的 PINT 信封。请向发送方平台索取有效信封。";
    "import_title_mismatch" => "The title a bill arrived with does not fit its document or holder. Refuse it, or ask the sending platform.", "转入提单的提货权与其单据或持有人不符。请拒收或询问发送方平台。";
    "surrender_not_to_carrier" => "A surrender from another platform must be held by the bill's carrier here.", "来自其他平台的交单必须由本平台上该提单的承运人持有。";
    "carrier_code_mismatch" => "The document's carrier code is not the issuing carrier's. Issue it with the carrier the document names.", "单据中的承运人代码不是签发承运人的代码。请由单据所列承运人签发。";
    "duplicate_reference" => "The carrier has already issued a bill with this transport document reference. Give the document a new reference.", "该承运人已用此运输单据编号签发过提单。请为单据使用新编号。";
    "issue_to_not_named" => "A bill is issued to a party the document names (shipper, or a straight bill's consignee). Choose that party.", "提单须签发给单据所列当事方（托运人，或记名提单的收货人）。请选择该方。";
    "consignee_mismatch" => "The consignee does not fit the document's title (a to-order bill names none; a straight bill names one). Correct the document.", "收货人与单据的提货权类型不符（指示提单不列收货人，记名提单须列一个）。请更正单据。";
    "replaced_bill_not_void" => "Only a bill voided by an accepted surrender for amendment can be replaced.", "只有经接受的修改交单而作废的提单才能被替换。";
    "already_replaced" => "This void bill has been replaced already.", "该作废提单已被替换。";
    "not_possessor" => "Only the bill's possessor may do this. Check who holds it with `ebl bill show`.", "只有提单占有人可以执行此操作。请用 ebl bill show 查看持有人。";
    "no_title" => "You possess the bill but do not hold title to it (you are not its endorsee). Only the title holder may endorse, pledge or surrender.", "您占有提单但不享有其提货权（不是被背书人）。只有提货权人可以背书、质押或交单。";
    "not_negotiable" => "A straight bill cannot be endorsed or pledged. Only a to-order bill can.", "记名提单不能背书或质押。只有指示提单可以。";
    "endorsement_restricted" => "This endorsee may not endorse the bill on. Transfer possession instead, or ask the carrier.", "该被背书人无权继续背书。请改为转让占有，或询问承运人。";
    "already_possessor" => "That party already possesses the bill.", "该方已占有该提单。";
    "already_endorsee" => "That party already is the endorsee.", "该方已是被背书人。";
    "already_pledged" => "The bill is pledged already; a second pledge is impossible. The bank must release it first.", "该提单已质押，不能重复质押。须先由银行解除质押。";
    "pledged" => "The bill is pledged: only the bank that holds the pledge may move it until it releases it.", "该提单已质押：在银行解除质押前，只有质权银行可以处置。";
    "not_pledged" => "The bill is not pledged, so there is nothing to release or enforce.", "该提单未质押，无可解除或执行。";
    "not_pledgee" => "Only the bank that holds the pledge may release or enforce it.", "只有持有质押的银行可以解除或执行质押。";
    "self_pledge" => "A party cannot pledge a bill to itself.", "参与方不能向自己质押提单。";
    "surrender_pending" => "The bill is surrendered and awaits the carrier's answer; nothing else may happen until then.", "提单已交单，正等待承运人答复；在此之前不能进行其他操作。";
    "no_surrender_pending" => "Nobody has surrendered this bill, so there is nothing to accept or reject.", "无人对该提单交单，无可接受或拒绝。";
    "terminal" => "The bill's life here has ended (accomplished, void or switched to paper). Nothing more can happen to it.", "该提单在本账本上已终结（已完成、作废或转为纸质）。不能再进行任何操作。";
    "sending_out" => "The bill is being sent to another platform; wait for that platform's answer.", "该提单正在发送至其他平台；请等待对方平台答复。";
    "not_sending_out" => "An answer from another platform for a bill that is not being sent. Nothing to record.", "收到其他平台的答复，但该提单并未在发送中。无需记录。";
    "disputed" => "Another platform disputes this bill (a double spend): it is held until people resolve it.", "其他平台对该提单有异议（重复转让）：在人工解决前冻结。";
    "own_platform" => "A bill is sent only to another platform, not to this ledger's own.", "提单只能发送至其他平台，不能发给本账本自己的平台。";
    "too_many_party_codes" => "The receiving party is named by more codes than allowed. Give its main identifier.", "接收方的代码数量超过上限。请提供其主要标识。";
    "pint_record_too_large" => "A PINT record or answer larger than its limit. The other platform must answer with less.", "PINT 记录或答复超出上限。请对方平台精简答复。";
    // Verification of bundles and blocks.
    "foreign_transaction" => "The bundle holds a transaction of another bill. It was assembled from pieces; do not rely on it.", "证明包含有其他提单的交易，系拼凑而成；请勿采信。";
    "bill_not_in_chain" => "The bundle lacks the bill's issue. Export it again.", "证明包缺少该提单的签发记录。请重新导出。";
    "statement_mismatch" => "The statement of the bill now does not match its history. Do not rely on the file.", "提单当前状态声明与其历史不符。请勿采信该文件。";
    "bad_inclusion_proof" => "A transaction is not in the block it claims: the history was changed or assembled from pieces. Do not rely on it.", "某笔交易不在其声称的区块中：历史被改动或系拼凑。请勿采信。";
    "party_proof_mismatch" => "A party's registry entry in the bundle is not the one the ledger proves. Do not rely on the file.", "证明包中某参与方的登记条目与账本证明的不一致。请勿采信该文件。";
    "consortium_proof_mismatch" => "The consortium (members, threshold) in the bundle is not the one the ledger proves. Do not rely on the file.", "证明包中的联盟（成员、门限）与账本证明的不一致。请勿采信该文件。";
    "party_history_mismatch" => "A party's history in the bundle misses or adds an event (a key rotation, a recovery). Do not rely on the file.", "证明包中某参与方的历史缺少或多出事件（密钥轮换、恢复）。请勿采信该文件。";
    "consortium_history_mismatch" => "The consortium's history in the bundle misses or adds a change. Do not rely on the file.", "证明包中联盟的历史缺少或多出变更。请勿采信该文件。";
    "party_unproven" => "The bundle relies on a party it does not prove. Export it again.", "证明包依赖了其未证明的参与方。请重新导出。";
    "too_many_registry_proofs" => "The bundle carries more registry proofs than a bill could need. Do not rely on it.", "证明包所带的登记证明超过一张提单可能需要的数量。请勿采信。";
    "broken_block_link" => "A block does not link to the block before it: the chain was altered. Do not rely on it.", "某区块未链接到前一区块：链已被改动。请勿采信。";
    "chain_mismatch" => "The file is from another ledger than the one you trust. Check the chain id your consortium published.", "该文件来自您所信任账本以外的账本。请核对联盟公布的链标识。";
    "unpinned_chain" => "The file is from a ledger this wallet does not trust yet; anyone can make a self-consistent one. Compare its chain id with your consortium's, then `ebl chain pin`.", "该文件来自本钱包尚未信任的账本；任何人都能制造自洽的账本。请与联盟公布的链标识核对后执行 ebl chain pin。";
    "entries_out_of_order" => "The bundle's entries are out of ledger order. Export it again; do not reorder files by hand.", "证明包中的条目未按账本顺序排列。请重新导出，不要手工调整。";
    // The node's answers.
    "unknown_transport_document" => "No bill with this transport document reference that you may read. Check the reference, and that you have a part in the bill.", "没有您可读取的、带此运输单据编号的提单。请核对编号，并确认您是该提单的当事方。";
    "forbidden" => "You have no part in this bill, so the node does not show it. Ask its holder for a proof bundle.", "您不是该提单的当事方，节点不予显示。请向持有人索取证明包。";
    "former_party" => "You had a part in this bill before; you read its history up to where your part ended.", "您曾是该提单的当事方；只能读取至您的参与结束为止的历史。";
    "request_replayed" => "This signed request was already answered. Send it again (the wallet signs each anew).", "该签名请求已被答复过。请重新发送（钱包每次都会重新签名）。";
    "busy" => "The node is busy. Try again shortly.", "节点繁忙。请稍后重试。";
    "offer_not_in_history" => "The pledge offer was written for a state of the bill that is not in its history. Ask the holder for a new offer.", "质押要约所依据的提单状态不在其历史中。请向持有人索取新要约。";
    "bad_request_signature" => "The request's signature does not verify: the wallet's key is not the registered one. Check `--as`.", "请求签名验证失败：钱包所用密钥不是登记的密钥。请检查 --as。";
    "request_expired" => "The signed request is too old or from the future: this machine's clock is off. Set the clock, then retry.", "签名请求过旧或来自未来：本机时钟不准。请校准时钟后重试。";
    "not_this_node" => "Only the node's own key may ask it to verify its store. Run `ebl-node verify` on the node's machine.", "只有节点自己的密钥可以请求其校验存储。请在节点所在机器上运行 ebl-node verify。";
    "bad_body" => "The request's body is not in the shape the node expects. Update the wallet to this node's release.", "请求体格式与节点预期不符。请将钱包升级到与节点相同的版本。";
    "batch_size" => "A batch must hold at least one transaction and at most the limit. Split it.", "批量请求须至少一笔交易且不超过上限。请拆分。";
    "body_too_large" => "The request is larger than the node takes. Send less at once.", "请求超出节点可接收的大小。请分次发送。";
    "malformed_height" => "A block height is a whole number. Correct it.", "区块高度应为整数。请更正。";
    "malformed_id" => "An id is 64 hexadecimal digits. Copy it again in full.", "标识为 64 位十六进制数字。请完整重新复制。";
    "not_a_member_node" => "This node's member was removed by governance; it vouches for nothing more. Use a current member's node.", "该节点所属成员已被治理移除，不再担保任何内容。请改用现有成员的节点。";
    "not_clustered" => "A consortium request to a node that runs alone. Check the address.", "向单独运行的节点发送了联盟请求。请检查地址。";
    "not_found" => "The node has no such route. Check the address and the wallet's release.", "节点没有该接口。请检查地址及钱包版本。";
    "not_linearizable" => "This node cannot prove it is up to date right now. Ask another member's node, or again shortly.", "该节点目前无法证明其数据为最新。请改向其他成员节点请求，或稍后重试。";
    "not_yet_applied" => "This node has not yet applied the block your last action went into. Ask again shortly, or another node.", "该节点尚未应用您上次操作所在的区块。请稍后重试，或改向其他节点请求。";
    "queue_full" => "The node has more waiting requests than it queues. Try again shortly.", "节点等待中的请求已满。请稍后重试。";
    "registry_moved" => "The registry changed since the statement was made. Ask for the statement again.", "状态声明作出后登记簿已变更。请重新请求状态声明。";
    "request_timeout" => "The node did not answer in time. The wallet tries the next node; try again.", "节点未在时限内答复。钱包会尝试下一个节点；请重试。";
    "unknown_api_version" => "The node does not serve this API version. Use a wallet of the node's release.", "节点不提供该 API 版本。请使用与节点版本相同的钱包。";
    "unknown_block" => "No block at this height on the ledger yet.", "账本上尚无此高度的区块。";
    "unknown_document" => "The node does not hold this document. Check its checksum.", "节点没有该文件。请核对其校验和。";
    "unknown_transaction" => "No transaction with this id on the ledger. Check the id.", "账本上没有此标识的交易。请核对标识。";
    "unsupported_media_type" => "The request's body is in a media type this route does not take (JSON is).", "请求体的媒体类型不被该接口接受（应为 JSON）。";
    // Ordering across the members' nodes.
    "block_other_chain" => "A member's node proposed a block of another ledger; refused. Its operator must check its configuration.", "某成员节点提议了另一账本的区块，已拒绝。请其运营方检查配置。";
    "block_not_a_proposer" => "A block proposed by a node that is no member's; refused.", "由非成员节点提议的区块，已拒绝。";
    "block_bad_proposal_signature" => "A block proposal whose signature does not verify; refused.", "区块提议的签名验证失败，已拒绝。";
    "block_empty" => "A block proposal with no transactions; refused.", "不含交易的区块提议，已拒绝。";
    "block_time_backwards" => "A block proposal dated before the block it follows; refused. A node's clock is off.", "区块提议的时间早于前一区块，已拒绝。某节点时钟不准。";
    "block_does_not_follow" => "A block proposal that does not follow this node's head; refused.", "区块提议未接续本节点的链头，已拒绝。";
    "block_not_its_transactions" => "A block whose transactions are not the ones it commits to; refused. The proposing node lied.", "区块所含交易与其承诺的不符，已拒绝。提议节点作假。";
    "block_not_signed_by_member" => "A block without enough member nodes' signatures; refused.", "区块缺少足够的成员节点签名，已拒绝。";
    "block_bad_transaction" => "A block holding a transaction that does not verify; refused.", "区块含有验证失败的交易，已拒绝。";
    "block_transaction_refused" => "A block holding a transaction the ledger's rules refuse; refused. The proposing node lied.", "区块含有被账本规则拒绝的交易，已拒绝。提议节点作假。";
    "block_format_unknown" => "A block in a chain format this release does not know. Upgrade this node.", "区块采用本版本不认识的链格式。请升级本节点。";
    "block_send_outcome_unbacked" => "A block records another platform's answer without that platform's signed answer; refused.", "区块记录了其他平台的答复却无该平台签名，已拒绝。";
    "peer_unsigned" => "A node request without its node's signature; refused.", "节点请求未附节点签名，已拒绝。";
    "peer_not_a_member" => "A node request signed by a key that is no member's node key; refused. Check the consortium's membership.", "节点请求的签名密钥不是成员节点密钥，已拒绝。请核对联盟成员。";
    "peer_bad_signature" => "A node request whose signature does not verify; refused.", "节点请求签名验证失败，已拒绝。";
    "peer_time_skew" => "A node request signed too far from this node's clock. Set both machines' clocks (NTP).", "节点请求的签名时间与本节点时钟相差过大。请校准两台机器的时钟（NTP）。";
    "peer_certificate_not_members" => "The node at a member's address presented a certificate that names another member's node; refused. Check which certificate that node serves, and its operator's peers.pem.", "某成员地址上的节点出示了属于另一成员节点的证书，已拒绝。请检查该节点所用的证书及其运营方的 peers.pem。";
    "peer_not_a_voter" => "A vote or an append signed by a node that is no voter (an auditor's node follows; it does not campaign or lead); refused.", "由非投票节点签署的投票或追加请求（审计方节点只跟随，不参选也不领导），已拒绝。";
    "peer_grant_of_another_node" => "A grant to follow sent by another node than the one it names; refused. Give each node its own grant.", "跟随授权由其所指定节点以外的节点发送，已拒绝。请为每个节点签发各自的授权。";
    "follower_is_member_node" => "A grant to follow for a member's node: a member's node votes, it does not follow. Grant a node key of the auditor's own.", "跟随授权指向成员节点：成员节点参与投票，不作跟随。请为审计方自己的节点密钥签发授权。";
    "peer_not_the_sender" => "A node's message naming another node as its sender; refused.", "节点消息声称的发送方与签名方不符，已拒绝。";
    "peer_malformed" => "A node's message that does not decode; refused. Are both nodes of compatible releases?", "无法解码的节点消息，已拒绝。请确认两个节点版本兼容。";
    "peer_not_clustered" => "A consortium request to a node that runs alone. Check the peers' addresses.", "向单独运行的节点发送了联盟请求。请检查对等节点地址。";
    "peer_request_replayed" => "A node request this node already answered; each is taken once.", "本节点已答复过该节点请求；每个请求只受理一次。";
    "peer_busy" => "This node remembers as many answered node requests as it can; the request waits. It clears by itself.", "本节点记录的已答复请求已满，请求需等待。会自行恢复。";
    "unvouched_other_chain" => "A statement of another ledger; this node does not vouch for it.", "这是另一账本的声明；本节点不予担保。";
    "unvouched_not_a_member" => "This node's member was removed; it vouches for nothing.", "本节点所属成员已被移除；不再担保任何内容。";
    "unvouched_behind" => "This node has not yet applied the statement's block. Ask again shortly.", "本节点尚未应用该声明所在的区块。请稍后重试。";
    "unvouched_other_block" => "The statement names another block than this node holds at that height; not vouched for.", "该声明所指区块与本节点在该高度的区块不同；不予担保。";
    "unvouched_bill_differs" => "The bill stands otherwise on this node than the statement says; not vouched for.", "该提单在本节点的状态与声明不符；不予担保。";
    "unvouched_time_skew" => "The statement's time is too far from this node's clock. Set the clocks.", "声明时间与本节点时钟相差过大。请校准时钟。";
    "unvouched_no_vouching" => "The ledger's format at that height has no vouching (before format 7).", "该高度的账本格式不支持担保（格式 7 之前）。";
    "unvouched_registry_moved" => "The registry changed since the statement; ask for a new statement.", "声明作出后登记簿已变更；请请求新的声明。";
    "no_leader" => "The consortium has no leader for now (an election is under way). The wallet tries the next node; try again shortly.", "联盟暂时没有领导节点（正在选举）。钱包会尝试下一个节点；请稍后重试。";
    "node_halted" => "This node found a committed block that fails its checks and stopped ordering. Its operator must look at its log.", "该节点发现一个已提交区块未通过校验，已停止排序。请其运营方查看日志。";
    "leader_changed" => "Leadership moved while the transactions were ordered; sending them again is safe.", "排序过程中领导节点发生变更；重新发送是安全的。";
    // The node's own tools.
    "backup_truncated" => "The backup file is cut short. Use another copy.", "备份文件不完整。请使用另一份备份。";
    "backup_damaged" => "The backup file is damaged. Use another copy.", "备份文件已损坏。请使用另一份备份。";
    "restore_target_not_empty" => "A backup is restored only into an empty data directory. Give a new one.", "备份只能恢复到空的数据目录。请指定新目录。";
    "backup_exists" => "The backup file exists already; a backup never replaces one. Give a new name.", "备份文件已存在；备份不会覆盖已有文件。请换个文件名。";
    "tls_file_unreadable" => "A certificate or key file could not be read. Check its path and permissions.", "无法读取证书或密钥文件。请检查路径和权限。";
    "tls_file_unwritable" => "A certificate or key file could not be written. Check the directory's permissions.", "无法写入证书或密钥文件。请检查目录权限。";
    "tls_file_too_large" => "A certificate or key file larger than one can be; not read. Check the file.", "证书或密钥文件过大，未读取。请检查文件。";
    "tls_no_certificate" => "The certificate file holds no certificate. Give the PEM certificate.", "证书文件中没有证书。请提供 PEM 格式证书。";
    "tls_no_key" => "The key file holds no private key. Give the PEM private key.", "密钥文件中没有私钥。请提供 PEM 格式私钥。";
    "tls_unusable" => "TLS will not serve with this certificate and key (they may not match). Check that they belong together.", "无法用该证书和密钥提供 TLS 服务（可能不匹配）。请确认二者配套。";
    "tls_self_signed_failed" => "The development certificate could not be made. See the reason given.", "无法生成开发用证书。请查看给出的原因。";
    "tls_file_exists" => "A certificate or key already there is never replaced. Remove it yourself if you mean to.", "已存在的证书或密钥不会被替换。如确需替换请自行删除。";
    "missing_block" => "The store lacks a block below its head: damaged. Restore from a backup, or let the node catch up from its peers.", "存储缺少链头以下的某个区块：已损坏。请从备份恢复，或让节点从对等节点追赶。";
    "merkle_root_mismatch" => "A stored block's transactions do not match its header: damaged or altered. Restore from a backup.", "已存区块的交易与区块头不符：已损坏或被改动。请从备份恢复。";
    "missing_transaction" => "A stored block's transactions are missing: damaged. Restore from a backup.", "已存区块的交易缺失：已损坏。请从备份恢复。";
    "state_mismatch" => "A stored transaction or state is not what the replay produced: damaged or altered. Restore from a backup.", "已存交易或状态与重放结果不符：已损坏或被改动。请从备份恢复。";
    "storage_io" => "The disk or file system failed. Check the disk and free space.", "磁盘或文件系统故障。请检查磁盘及剩余空间。";
    "storage_corrupt" => "A stored record is not what was written. Run `ebl-node verify`, and restore from a backup.", "某条已存记录与写入时不符。请运行 ebl-node verify，并从备份恢复。";
    "store_truncated" => "The store lost blocks it had acknowledged (after a power cut). Restore from a backup or catch up from peers.", "存储丢失了已确认的区块（断电后）。请从备份恢复或从对等节点追赶。";
    "store_in_use" => "Another process (a running node) holds this data directory. Stop it, or ask it (`ebl-node verify` does).", "另一进程（运行中的节点）正在使用该数据目录。请停止它，或通过它请求（ebl-node verify 会这样做）。";
    "not_initialized" => "The data directory holds no ledger yet. Run `ebl-node init` first.", "数据目录中尚无账本。请先运行 ebl-node init。";
    "node_not_running" => "No running node wrote its address in the data directory: it is stopped. Start it, or give its address with --node.", "数据目录中没有运行中节点写入的地址：节点已停止。请启动节点，或用 --node 指定其地址。";
    "raft_state_lost" => "This member node's store holds blocks but its Raft log is gone (a restored backup, or a deleted log); a node that lost its log must not vote again. Keep the directory as a verified copy and rejoin the consortium with a new node key (docs/upgrading.md).", "该成员节点的存储中有区块，但其 Raft 日志已丢失（恢复了备份或日志被删除）；丢失日志的节点不得再次投票。请将该目录保留为已校验的副本，并以新的节点密钥重新加入联盟（见 docs/upgrading.md）。";
    "already_initialized" => "The data directory holds a ledger already. Use another directory for a new one.", "数据目录中已有账本。新账本请使用其他目录。";
    // PINT keys and trust.
    "no_private_key" => "The key file holds no private key in a form read here (PKCS#8, SEC1 or PKCS#1 PEM).", "密钥文件中没有可读取的私钥（PKCS#8、SEC1 或 PKCS#1 PEM）。";
    "unsupported_key" => "Only P-256 keys sign with a certificate here. Make a P-256 key.", "此处只有 P-256 密钥可配合证书签名。请生成 P-256 密钥。";
    "rsa_signing_key" => "An RSA key is not used to sign here (its signing is not constant-time). Use a P-256 key and certificate.", "此处不使用 RSA 密钥签名（其签名运算非恒定时间）。请使用 P-256 密钥及证书。";
    "bad_certificate_chain" => "The certificate chain file holds no readable certificate. Give the PEM chain, leaf first.", "证书链文件中没有可读证书。请提供 PEM 证书链，叶证书在前。";
    "key_certificate_mismatch" => "The first certificate is not the private key's. Put the key's own certificate first.", "第一个证书不属于该私钥。请将该密钥自己的证书放在首位。";
    "unreadable_trust_store" => "The PINT trust directory could not be read. Check its path and permissions.", "无法读取 PINT 信任目录。请检查路径和权限。";
    "bad_trust_file" => "A key or certificate in the trust directory is too large or does not parse. Replace it.", "信任目录中的某个密钥或证书过大或无法解析。请替换。";
    "unbound_trust_key" => "A key directly in the trust directory would belong to no platform. Move it into its platform's directory.", "直接放在信任目录中的密钥不属于任何平台。请移入对应平台的目录。";
    "not_a_platform_directory" => "A directory in the trust directory whose name is no platform code. Rename or remove it.", "信任目录中某目录名称不是平台代码。请重命名或删除。";
    // The carrier's connector (DCSA's eBL Issuance and Surrender APIs).
    "request_too_large" => "The request is larger than the connector takes. The carrier's system must send less.", "请求超出连接器可接收的大小。请承运人系统减少内容。";
    "malformed_request" => "The request is not DCSA JSON the connector reads. Check it against DCSA's schema.", "请求不是连接器可读取的 DCSA JSON。请按 DCSA 规范检查。";
    "missing_field" => "A field DCSA's API requires is missing or of the wrong type. Add it.", "缺少 DCSA 接口要求的字段或类型错误。请补充。";
    "bad_manifest_signature" => "The issuance manifest is not signed by a key of the document's carrier. Sign it with the carrier's registered key.", "签发清单并非由单据承运人的密钥签名。请用承运人登记的密钥签名。";
    "manifest_checksum_mismatch" => "A checksum in the signed manifest does not match what the request carries. Send the document that was signed.", "已签名清单中的校验和与请求内容不符。请发送已签名的那份单据。";
    "bad_visualisation" => "The carrier's visualisation is not base64, or too large. Correct it.", "承运人提供的单据图像不是 base64 编码，或过大。请更正。";
    "other_carrier" => "The document is another carrier's than the one this connector serves. Send it to that carrier's connector.", "该单据属于其他承运人，而非本连接器所服务的承运人。请发送至该承运人的连接器。";
    "already_requested" => "This transport document was asked to be issued before. Use a new reference, or read the first answer.", "此运输单据已申请过签发。请使用新编号，或查看首次答复。";
    "unauthenticated" => "The request lacks the credentials it needs (the system's token, or a key to sign a read). Give them.", "请求缺少所需凭证（系统令牌，或用于签名读取的密钥）。请提供。";
    "rejection_without_comments" => "A rejected surrender needs comments saying why. Add them.", "拒绝交单须附说明理由。请补充。";
    "unknown_surrender_request" => "No surrender request has this reference. Check it.", "没有此编号的交单请求。请核对。";
    "already_answered" => "This surrender request was answered before; a second answer is refused.", "该交单请求已答复过；不接受第二次答复。";
    "paper_note_needed" => "A switch to paper needs the paper bill's number, which DCSA's answer lacks. Accept it with `ebl bill accept-surrender --paper-number`, or run the connector with `--paper-bill-is-reference`.", "转为纸质提单需要纸质提单编号，而 DCSA 的答复中没有。请用 ebl bill accept-surrender --paper-number 接受，或以 --paper-bill-is-reference 运行连接器。";
    "ledger_refused" => "The ledger refused the carrier's answer; its reason follows. Look at the bill as it is now.", "账本拒绝了承运人的答复，原因见下。请查看提单当前状态。";
    // The wallet.
    "bad_node_address" => "The node address is not a URL. Give it as http(s)://host:port.", "节点地址不是 URL。请按 http(s)://主机:端口 填写。";
    "plain_http_off_loopback" => "Plain HTTP to another machine would show everything to the network. Use https, or say --insecure-plain-http if you mean it.", "以明文 HTTP 连接其他机器会向网络暴露全部内容。请使用 https；如确有需要请加 --insecure-plain-http。";
    "bad_node_certificate" => "The node certificate file cannot be used. Give the node's PEM certificate (`--node-cert`).", "节点证书文件不可用。请提供节点的 PEM 证书（--node-cert）。";
    "bad_carrier_code" => "A carrier is named as PROVIDER:CODE (SMDG:MSC). Write it so.", "承运人应写作 提供方:代码（如 SMDG:MSC）。请按此格式填写。";
    "weak_passphrase" => "The passphrase is shorter than the minimum. Choose a longer one.", "密码短于最低长度。请另选更长的密码。";
    "kdf_too_costly" => "The key file asks for more work to open than the wallet spends; it may be a trap. Do not use it.", "该密钥文件要求的解锁运算量超过钱包的设定，可能是陷阱。请勿使用。";
    "file_exists" => "The output file exists; it is not replaced. Choose another name, or pass --force.", "输出文件已存在，不会被覆盖。请另选文件名，或加 --force。";
    "unknown_bill" => "No bill of yours by that name. Check `ebl bill list` for your bills, or give the bill id.", "您的提单中没有该名称。请用 ebl bill list 查看，或提供提单标识。";
    "ambiguous_bill" => "Several of your bills match that name. Give more of the id.", "您有多张提单与该名称匹配。请提供更完整的标识。";
    "missing_bill" => "A replacement must name the void bill it replaces. Name it.", "替换提单必须写明其所替换的作废提单。请写明。";
    "bad_validity" => "A pledge offer is valid for a number of hours within the limits. Choose another.", "质押要约的有效小时数须在允许范围内。请重新选择。";
    "not_a_pledge" => "The offer's transaction is no pledge. Ask the holder for a real pledge offer.", "该要约中的交易不是质押。请向持有人索取真正的质押要约。";
    "bad_proposal" => "The file is no governance proposal. Use the file `ebl gov propose` wrote.", "该文件不是治理提案。请使用 ebl gov propose 生成的文件。";
    "unknown_currency" => "A currency ISO 4217 does not list. Use its three-letter code (USD, EUR, CNY).", "ISO 4217 中没有该币种。请使用其三字母代码（USD、EUR、CNY）。";
    "not_one_transaction" => "`ebl tx sign` signs an action of one signer; this one needs several (a pledge takes an offer).", "ebl tx sign 只签署单一签名方的操作；此操作需要多方（质押须用要约）。";
    "bad_transaction_file" => "The file is no signed transaction. Use the file `ebl tx sign` wrote.", "该文件不是已签名交易。请使用 ebl tx sign 生成的文件。";
    "not_a_party" => "You have no part in this bill now, so you cannot act on it.", "您目前不是该提单的当事方，不能对其操作。";
    "bad_answer" => "The node's answer could not be read or lacks what it must hold. Check the node's release, or ask another node.", "无法读取节点答复，或答复缺少必需内容。请检查节点版本，或改向其他节点请求。";
    "send_refused" => "The other platform refused the bill; you hold it again. Its reason follows.", "对方平台拒收该提单；提单已回到您手中。原因见下。";
    "send_disputed" => "The other platform disputes the bill; it is held for people to resolve.", "对方平台对该提单有异议；已冻结待人工处理。";
    "send_pending" => "The other platform has not answered yet; the bill is frozen here and the node keeps trying. Check later with `ebl bill show`.", "对方平台尚未答复；提单在本平台冻结，节点会继续尝试。请稍后用 ebl bill show 查看。";
    "bad_genesis" => "The node's genesis does not hash to the chain id it claims. Do not use this node.", "该节点的创世记录与其声称的链标识不符。请勿使用该节点。";
    "bad_key_file" => "The file is no key file of this wallet, or is damaged, or is another key's. Use the file `ebl key export` wrote.", "该文件不是本钱包的密钥文件、已损坏或属于另一密钥。请使用 ebl key export 生成的文件。";
    "bad_key_name" => "A key name is letters, digits, '-' and '_'. Choose another.", "密钥名称只能包含字母、数字、“-”和“_”。请另选名称。";
    "bad_offer" => "The file is no pledge offer this wallet reads. Ask the holder for the file `ebl bill pledge` wrote.", "该文件不是本钱包可读取的质押要约。请向持有人索取 ebl bill pledge 生成的文件。";
    "offer_mismatch" => "The offer's pledge is not for the bill its bundle proves. Do not accept it.", "要约中的质押与其证明包所证明的提单不符。请勿接受。";
    "bad_reason" => "An amendment reason is SWI, SWTP or COD. Use one of them.", "修改原因应为 SWI、SWTP 或 COD。请选择其一。";
    "bad_usage" => "The command or form is not complete or not right. See `--help`.", "命令或表单不完整或有误。请查看 --help。";
    "document_checksum_mismatch" => "The document is not the one the bill was issued with: its contents differ. Get the carrier's document again.", "该单据不是提单签发时的那份：内容不同。请重新获取承运人的单据。";
    "empty_passphrase" => "An empty passphrase. Give one.", "密码为空。请输入。";
    "empty_trust_store" => "The PINT trust directory holds no key. Put the platforms' keys in it.", "PINT 信任目录中没有密钥。请放入各平台的密钥。";
    "file_too_large" => "The file is larger than the wallet reads. Check that it is the right file.", "文件超出钱包可读取的大小。请确认文件无误。";
    "internal" => "A fault of the program itself. Report it with the message below.", "程序自身故障。请连同下方信息报告。";
    "key_exists" => "A key by that name exists in this wallet. Choose another name.", "本钱包中已有同名密钥。请另选名称。";
    "malformed_amount" => "An amount is written as digits with at most two decimals (250000.00). Correct it.", "金额应写为最多两位小数的数字（如 250000.00）。请更正。";
    "malformed_json" => "The file or text is not the JSON it should be. Check it is the right file.", "文件或文本不是应有的 JSON。请确认文件无误。";
    "malformed_key" => "That is no Ed25519 key. Copy it again as `ebl key show` prints it.", "这不是 Ed25519 密钥。请按 ebl key show 的输出重新复制。";
    "missing_endorsee" => "An endorsement names whom to, unless it is in blank. Give --to.", "背书须写明被背书人（空白背书除外）。请提供 --to。";
    "no_passphrase" => "No passphrase, and no terminal to ask for one. Set EBL_PASSPHRASE.", "未提供密码，且没有终端可供输入。请设置 EBL_PASSPHRASE。";
    "no_embedded_node" => "This ebl was built without the demo's embedded node. Build it with --features embedded-node.", "此 ebl 构建时未包含演示用内嵌节点。请加 --features embedded-node 构建。";
    "node_unreachable" => "No node answered. Check the address (--node), that the node runs, and the network.", "没有节点响应。请检查地址（--node）、节点是否运行及网络。";
    "untrusted_node_certificate" => "The node's TLS certificate is not one this wallet trusts; nothing was sent. Give the node's certificate with --node-cert.", "节点的 TLS 证书不受本钱包信任，未发送任何内容。请用 --node-cert 提供节点证书。";
    "bad_receipt" => "The node's receipt does not prove the transaction is in a final block. Do not rely on it; ask another node.", "节点回执无法证明该交易已在最终确认的区块中。请勿采信，并改向其他节点查询。";
    "stale_offer" => "The bill has moved since the offer was written; the ledger would refuse it. Ask the holder for a new offer.", "要约生成后提单已有变动，账本会拒绝。请向持有人索取新要约。";
    "unknown_key" => "No key by that name in this wallet, or a key no registered party holds. Check `ebl key list`.", "本钱包中没有该名称的密钥，或该密钥不属于任何登记参与方。请用 ebl key list 查看。";
    "unknown_party" => "No registered party by that name or id. Check `ebl party list`.", "没有该名称或标识的登记参与方。请用 ebl party list 查看。";
    "unreadable_documents" => "The additional documents could not be read. Check the directory.", "无法读取附加文件。请检查目录。";
    "unreadable_file" => "The file could not be read, or is of a format this wallet does not read. Check the path.", "无法读取该文件，或其格式本钱包无法读取。请检查路径。";
    "wrong_passphrase" => "The passphrase does not open this key. Try again.", "该密码无法解锁此密钥。请重试。";
    "not_loopback" => "The web app serves your keys, so it listens on this machine only (127.0.0.1).", "网页应用涉及您的密钥，因此只在本机（127.0.0.1）监听。";
    "unknown_file_kind" => "This is not a proof bundle, a pledge offer or a PINT envelope. Check the file (an offer is checked with `ebl bill pledge-review`).", "这不是证明包、质押要约或 PINT 信封。请检查文件（要约请用 ebl bill pledge-review 核验）。";
    "wrong_host" => "The web app answers only to the address it printed. Open that address.", "网页应用只响应其打印的地址。请打开该地址。";
    "verifier_not_built" => "This ebl was built without the browser verifier. Add the target (rustup target add wasm32-unknown-unknown) and build again, or open /verifier on any node.", "此 ebl 构建时未包含浏览器验证页。请添加目标（rustup target add wasm32-unknown-unknown）后重新构建，或在任一节点打开 /verifier。";
    "no_session" => "This browser has no session of the web app. Open the address `ebl ui` printed.", "该浏览器没有网页应用的会话。请打开 ebl ui 打印的地址。";
    "cross_site" => "A change asked from another page than the app's own; refused. Act from the app's own page.", "来自应用以外页面的变更请求，已拒绝。请在应用自己的页面上操作。";
    "io" => "A local file or the terminal failed. Check the path, permissions and free space.", "本地文件或终端出错。请检查路径、权限及剩余空间。";
}

/// What a broken rule of the ledger means and what to do, for the people who read a verdict; the rule's
/// own message (English, exact) follows it where it is shown. Every rule's code is in the catalogue
/// (`tests/flows/docs.rs`); one a later core adds before its words does reads as a broken rule.
pub fn of_rule(error: &ebl_core::Error, lang: Lang) -> &'static str {
    explain(error.code(), lang).unwrap_or(match lang {
        Lang::En => "A transaction breaks a rule of the bill's life.",
        Lang::Zh => "某笔交易违反了提单流转规则。",
    })
}

/// `docs/guide/errors.md`: every code with what it means and what to do, in both languages, sorted for
/// looking up (`tests/flows/docs.rs` holds the page to this; `EBL_WRITE_DOCS=1` writes it anew).
pub fn page() -> String {
    let mut codes: Vec<&(&str, &str, &str)> = ALL.iter().collect();
    codes.sort_by_key(|(code, _, _)| *code);
    let mut out = String::from(
        "# Error codes · 错误代码\n\n\
         Every code `ebl`, `ebl-node`, `ebl ui` and the node's API show, with what it means and what to do \
         (written from `crates/ebl-words/src/codes.rs`, the one catalogue the wallet and its web app print from; do not \
         edit by hand). An error line ends with its code in brackets, and `--json` gives it as \
         `error.code`; the exit code says its kind: 1 a local fault, 2 bad usage or input, 3 refused by a \
         ledger rule, 4 verification failed, 5 node unreachable.\n\n\
         `ebl`、`ebl-node`、`ebl ui` 及节点接口显示的每个错误代码，及其含义与处理方法。错误行末尾方括号内为代码，\
         `--json` 输出中为 `error.code`；退出码表示类别：1 本地故障，2 用法或输入有误，3 被账本规则拒绝，\
         4 验证失败，5 无法连接节点。\n\n\
         | code | what it means, what to do | 含义与处理 |\n|---|---|---|\n",
    );
    for (code, en, zh) in codes {
        out.push_str(&format!("| `{code}` | {en} | {zh} |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_chinese(text: &str) -> bool {
        text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
    }

    #[test]
    fn every_code_is_once_with_its_chinese_and_its_english() {
        let mut seen = std::collections::BTreeSet::new();
        for (code, en, zh) in ALL {
            assert!(seen.insert(*code), "{code} twice");
            assert!(has_chinese(zh), "{code} has no Chinese");
            assert!(!has_chinese(en), "{code} has Chinese in its English");
            assert_eq!(explain(code, Lang::Zh), Some(*zh));
            assert_eq!(explain(code, Lang::En), Some(*en));
        }
        assert_eq!(explain("no_such_code", Lang::En), None);
    }
}
