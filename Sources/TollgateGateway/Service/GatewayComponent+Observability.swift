import TollgateCoordination
import TollgateIPC
import TollgateRuntime
import TollgateTelegram

extension GatewayComponent {
    static func registerObservability(
        host: ServiceHost, telegram: TelegramClient, sender: OutboundSender, processor: UpdateProcessor,
        poller: LongPoller?, receiver: WebhookReceiver?, deliver: DeliverHandler, runner: FlowRunner, door: ClubDoor?, reconciler: ClubReconciler?,
        broadcasts: BroadcastWorker, leadership: any Leadership, mode: GatewayConfiguration.Mode
    ) {
        let modeName: String
        if case .webhook = mode { modeName = "webhook" } else { modeName = "polling" }
        host.stats.register("gateway") {
            var counters: [String: Double] = [:]
            var gauges: [String: Double] = [:]
            let s = sender.stats
            counters["telegram_messages_sent_total"] = Double(s.sent)
            counters["telegram_rate_limited_total"] = Double(s.rateLimited)
            counters["telegram_transient_retries_total"] = Double(s.transientRetries)
            counters["telegram_chats_suppressed_total"] = Double(s.suppressedNow)
            counters["telegram_sends_skipped_suppressed_total"] = Double(s.skippedSuppressed)
            counters["telegram_send_failures_total"] = Double(s.failedPermanently)
            counters["telegram_sends_given_up_total"] = Double(s.gaveUp)
            counters["telegram_sends_uncertain_total"] = Double(s.uncertain)
            counters["telegram_sends_out_of_time_total"] = Double(s.outOfTime)
            let t = telegram.stats
            counters["telegram_calls_total"] = Double(t.calls.values.reduce(0, +))
            counters["telegram_errors_total"] = Double(t.errors.values.reduce(0, +))
            counters["telegram_uploads_total"] = Double(t.uploads)
            counters["telegram_uploads_avoided_total"] = Double(t.uploadsAvoided)
            let p = processor.stats
            counters["updates_handled_total"] = Double(p.handled)
            counters["updates_ignored_total"] = Double(p.ignored)
            counters["updates_limited_total"] = Double(p.limited)
            counters["update_retries_total"] = Double(p.retries)
            counters["updates_dead_lettered_total"] = Double(p.deadLettered)
            counters["updates_replayed_total"] = Double(p.replayedAfterRestart)
            gauges["updates_in_flight"] = Double(p.inFlight)
            if let poller {
                let l = poller.stats
                counters["telegram_polls_total"] = Double(l.polls)
                counters["updates_received_total"] = Double(l.updatesReceived)
                counters["updates_recorded_total"] = Double(l.updatesRecorded)
                counters["updates_duplicate_total"] = Double(l.duplicates)
                counters["telegram_conflicts_total"] = Double(l.conflicts)
                counters["telegram_poll_errors_total"] = Double(l.errors)
                gauges["telegram_offset"] = Double(l.offset)
            }
            if let receiver {
                let w = receiver.stats
                counters["webhook_accepted_total"] = Double(w.accepted)
                counters["webhook_duplicates_total"] = Double(w.duplicates)
                counters["webhook_unauthorized_total"] = Double(w.unauthorized)
                counters["webhook_malformed_total"] = Double(w.malformed)
                counters["webhook_unavailable_total"] = Double(w.unavailable)
            }
            for (outcome, n) in deliver.stats.outcomes { counters["deliveries_\(outcome)_total"] = Double(n) }
            let f = runner.counters.snapshot
            counters["flow_messages_sent_total"] = Double(f.messagesSent)
            counters["flow_uncertain_sends_total"] = Double(f.uncertainSends)
            counters["flow_uncertain_resent_total"] = Double(f.uncertainResent)
            counters["flow_uncertain_skipped_total"] = Double(f.uncertainSkipped)
            counters["flow_units_running_elsewhere_total"] = Double(f.runningElsewhere)
            counters["flow_sends_stopped_by_state_total"] = Double(f.stoppedByState)
            counters["flow_records_ensured_total"] = Double(f.recordsEnsured)
            let b = broadcasts.stats
            counters["broadcast_batches_total"] = Double(b.batches)
            counters["broadcast_messages_sent_total"] = Double(b.sent)
            counters["broadcast_messages_suppressed_total"] = Double(b.suppressed)
            counters["broadcast_messages_failed_total"] = Double(b.failed)
            counters["broadcast_messages_uncertain_total"] = Double(b.uncertain)
            counters["broadcast_messages_later_total"] = Double(b.later)
            counters["broadcast_recipients_already_done_total"] = Double(b.alreadyDone)
            gauges["broadcast_campaigns_running"] = Double(b.campaignsRunning)
            gauges["broadcast_recipients_to_go"] = Double(b.toGo)
            if let d = door?.stats {
                counters["club_invite_links_created_total"] = Double(d.linksCreated)
                counters["club_invite_links_reused_total"] = Double(d.linksReused)
                counters["club_invite_links_revoked_total"] = Double(d.linksRevoked)
                counters["club_join_requests_approved_total"] = Double(d.requestsApproved)
                counters["club_join_requests_declined_total"] = Double(d.requestsDeclined)
                counters["club_members_admitted_total"] = Double(d.joinsEntitled)
                counters["club_members_removed_unentitled_total"] = Double(d.removedUnentitled)
                counters["club_members_removed_lapsed_total"] = Double(d.removedLapsed)
                counters["club_members_unbanned_entitled_total"] = Double(d.unbannedEntitled)
                counters["club_lapses_total"] = Double(d.lapses)
                counters["club_renewals_total"] = Double(d.renewals)
            }
            if let r = reconciler?.stats {
                counters["club_reconciliations_total"] = Double(r.runs)
                counters["club_reconcile_removed_total"] = Double(r.removed)
                counters["club_reconcile_reinvited_total"] = Double(r.reinvited)
                counters["club_reconcile_kept_paid_total"] = Double(r.keptPaid)
                counters["club_reconcile_errors_total"] = Double(r.errors)
            }
            let term = leadership.currentTerm
            gauges["leader"] = term == nil ? 0 : 1
            return StatsContribution(
                counters: counters, gauges: gauges,
                info: ["inbound": modeName, "role": term == nil ? "follower" : "leader", "term": term?.description ?? ""])
        }
        if let poller {
            host.health.register("telegram", critical: false) {
                poller.recentConflict()
                    ? Health.Check(ok: false, detail: "409 conflict: another process polls this bot, or a webhook is set")
                    : Health.Check(ok: true)
            }
        }
        host.statusLine {
            let p = processor.stats
            let role = leadership.currentTerm == nil ? "follower" : "leader"
            let b = broadcasts.stats
            let campaigns = b.campaignsRunning == 0 ? "" : "; \(b.campaignsRunning) broadcast\(b.campaignsRunning == 1 ? "" : "s") running, \(b.toGo) to go"
            return "\(modeName) \(role); \(p.handled) updates, \(sender.stats.sent) sent, \(p.inFlight) in flight" + campaigns
        }
    }
}
