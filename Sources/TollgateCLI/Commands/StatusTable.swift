import TollgateIPC

/// Renders `tollgate status` results as aligned text tables.
enum StatusTable {
    static func render(_ services: [StatusCommand.ServiceStatus]) -> String {
        var rows: [[String]] = [["SERVICE", "INSTANCE", "STATE", "READY", "UPTIME", "ROLE", "REDIS", "DETAIL"]]
        for s in services {
            guard s.reachable, let stats = s.stats else {
                rows.append([s.service, "-", "unreachable", "no", "-", "-", "-", s.error ?? "no answer on \(s.socket)"])
                continue
            }
            let health = s.health
            let snapshots = stats.instances ?? [stats.snapshot]
            for snapshot in snapshots {
                let isAnswering = snapshot.instance == stats.instance
                let failing = (health?.checks ?? [:]).filter { !$0.value.ok }.map { "\($0.key): \($0.value.detail ?? "failing")" }
                rows.append([
                    s.service,
                    snapshot.instance + (isAnswering && snapshots.count > 1 ? " *" : ""),
                    snapshot.info["state"] ?? (isAnswering ? health?.status.rawValue ?? "?" : "?"),
                    isAnswering ? (health?.ready == true ? "yes" : "no") : "-",
                    duration(snapshot.uptimeS),
                    snapshot.info["role"] ?? "-",
                    ((snapshot.gauges["redis_up"] ?? 0) == 1 ? "ok" : "down")
                        + (snapshot.gauges["redis_durable"] == 0 ? " (NOT durable)" : ""),
                    isAnswering ? failing.sorted().joined(separator: "; ") : "",
                ])
            }
        }
        var out = table(rows)
        for s in services where s.reachable {
            guard let stats = s.stats else { continue }
            out += "\n\n\(s.service) (\(stats.instance)) figures:\n"
            var lines: [[String]] = []
            for (k, v) in stats.counters.sorted(by: { $0.key < $1.key }) { lines.append(["  " + k, number(v)]) }
            for (k, v) in stats.gauges.sorted(by: { $0.key < $1.key }) { lines.append(["  " + k, number(v)]) }
            for (k, v) in stats.info.sorted(by: { $0.key < $1.key }) where k != "state" { lines.append(["  " + k, v]) }
            out += table(lines)
        }
        return out
    }

    static func table(_ rows: [[String]]) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func duration(_ seconds: Double) -> String {
        // From a peer's stats (or a snapshot in Redis): any number, shown without trapping.
        guard seconds.isFinite, seconds >= 0, seconds < 1e15 else { return "?" }
        let s = Int(seconds)
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h\(s % 3600 / 60)m" }
        return "\(s / 86400)d"
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.3f", v)
    }
}

import Foundation
