"""Labels of a clip's custody report (音像记录保管链报告), in English and Chinese.

Kept beside the report and added to the one label table (``i18n.L``); a key here never
replaces one already there. Event types print with their label when they have one and as
the type itself when not, so an event type added later still prints.
"""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    "title.custody": ("Chain of custody of an audio-video record", "执法音像记录保管链报告"),
    "heading.custody": ("Clip {clip}", "音像记录第 {clip} 号"),
    "ui.subtitle.custody": ("Evidence preservation (rule B, Arts. 13–16; rule A)",
                            "证据保全（音像记录管理制度第十三至十六条；查阅调阅制度）"),
    "ui.subject": ("Record", "音像记录"),
    **{f"ui.none.{key}": ("None.", "无。") for key in (
        "custody_times", "custody_officer", "custody_links", "custody_events")},
    # -- sections ---------------------------------------------------------------------------
    "section.custody_identity": ("The record", "音像记录"),
    "lead.custody_identity": (
        "What the record is: its content hashes, size and length, and the file it was on the "
        "recorder. The BLAKE3 hash names the stored object; the SHA-256 hash is what "
        "sha256sum prints for the same file.",
        "该音像记录的内容摘要、大小、时长及其在执法记录仪上的原始文件。BLAKE3 摘要即存储对象"
        "的名称；SHA-256 摘要与 sha256sum 对同一文件的计算结果一致。"),
    "section.custody_times": ("Recording time and the recorder's clock", "录制时间与设备时钟"),
    "lead.custody_times": (
        "The recording time as the recorder's clock told it and as corrected by the drift "
        "measured when it docked (rule B, Art. 7); the measurements behind the correction.",
        "执法记录仪时钟所示的录制时间，以及按接入采集站时测得的时钟偏差校正后的时间（第七条）；"
        "校正所依据的时钟测量。"),
    "section.custody_officer": ("Officer and checkout", "执法人员与领用"),
    "lead.custody_officer": (
        "Who the record is attributed to, and the checkout of the recorder in the usage "
        "ledger (rule B, Arts. 4–5).",
        "该记录归属的执法人员，以及使用情况台账中该执法记录仪的领用记录（第四、五条）。"),
    "section.custody_links": ("Cases, holds and discs", "案件、证据保全与刻录光盘"),
    "lead.custody_links": (
        "The cases the record belongs to, the holds that keep it (rule B, Art. 16) and the "
        "archive discs it was burned to.",
        "该记录所属案件、对该记录的证据保全（第十六条）以及刻录的光盘。"),
    "section.custody_retention": ("Retention", "保存期限"),
    "lead.custody_retention": (
        "When the record may be cleared and why, or why it is kept (rule B, Arts. 15–16).",
        "该记录何时可以清理及其依据，或继续保存的原因（第十五、十六条）。"),
    "section.custody_events": ("Every event, proved", "全部保管事件及其证明"),
    "lead.custody_events": (
        "Every custody-ledger event that touched the record, in order, each with its "
        "sequence number; below, each event's inclusion proof against the signed checkpoint "
        "printed at the end. The JSON edition of this report carries the events whole: "
        "'python3 verify_ledger.py --custody REPORT.json --key agency.pub' checks them "
        "offline.",
        "涉及该记录的全部保管日志事件，按顺序列出并注明序号；其后为每条事件相对于文末签名检查点"
        "的包含证明。本报告的 JSON 版载有完整事件，可离线运行 "
        "“python3 verify_ledger.py --custody REPORT.json --key agency.pub” 核验。"),
    # -- figures ----------------------------------------------------------------------------
    "fig.clip": ("Record number", "记录编号"),
    "fig.clip_status": ("State", "状态"),
    "fig.blake3": ("BLAKE3", "BLAKE3 摘要"),
    "fig.sha256": ("SHA-256", "SHA-256 摘要"),
    "fig.size": ("Size", "大小"),
    "fig.duration_s": ("Length (s)", "时长（秒）"),
    "fig.recorder": ("Recorder", "执法记录仪"),
    "fig.source_path": ("File on the recorder", "执法记录仪上的文件"),
    "fig.last_verified": ("Store copy last verified", "存储副本最近校验"),
    "fig.verify_status": ("Result", "校验结果"),
    "fig.device_start": ("Start, recorder's clock", "开始（设备时钟）"),
    "fig.device_end": ("End, recorder's clock", "结束（设备时钟）"),
    "fig.corrected_start": ("Start, corrected", "开始（校正后）"),
    "fig.corrected_end": ("End, corrected", "结束（校正后）"),
    "fig.drift_at_recording": ("Clock drift at recording", "录制时时钟偏差"),
    "fig.ingested": ("Handed in (stored)", "移交存储时间"),
    "fig.deadline": ("24-hour deadline", "24小时移交时限"),
    "fig.window": ("Handed in", "移交情况"),
    "fig.badge": ("Badge", "执法证号"),
    "fig.officer": ("Officer", "执法人员"),
    "fig.officer_unit": ("Unit", "单位"),
    "fig.attribution": ("Attributed by", "归属依据"),
    "fig.expires": ("May be cleared from", "可清理时间"),
    "fig.basis": ("Because of", "依据"),
    "fig.kept_because": ("Kept because", "保存原因"),
    "fig.purge_due": ("Clearing due", "清理到期"),
    "fig.purged_at": ("Cleared", "已清理"),
    "fig.events": ("Events", "事件数"),
    "fig.proved_against": ("Proved against the checkpoint of", "证明所依据的检查点（事件数）"),
    # -- tables and columns ---------------------------------------------------------------
    "table.custody_times.clock": ("Clock measurements behind the correction",
                                  "校正所依据的时钟测量"),
    "table.custody_officer.checkout": ("Checkout (usage ledger)", "领用记录（使用情况台账）"),
    "table.custody_links.cases": ("Cases", "所属案件"),
    "table.custody_links.holds": ("Holds (evidence preservation)", "证据保全（长期保存）"),
    "table.custody_links.discs": ("Archive discs", "刻录光盘"),
    "table.custody_events.events": ("Custody events", "保管事件"),
    "table.custody_events.proofs": ("Inclusion proofs (RFC 6962)", "包含证明（RFC 6962）"),
    "col.measurement": ("Measurement", "测量编号"),
    "col.clock_kind": ("Kind", "类型"),
    "col.source": ("Where", "场合"),
    "col.measured": ("Measured", "测量时间"),
    "col.device_time": ("Recorder said", "设备时间"),
    "col.said_at": ("Said at (true time)", "对应标准时间"),
    "col.drift": ("Drift", "偏差"),
    "col.uncertainty": ("±", "不确定度"),
    "col.reference": ("Time reference", "时间基准"),
    "col.status": ("Status", "状态"),
    "col.host_synced": ("Host clock synchronised", "主机时钟已同步"),
    "col.task": ("Task", "任务"),
    "col.out_by": ("Handed out by", "发放人"),
    "col.in_by": ("Taken back by", "收回人"),
    "col.remote": ("Out of town", "外出执法"),
    "col.case": ("Case number", "案号"),
    "col.case_name": ("Case", "案件名称"),
    "col.closed": ("Closed", "结案时间"),
    "col.hold": ("Hold", "保全编号"),
    "col.scope": ("Scope", "范围"),
    "col.placed_at": ("Placed", "决定时间"),
    "col.released_at": ("Released", "解除时间"),
    "col.copy": ("Copy", "份"),
    "col.disc": ("Disc", "盘"),
    "col.volume": ("Volume label", "卷标"),
    "col.location": ("Kept at", "存放地点"),
    "col.last_verified": ("Last verified", "最近校验"),
    "col.seq": ("Seq.", "序号"),
    "col.time": ("Time", "时间"),
    "col.event": ("Event type", "事件类型"),
    "col.what": ("What happened", "事项"),
    "col.subject": ("Subject", "对象"),
    "col.details": ("Details (as recorded)", "记录内容"),
    "col.event_hash": ("Event hash", "事件摘要"),
    "col.proof": ("Proof (hashes, leaf to root)", "证明路径（自叶至根）"),
    # -- notes ------------------------------------------------------------------------------
    "note.sha256_hashed-now": (
        "SHA-256 computed now from the stored object, whose BLAKE3 hash was checked again "
        "in the same pass.",
        "SHA-256 为本次从存储对象重新计算，同时复核了 BLAKE3 摘要。"),
    "note.sha256_archive-manifest": (
        "The stored object is no longer there; SHA-256 as recorded when it was burned to "
        "disc.",
        "存储对象已不存在；SHA-256 取自刻录光盘时的记录。"),
    "note.sha256_unknown": (
        "The stored object is no longer there and was never burned to disc: its SHA-256 is "
        "not known. The BLAKE3 hash still identifies it.",
        "存储对象已不存在且未刻录光盘，SHA-256 无从得知；BLAKE3 摘要仍可识别该记录。"),
    "note.sha256_unreadable": (
        "The stored object could not be read back whole or no longer matches its BLAKE3 "
        "hash: run 'avledger store verify'. Its SHA-256 is not given.",
        "存储对象无法完整读取或与其 BLAKE3 摘要不符：请运行 avledger store verify。"
        "此处不提供 SHA-256。"),
    "note.custody_flags": ("Marks set at hand-in: {flags}.", "移交时的标记：{flags}。"),
    "note.custody_kept": ("Kept with no end date while the reason above lasts.",
                          "在上述保存原因持续期间无限期保存。"),
    "note.custody_expires": ("Kept until {when}; then it may be cleared.",
                             "保存至 {when}，届满后可以清理。"),
    "note.custody_purged": ("The record has been cleared; what remains is its record here "
                            "and in the ledger.",
                            "该记录已清理；此处及保管日志中的记载仍予保留。"),
    "note.custody_proofs": (
        "Each proof leads from the event's hash to the Merkle root of the first {size} "
        "ledger events, which the checkpoint at the end signs.",
        "每条证明均可由事件摘要推算至保管日志前 {size} 条事件的 Merkle 根，该根由文末检查点签名。"),
    # -- codes ------------------------------------------------------------------------------
    "code.stored": ("Stored", "存储中"),
    "code.pending_purge": ("Awaiting clearing", "待清理"),
    "code.purged": ("Cleared", "已清理"),
    "code.corrupt": ("Corrupt", "已损坏"),
    "code.missing": ("Missing", "缺失"),
    "code.check": ("Check", "检测"),
    "code.sync": ("Sync", "校准"),
    "code.dock": ("At docking", "接入采集站"),
    "code.desk": ("At the desk", "领用台"),
    "code.sync-before": ("Before a sync", "校准前"),
    "code.sync-after": ("After a sync", "校准后"),
    "code.connect": ("Written at connection", "接入时写入"),
    "code.read": ("Read live", "实时读取"),
    "code.drifted": ("Drifted", "超差"),
    "code.reset": ("Reset", "复位"),
    "code.unknown": ("Unknown", "未知"),
    "code.yes": ("Yes", "是"),
    "code.no": ("No", "否"),
    "code.on-time": ("Within 24 hours", "24小时内移交"),
    "code.late": ("Late", "逾期移交"),
    "code.checkout": ("Checkout", "领用记录"),
    "code.device-info": ("Badge in the recorder", "执法记录仪内执法证号"),
    "code.unattributed": ("Nobody", "无法归属"),
    "code.between-checkouts": ("Between checkouts", "领用间隙"),
    "code.clips": ("Named records", "指定记录"),
    "code.case": ("A case's footage", "案件记录"),
    "code.device": ("A recorder's footage in a time span", "记录仪某时段记录"),
    "code.open": ("Open", "办理中"),
    "code.closed": ("Closed", "已结案"),
    "code.default": ("Default keeping period", "默认保存期限"),
    "code.ingested": ("Counted from hand-in", "自移交起算"),
    "code.restored": ("Restored by the records office", "档案室恢复保存"),
    "code.held": ("A hold", "证据保全"),
    "code.open-case": ("An open case", "案件办理中"),
    "code.unknown-time": ("Recording time unknown", "录制时间不明"),
    "code.unclassified": ("Attributed to nobody", "无法归属"),
    "code.not-due": ("Not yet due", "未到期"),
    "code.case-retention": ("The case's keeping period", "案件保存期限"),
    # event types (a type without a label prints as itself)
    "code.clip.ingested": ("Handed in and stored", "移交存储"),
    "code.clip.linked": ("Linked to a case", "关联案件"),
    "code.clip.unlinked": ("Unlinked from a case", "取消关联案件"),
    "code.clip.late_explained": ("Late hand-in explained", "说明逾期移交原因"),
    "code.clip.pending_purge": ("Marked for clearing", "列入待清理"),
    "code.clip.restored": ("Kept again", "恢复保存"),
    "code.clip.purged": ("Cleared", "清理"),
    "code.clip.redacted": ("Redacted copy made", "制作遮蔽处理副本"),
    "code.clip.custody_reported": ("Custody report made", "生成保管链报告"),
    "code.clip.tagged": ("Category, step or note set", "标注类别、环节或说明"),
    "code.review.recorded": ("Reviewed (Art. 17)", "检查评议（第十七条）"),
    "code.dock.started": ("Docked", "接入采集站"),
    "code.dock.finished": ("Docking finished", "采集完成"),
    "code.dock.interrupted": ("Docking interrupted", "采集中断"),
    "code.clock.measured": ("Clock measured", "测量时钟"),
    "code.clock.synced": ("Clock set", "校准时钟"),
    "code.checkout.opened": ("Recorder handed out", "领用执法记录仪"),
    "code.checkout.closed": ("Recorder handed back", "归还执法记录仪"),
    "code.checkout.forced": ("Handed out despite a failed check", "检查未通过仍领用"),
    "code.case.opened": ("Case registered", "案件登记"),
    "code.case.closed": ("Case closed", "结案"),
    "code.decision.recorded": ("Decision recorded", "记录执法决定"),
    "code.review.opened": ("Legal review opened", "提交法制审核"),
    "code.review.closed": ("Legal review closed", "法制审核完成"),
    "code.hold.placed": ("Hold placed", "决定证据保全"),
    "code.hold.released": ("Hold released", "解除证据保全"),
    "code.access.requested": ("Access requested", "申请查阅/调阅"),
    "code.access.approved": ("Access approved", "批准查阅/调阅"),
    "code.access.denied": ("Access refused", "不予批准"),
    "code.access.reopened": ("Request reopened", "重新受理"),
    "code.access.viewing_started": ("Viewing started", "开始查阅"),
    "code.access.viewing_ended": ("Viewing ended", "结束查阅"),
    "code.access.package_sealed": ("Copy package sealed", "复制包封存"),
    "code.access.fulfilled": ("Copy handed over", "交付调阅副本"),
    "code.access.redaction_attached": ("Redaction attached", "附加遮蔽处理要求"),
    "code.archive.created": ("Burned to archive discs", "刻录光盘"),
    "code.archive.located": ("Disc location recorded", "登记光盘存放地点"),
    "code.archive.verified": ("Disc verified", "光盘校验"),
    "code.object.quarantined": ("Stored copy quarantined", "存储副本隔离"),
    "code.object.restored": ("Stored copy restored", "存储副本恢复"),
}
