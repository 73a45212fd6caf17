import Foundation
import Testing
import TollgateCore
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// The club's door with both services for real, in both access modes: forty people pay at once
/// and, as the first confirmations go out, the gateway and the leading poller are killed with
/// SIGKILL and started again. Then everyone joins, a friend tries a payer's way in, drift is
/// injected behind the gateway's back and a reconciliation (over the gateway socket) repairs it.
/// Counted from the simulators at the end: nobody inside without a payment, no payer outside.
@Suite("The club's door under kill -9, both services", .serialized, .timeLimit(.minutes(6)))
struct ClubDoorKillProcessTests {
    static let club: Int64 = -100_999

    /// Runs the `tollgate` binary; its exit status and what it printed.
    static func tollgate(_ arguments: [String], in directory: String) async throws -> (Int32?, String) {
        let out = directory + "/cli-\(UInt32.random(in: 0...UInt32.max)).out"
        let process = try ChildProcess(try TestBinaries.path(of: "tollgate"), arguments, output: out)
        let status = await offPool { process.wait(timeout: .seconds(60)) }
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        return (status.flatMap(ChildProcess.exitCode), text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("kill -9 of the gateway and the leading poller in the middle of grants", arguments: ["invite_link", "join_request"])
    func killedMidGrants(mode: String) async throws {
        try await BothServices.with(
            prefix: "gwkill",
            extra: [
                "CLUB_CHAT_ID": String(Self.club), "ACCESS_MODE": mode, "PAYMENTS_DELTA_INTERVAL": "300ms",
                "PAYMENTS_FIRST_CHECK": "300ms", "TELEGRAM_POLL_TIMEOUT": "2s", "LEADER_LOCK_TTL": "2s", "RECONCILE_INTERVAL": "off",
            ],
            prepare: { try await $0.addClub(Self.club) }
        ) { both in
            let (telegram, nocodb) = (both.telegram, both.nocodb)
            let payers = (0..<40).map { SimUser(id: 820_000 + Int64($0), firstName: "Payer\($0)") }
            let friend = SimUser(id: 829_999, firstName: "Friend")
            var sent: [Int64: [RemoteTelegram.Sent]] = [:]
            let texts = { (user: SimUser) in (sent[user.id] ?? []).map { $0.text ?? "" } }
            func refresh() async -> Bool {
                sent = (try? await telegram.sentByChat()) ?? sent
                return true
            }
            func links(_ user: SimUser) -> [String] {
                texts(user).flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\n" }) }.map(String.init)
                    .filter { $0.hasPrefix("https://t.me/+sim") }
            }
            func confirmed(_ user: SimUser) -> Bool { texts(user).contains { $0.hasPrefix("Payment received") } }

            for user in payers { try await telegram.userSends("/start", from: user) }
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(200)) {
                await refresh() && payers.allSatisfy { !texts($0).isEmpty }
            })
            for user in payers { try await telegram.userPresses("get_access", from: user) }
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(200)) {
                await refresh() && payers.allSatisfy { texts($0).contains { $0.contains("complete the payment") } }
            })
            for user in payers { _ = try nocodb.markPaid(table: "users", id: try #require(both.row(of: user))) }

            // As the first confirmations go out: SIGKILL both, start both again.
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(20)) {
                await refresh() && payers.contains(where: confirmed)
            })
            await both.gateway.kill9()
            await both.poller.kill9()
            let confirmedAtKill = payers.filter(confirmed).count
            print("club door (\(mode)): SIGKILL of both services with \(confirmedAtKill) of \(payers.count) payments confirmed")
            let poller = try ServiceProcess("poller-scheduler", environment: both.environment, logPath: both.directory + "/poller2.log")
            let gateway = try ServiceProcess("bot-gateway", environment: both.environment, logPath: both.directory + "/gateway2.log")
            do {
                try await poller.waitUntilReady()
                try await gateway.waitUntilReady()
                #expect(await eventually(timeout: .seconds(90), every: .milliseconds(300)) {
                    await refresh() && payers.allSatisfy { confirmed($0) && !links($0).isEmpty }
                }, "confirmed: \(payers.filter(confirmed).count) of \(payers.count) (\(confirmedAtKill) before the kill)")

                if mode == "invite_link" {
                    // A payer forwards their link before using it: the friend is shown out.
                    let first = payers[0]
                    #expect(try await telegram.join(friend.id, club: Self.club, link: links(first)[0]) == "joined")
                    #expect(await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                        (try? await telegram.members(of: Self.club))?[friend.id] == "left"
                    })
                    // The payer asks again and gets a new link of their own.
                    try await telegram.userSends("/status", from: first)
                    #expect(await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                        await refresh() && Set(links(first)).count == 2
                    }, "\(texts(first))")
                    for user in payers { #expect(try await telegram.join(user.id, club: Self.club, link: links(user).last!) == "joined") }
                } else {
                    // Join requests: the friend's is declined, every payer's approved.
                    let shared = Set(payers.flatMap(links))
                    #expect(shared.count == 1, "one shared join-request link")
                    #expect(try await telegram.join(friend.id, club: Self.club, link: shared.first!) == "requested")
                    for user in payers { #expect(try await telegram.join(user.id, club: Self.club, link: shared.first!) == "requested") }
                }
                #expect(await eventually(timeout: .seconds(60), every: .milliseconds(300)) {
                    guard let members = try? await telegram.members(of: Self.club) else { return false }
                    return payers.allSatisfy { members[$0.id] == "member" } && members[friend.id] != "member"
                })

                // Drift behind the gateway's back (no updates): in invite_link mode the friend is
                // inside again, in join_request mode a payer is outside.
                let dropped = payers[1]
                if mode == "invite_link" {
                    try await telegram.setMember(friend.id, club: Self.club, status: "member")
                } else {
                    try await telegram.setMember(dropped.id, club: Self.club, status: "left")
                }
                let client = IPCClient(path: both.environment["GATEWAY_SOCKET"]!, logger: quietLogger)
                let report = try await client.call(ClubReconcile(), timeout: .seconds(120))
                await client.close()
                #expect(report.scanned >= payers.count && report.errors == 0, "\(report)")
                if mode == "invite_link" {
                    #expect(report.removed == 1 && report.reinvited == 0, "\(report)")
                } else {
                    #expect(report.removed == 0 && report.reinvited == 1, "\(report)")
                    // The re-invite brings the shared link again; the payer asks and is approved.
                    #expect(await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                        await refresh() && texts(dropped).contains { $0.contains("not inside yet") }
                    })
                    #expect(try await telegram.join(dropped.id, club: Self.club, link: links(dropped).last!) == "requested")
                }

                // Counted from the simulator: nobody inside without a payment, no payer outside.
                var inside: Set<Int64> = []
                #expect(await eventually(timeout: .seconds(30), every: .milliseconds(300)) {
                    guard let members = try? await telegram.members(of: Self.club) else { return false }
                    inside = Set(members.filter { $0.value == "member" }.keys)
                    return inside == Set(payers.map(\.id))
                }, "inside without a payment: \(inside.subtracting(payers.map(\.id))), payers outside: \(Set(payers.map(\.id)).subtracting(inside))")
                let paidRows = Set(payers.compactMap { both.row(of: $0) }.filter { nocodb.row(table: "users", id: $0)?["Paid"] == .bool(true) })
                #expect(paidRows.count == payers.count, "every payer's row is paid")
                _ = await refresh()
                #expect(!texts(friend).contains { $0.hasPrefix("Payment received") })

                // The operator's view, through the CLI: no drift left (exit 0), the figures in JSON.
                let (status, output) = try await Self.tollgate(["club", "status", "--json", "--gateway", both.environment["GATEWAY_SOCKET"]!], in: both.directory)
                #expect(status == 0, "\(output)")
                let figures = try IPCCoding.decode(ClubStatus.Reply.self, from: Array(output.utf8))
                #expect(figures.entitled == payers.count && figures.insideUnentitled == 0 && figures.strandedPayers == 0, "\(figures)")
                #expect(figures.lastReconcile?.trigger == "request" && figures.mode == mode)
                // Bad input is refused before anything is asked.
                let (refused, message) = try await Self.tollgate(["club", "grant", "0", "--gateway", both.environment["GATEWAY_SOCKET"]!], in: both.directory)
                #expect(refused == 64 && message.contains("positive Telegram user id"), "\(refused ?? -1): \(message)")
                let (badOffer, offerMessage) = try await Self.tollgate(
                    ["club", "grant", "42", "--offer", "VIP Club", "--gateway", both.environment["GATEWAY_SOCKET"]!], in: both.directory)
                #expect(badOffer == 64 && offerMessage.contains("--offer"), "\(badOffer ?? -1): \(offerMessage)")
                // An offer id the flow does not list: refused by the gateway, nothing granted.
                let (unknown, unknownMessage) = try await Self.tollgate(
                    ["club", "grant", "4242", "--offer", "gold", "--gateway", both.environment["GATEWAY_SOCKET"]!], in: both.directory)
                #expect(unknown != 0 && unknownMessage.contains("the flow lists no offers"), "\(unknown ?? -1): \(unknownMessage)")
            } catch {
                Issue.record("\(error)\ngateway:\n\(gateway.logTail())\npoller:\n\(poller.logTail())")
            }
            await gateway.stop()
            await poller.stop()
        }
    }
}
